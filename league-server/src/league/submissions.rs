//! A submission's life as the league changes it: entered, cancelled, re-evaluated, leased, its
//! lease lost. Every change of a submission's status goes through here or [`super::jobs`], which
//! tell the submission's watchers (the race's `WatchLeaderboard` streams and live pages) — the
//! only places that do.

use crate::ctx::Ctx;
use crate::error::{LeagueError, Result};
use crate::store::{JobSubject, LeasedJob, ModelRow, RaceRow, SubmissionRow};

impl Ctx {
    /// Enter `model` of `user_id` in `race` (its window and the caller's right to enter are the
    /// caller's to check): the submission is queued, a worker woken, watchers told.
    pub async fn enter(&self, race: &RaceRow, model: &ModelRow, user_id: &str) -> Result<SubmissionRow> {
        let sub = self
            .store
            .insert_submission(&race.id, &model.id, user_id, race.spec.max_submissions_per_user)
            .await?;
        self.job_ready.notify_waiters();
        self.publish_submission(&sub);
        Ok(sub)
    }

    /// Cancel a queued or running submission; FailedPrecondition once it has finished.
    pub async fn cancel(&self, sub: &SubmissionRow) -> Result<SubmissionRow> {
        if !self.store.cancel_submission(&sub.id).await? {
            return Err(LeagueError::precondition(format!(
                "the submission has already {}",
                sub.status.as_str()
            )));
        }
        self.changed_submission(&sub.id).await
    }

    /// Queue a completed or failed submission's evaluation again; FailedPrecondition otherwise.
    pub async fn reevaluate(&self, sub: &SubmissionRow) -> Result<SubmissionRow> {
        if !self.store.requeue_submission(&sub.id).await? {
            return Err(LeagueError::precondition(format!(
                "only completed or failed submissions can be re-evaluated; this one is {}",
                sub.status.as_str()
            )));
        }
        self.job_ready.notify_waiters();
        self.changed_submission(&sub.id).await
    }

    /// Lease the oldest due job to `owner` (matches only `with_matches`); an evaluation's
    /// submission is now running, and its watchers are told.
    pub async fn lease_job(&self, owner: &str, lease_ms: i64, with_matches: bool) -> Result<Option<LeasedJob>> {
        let job = self.store.lease_job(owner, lease_ms, with_matches).await?;
        if let Some(JobSubject::Evaluation(id)) = job.as_ref().map(|j| &j.subject) {
            self.changed_submission(id).await?;
        }
        Ok(job)
    }

    /// Return expired leases to the queue (and, at a start, `owner_prefix`'s leases whatever their
    /// expiry); watchers hear of the submissions that failed for good. Returns how many did.
    pub async fn requeue_expired(&self, owner_prefix: Option<&str>) -> Result<usize> {
        let failed = self.store.requeue_expired(owner_prefix).await?;
        for s in &failed {
            self.publish_submission(s);
        }
        Ok(failed.len())
    }

    /// The submission as stored now, its watchers told.
    async fn changed_submission(&self, id: &str) -> Result<SubmissionRow> {
        let sub = self
            .store
            .submission(id)
            .await?
            .ok_or_else(|| LeagueError::internal(format!("submission {id} vanished")))?;
        self.publish_submission(&sub);
        Ok(sub)
    }
}
