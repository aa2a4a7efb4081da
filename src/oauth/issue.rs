//! What a grant issues: lifetimes from the client or the instance settings, whether a refresh
//! token comes with it (the refresh count limit), and the token response (RFC 6749 §5.1).
//! Pure decisions; the token endpoint stores and sends what these return.

use serde::Serialize;

use crate::{
    auth::token,
    db::oauth::{Issue, NewToken},
    domain::{
        Scope,
        api::ApiSet,
        client::{AccessLifetime, Client, RefreshCount, RefreshLifetime},
        settings::InstanceSettings,
    },
};

/// Token lifetimes for one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// Seconds; `None`: access tokens never expire.
    pub access: Option<i64>,
    pub refresh: i64,
    /// Refreshes allowed per session; `None`: unlimited.
    pub refresh_limit: Option<i64>,
    /// Seconds a session may live from its authorization (the instance setting).
    pub session_max: i64,
}

impl Lifetimes {
    pub fn of(client: &Client, settings: &InstanceSettings) -> Self {
        let spec = &client.spec;
        Self {
            access: match spec.access_lifetime {
                AccessLifetime::Global => Some(i64::from(settings.access_token_lifetime.get())),
                AccessLifetime::Never => None,
                AccessLifetime::Seconds(s) => Some(i64::from(s.get())),
            },
            refresh: match spec.refresh_lifetime {
                RefreshLifetime::Global => i64::from(settings.refresh_token_lifetime.get()),
                RefreshLifetime::Seconds(s) => i64::from(s.get()),
            },
            refresh_limit: match spec.refresh_count {
                RefreshCount::Unlimited => None,
                RefreshCount::Limit(n) => Some(i64::from(n)),
            },
            session_max: i64::from(settings.session_max_lifetime.get()),
        }
    }

    /// Whether a session that has been refreshed `done` times gets a (new) refresh token: one
    /// that could still be used. A limit of 0 means no refresh token at all.
    pub fn refresh_token_after(&self, done: i64) -> bool {
        self.refresh_limit.is_none_or(|limit| done < limit)
    }
}

/// Newly minted tokens: the plain values for the response, the digests for the database.
pub struct Minted {
    pub response: TokenResponse,
    pub issue: Issue,
}

/// The token response (RFC 6749 §5.1). `Debug` shows everything but the tokens.
#[derive(Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: Scope,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "<redacted>"))
            .field("scope", &self.scope)
            .finish()
    }
}

/// What one token is for: its scope and its audience (the APIs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub scope: Scope,
    pub audience: ApiSet,
}

/// Mints an access token for `access` and, when `with_refresh`, a refresh token carrying the
/// session's grant `refresh`; the session lives as long as its longest-lived token. Refresh tokens slide
/// with each refresh, but never past `session_started` + the longest session: a session ends
/// then, however often it was refreshed (none is issued once that is reached).
pub fn mint(
    now: i64,
    session_started: i64,
    lifetimes: Lifetimes,
    access: Granted,
    refresh: Granted,
    with_refresh: bool,
    seed: Option<&str>,
) -> Minted {
    let Granted { scope: access_scope, audience: access_audience } = access;
    let (access, refresh_value) = match seed {
        Some(seed) => successor(seed),
        None => {
            let micros = token::now_micros();
            (token::ordered_token(micros), token::ordered_token(micros))
        }
    };
    let access_expires = lifetimes.access.map(|s| now.saturating_add(s));
    let refresh_expires =
        now.saturating_add(lifetimes.refresh).min(session_started.saturating_add(lifetimes.session_max));
    let refresh_grant = refresh;
    let refresh = (with_refresh && refresh_expires > now).then_some(refresh_value);
    let grant_expires_at = match (access_expires, &refresh) {
        (None, _) => None,
        (Some(a), Some(_)) => Some(a.max(refresh_expires)),
        (Some(a), None) => Some(a),
    };
    let issue = Issue {
        access: NewToken {
            digest: token::digest(&access),
            expires_at: access_expires,
            scope: access_scope,
            audience: access_audience,
        },
        refresh: refresh.as_ref().map(|r| NewToken {
            digest: token::digest(r),
            expires_at: Some(refresh_expires),
            scope: refresh_grant.scope,
            audience: refresh_grant.audience,
        }),
        grant_expires_at,
    };
    Minted {
        response: TokenResponse {
            access_token: access,
            token_type: "Bearer",
            expires_in: lifetimes.access,
            refresh_token: refresh,
            scope: access_scope,
        },
        issue,
    }
}

/// The pair a rotation issues when the client has a reuse grace: derived from the presented
/// refresh token and a random salt stored with it, so presenting the same token again within the
/// grace yields the same pair, and nobody without that token can compute it.
pub fn successor(seed: &str) -> (String, String) {
    (token::derive("clavis-successor-access", seed), token::derive("clavis-successor-refresh", seed))
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    fn g(scope: Scope) -> Granted {
        Granted { scope, audience: ApiSet::builtin() }
    }
    use crate::domain::client::{ClientForm, ClientId};

    fn client(edit: impl FnOnce(&mut ClientForm)) -> Client {
        let mut form = ClientForm {
            name: "App".into(),
            redirect_uris: "https://app.example.com/cb".into(),
            ..ClientForm::default()
        };
        edit(&mut form);
        Client {
            client_id: ClientId::parse("abcdefghijklmnop").unwrap(),
            spec: form.validate().unwrap(),
            active: true,
            secret: None,
            created_at: 0,
            updated_at: 0,
            origin: Default::default(),
        }
    }

    #[test]
    fn refresh_tokens_never_outlive_the_longest_session() {
        let l = Lifetimes { access: Some(100), refresh: 1000, refresh_limit: None, session_max: 5000 };
        // Authorized at 0: refreshes slide the refresh token, up to 5000 and no further.
        let at = |now| mint(now, 0, l, g(Scope::ALL), g(Scope::ALL), true, None).issue;
        assert_eq!(at(10).refresh.unwrap().expires_at, Some(1010));
        assert_eq!(at(4500).refresh.unwrap().expires_at, Some(5000));
        assert_eq!(at(4500).grant_expires_at, Some(5000));
        assert!(at(5000).refresh.is_none(), "the session is over: no refresh token");
        assert_eq!(at(5000).grant_expires_at, Some(5100), "the last access token still lives");
    }

    #[test]
    fn debug_never_shows_the_tokens() {
        let l = Lifetimes { access: Some(100), refresh: 1000, refresh_limit: None, session_max: 5000 };
        let r = mint(10, 10, l, g(Scope::ALL), g(Scope::ALL), true, None).response;
        let shown = format!("{r:?} {r:#?}");
        let refresh = r.refresh_token.clone().unwrap();
        assert!(!shown.contains(&r.access_token) && !shown.contains(&refresh), "{shown}");
        assert!(shown.contains("<redacted>") && shown.contains("expires_in: Some(100)"), "{shown}");
    }

    #[test]
    fn lifetimes_fall_back_to_the_instance_settings() {
        let settings = InstanceSettings::default();
        let l = Lifetimes::of(&client(|_| {}), &settings);
        assert_eq!(
            l,
            Lifetimes {
                access: Some(43_200),
                refresh: 2_592_000,
                refresh_limit: None,
                session_max: 7_776_000
            }
        );
        let custom = InstanceSettings {
            access_token_lifetime: NonZeroU32::new(60).unwrap(),
            refresh_token_lifetime: NonZeroU32::new(120).unwrap(),
            ..settings
        };
        let l = Lifetimes::of(&client(|_| {}), &custom);
        assert_eq!((l.access, l.refresh), (Some(60), 120));
    }

    #[test]
    fn client_lifetimes_win_and_never_is_honoured() {
        let settings = InstanceSettings::default();
        let c = client(|f| {
            f.access_lifetime = "never".into();
            f.refresh_lifetime = "custom".into();
            f.refresh_lifetime_secs = "600".into();
            f.refresh_count = "limit".into();
            f.refresh_count_limit = "2".into();
        });
        assert_eq!(
            Lifetimes::of(&c, &settings),
            Lifetimes { access: None, refresh: 600, refresh_limit: Some(2), session_max: 7_776_000 }
        );
    }

    #[test]
    fn refresh_count_limit() {
        let unlimited = Lifetimes { access: Some(1), refresh: 1, refresh_limit: None, session_max: 1 };
        assert!(unlimited.refresh_token_after(1_000_000));
        let none = Lifetimes { refresh_limit: Some(0), ..unlimited };
        assert!(!none.refresh_token_after(0), "limit 0: no refresh token at all");
        let two = Lifetimes { refresh_limit: Some(2), ..unlimited };
        assert!(two.refresh_token_after(0) && two.refresh_token_after(1));
        assert!(!two.refresh_token_after(2), "the second refresh returns no new refresh token");
    }

    #[test]
    fn minted_tokens_are_distinct_and_only_digests_are_stored() {
        let l = Lifetimes { access: Some(100), refresh: 1000, refresh_limit: None, session_max: 5000 };
        let m = mint(10, 10, l, g(Scope::READ), g(Scope::ALL), true, None);
        let refresh = m.response.refresh_token.clone().unwrap();
        assert_ne!(m.response.access_token, refresh);
        assert_eq!(m.issue.access.digest, token::digest(&m.response.access_token));
        assert_eq!(m.issue.access.expires_at, Some(110));
        assert_eq!(m.issue.refresh.as_ref().unwrap().expires_at, Some(1010));
        assert_eq!(m.issue.refresh.as_ref().unwrap().scope, Scope::ALL);
        assert_eq!(m.issue.grant_expires_at, Some(1010));
        assert_eq!((m.response.expires_in, m.response.scope), (Some(100), Scope::READ));

        let never =
            mint(10, 10, Lifetimes { access: None, ..l }, g(Scope::READ), g(Scope::READ), false, None);
        assert!(never.response.refresh_token.is_none() && never.issue.refresh.is_none());
        assert_eq!((never.issue.grant_expires_at, never.response.expires_in), (None, None));
        let json = serde_json::to_value(&never.response).unwrap();
        assert!(json.get("expires_in").is_none() && json.get("refresh_token").is_none());
        assert_eq!(json["token_type"], "Bearer");
        assert_eq!(json["scope"], "read", "the scope as a space-separated string");
    }
}
