//! Races (their settings as JSON, with the columns queries filter on) and private races' members.

use super::{JsonText, Store};
use crate::error::Result;
use crate::races::RaceSpec;
use crate::util::new_id;

/// Which races a listing returns: the store's translation of who sees a race
/// (`league::access::Viewer::race_scope` decides which scope a caller gets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RaceScope<'a> {
    /// Every race (admins).
    All,
    /// Public races only (the public).
    Public,
    /// Public races, and the private ones this user created or joined.
    PublicAnd(&'a str),
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct RaceRow {
    pub id: String,
    #[sqlx(rename = "spec_json", try_from = "JsonText")]
    pub spec: RaceSpec,
    pub created_by: String,
    pub created_at: i64,
}

/// A stored race's settings (the `spec_json` column).
impl TryFrom<JsonText> for RaceSpec {
    type Error = String;
    fn try_from(j: JsonText) -> std::result::Result<RaceSpec, String> {
        serde_json::from_str(&j.0).map_err(|e| format!("stored race: {e}"))
    }
}

impl Store {
    pub async fn insert_race(&self, spec: &RaceSpec, by: &str) -> Result<RaceRow> {
        let race = RaceRow {
            id: new_id("race"),
            spec: spec.clone(),
            created_by: by.to_string(),
            created_at: self.now_ms(),
        };
        sqlx::query("INSERT INTO races (id, spec_json, created_by, created_at, opens_at, closes_at, private) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&race.id)
            .bind(serde_json::to_string(spec).expect("serialisable"))
            .bind(by)
            .bind(race.created_at)
            // The column orders listings: a race open from creation (0) opened then.
            .bind(if spec.opens_at_ms == 0 { race.created_at } else { spec.opens_at_ms })
            .bind(spec.closes_at_ms)
            .bind(i64::from(spec.private))
            .execute(&self.pool)
            .await?;
        Ok(race)
    }

    pub async fn update_race(&self, id: &str, spec: &RaceSpec) -> Result<()> {
        sqlx::query("UPDATE races SET spec_json = $1, opens_at = $2, closes_at = $3, private = $4 WHERE id = $5")
            .bind(serde_json::to_string(spec).expect("serialisable"))
            // A race updated to open at once (0) opens now.
            .bind(if spec.opens_at_ms == 0 {
                self.now_ms()
            } else {
                spec.opens_at_ms
            })
            .bind(spec.closes_at_ms)
            .bind(i64::from(spec.private))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Delete a race with its invites, members, leaderboard and queued jobs (submissions stay as
    /// records).
    pub async fn delete_race(&self, id: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        for sql in [
            "DELETE FROM invites WHERE race_id = $1",
            "DELETE FROM race_members WHERE race_id = $1",
            "DELETE FROM leaderboard WHERE race_id = $1",
            "UPDATE jobs SET status = 'cancelled' WHERE status IN ('queued', 'leased') AND submission_id IN (SELECT id FROM submissions WHERE race_id = $1)",
            "UPDATE submissions SET status = 'cancelled', failure_reason = 'the race was deleted' WHERE race_id = $1 AND status IN ('queued', 'running')",
            "DELETE FROM races WHERE id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn race(&self, id: &str) -> Result<Option<RaceRow>> {
        Ok(
            sqlx::query_as("SELECT id, spec_json, created_by, created_at FROM races WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Races visible to `viewer` (`None` = anonymous: public only; admins see all).
    /// Races in `scope` (see `league::access::Viewer::race_scope`), most recently opened first.
    pub async fn list_races(&self, scope: RaceScope<'_>, offset: usize, limit: usize) -> Result<Vec<RaceRow>> {
        let (limit, offset) = (limit as i64, offset as i64);
        Ok(match scope {
            RaceScope::All => {
                sqlx::query_as("SELECT id, spec_json, created_by, created_at FROM races ORDER BY opens_at DESC, id LIMIT $1 OFFSET $2")
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await?
            }
            RaceScope::PublicAnd(user_id) => {
                sqlx::query_as(
                    "SELECT id, spec_json, created_by, created_at FROM races r WHERE private = 0 OR created_by = $1 \
                     OR EXISTS (SELECT 1 FROM race_members m WHERE m.race_id = r.id AND m.user_id = $1) \
                     ORDER BY opens_at DESC, id LIMIT $2 OFFSET $3",
                )
                .bind(user_id)
                .bind(limit)
                .bind(offset)
                .fetch_all(&self.pool)
                .await?
            }
            RaceScope::Public => {
                sqlx::query_as("SELECT id, spec_json, created_by, created_at FROM races WHERE private = 0 ORDER BY opens_at DESC, id LIMIT $1 OFFSET $2")
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await?
            }
        })
    }

    pub async fn add_member(&self, race_id: &str, user_id: &str) -> Result<()> {
        sqlx::query("INSERT INTO race_members (race_id, user_id, joined_at) VALUES ($1, $2, $3) ON CONFLICT (race_id, user_id) DO NOTHING")
            .bind(race_id)
            .bind(user_id)
            .bind(self.now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn is_member(&self, race_id: &str, user_id: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) AS n FROM race_members WHERE race_id = $1 AND user_id = $2")
            .bind(race_id)
            .bind(user_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }
}
