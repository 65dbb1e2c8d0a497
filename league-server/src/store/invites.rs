//! Invites to private races (stored by their token's SHA-256).

use super::{Flag, Store};
use crate::error::Result;
use crate::util::new_id;

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct InviteRow {
    pub id: String,
    pub race_id: String,
    pub expires_at: i64,
    #[sqlx(try_from = "Flag")]
    pub revoked: bool,
    pub uses: i64,
}

impl Store {
    pub async fn insert_invite(&self, race_id: &str, token_hash: &str, expires_at: i64) -> Result<InviteRow> {
        let inv = InviteRow {
            id: new_id("inv"),
            race_id: race_id.to_string(),
            expires_at,
            revoked: false,
            uses: 0,
        };
        sqlx::query("INSERT INTO invites (id, race_id, token_hash, created_at, expires_at, revoked, uses) VALUES ($1, $2, $3, $4, $5, 0, 0)")
            .bind(&inv.id)
            .bind(race_id)
            .bind(token_hash)
            .bind(self.now_ms())
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(inv)
    }

    pub async fn invite(&self, id: &str) -> Result<Option<InviteRow>> {
        Ok(
            sqlx::query_as("SELECT id, race_id, expires_at, revoked, uses FROM invites WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn invite_by_hash(&self, token_hash: &str) -> Result<Option<InviteRow>> {
        Ok(
            sqlx::query_as("SELECT id, race_id, expires_at, revoked, uses FROM invites WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn list_invites(&self, race_id: &str) -> Result<Vec<InviteRow>> {
        Ok(sqlx::query_as(
            "SELECT id, race_id, expires_at, revoked, uses FROM invites WHERE race_id = $1 ORDER BY created_at, id",
        )
        .bind(race_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn revoke_invite(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE invites SET revoked = 1 WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn use_invite(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE invites SET uses = uses + 1 WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
