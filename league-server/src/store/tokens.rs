//! Bearer tokens (stored as their SHA-256 only), the bootstrap admin token, and token listings.

use super::{Flag, Store, User};
use crate::error::{LeagueError, Result};
use crate::util::new_id;

/// What the server names the bootstrap admin token it registers.
pub const BOOTSTRAP_DESCRIPTION: &str = "bootstrap admin token";

/// A valid token's user, and what the auth cache needs to know about the token.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenUser {
    #[sqlx(flatten)]
    pub user: User,
    pub token_id: String,
    /// 0 = never.
    pub expires_at: i64,
    pub last_used_at: i64,
}

/// A token as listed (never its hash).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenRow {
    pub id: String,
    pub user_id: String,
    pub user_name: String,
    pub description: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: i64,
    pub last_used_at: i64,
    #[sqlx(try_from = "Flag")]
    pub bootstrap: bool,
}

impl Store {
    pub async fn insert_token(
        &self,
        user_id: &str,
        token_hash: &str,
        description: &str,
        expires_at: i64,
    ) -> Result<String> {
        let id = new_id("tok");
        sqlx::query(
            "INSERT INTO tokens (id, user_id, token_hash, description, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, 0)",
        )
        .bind(&id)
        .bind(user_id)
        .bind(token_hash)
        .bind(description)
        .bind(self.now_ms())
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    /// Insert a token with a known hash unless it is there already (benchmarks seed tokens with it).
    pub async fn ensure_token(&self, user_id: &str, token_hash: &str, description: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO tokens (id, user_id, token_hash, description, created_at, expires_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, 0, 0) ON CONFLICT (token_hash) DO NOTHING",
        )
        .bind(new_id("tok"))
        .bind(user_id)
        .bind(token_hash)
        .bind(description)
        .bind(self.now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Make `token_hash` `admin_id`'s bootstrap token — registered if new, working again if it had
    /// been retired — and retire every other bootstrap token (the server was started with a new
    /// `--admin-token`). Returns how many were retired.
    pub async fn set_bootstrap_token(&self, admin_id: &str, token_hash: &str) -> Result<u64> {
        let now = self.now_ms();
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO tokens (id, user_id, token_hash, description, created_at, expires_at, revoked_at, bootstrap, last_used_at) \
             VALUES ($1, $2, $3, $4, $5, 0, 0, 1, 0) ON CONFLICT (token_hash) DO NOTHING",
        )
        .bind(new_id("tok"))
        .bind(admin_id)
        .bind(token_hash)
        .bind(BOOTSTRAP_DESCRIPTION)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let owner: String = sqlx::query_scalar("SELECT user_id FROM tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_one(&mut *tx)
            .await?;
        if owner != admin_id {
            return Err(LeagueError::invalid(
                "--admin-token: this token already belongs to another user; make a new one",
            ));
        }
        sqlx::query("UPDATE tokens SET bootstrap = 1, revoked_at = 0, expires_at = 0 WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *tx)
            .await?;
        let retired = sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE bootstrap = 1 AND revoked_at = 0 AND token_hash <> $2",
        )
        .bind(now)
        .bind(token_hash)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(retired)
    }

    /// The user a token belongs to, if the token is valid at `now`.
    pub async fn user_for_token(&self, token_hash: &str, now: i64) -> Result<Option<TokenUser>> {
        Ok(sqlx::query_as(
            "SELECT u.id, u.name, u.role, u.created_at, t.id AS token_id, t.expires_at, t.last_used_at \
             FROM tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at = 0 AND (t.expires_at = 0 OR t.expires_at > $2)",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Record that a token signed a request in at `now`.
    pub async fn touch_token(&self, token_id: &str, now: i64) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE tokens SET last_used_at = $1 WHERE id = $2 AND last_used_at < $1")
            .bind(now)
            .bind(token_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The user a token (by id) belongs to.
    pub async fn token_owner(&self, token_id: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT user_id FROM tokens WHERE id = $1")
            .bind(token_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn revoke_token(&self, token_id: &str) -> Result<bool> {
        let r = sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at = 0")
            .bind(self.now_ms())
            .bind(token_id)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Tokens of `user` (everyone's when `None`), oldest first; only the ones valid at `now` unless
    /// `include_inactive`.
    pub async fn list_tokens(
        &self,
        user: Option<&str>,
        include_inactive: bool,
        now: i64,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<TokenRow>> {
        Ok(sqlx::query_as(
            "SELECT t.id, t.user_id, u.name AS user_name, t.description, t.created_at, t.expires_at, t.revoked_at, \
             t.last_used_at, t.bootstrap FROM tokens t JOIN users u ON u.id = t.user_id \
             WHERE ($1 = '' OR t.user_id = $1) AND ($2 = 1 OR (t.revoked_at = 0 AND (t.expires_at = 0 OR t.expires_at > $3))) \
             ORDER BY t.created_at, t.id LIMIT $4 OFFSET $5",
        )
        .bind(user.unwrap_or(""))
        .bind(i64::from(include_inactive))
        .bind(now)
        .bind(limit as i64)
        .bind(offset as i64)
        .fetch_all(&self.pool)
        .await?)
    }
}
