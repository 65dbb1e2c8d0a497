//! Events (brackets and ladders): their settings as JSON. Their matches are in `matches.rs`.

use super::{JsonText, Store};
use crate::error::Result;
use crate::matches::EventSpec;
use crate::util::new_id;

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct EventRow {
    pub id: String,
    #[sqlx(rename = "spec_json", try_from = "JsonText")]
    pub spec: EventSpec,
    pub created_by: String,
    pub created_at: i64,
}

/// A stored event's settings (the `spec_json` column).
impl TryFrom<JsonText> for EventSpec {
    type Error = String;
    fn try_from(j: JsonText) -> std::result::Result<EventSpec, String> {
        serde_json::from_str(&j.0).map_err(|e| format!("stored event: {e}"))
    }
}

const COLS: &str = "id, spec_json, created_by, created_at";

impl Store {
    /// Store an event (its id prefixed `bracket_` or `ladder_`).
    pub async fn insert_event(&self, spec: &EventSpec, by: &str) -> Result<EventRow> {
        let prefix = match spec.kind {
            crate::matches::EventKind::Bracket { .. } => "bracket",
            crate::matches::EventKind::Ladder { .. } => "ladder",
        };
        let row = EventRow {
            id: new_id(prefix),
            spec: spec.clone(),
            created_by: by.to_string(),
            created_at: self.now_ms(),
        };
        sqlx::query("INSERT INTO events (id, spec_json, created_by, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&row.id)
            .bind(serde_json::to_string(spec).expect("serialisable"))
            .bind(by)
            .bind(row.created_at)
            .execute(&self.pool)
            .await?;
        Ok(row)
    }

    pub async fn event(&self, id: &str) -> Result<Option<EventRow>> {
        Ok(
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLS} FROM events WHERE id = $1")))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Events, newest first.
    pub async fn list_events(&self, offset: usize, limit: usize) -> Result<Vec<EventRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM events ORDER BY created_at DESC, id LIMIT $1 OFFSET $2"
        )))
        .bind(limit as i64)
        .bind(offset as i64)
        .fetch_all(&self.pool)
        .await?)
    }
}
