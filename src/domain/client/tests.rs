use super::*;

fn valid() -> ClientForm {
    ClientForm {
        name: "My App".into(),
        redirect_uris: "https://app.example.com/cb".into(),
        ..ClientForm::default()
    }
}

#[test]
fn defaults_make_a_confidential_pkce_client() {
    let spec = valid().validate().unwrap();
    assert_eq!(spec.auth, ClientAuth::Confidential { method: SecretMethod::Post, pkce: Pkce::Required });
    assert_eq!(spec.scope, ClientScope::Full);
    assert_eq!(spec.access_lifetime, AccessLifetime::Global);
    assert_eq!(spec.refresh_lifetime, RefreshLifetime::Global);
    assert_eq!(spec.refresh_count, RefreshCount::Unlimited);
    assert!(spec.consent);
    assert_eq!(spec.rate_limit, None);
}

#[test]
fn each_bad_field_is_reported_on_that_field() {
    type Edit = fn(&mut ClientForm);
    let cases: [(Edit, Field, &str); 18] = [
        (|f| f.name = " ".into(), Field::Name, "Name is required"),
        (|f| f.redirect_uris = "".into(), Field::RedirectUris, "at least one"),
        (|f| f.redirect_uris = "http://evil.example/cb".into(), Field::RedirectUris, "http is allowed only"),
        (|f| f.auth_method = "private_key_jwt".into(), Field::AuthMethod, "must be client_secret_post"),
        (|f| f.scope = "admin".into(), Field::Scope, "Scope must be"),
        (|f| f.description = "x".repeat(1001), Field::Description, "at most 1000"),
        (|f| f.version = "x".repeat(51), Field::Version, "at most 50"),
        (|f| f.access_lifetime = "custom".into(), Field::AccessLifetime, "Access token lifetime must be"),
        (
            |f| {
                f.access_lifetime = "custom".into();
                f.access_lifetime_secs = "2147483648".into();
            },
            Field::AccessLifetime,
            "1 to 2147483647",
        ),
        (|f| f.access_lifetime = "forever".into(), Field::AccessLifetime, "must be"),
        (
            |f| {
                f.refresh_lifetime = "custom".into();
                f.refresh_lifetime_secs = "0".into();
            },
            Field::RefreshLifetime,
            "Refresh token lifetime must be",
        ),
        (
            |f| {
                f.refresh_count = "limit".into();
                f.refresh_count_limit = "-1".into();
            },
            Field::RefreshCount,
            "from 0 to 2147483647",
        ),
        (|f| f.refresh_count = "some".into(), Field::RefreshCount, "must be"),
        (|f| f.rate_limit = "0".into(), Field::RateLimit, "Rate limit must be"),
        (|f| f.refresh_reuse_grace = "301".into(), Field::RefreshReuseGrace, "from 1 to 300"),
        (
            |f| f.refresh_reuse_grace = "0".into(),
            Field::RefreshReuseGrace,
            "Refresh token reuse grace must be",
        ),
        (|f| f.rate_limit = "fast".into(), Field::RateLimit, "or empty for unlimited"),
        (|f| f.name = "a\u{0}b".into(), Field::Name, "control characters"),
    ];
    for (edit, field, text) in cases {
        let mut form = valid();
        edit(&mut form);
        let errors = form.validate().unwrap_err();
        let msg = errors.get(field).unwrap_or_else(|| panic!("{field:?} has no error: {errors:?}"));
        assert!(msg.contains(text), "{field:?}: {msg}");
        assert_eq!(errors.iter().count(), 1, "only {field:?}: {errors:?}");
    }
}

#[test]
fn none_without_pkce_is_refused_on_both_fields() {
    let form = ClientForm { auth_method: "none".into(), require_pkce: false, ..valid() };
    let errors = form.validate().unwrap_err();
    assert!(errors.get(Field::AuthMethod).unwrap().contains("requires PKCE"));
    assert!(errors.get(Field::RequirePkce).unwrap().contains("requires PKCE"));
    let ok = ClientForm { auth_method: "none".into(), require_pkce: true, ..valid() }.validate().unwrap();
    assert_eq!(ok.auth, ClientAuth::Public);
}

#[test]
fn none_without_the_consent_screen_is_refused_on_both_fields() {
    let form = ClientForm { auth_method: "none".into(), consent: false, ..valid() };
    let errors = form.validate().unwrap_err();
    for field in [Field::AuthMethod, Field::Consent] {
        assert!(errors.get(field).unwrap().contains("requires the allow/deny screen"), "{errors:?}");
    }
    assert_eq!(errors.iter().count(), 2, "{errors:?}");
    // Confidential clients may turn it off; so may a public one turned back into one.
    for method in ["client_secret_post", "client_secret_basic"] {
        let spec = ClientForm { auth_method: method.into(), consent: false, ..valid() }.validate().unwrap();
        assert!(!spec.consent);
    }
    // The PKCE rule is reported too when both are broken.
    let both = ClientForm { auth_method: "none".into(), consent: false, require_pkce: false, ..valid() };
    let errors = both.validate().unwrap_err();
    assert!(errors.get(Field::RequirePkce).is_some() && errors.get(Field::Consent).is_none(), "{errors:?}");
}

#[test]
fn all_problems_are_reported_together() {
    let form =
        ClientForm { name: String::new(), redirect_uris: String::new(), rate_limit: "x".into(), ..valid() };
    let errors = form.validate().unwrap_err();
    let fields: Vec<Field> = errors.iter().map(|(f, _)| f).collect();
    assert_eq!(fields, [Field::Name, Field::RedirectUris, Field::RateLimit]);
    assert_eq!(errors.first().map(|(f, _)| f.flag()), Some("--name"));
}

#[test]
fn form_round_trips_through_a_spec() {
    let form = ClientForm {
        redirect_uris: "https://a.example/cb\ncom.example.app:/cb".into(),
        auth_method: "client_secret_basic".into(),
        require_pkce: false,
        scope: "read".into(),
        description: "Line one\nLine two".into(),
        version: "2.0".into(),
        access_lifetime: "custom".into(),
        access_lifetime_secs: "600".into(),
        refresh_lifetime: "custom".into(),
        refresh_lifetime_secs: "86400".into(),
        refresh_count: "limit".into(),
        refresh_count_limit: "0".into(),
        consent: false,
        rate_limit: "120".into(),
        ..valid()
    };
    let spec = form.validate().unwrap();
    assert_eq!(ClientForm::from_spec(&spec), form);
    let never = ClientForm { access_lifetime: "never".into(), ..valid() }.validate().unwrap();
    assert_eq!(ClientForm::from_spec(&never).validate().unwrap(), never);
}
