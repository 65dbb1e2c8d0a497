//! Training jobs (the `trainings` table): their own queue, leased like evaluations (an owner, a
//! secret token, an expiry; an expired lease returns the job to the queue, where it resumes from
//! its checkpoint), their progress, and the quotas checked when one is made. Also the league's
//! run-time settings (`league_settings`).

use sqlx::AssertSqlSafe;

use super::{Backend, Store};
use crate::error::{LeagueError, Result};
use crate::util::new_id;

/// A training job's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrainingStatus {
    Queued,
    Running,
    Completed,
    Stopped,
    Failed,
}

impl TrainingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TrainingStatus::Queued => "queued",
            TrainingStatus::Running => "running",
            TrainingStatus::Completed => "completed",
            TrainingStatus::Stopped => "stopped",
            TrainingStatus::Failed => "failed",
        }
    }

    pub fn finished(self) -> bool {
        matches!(
            self,
            TrainingStatus::Completed | TrainingStatus::Stopped | TrainingStatus::Failed
        )
    }
}

impl TryFrom<String> for TrainingStatus {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        Ok(match s.as_str() {
            "queued" => TrainingStatus::Queued,
            "running" => TrainingStatus::Running,
            "completed" => TrainingStatus::Completed,
            "stopped" => TrainingStatus::Stopped,
            "failed" => TrainingStatus::Failed,
            _ => return Err(format!("unknown training status {s:?}")),
        })
    }
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct TrainingRow {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub status: TrainingStatus,
    pub form_json: String,
    pub config_toml: String,
    pub reward_code: String,
    pub track: String,
    pub seed: i64,
    pub minutes: f64,
    /// A step budget (0 = the minutes are the stop condition).
    pub steps: i64,
    pub init_model_id: String,
    pub created_at: i64,
    pub started_at: i64,
    pub finished_at: i64,
    pub trained_ms: i64,
    pub env_steps: i64,
    pub stop_requested: i64,
    pub interruptions: i64,
    pub metrics_jsonl: String,
    pub log_tail: String,
    pub failure_reason: String,
    pub model_id: String,
    /// A replay of its best model so far ('' = none yet), and the iteration it is of.
    pub replay_sha256: String,
    pub replay_iteration: i64,
}

const COLS: &str = "id, owner_id, name, status, form_json, config_toml, reward_code, track, seed, minutes, steps, \
    init_model_id, created_at, started_at, finished_at, trained_ms, env_steps, stop_requested, interruptions, \
    metrics_jsonl, log_tail, failure_reason, model_id, replay_sha256, replay_iteration";

/// A training job to queue.
#[derive(Clone, Debug)]
pub struct NewTraining<'a> {
    pub owner_id: &'a str,
    pub name: &'a str,
    pub form_json: &'a str,
    pub config_toml: &'a str,
    pub reward_code: &'a str,
    pub track: &'a str,
    pub seed: i64,
    pub minutes: f64,
    pub steps: i64,
    pub init_model_id: &'a str,
}

/// The limits a new training job is checked against (each 0 = no limit).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainingLimits {
    /// Training jobs queued or running at once, per user.
    pub concurrent: i64,
    /// Training minutes per user per calendar month (UTC): finished jobs count what they trained,
    /// queued and running ones what they may still train.
    pub monthly_minutes: f64,
    /// Models per user (queued and running training jobs count as the models they will make).
    pub models: i64,
    /// The month's start (Unix ms) the minutes are counted from.
    pub month_start_ms: i64,
}

/// A change to a running job's progress, from its runner.
#[derive(Clone, Debug, Default)]
pub struct TrainingProgress<'a> {
    /// New metrics lines (each ending in '\n').
    pub metrics: &'a str,
    pub log_tail: &'a str,
    pub trained_ms: i64,
    pub env_steps: i64,
}

impl Store {
    /// Queue a training job, refused (ResourceExhausted, saying which limit and by how much) when it
    /// would take its owner over `limits`; checked and written in one transaction, so two jobs made
    /// at once cannot both slip under a limit.
    pub async fn insert_training(&self, new: &NewTraining<'_>, limits: &TrainingLimits) -> Result<TrainingRow> {
        let now = self.now_ms();
        let mut tx = self.write_tx().await?;
        if self.backend == Backend::Postgres {
            // One writer per user at a time (SQLite's write transaction is one writer already).
            sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
                .bind(new.owner_id)
                .fetch_optional(&mut *tx)
                .await?;
        }
        if limits.concurrent > 0 {
            let active: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM trainings WHERE owner_id = $1 AND status IN ('queued', 'running')",
            )
            .bind(new.owner_id)
            .fetch_one(&mut *tx)
            .await?;
            if active >= limits.concurrent {
                return Err(LeagueError::ResourceExhausted(format!(
                    "You have {active} training job{} queued or running, the most allowed at once: wait for one to \
                     finish or stop one.",
                    if active == 1 { "" } else { "s" }
                )));
            }
        }
        if limits.models > 0 {
            let models: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM models WHERE owner_id = $1 AND deleted = 0")
                .bind(new.owner_id)
                .fetch_one(&mut *tx)
                .await?;
            let coming: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM trainings WHERE owner_id = $1 AND status IN ('queued', 'running')",
            )
            .bind(new.owner_id)
            .fetch_one(&mut *tx)
            .await?;
            if models + coming >= limits.models {
                return Err(LeagueError::ResourceExhausted(format!(
                    "You have {} models (with the ones training), the most allowed: delete one first.",
                    models + coming
                )));
            }
        }
        if limits.monthly_minutes > 0.0 {
            let rows: Vec<(String, i64, f64)> = sqlx::query_as(
                "SELECT status, trained_ms, minutes FROM trainings WHERE owner_id = $1 AND created_at >= $2",
            )
            .bind(new.owner_id)
            .bind(limits.month_start_ms)
            .fetch_all(&mut *tx)
            .await?;
            let used: f64 = rows
                .iter()
                .map(|(status, trained_ms, minutes)| match status.as_str() {
                    "queued" | "running" => minutes.max(*trained_ms as f64 / 60_000.0),
                    _ => *trained_ms as f64 / 60_000.0,
                })
                .sum();
            if used + new.minutes > limits.monthly_minutes + 1e-9 {
                return Err(LeagueError::ResourceExhausted(format!(
                    "This job's {} minutes would take you past this month's {} training minutes ({:.1} used or \
                     booked, {:.1} left).",
                    new.minutes,
                    limits.monthly_minutes,
                    used,
                    (limits.monthly_minutes - used).max(0.0)
                )));
            }
        }
        let id = new_id("trn");
        sqlx::query(
            "INSERT INTO trainings (id, owner_id, name, status, form_json, config_toml, reward_code, track, seed, minutes, \
             steps, init_model_id, created_at, started_at, finished_at, trained_ms, env_steps, stop_requested, lease_owner, \
             lease_token, lease_expires_at, interruptions, metrics_jsonl, log_tail, failure_reason, model_id) \
             VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, 0, 0, 0, 0, '', '', 0, 0, '', '', '', '')",
        )
        .bind(&id)
        .bind(new.owner_id)
        .bind(new.name)
        .bind(new.form_json)
        .bind(new.config_toml)
        .bind(new.reward_code)
        .bind(new.track)
        .bind(new.seed)
        .bind(new.minutes)
        .bind(new.steps)
        .bind(new.init_model_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let row: TrainingRow = sqlx::query_as(AssertSqlSafe(format!("SELECT {COLS} FROM trainings WHERE id = $1")))
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn training(&self, id: &str) -> Result<Option<TrainingRow>> {
        Ok(
            sqlx::query_as(AssertSqlSafe(format!("SELECT {COLS} FROM trainings WHERE id = $1")))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Training jobs of `owner` (everyone's when `None`), newest first.
    pub async fn list_trainings(&self, owner: Option<&str>, offset: usize, limit: usize) -> Result<Vec<TrainingRow>> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {COLS} FROM trainings WHERE ($1 = '' OR owner_id = $1) ORDER BY created_at DESC, id LIMIT $2 OFFSET $3"
        )))
        .bind(owner.unwrap_or(""))
        .bind(limit as i64)
        .bind(offset as i64)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Lease the oldest queued training job to `owner` until `now + lease_ms`, with `token`.
    pub async fn lease_training(&self, owner: &str, token: &str, lease_ms: i64) -> Result<Option<TrainingRow>> {
        let now = self.now_ms();
        let mut tx = self.write_tx().await?;
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM trainings WHERE status = 'queued' ORDER BY created_at, id LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?;
        let Some(id) = id else { return Ok(None) };
        sqlx::query(
            "UPDATE trainings SET status = 'running', lease_owner = $1, lease_token = $2, lease_expires_at = $3, \
             started_at = CASE WHEN started_at = 0 THEN $4 ELSE started_at END WHERE id = $5 AND status = 'queued'",
        )
        .bind(owner)
        .bind(token)
        .bind(now + lease_ms)
        .bind(now)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        let row: TrainingRow = sqlx::query_as(AssertSqlSafe(format!("SELECT {COLS} FROM trainings WHERE id = $1")))
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(row))
    }

    /// Record a running job's progress and extend its lease. `None` when the lease is no longer
    /// `token`'s (the job was requeued or finished); otherwise whether a stop was asked for.
    pub async fn training_progress(
        &self,
        id: &str,
        token: &str,
        lease_ms: i64,
        p: &TrainingProgress<'_>,
    ) -> Result<Option<bool>> {
        let now = self.now_ms();
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE trainings SET metrics_jsonl = metrics_jsonl || $1, log_tail = $2, trained_ms = $3, env_steps = $4, \
             lease_expires_at = $5 WHERE id = $6 AND lease_token = $7 AND status = 'running'",
        )
        .bind(p.metrics)
        .bind(p.log_tail)
        .bind(p.trained_ms)
        .bind(p.env_steps)
        .bind(now + lease_ms)
        .bind(id)
        .bind(token)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let stop: Option<i64> = if n == 1 {
            sqlx::query_scalar("SELECT stop_requested FROM trainings WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
        } else {
            None
        };
        tx.commit().await?;
        Ok(stop.map(|s| s != 0))
    }

    /// Finish a running job (its lease `token`'s): completed with `model_id`, stopped (with the
    /// model it had made so far, if any) or failed with `reason`. False if the lease was lost.
    pub async fn finish_training(
        &self,
        id: &str,
        token: &str,
        status: TrainingStatus,
        model_id: &str,
        reason: &str,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE trainings SET status = $1, model_id = $2, failure_reason = $3, finished_at = $4, lease_token = '' \
             WHERE id = $5 AND lease_token = $6 AND status = 'running'",
        )
        .bind(status.as_str())
        .bind(model_id)
        .bind(reason)
        .bind(self.now_ms())
        .bind(id)
        .bind(token)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Ask a job to stop: a queued one stops at once, a running one when its runner next reports
    /// (it keeps the model trained so far). Returns the job as it is then; `None` if there is none.
    pub async fn request_training_stop(&self, id: &str) -> Result<Option<TrainingRow>> {
        let now = self.now_ms();
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE trainings SET status = 'stopped', finished_at = $1, failure_reason = 'stopped before it started' \
             WHERE id = $2 AND status = 'queued'",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE trainings SET stop_requested = $1 WHERE id = $2 AND status = 'running'")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let row: Option<TrainingRow> =
            sqlx::query_as(AssertSqlSafe(format!("SELECT {COLS} FROM trainings WHERE id = $1")))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Return running jobs whose lease expired (or, at a server's start, every lease of its own
    /// kind, `owner_prefix`) to the queue: their runner resumes them from their checkpoint. Returns
    /// how many.
    pub async fn requeue_expired_trainings(&self, owner_prefix: Option<&str>) -> Result<u64> {
        let now = self.now_ms();
        let n = sqlx::query(
            "UPDATE trainings SET status = 'queued', lease_token = '', interruptions = interruptions + 1 \
             WHERE status = 'running' AND (lease_expires_at < $1 OR ($2 <> '' AND lease_owner LIKE $3))",
        )
        .bind(now)
        .bind(owner_prefix.unwrap_or(""))
        .bind(format!("{}%", owner_prefix.unwrap_or("")))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n)
    }

    /// Record a job's newest replay (a blob stored already).
    pub async fn set_training_replay(&self, id: &str, sha256: &str, iteration: i64) -> Result<()> {
        sqlx::query("UPDATE trainings SET replay_sha256 = $1, replay_iteration = $2 WHERE id = $3")
            .bind(sha256)
            .bind(iteration)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A league setting (`None` when never set).
    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM league_settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO league_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
