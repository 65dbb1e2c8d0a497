//! Submissions: a model entered in a race, its status and its result.

use sqlx::AssertSqlSafe;

pub use slipstream_league_client::kinds::SubStatus;

use super::{Backend, Flag, JsonText, Store};
use crate::error::{LeagueError, Result};
use crate::ranking::Lap;
use crate::util::new_id;

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct SubmissionRow {
    pub id: String,
    pub race_id: String,
    pub model_id: String,
    pub user_id: String,
    #[sqlx(try_from = "String")]
    pub status: SubStatus,
    #[sqlx(rename = "laps_json", try_from = "JsonText")]
    pub laps: Vec<Lap>,
    #[sqlx(try_from = "Flag")]
    pub qualified: bool,
    pub score_ms: i64,
    pub off_track: i64,
    pub collisions: i64,
    pub failure_reason: String,
    pub submitted_at: i64,
    pub finished_at: i64,
    pub attempts: i64,
    pub trace_sha256: String,
    /// The replay's blob ('' when there is none: not completed, or it could not be rendered).
    pub replay_sha256: String,
}

/// Stored laps (the `laps_json` column).
impl TryFrom<JsonText> for Vec<Lap> {
    type Error = String;
    fn try_from(j: JsonText) -> std::result::Result<Vec<Lap>, String> {
        serde_json::from_str(&j.0).map_err(|e| format!("stored laps: {e}"))
    }
}

const SUBMISSION_COLS: &str = "id, race_id, model_id, user_id, status, laps_json, qualified, score_ms, off_track, collisions, \
     failure_reason, submitted_at, finished_at, attempts, trace_sha256, replay_sha256";

/// Submissions that count against a racer's cap in a race (all but cancelled ones).
const COUNT_SQL: &str =
    "SELECT COUNT(*) AS n FROM submissions WHERE race_id = $1 AND user_id = $2 AND status <> 'cancelled'";

/// A submission, read inside a transaction.
pub(super) async fn fetch(conn: &mut sqlx::AnyConnection, id: &str) -> Result<SubmissionRow> {
    Ok(sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {SUBMISSION_COLS} FROM submissions WHERE id = $1"
    )))
    .bind(id)
    .fetch_one(conn)
    .await?)
}

/// A race's evaluations not yet finished.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pending {
    pub queued: u32,
    pub running: u32,
}

impl Store {
    /// How many of a race's submissions wait in the queue, and how many are being evaluated.
    pub async fn pending_evaluations(&self, race_id: &str) -> Result<Pending> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, COUNT(*) FROM submissions WHERE race_id = $1 AND status IN ('queued', 'running') GROUP BY status",
        )
        .bind(race_id)
        .fetch_all(&self.pool)
        .await?;
        let mut p = Pending::default();
        for (status, n) in rows {
            let n = u32::try_from(n).unwrap_or(u32::MAX);
            match status.as_str() {
                "queued" => p.queued = n,
                _ => p.running = n,
            }
        }
        Ok(p)
    }

    /// Submissions that count against a racer's cap in a race (all but cancelled ones).
    pub async fn count_submissions(&self, race_id: &str, user_id: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(COUNT_SQL)
            .bind(race_id)
            .bind(user_id)
            .fetch_one(&self.pool)
            .await?)
    }

    /// Create a submission and its queued job, checking the cap inside the transaction.
    pub async fn insert_submission(
        &self,
        race_id: &str,
        model_id: &str,
        user_id: &str,
        cap: u32,
    ) -> Result<SubmissionRow> {
        let now = self.now_ms();
        let mut tx = self.write_tx().await?;
        if cap > 0 {
            if self.backend == Backend::Postgres {
                // Serialise one user's submissions so that concurrent ones cannot both pass the cap.
                sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
                    .bind(user_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            }
            let n: i64 = sqlx::query_scalar(COUNT_SQL)
                .bind(race_id)
                .bind(user_id)
                .fetch_one(&mut *tx)
                .await?;
            if n >= i64::from(cap) {
                return Err(LeagueError::ResourceExhausted(format!(
                    "you have used all {cap} submissions for this race"
                )));
            }
        }
        let s = SubmissionRow {
            id: new_id("sub"),
            race_id: race_id.into(),
            model_id: model_id.into(),
            user_id: user_id.into(),
            status: SubStatus::Queued,
            laps: vec![],
            qualified: false,
            score_ms: 0,
            off_track: 0,
            collisions: 0,
            failure_reason: String::new(),
            submitted_at: now,
            finished_at: 0,
            attempts: 0,
            trace_sha256: String::new(),
            replay_sha256: String::new(),
        };
        sqlx::query(
            "INSERT INTO submissions (id, race_id, model_id, user_id, status, laps_json, qualified, score_ms, off_track, collisions, \
             failure_reason, submitted_at, finished_at, attempts, trace_sha256) VALUES ($1, $2, $3, $4, 'queued', '[]', 0, 0, 0, 0, '', $5, 0, 0, '')",
        )
        .bind(&s.id)
        .bind(race_id)
        .bind(model_id)
        .bind(user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        super::jobs::insert_job(&mut tx, &s.id, now).await?;
        tx.commit().await?;
        Ok(s)
    }

    pub async fn submission(&self, id: &str) -> Result<Option<SubmissionRow>> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {SUBMISSION_COLS} FROM submissions WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Submissions by `user` (or everyone's when `None`), optionally in one race, newest first.
    pub async fn list_submissions(
        &self,
        user: Option<&str>,
        race: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<SubmissionRow>> {
        let sql = format!(
            "SELECT {SUBMISSION_COLS} FROM submissions WHERE ($1 = '' OR user_id = $1) AND ($2 = '' OR race_id = $2) \
             ORDER BY submitted_at DESC, id LIMIT $3 OFFSET $4"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(user.unwrap_or(""))
            .bind(race.unwrap_or(""))
            .bind(limit as i64)
            .bind(offset as i64)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Cancel a queued or running submission: returns it cancelled, or `None` if it had already
    /// finished.
    pub async fn cancel_submission(&self, id: &str) -> Result<Option<SubmissionRow>> {
        let mut tx = self.write_tx().await?;
        let r = sqlx::query(
            "UPDATE submissions SET status = 'cancelled', finished_at = $1, failure_reason = 'cancelled' WHERE id = $2 AND status IN ('queued', 'running')",
        )
        .bind(self.now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Ok(None);
        }
        sqlx::query("UPDATE jobs SET status = 'cancelled' WHERE submission_id = $1 AND status IN ('queued', 'leased')")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let sub = fetch(&mut tx, id).await?;
        tx.commit().await?;
        Ok(Some(sub))
    }

    /// Queue a finished (completed or failed) submission for evaluation again: returns it queued,
    /// or `None` if it had not finished.
    pub async fn requeue_submission(&self, id: &str) -> Result<Option<SubmissionRow>> {
        let now = self.now_ms();
        let mut tx = self.write_tx().await?;
        let r = sqlx::query(
            "UPDATE submissions SET status = 'queued', failure_reason = '', finished_at = 0, attempts = 0 WHERE id = $1 AND status IN ('completed', 'failed')",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Ok(None);
        }
        super::jobs::insert_job(&mut tx, id, now).await?;
        let sub = fetch(&mut tx, id).await?;
        tx.commit().await?;
        Ok(Some(sub))
    }
}
