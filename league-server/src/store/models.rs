//! Models: one per owner and file (SHA-256); the bytes themselves are blobs.

use super::{Flag, Store};
use crate::error::Result;

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ModelRow {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub sha256: String,
    pub size: i64,
    pub uploaded_at: i64,
    pub sensor: String,
    pub action_space_type: String,
    pub network: String,
    #[sqlx(try_from = "Flag")]
    pub deleted: bool,
    /// The model's settings (the trainer's `ModelSpec`) as JSON, stored at upload; empty for a
    /// model uploaded before they were stored (see [`crate::ctx::Ctx::model_spec`]).
    pub spec_json: String,
}

const MODEL_COLS: &str =
    "id, owner_id, name, sha256, size, uploaded_at, sensor, action_space_type, network, deleted, spec_json";

impl Store {
    /// Record an uploaded model; the same bytes from the same owner give the same model (revived,
    /// under the new name, if it had been deleted). Safe under concurrent uploads of the same bytes.
    /// Returns the model and whether it was already one of the owner's models, returned as it was
    /// (its earlier name kept: `m.name` not applied).
    pub async fn upsert_model(&self, m: &ModelRow) -> Result<(ModelRow, bool)> {
        let mut tx = self.write_tx().await?;
        let inserted = sqlx::query(
            "INSERT INTO models (id, owner_id, name, sha256, size, uploaded_at, sensor, action_space_type, network, deleted, spec_json) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10) ON CONFLICT (owner_id, sha256) DO NOTHING",
        )
        .bind(&m.id)
        .bind(&m.owner_id)
        .bind(&m.name)
        .bind(&m.sha256)
        .bind(m.size)
        .bind(m.uploaded_at)
        .bind(&m.sensor)
        .bind(&m.action_space_type)
        .bind(&m.network)
        .bind(&m.spec_json)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let revived = sqlx::query("UPDATE models SET deleted = 0, name = $1, uploaded_at = $2 WHERE owner_id = $3 AND sha256 = $4 AND deleted = 1")
            .bind(&m.name)
            .bind(m.uploaded_at)
            .bind(&m.owner_id)
            .bind(&m.sha256)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        // A copy uploaded before settings were stored at upload gets them now.
        sqlx::query("UPDATE models SET spec_json = $1 WHERE owner_id = $2 AND sha256 = $3 AND spec_json = ''")
            .bind(&m.spec_json)
            .bind(&m.owner_id)
            .bind(&m.sha256)
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {MODEL_COLS} FROM models WHERE owner_id = $1 AND sha256 = $2"
        )))
        .bind(&m.owner_id)
        .bind(&m.sha256)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((row, inserted == 0 && revived == 0))
    }

    /// Store the settings of a model file (every owner's copy): read from the file of a model
    /// uploaded before they were stored at upload.
    pub async fn set_model_spec(&self, sha256: &str, spec_json: &str) -> Result<()> {
        sqlx::query("UPDATE models SET spec_json = $1 WHERE sha256 = $2")
            .bind(spec_json)
            .bind(sha256)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn model(&self, id: &str) -> Result<Option<ModelRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {MODEL_COLS} FROM models WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn list_models(&self, owner: &str, offset: usize, limit: usize) -> Result<Vec<ModelRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {MODEL_COLS} FROM models WHERE owner_id = $1 AND deleted = 0 ORDER BY uploaded_at, id LIMIT $2 OFFSET $3"
        )))
        .bind(owner)
        .bind(limit as i64)
        .bind(offset as i64)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn delete_model(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE models SET deleted = 1 WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
