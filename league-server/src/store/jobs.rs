//! The evaluation queue: the `jobs` table. A job is leased (with an expiry and a secret lease
//! token), heart-beaten, and completed or failed; an expired lease returns the job to the queue
//! without using up an attempt (an interruption, see [`Store::requeue_expired`]), a failure is
//! retried with exponential back-off until `max_attempts`. Each change of a job moves its
//! subject's status along in the same transaction ([`JobSubject`]: a submission's evaluation, or a
//! head-to-head match).

use sqlx::AssertSqlSafe;

use super::{Backend, BoardChange, RaceRow, Store, SubmissionRow};
use crate::error::{LeagueError, Result};
use crate::matches::MatchStatus;
use crate::ranking::{self, Lap};
use crate::util::new_id;

/// Interruptions (lost leases) after which a job fails for good: a model that takes its worker
/// down every time must not keep the queue busy for ever. Attempts (`max_attempts`) count only the
/// model's own failures.
pub const MAX_INTERRUPTIONS: i64 = 10;

/// What a job runs (the `jobs` table keeps it as two columns, `submission_id` and `match_id`,
/// one of them empty; only this module reads them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobSubject {
    /// A submission's evaluation (the submission's id).
    Evaluation(String),
    /// A head-to-head match's race (the match's id).
    Match(String),
}

impl JobSubject {
    /// From the table's two columns.
    fn from_columns(submission_id: String, match_id: String) -> Self {
        if match_id.is_empty() {
            JobSubject::Evaluation(submission_id)
        } else {
            JobSubject::Match(match_id)
        }
    }

    /// The submission evaluated, if this is an evaluation.
    pub fn submission_id(&self) -> Option<&str> {
        match self {
            JobSubject::Evaluation(id) => Some(id),
            JobSubject::Match(_) => None,
        }
    }

    /// The match raced, if this is a match.
    pub fn match_id(&self) -> Option<&str> {
        match self {
            JobSubject::Match(id) => Some(id),
            JobSubject::Evaluation(_) => None,
        }
    }
}

/// A job handed to a worker.
#[derive(Clone, Debug, PartialEq)]
pub struct LeasedJob {
    pub job_id: String,
    pub subject: JobSubject,
    pub lease_token: String,
    pub lease_expires_at: i64,
    pub attempts: i64,
    /// An evaluation's submission, as the lease left it (running).
    pub submission: Option<SubmissionRow>,
}

/// What finishing an evaluation changed.
#[derive(Clone, Debug, PartialEq)]
pub enum Completion {
    /// The submission was updated, and what that did to its racer's leaderboard row.
    Recorded {
        submission: Box<SubmissionRow>,
        board: BoardChange,
    },
    /// The lease was stale or the submission was cancelled meanwhile: nothing recorded.
    Ignored,
}

/// Queue a submission's evaluation (inside the transaction that creates or requeues it).
pub(super) async fn insert_job(tx: &mut sqlx::AnyConnection, submission_id: &str, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO jobs (id, submission_id, status, attempts, next_attempt_at, lease_owner, lease_token, lease_expires_at, last_error, created_at) \
         VALUES ($1, $2, 'queued', 0, $3, '', '', 0, '', $3)",
    )
    .bind(new_id("job"))
    .bind(submission_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Mark a leased job done, if `token` still holds its lease (a stale lease: false, nothing changed).
pub(super) async fn mark_done(tx: &mut sqlx::AnyConnection, job_id: &str, token: &str) -> Result<Option<JobSubject>> {
    let subject: Option<(String, String)> = sqlx::query_as(
        "UPDATE jobs SET status = 'done', lease_expires_at = 0 WHERE id = $1 AND lease_token = $2 AND status = 'leased' \
         RETURNING submission_id, match_id",
    )
    .bind(job_id)
    .bind(token)
    .fetch_optional(&mut *tx)
    .await?;
    Ok(subject.map(|(sub, m)| JobSubject::from_columns(sub, m)))
}

/// Queue a head-to-head match's race (inside the transaction that creates the match).
pub(super) async fn insert_match_job(tx: &mut sqlx::AnyConnection, match_id: &str, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO jobs (id, submission_id, match_id, status, attempts, next_attempt_at, lease_owner, lease_token, lease_expires_at, last_error, created_at) \
         VALUES ($1, '', $2, 'queued', 0, $3, '', '', 0, '', $3)",
    )
    .bind(new_id("job"))
    .bind(match_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

// Every change of a job's subject's status is written here, in the job's transaction. Each returns
// an evaluation's submission as the change left it (for its watchers); a match's watchers are told
// by event (`league/events.rs`).

/// A leased job's subject is running: a submission `running` at attempt `attempts`, a match `running`.
async fn subject_running(
    tx: &mut sqlx::AnyConnection,
    subject: &JobSubject,
    attempts: i64,
) -> Result<Option<SubmissionRow>> {
    let sub_id = match subject {
        JobSubject::Match(id) => return match_status(tx, id, MatchStatus::Running, "", 0).await,
        JobSubject::Evaluation(id) => id,
    };
    sqlx::query("UPDATE submissions SET status = 'running', attempts = $1 WHERE id = $2 AND status = 'queued'")
        .bind(attempts)
        .bind(sub_id)
        .execute(&mut *tx)
        .await?;
    Ok(Some(super::submissions::fetch(tx, sub_id).await?))
}

async fn match_status(
    tx: &mut sqlx::AnyConnection,
    id: &str,
    status: MatchStatus,
    reason: &str,
    now: i64,
) -> Result<Option<SubmissionRow>> {
    super::matches::set_status(tx, id, status, reason, now).await?;
    Ok(None)
}

/// What a job's subject becomes when the job goes back to the queue: a submission `queued` (its
/// attempt not counted), a match `queued`.
async fn subject_queued(tx: &mut sqlx::AnyConnection, subject: &JobSubject) -> Result<Option<SubmissionRow>> {
    let sub_id = match subject {
        JobSubject::Match(id) => return match_status(tx, id, MatchStatus::Queued, "", 0).await,
        JobSubject::Evaluation(id) => id,
    };
    sqlx::query(
        "UPDATE submissions SET status = 'queued', attempts = attempts - 1 WHERE id = $1 AND status = 'running'",
    )
    .bind(sub_id)
    .execute(&mut *tx)
    .await?;
    Ok(Some(super::submissions::fetch(tx, sub_id).await?))
}

/// A job's subject failed for good with `reason`.
async fn subject_failed(
    tx: &mut sqlx::AnyConnection,
    subject: &JobSubject,
    reason: &str,
    now: i64,
) -> Result<Option<SubmissionRow>> {
    let sub_id = match subject {
        JobSubject::Match(id) => return match_status(tx, id, MatchStatus::Failed, reason, now).await,
        JobSubject::Evaluation(id) => id,
    };
    sqlx::query(
        "UPDATE submissions SET status = 'failed', failure_reason = $1, finished_at = $2 WHERE id = $3 AND status IN ('running', 'queued')",
    )
    .bind(reason)
    .bind(now)
    .bind(sub_id)
    .execute(&mut *tx)
    .await?;
    Ok(Some(super::submissions::fetch(tx, sub_id).await?))
}

/// After a failed attempt: queue the job again after a back-off, or fail it (and its submission)
/// for good. Returns an evaluation's submission as it left it.
#[allow(clippy::too_many_arguments)]
async fn retry_or_fail(
    tx: &mut sqlx::AnyConnection,
    job_id: &str,
    subject: &JobSubject,
    attempts: i64,
    reason: &str,
    max_attempts: i64,
    backoff_ms: i64,
    now: i64,
) -> Result<Option<SubmissionRow>> {
    if attempts >= max_attempts {
        sqlx::query("UPDATE jobs SET status = 'failed', last_error = $1, lease_expires_at = 0 WHERE id = $2")
            .bind(reason)
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
        let reason = format!("evaluation failed after {attempts} attempt(s): {reason}");
        subject_failed(tx, subject, &reason, now).await
    } else {
        let delay = backoff_ms.saturating_mul(1 << (attempts - 1).clamp(0, 20));
        sqlx::query(
            "UPDATE jobs SET status = 'queued', last_error = $1, next_attempt_at = $2, lease_owner = '', lease_token = '', lease_expires_at = 0 WHERE id = $3",
        )
        .bind(reason)
        .bind(now + delay)
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
        subject_queued(tx, subject).await
    }
}

impl Store {
    /// Lease the oldest due job to `owner` for `lease_ms` (head-to-head matches only if
    /// `with_matches`: a worker that can race them).
    pub async fn lease_job(&self, owner: &str, lease_ms: i64, with_matches: bool) -> Result<Option<LeasedJob>> {
        let now = self.now_ms();
        let token = crate::util::new_secret("lease");
        let pick = if self.backend == Backend::Postgres {
            "SELECT id FROM jobs WHERE status = 'queued' AND next_attempt_at <= $1 AND ($5 = 1 OR match_id = '') ORDER BY next_attempt_at, created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
        } else {
            "SELECT id FROM jobs WHERE status = 'queued' AND next_attempt_at <= $1 AND ($5 = 1 OR match_id = '') ORDER BY next_attempt_at, created_at, id LIMIT 1"
        };
        let sql = format!(
            "UPDATE jobs SET status = 'leased', lease_owner = $2, lease_token = $3, lease_expires_at = $4, attempts = attempts + 1 \
             WHERE status = 'queued' AND id = ({pick}) RETURNING id, submission_id, match_id, attempts"
        );
        let mut tx = self.write_tx().await?;
        let row: Option<(String, String, String, i64)> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(now)
            .bind(owner)
            .bind(&token)
            .bind(now + lease_ms)
            .bind(i64::from(with_matches))
            .fetch_optional(&mut *tx)
            .await?;
        let Some((job_id, submission_id, match_id, attempts)) = row else {
            tx.commit().await?;
            return Ok(None);
        };
        let subject = JobSubject::from_columns(submission_id, match_id);
        let submission = subject_running(&mut tx, &subject, attempts).await?;
        tx.commit().await?;
        Ok(Some(LeasedJob {
            job_id,
            subject,
            lease_token: token,
            lease_expires_at: now + lease_ms,
            attempts,
            submission,
        }))
    }

    /// A lease is valid if the token matches and it has not run out. Returns the job's subject.
    pub async fn check_lease(&self, job_id: &str, token: &str) -> Result<JobSubject> {
        let (sub_id, match_id, t, exp, status): (String, String, String, i64, String) = sqlx::query_as(
            "SELECT submission_id, match_id, lease_token, lease_expires_at, status FROM jobs WHERE id = $1",
        )
        .bind(job_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| LeagueError::not_found(format!("no job {job_id}")))?;
        if status != "leased" || t != token || exp < self.now_ms() {
            return Err(LeagueError::precondition(format!(
                "the lease on job {job_id} is no longer held (it expired or the job was cancelled)"
            )));
        }
        Ok(JobSubject::from_columns(sub_id, match_id))
    }

    pub async fn heartbeat(&self, job_id: &str, token: &str, lease_ms: i64) -> Result<i64> {
        self.check_lease(job_id, token).await?;
        let until = self.now_ms() + lease_ms;
        sqlx::query("UPDATE jobs SET lease_expires_at = $1 WHERE id = $2 AND lease_token = $3 AND status = 'leased'")
            .bind(until)
            .bind(job_id)
            .bind(token)
            .execute(&self.pool)
            .await?;
        Ok(until)
    }

    /// Record a successful evaluation and refresh the racer's leaderboard row. Ignored when the lease
    /// is stale or the submission was cancelled meanwhile.
    pub async fn complete_job(
        &self,
        job_id: &str,
        token: &str,
        laps: &[Lap],
        trace: &[u8],
        replay: Option<&[u8]>,
        race: &RaceRow,
    ) -> Result<Completion> {
        let sha = crate::util::sha256_hex(trace);
        self.put_blob(&sha, trace).await?;
        let replay_sha = self.put_optional_blob(replay).await?;
        let now = self.now_ms();
        let mut tx = self.write_tx().await?;
        let sub_id = match mark_done(&mut tx, job_id, token).await? {
            Some(JobSubject::Evaluation(sub_id)) => sub_id,
            // Not this kind of job: nothing changes (the transaction is dropped).
            Some(other) => return Err(LeagueError::internal(format!("job {job_id} races {other:?}"))),
            None => {
                tx.commit().await?;
                return Ok(Completion::Ignored);
            }
        };
        let spec = &race.spec;
        let score = ranking::score(spec.timing, spec.min_laps as usize, laps);
        let off_track: i64 = laps.iter().map(|l| i64::from(l.off_track)).sum();
        let collisions: i64 = laps.iter().map(|l| i64::from(l.collisions)).sum();
        let r = sqlx::query(
            "UPDATE submissions SET status = 'completed', laps_json = $1, qualified = $2, score_ms = $3, off_track = $4, collisions = $5, \
             failure_reason = '', finished_at = $6, trace_sha256 = $7, replay_sha256 = $8 WHERE id = $9 AND status IN ('running', 'queued')",
        )
        .bind(serde_json::to_string(laps).expect("serialisable"))
        .bind(i64::from(score.is_some()))
        .bind(score.unwrap_or(0))
        .bind(off_track)
        .bind(collisions)
        .bind(now)
        .bind(&sha)
        .bind(&replay_sha)
        .bind(&sub_id)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            tx.commit().await?;
            return Ok(Completion::Ignored);
        }
        let sub = super::submissions::fetch(&mut tx, &sub_id).await?;
        let board = super::leaderboards::refresh_best(&mut tx, &sub.race_id, &sub.user_id).await?;
        tx.commit().await?;
        Ok(Completion::Recorded {
            submission: Box::new(sub),
            board,
        })
    }

    /// Record a failed evaluation: retried after `2^attempts` × `backoff_ms` until `max_attempts`,
    /// then the submission fails with the reason. Returns an evaluation's submission as the
    /// failure left it (queued again, or failed for good); `None` for a match or a stale lease.
    pub async fn fail_job(
        &self,
        job_id: &str,
        token: &str,
        reason: &str,
        max_attempts: i64,
        backoff_ms: i64,
    ) -> Result<Option<SubmissionRow>> {
        let now = self.now_ms();
        let mut tx = self.write_tx().await?;
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT submission_id, match_id, attempts FROM jobs WHERE id = $1 AND lease_token = $2 AND status = 'leased'",
        )
        .bind(job_id)
        .bind(token)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((sub_id, match_id, attempts)) = row else {
            tx.commit().await?;
            return Ok(None);
        };
        let subject = JobSubject::from_columns(sub_id, match_id);
        let changed = retry_or_fail(
            &mut tx,
            job_id,
            &subject,
            attempts,
            reason,
            max_attempts,
            backoff_ms,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// Return expired leases to the queue. Also used at start to recover jobs a killed process held
    /// (`owner_prefix` = its local owners, regardless of expiry).
    ///
    /// A lost lease is an *interruption* — the worker or the server stopped — not the model's
    /// failure: the job goes back to the queue at once without using up an attempt. Only a job
    /// interrupted [`MAX_INTERRUPTIONS`] times (a model that takes its worker down every time)
    /// fails for good. Returns the submissions it changed (queued again, or failed).
    pub async fn requeue_expired(&self, owner_prefix: Option<&str>) -> Result<Vec<SubmissionRow>> {
        let now = self.now_ms();
        let rows: Vec<(String, String, String)> = match owner_prefix {
            Some(p) => {
                sqlx::query_as("SELECT id, submission_id, match_id FROM jobs WHERE status = 'leased' AND (lease_expires_at < $1 OR lease_owner LIKE $2)")
                    .bind(now)
                    .bind(format!("{p}%"))
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query_as("SELECT id, submission_id, match_id FROM jobs WHERE status = 'leased' AND lease_expires_at < $1")
                    .bind(now)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        let mut changed = Vec::new();
        for (job, sub, match_id) in rows {
            let subject = JobSubject::from_columns(sub, match_id);
            let mut tx = self.write_tx().await?;
            // Only if still leased (another server may have handled it).
            let interruptions: Option<i64> =
                sqlx::query_scalar("SELECT interruptions FROM jobs WHERE id = $1 AND status = 'leased'")
                    .bind(&job)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(interruptions) = interruptions else {
                tx.commit().await?;
                continue;
            };
            let interruptions = interruptions + 1;
            let reason = "the worker or the server stopped during the evaluation (its lease expired)";
            let gone = interruptions >= MAX_INTERRUPTIONS;
            if gone {
                sqlx::query(
                    "UPDATE jobs SET status = 'failed', interruptions = $1, last_error = $2, lease_expires_at = 0 WHERE id = $3",
                )
                .bind(interruptions)
                .bind(reason)
                .bind(&job)
                .execute(&mut *tx)
                .await?;
                let reason = format!(
                    "evaluation interrupted {interruptions} times: {reason}; the model may be taking its worker down"
                );
                changed.extend(subject_failed(&mut tx, &subject, &reason, now).await?);
            } else {
                sqlx::query(
                    "UPDATE jobs SET status = 'queued', attempts = attempts - 1, interruptions = $1, last_error = $2, next_attempt_at = $3, \
                     lease_owner = '', lease_token = '', lease_expires_at = 0 WHERE id = $4",
                )
                .bind(interruptions)
                .bind(reason)
                .bind(now)
                .bind(&job)
                .execute(&mut *tx)
                .await?;
                changed.extend(subject_queued(&mut tx, &subject).await?);
            }
            tx.commit().await?;
        }
        Ok(changed)
    }

    /// Give a lease back without counting the attempt (graceful shutdown). Returns an evaluation's
    /// submission, queued again.
    pub async fn release_job(&self, job_id: &str, token: &str) -> Result<Option<SubmissionRow>> {
        let mut tx = self.write_tx().await?;
        let sub: Option<(String, String)> = sqlx::query_as(
            "SELECT submission_id, match_id FROM jobs WHERE id = $1 AND lease_token = $2 AND status = 'leased'",
        )
        .bind(job_id)
        .bind(token)
        .fetch_optional(&mut *tx)
        .await?;
        let mut changed = None;
        if let Some((sub, match_id)) = sub {
            let subject = JobSubject::from_columns(sub, match_id);
            sqlx::query(
                "UPDATE jobs SET status = 'queued', attempts = attempts - 1, lease_owner = '', lease_token = '', lease_expires_at = 0 WHERE id = $1",
            )
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
            changed = subject_queued(&mut tx, &subject).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Jobs by status (for tests and operators).
    pub async fn job_counts(&self) -> Result<Vec<(String, i64)>> {
        Ok(
            sqlx::query_as("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status ORDER BY status")
                .fetch_all(&self.pool)
                .await?,
        )
    }
}
