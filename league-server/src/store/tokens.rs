//! Bearer tokens (stored as their SHA-256 only).

use super::{Store, User};
use crate::error::Result;
use crate::util::{new_id, now_ms};

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
        .bind(now_ms())
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    /// Insert a token with a known hash unless it is there already (the bootstrap admin token).
    pub async fn ensure_token(&self, user_id: &str, token_hash: &str, description: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO tokens (id, user_id, token_hash, description, created_at, expires_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, 0, 0) ON CONFLICT (token_hash) DO NOTHING",
        )
        .bind(new_id("tok"))
        .bind(user_id)
        .bind(token_hash)
        .bind(description)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The user a token belongs to, if the token is valid now.
    pub async fn user_for_token(&self, token_hash: &str, now: i64) -> Result<Option<User>> {
        Ok(sqlx::query_as(
            "SELECT u.id, u.name, u.role, u.created_at FROM tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at = 0 AND (t.expires_at = 0 OR t.expires_at > $2)",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn revoke_token(&self, token_id: &str) -> Result<bool> {
        let r = sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at = 0")
            .bind(now_ms())
            .bind(token_id)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }
}
