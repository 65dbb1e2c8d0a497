//! Bearer tokens: `authorization: Bearer <token>` → the signed-in user. Tokens are stored as
//! SHA-256 hashes; lookups are cached for a few seconds (and the cache is cleared on revocation).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tonic::metadata::MetadataMap;

use crate::error::{LeagueError, Result};
use crate::store::{Role, Store, User};
use crate::util::{now_ms, secret_hash};

const CACHE_TTL: Duration = Duration::from_secs(5);

/// Resolves bearer tokens.
#[derive(Debug)]
pub struct Auth {
    store: Store,
    cache: Mutex<HashMap<String, (Option<User>, Instant)>>,
}

impl Auth {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The caller, `None` if no token was sent. A malformed header or an unknown, revoked or expired
    /// token is `Unauthenticated`.
    pub async fn user(&self, md: &MetadataMap) -> Result<Option<User>> {
        let Some(v) = md.get("authorization") else {
            return Ok(None);
        };
        let v = v
            .to_str()
            .map_err(|_| LeagueError::Unauthenticated("the authorization header is not text".into()))?;
        let token = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| LeagueError::Unauthenticated("the authorization header must be 'Bearer <token>'".into()))?;
        let hash = secret_hash(token);
        if let Some((u, at)) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(&hash)
            && at.elapsed() < CACHE_TTL
        {
            return u
                .clone()
                .map(Some)
                .ok_or_else(|| LeagueError::Unauthenticated("invalid, expired or revoked token".into()));
        }
        let u = self.store.user_for_token(&hash, now_ms()).await?;
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(hash, (u.clone(), Instant::now()));
        u.map(Some)
            .ok_or_else(|| LeagueError::Unauthenticated("invalid, expired or revoked token".into()))
    }

    /// The caller, who must be signed in.
    pub async fn signed_in(&self, md: &MetadataMap) -> Result<User> {
        self.user(md)
            .await?
            .ok_or_else(|| LeagueError::Unauthenticated("sign in: send 'authorization: Bearer <token>'".into()))
    }

    /// The caller, who must have one of `roles`.
    pub async fn require(&self, md: &MetadataMap, roles: &[Role], what: &str) -> Result<User> {
        let u = self.signed_in(md).await?;
        if !roles.contains(&u.role) {
            return Err(LeagueError::denied(format!(
                "{what} needs the {} role; you are a {}",
                roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" or "),
                u.role.as_str()
            )));
        }
        Ok(u)
    }

    /// Forget cached lookups (after a token is revoked).
    pub fn clear(&self) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}
