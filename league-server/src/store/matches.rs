//! Head-to-head matches: their entrants, status and result. A match is queued with its job in one
//! transaction; the job's lease, retries and failure move the match's status along with it
//! (`jobs.rs`), and [`Store::complete_match`] records the result.

use sqlx::AssertSqlSafe;

use super::{JobSubject, JsonText, Store};
use crate::error::{LeagueError, Result};
use crate::matches::{Entrant, MatchResult, MatchStatus};
use crate::util::new_id;

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct MatchRow {
    pub id: String,
    /// The race whose track and rules the match uses.
    pub race_id: String,
    /// The bracket or ladder it belongs to ('' for a match of its own).
    pub event_id: String,
    /// Its place in the event (a bracket's `W1-1`, a ladder's sequence number; its id otherwise).
    pub event_key: String,
    /// In grid order.
    #[sqlx(rename = "entrants_json", try_from = "JsonText")]
    pub entrants: Vec<Entrant>,
    #[sqlx(try_from = "String")]
    pub status: MatchStatus,
    #[sqlx(rename = "result_json", try_from = "JsonText")]
    pub result: Option<MatchResult>,
    pub failure_reason: String,
    /// The replay's blob ('' when there is none: not raced, or it could not be rendered).
    pub replay_sha256: String,
    /// Each seat's trace blob (SIM_TRACE_LOG CSV) in grid order, once raced ('' for a seat that
    /// forfeited; empty until the match is done).
    #[sqlx(rename = "traces_json", try_from = "JsonText")]
    pub trace_sha256s: Vec<String>,
    pub created_at: i64,
    pub finished_at: i64,
}

impl TryFrom<String> for MatchStatus {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<MatchStatus, String> {
        MatchStatus::parse(&s)
    }
}

impl TryFrom<JsonText> for Vec<Entrant> {
    type Error = String;
    fn try_from(j: JsonText) -> std::result::Result<Vec<Entrant>, String> {
        serde_json::from_str(&j.0).map_err(|e| format!("stored match entrants: {e}"))
    }
}

impl TryFrom<JsonText> for Vec<String> {
    type Error = String;
    fn try_from(j: JsonText) -> std::result::Result<Vec<String>, String> {
        serde_json::from_str(&j.0).map_err(|e| format!("stored match traces: {e}"))
    }
}

/// A stored result ('' until the match is done).
impl TryFrom<JsonText> for Option<MatchResult> {
    type Error = String;
    fn try_from(j: JsonText) -> std::result::Result<Option<MatchResult>, String> {
        if j.0.is_empty() {
            return Ok(None);
        }
        serde_json::from_str(&j.0)
            .map(Some)
            .map_err(|e| format!("stored match result: {e}"))
    }
}

const COLS: &str = "id, race_id, event_id, event_key, entrants_json, status, result_json, failure_reason, replay_sha256, \
     traces_json, created_at, finished_at";

/// Move a match's status with its job (inside the job's transaction): `running` when leased,
/// `queued` when it goes back to the queue, `failed` (with the reason) for good.
pub(super) async fn set_status(
    tx: &mut sqlx::AnyConnection,
    match_id: &str,
    status: MatchStatus,
    reason: &str,
    now: i64,
) -> Result<()> {
    let finished_at = if status == MatchStatus::Failed { now } else { 0 };
    sqlx::query(
        "UPDATE matches SET status = $1, failure_reason = $2, finished_at = $3 WHERE id = $4 AND status IN ('queued', 'running')",
    )
    .bind(status.as_str())
    .bind(reason)
    .bind(finished_at)
    .bind(match_id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

impl Store {
    /// Queue a match (and its job). Within an event a key is raced once: queueing an existing
    /// key returns the match already there.
    pub async fn insert_match(
        &self,
        race_id: &str,
        event_id: &str,
        event_key: Option<&str>,
        entrants: &[Entrant],
    ) -> Result<MatchRow> {
        let id = new_id("match");
        let key = event_key.unwrap_or(&id).to_string();
        let now = self.now_ms();
        let mut tx = self.write_tx().await?;
        let existing: Option<String> =
            sqlx::query_scalar("SELECT id FROM matches WHERE event_id = $1 AND event_key = $2")
                .bind(event_id)
                .bind(&key)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(existing) = existing {
            tx.commit().await?;
            return self
                .match_row(&existing)
                .await?
                .ok_or_else(|| LeagueError::internal("a match vanished"));
        }
        sqlx::query(
            "INSERT INTO matches (id, race_id, event_id, event_key, entrants_json, status, result_json, failure_reason, replay_sha256, traces_json, created_at, finished_at) \
             VALUES ($1, $2, $3, $4, $5, 'queued', '', '', '', '[]', $6, 0)",
        )
        .bind(&id)
        .bind(race_id)
        .bind(event_id)
        .bind(&key)
        .bind(serde_json::to_string(entrants).expect("serialisable"))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        super::jobs::insert_match_job(&mut tx, &id, now).await?;
        tx.commit().await?;
        Ok(MatchRow {
            id,
            race_id: race_id.to_string(),
            event_id: event_id.to_string(),
            event_key: key,
            entrants: entrants.to_vec(),
            status: MatchStatus::Queued,
            result: None,
            failure_reason: String::new(),
            replay_sha256: String::new(),
            trace_sha256s: Vec::new(),
            created_at: now,
            finished_at: 0,
        })
    }

    /// Queue a failed match again (with a new job). Returns whether it was failed.
    pub async fn requeue_match(&self, id: &str) -> Result<bool> {
        let now = self.now_ms();
        let mut tx = self.write_tx().await?;
        let r = sqlx::query(
            "UPDATE matches SET status = 'queued', failure_reason = '', finished_at = 0 WHERE id = $1 AND status = 'failed'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let failed = r.rows_affected() > 0;
        if failed {
            super::jobs::insert_match_job(&mut tx, id, now).await?;
        }
        tx.commit().await?;
        Ok(failed)
    }

    pub async fn match_row(&self, id: &str) -> Result<Option<MatchRow>> {
        Ok(
            sqlx::query_as(AssertSqlSafe(format!("SELECT {COLS} FROM matches WHERE id = $1")))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// An event's matches in the order they were created.
    pub async fn event_matches(&self, event_id: &str) -> Result<Vec<MatchRow>> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {COLS} FROM matches WHERE event_id = $1 ORDER BY created_at, id"
        )))
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Record a match's result, its seats' traces (grid order; empty for a seat that forfeited)
    /// and its replay. `None` when the lease is stale (nothing recorded).
    pub async fn complete_match(
        &self,
        job_id: &str,
        token: &str,
        result: &MatchResult,
        traces: &[Vec<u8>],
        replay: Option<&[u8]>,
    ) -> Result<Option<MatchRow>> {
        let replay_sha = self.put_optional_blob(replay).await?;
        let mut trace_shas = Vec::with_capacity(traces.len());
        for t in traces {
            trace_shas.push(self.put_optional_blob((!t.is_empty()).then_some(t.as_slice())).await?);
        }
        let now = self.now_ms();
        let mut tx = self.write_tx().await?;
        let match_id = match super::jobs::mark_done(&mut tx, job_id, token).await? {
            Some(JobSubject::Match(match_id)) => match_id,
            // Not this kind of job: nothing changes (the transaction is dropped).
            Some(other) => return Err(LeagueError::internal(format!("job {job_id} races {other:?}"))),
            None => {
                tx.commit().await?;
                return Ok(None);
            }
        };
        sqlx::query(
            "UPDATE matches SET status = 'done', result_json = $1, failure_reason = '', finished_at = $2, replay_sha256 = $3, traces_json = $4 WHERE id = $5",
        )
        .bind(serde_json::to_string(result).expect("serialisable"))
        .bind(now)
        .bind(&replay_sha)
        .bind(serde_json::to_string(&trace_shas).expect("serialisable"))
        .bind(&match_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.match_row(&match_id).await
    }
}
