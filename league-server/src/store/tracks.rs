//! Uploaded tracks (built-in ones live in the simulator).

use super::Store;
use crate::error::Result;

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct TrackRow {
    pub id: String,
    pub name: String,
    pub info_json: String,
}

impl Store {
    pub async fn insert_track(&self, id: &str, name: &str, info_json: &str, by: &str) -> Result<()> {
        sqlx::query("INSERT INTO tracks (id, name, info_json, uploaded_by, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING")
            .bind(id)
            .bind(name)
            .bind(info_json)
            .bind(by)
            .bind(self.now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn track(&self, id: &str) -> Result<Option<TrackRow>> {
        Ok(sqlx::query_as("SELECT id, name, info_json FROM tracks WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn list_tracks(&self) -> Result<Vec<TrackRow>> {
        Ok(
            sqlx::query_as("SELECT id, name, info_json FROM tracks ORDER BY created_at, id")
                .fetch_all(&self.pool)
                .await?,
        )
    }
}
