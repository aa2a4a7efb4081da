//! Resource indicators (RFC 8707): the APIs a request names, checked against the registry and
//! the client's allowed APIs. A request that names none gets the client's default: the
//! built-in API, or for a client limited to other APIs, those.

use crate::{
    db::{Db, DbError, apis::ApiRef},
    domain::api::{ApiIdentifier, ApiSet},
};

/// The APIs a request is for.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub audience: ApiSet,
    pub apis: Vec<ApiRef>,
}

/// Finds the APIs `requested` names; empty: the client's default. The error is the
/// `invalid_target` description.
pub async fn resolve(
    db: &Db,
    requested: &[ApiIdentifier],
    allowed: Option<&ApiSet>,
    builtin: &ApiIdentifier,
) -> Result<Result<Resolved, String>, DbError> {
    if requested.is_empty() {
        let default = match allowed {
            Some(set) if !set.contains(ApiSet::BUILTIN) => set.clone(),
            _ => ApiSet::builtin(),
        };
        let apis: Vec<ApiRef> =
            db.apis_in(&default, builtin).await?.into_iter().filter(|a| a.active).collect();
        if apis.is_empty() {
            return Ok(Err("this client may use no active API".into()));
        }
        return Ok(Ok(Resolved { audience: ApiSet::new(apis.iter().map(|a| a.pk)), apis }));
    }
    let names: Vec<&str> = requested.iter().map(ApiIdentifier::as_str).collect();
    let found = db.apis_by_identifier(&names, builtin).await?;
    let mut apis = Vec::with_capacity(requested.len());
    for id in requested {
        let Some(api) = found.iter().find(|a| a.identifier == id.as_str()) else {
            return Ok(Err(format!("resource {id} is not a registered API")));
        };
        if !api.active {
            return Ok(Err(format!("resource {id} is deactivated")));
        }
        if allowed.is_some_and(|set| !set.contains(api.pk)) {
            return Ok(Err(format!("this client may not ask for resource {id}")));
        }
        apis.push(api.clone());
    }
    Ok(Ok(Resolved { audience: ApiSet::new(apis.iter().map(|a| a.pk)), apis }))
}
