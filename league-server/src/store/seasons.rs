//! Seasons (their settings, races included, as JSON).

use super::{JsonText, Store};
use crate::error::Result;
use crate::seasons::SeasonSpec;
use crate::util::new_id;

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct SeasonRow {
    pub id: String,
    #[sqlx(rename = "spec_json", try_from = "JsonText")]
    pub spec: SeasonSpec,
    pub created_by: String,
    pub created_at: i64,
}

/// A stored season's settings (the `spec_json` column).
impl TryFrom<JsonText> for SeasonSpec {
    type Error = String;
    fn try_from(j: JsonText) -> std::result::Result<SeasonSpec, String> {
        serde_json::from_str(&j.0).map_err(|e| format!("stored season: {e}"))
    }
}

const COLS: &str = "id, spec_json, created_by, created_at";

impl Store {
    pub async fn insert_season(&self, spec: &SeasonSpec, by: &str) -> Result<SeasonRow> {
        let row = SeasonRow {
            id: new_id("season"),
            spec: spec.clone(),
            created_by: by.to_string(),
            created_at: self.now_ms(),
        };
        sqlx::query("INSERT INTO seasons (id, spec_json, created_by, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&row.id)
            .bind(serde_json::to_string(spec).expect("serialisable"))
            .bind(by)
            .bind(row.created_at)
            .execute(&self.pool)
            .await?;
        Ok(row)
    }

    pub async fn update_season(&self, id: &str, spec: &SeasonSpec) -> Result<()> {
        sqlx::query("UPDATE seasons SET spec_json = $1 WHERE id = $2")
            .bind(serde_json::to_string(spec).expect("serialisable"))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn delete_season(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM seasons WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn season(&self, id: &str) -> Result<Option<SeasonRow>> {
        Ok(
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLS} FROM seasons WHERE id = $1")))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Seasons, newest first.
    pub async fn list_seasons(&self, offset: usize, limit: usize) -> Result<Vec<SeasonRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM seasons ORDER BY created_at DESC, id LIMIT $1 OFFSET $2"
        )))
        .bind(limit as i64)
        .bind(offset as i64)
        .fetch_all(&self.pool)
        .await?)
    }
}
