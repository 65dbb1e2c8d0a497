//! Bearer tokens: `authorization: Bearer <token>` → the signed-in user. Tokens are stored as
//! SHA-256 hashes.
//!
//! Valid tokens are cached for [`CACHE_TTL`], with their expiry: an expired token stops working at
//! its expiry's millisecond, cached or not, and revocation clears the cache. Failed lookups are
//! never cached, and the cache holds at most [`CACHE_MAX`] tokens (valid ones, which only admins
//! make), so no client can grow the server's memory by sending tokens. A token's last use is
//! recorded at most once a minute ([`TOUCH_EVERY_MS`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tonic::metadata::MetadataMap;

use crate::error::{LeagueError, Result};
use crate::store::{Role, Store, TokenUser, User};
use crate::util::secret_hash;

/// How long a valid token's lookup is trusted (revocation on another server sharing a PostgreSQL
/// database takes effect here within it; this server's own revocations at once).
pub const CACHE_TTL: Duration = Duration::from_secs(5);
/// The most tokens the cache holds.
pub const CACHE_MAX: usize = 10_000;
/// How often a token's `last_used_at` is written, at most.
pub const TOUCH_EVERY_MS: i64 = 60_000;

/// The name of the user the bootstrap admin token (`--admin-token`) belongs to.
pub const BOOTSTRAP_ADMIN: &str = "admin";

/// The shortest bootstrap admin token accepted: it is stored as an unsalted SHA-256, so it must be
/// too long to guess.
pub const MIN_BOOTSTRAP_TOKEN_CHARS: usize = 32;

/// Register the bootstrap admin token (`--admin-token`) for the user [`BOOTSTRAP_ADMIN`] (created
/// if missing) and retire the bootstrap token of earlier starts, if it was another one.
pub async fn register_bootstrap(store: &Store, token: &str) -> Result<()> {
    if token.chars().count() < MIN_BOOTSTRAP_TOKEN_CHARS {
        return Err(LeagueError::invalid(format!(
            "--admin-token: use at least {MIN_BOOTSTRAP_TOKEN_CHARS} characters (it is stored as an unsalted \
             SHA-256, so it must be too long to guess); make one with `openssl rand -hex 32` or \
             `python3 -c 'import secrets; print(secrets.token_hex(32))'`"
        )));
    }
    let admin = match store.user_by_name(BOOTSTRAP_ADMIN).await? {
        Some(u) => u,
        None => store.create_user(BOOTSTRAP_ADMIN, Role::Admin).await?,
    };
    let retired = store.set_bootstrap_token(&admin.id, &secret_hash(token)).await?;
    if retired > 0 {
        tracing::warn!(
            retired,
            "started with a new --admin-token: the previous bootstrap token no longer works"
        );
    }
    Ok(())
}

/// A cached valid token.
#[derive(Debug)]
struct Cached {
    user: User,
    /// The token's expiry (Unix ms; 0 = never).
    expires_at: i64,
    at: Instant,
}

impl Cached {
    fn valid(&self, now: i64) -> bool {
        self.at.elapsed() < CACHE_TTL && (self.expires_at == 0 || now < self.expires_at)
    }
}

/// Resolves bearer tokens.
#[derive(Debug)]
pub struct Auth {
    store: Store,
    cache: Mutex<HashMap<String, Cached>>,
    max: usize,
}

fn invalid() -> LeagueError {
    LeagueError::Unauthenticated("invalid, expired or revoked token".into())
}

impl Auth {
    pub fn new(store: Store) -> Self {
        Auth::with_capacity(store, CACHE_MAX)
    }

    /// An `Auth` whose cache holds at most `max` tokens.
    pub fn with_capacity(store: Store, max: usize) -> Self {
        Self {
            store,
            cache: Mutex::new(HashMap::new()),
            max: max.max(1),
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
        let now = self.store.now_ms();
        {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            match cache.get(&hash) {
                Some(c) if c.valid(now) => return Ok(Some(c.user.clone())),
                Some(_) => {
                    cache.remove(&hash);
                }
                None => {}
            }
        }
        let Some(TokenUser {
            user,
            token_id,
            expires_at,
            last_used_at,
        }) = self.store.user_for_token(&hash, now).await?
        else {
            return Err(invalid());
        };
        if now - last_used_at >= TOUCH_EVERY_MS
            && let Err(e) = self.store.touch_token(&token_id, now).await
        {
            tracing::warn!(token_id, "recording a token's last use: {e}");
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= self.max {
            cache.retain(|_, c| c.valid(now));
            if cache.len() >= self.max {
                cache.clear();
            }
        }
        cache.insert(
            hash,
            Cached {
                user: user.clone(),
                expires_at,
                at: Instant::now(),
            },
        );
        Ok(Some(user))
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

    /// How many tokens are cached.
    pub fn cached(&self) -> usize {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer(token: &str) -> MetadataMap {
        let mut md = MetadataMap::new();
        md.insert("authorization", format!("Bearer {token}").parse().unwrap());
        md
    }

    async fn store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("auth.db").display());
        (Store::connect(&url).await.unwrap(), dir)
    }

    #[tokio::test]
    async fn an_expired_token_stops_working_at_its_expiry_even_when_cached() {
        let (store, _dir) = store().await;
        let u = store.create_user("ada", Role::Racer).await.unwrap();
        let expires = store.now_ms() + 300;
        store
            .insert_token(&u.id, &secret_hash("slp_soon"), "", expires)
            .await
            .unwrap();
        let auth = Auth::new(store.clone());
        let md = bearer("slp_soon");
        assert_eq!(auth.user(&md).await.unwrap().unwrap().id, u.id);
        assert_eq!(auth.cached(), 1, "the lookup is cached");
        // The cache is trusted for CACHE_TTL (5 s); the expiry comes first.
        store.clock().advance(Duration::from_millis(300));
        assert!(store.now_ms() >= expires);
        let e = auth.user(&md).await.unwrap_err();
        assert!(matches!(e, LeagueError::Unauthenticated(_)), "{e}");
    }

    #[tokio::test]
    async fn garbage_tokens_do_not_grow_the_cache_and_it_stays_bounded() {
        let (store, _dir) = store().await;
        let auth = Auth::with_capacity(store.clone(), 4);
        for i in 0..500 {
            assert!(auth.user(&bearer(&format!("garbage-{i}"))).await.is_err());
        }
        assert_eq!(auth.cached(), 0, "failed lookups are not cached");
        // Valid tokens: never more than the capacity.
        let u = store.create_user("ben", Role::Racer).await.unwrap();
        for i in 0..10 {
            let t = format!("slp_valid_{i}");
            store.insert_token(&u.id, &secret_hash(&t), "", 0).await.unwrap();
            assert_eq!(auth.user(&bearer(&t)).await.unwrap().unwrap().id, u.id);
            assert!(auth.cached() <= 4, "{}", auth.cached());
        }
    }

    #[tokio::test]
    async fn a_tokens_last_use_is_recorded() {
        let (store, _dir) = store().await;
        let u = store.create_user("cid", Role::Racer).await.unwrap();
        store
            .insert_token(&u.id, &secret_hash("slp_used"), "", 0)
            .await
            .unwrap();
        let last_use = async |store: &Store| {
            store
                .list_tokens(Some(&u.id), false, store.now_ms(), 0, 10)
                .await
                .unwrap()[0]
                .last_used_at
        };
        assert_eq!(last_use(&store).await, 0, "never used");
        let before = store.now_ms();
        Auth::new(store.clone()).user(&bearer("slp_used")).await.unwrap();
        assert!(last_use(&store).await >= before);
    }
}
