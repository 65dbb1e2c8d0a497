//! A submission's life as the league changes it: entered, cancelled, re-evaluated, leased, its
//! lease given back or lost. Every change of a submission's status goes through here or [`super::jobs`], which
//! tell the submission's watchers (the race's `WatchLeaderboard` streams and live pages) — the
//! only places that do.

use crate::ctx::Ctx;
use crate::error::{LeagueError, Result};
use crate::league::Viewer;
use crate::league::access::RACERS;
use crate::races::RaceRules;
use crate::store::{LeasedJob, ModelRow, RaceRow, SubStatus, SubmissionRow, User};
use slipstream_league_client::kinds::RaceState;

impl Ctx {
    /// `user` submits their model `model_id` to the race `race_id` (gRPC's `Submit`, the console's
    /// "Submit to race"): the race must be one they may see and open now, the model their own (not
    /// even an admin enters another's).
    pub async fn submit(&self, user: &User, race_id: &str, model_id: &str) -> Result<SubmissionRow> {
        if !RACERS.contains(&user.role) {
            return Err(LeagueError::denied(
                "submitting models: racers, facilitators and admins",
            ));
        }
        let race = Viewer::user(user).race(self, race_id).await?;
        match race.spec.state(self.now_ms()) {
            RaceState::Open => {}
            RaceState::Upcoming => {
                return Err(LeagueError::precondition(format!(
                    "the race opens at {} (Unix ms); submissions are not accepted yet",
                    race.spec.opens_at_ms
                )));
            }
            RaceState::Closed => return Err(LeagueError::precondition("the race has closed")),
        }
        let model = match self.store.model(model_id).await? {
            Some(m) if !m.deleted && m.owner_id == user.id => m,
            _ => {
                return Err(LeagueError::not_found(format!(
                    "model_id: you have no model {model_id:?}"
                )));
            }
        };
        let sub = self.enter(&race, &model, &user.id).await?;
        tracing::info!(submission = %sub.id, race = %race.id, user = %user.id, "submitted");
        Ok(sub)
    }

    /// Enter `model` of `user_id` in `race` (its window and the caller's right to enter are the
    /// caller's to check): the submission is queued, a worker woken, watchers told.
    pub async fn enter(&self, race: &RaceRow, model: &ModelRow, user_id: &str) -> Result<SubmissionRow> {
        if !race.spec.sensors.is_empty() {
            let kind = match self.model_spec(model).await? {
                Ok(spec) => spec.sensor.kind(),
                Err(e) => return Err(LeagueError::precondition(format!("model {}: {e}", model.id))),
            };
            if !race.spec.takes_sensor(kind) {
                return Err(LeagueError::precondition(format!(
                    "this race takes models with sensor {}; model {:?} has {kind}",
                    race.spec.sensors.join(" or "),
                    model.name
                )));
            }
        }
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
        let Some(cancelled) = self.store.cancel_submission(&sub.id).await? else {
            return Err(LeagueError::precondition(format!(
                "the submission has already {}",
                sub.status.as_str()
            )));
        };
        self.publish_submission(&cancelled);
        Ok(cancelled)
    }

    /// Queue a completed or failed submission's evaluation again; FailedPrecondition otherwise.
    pub async fn reevaluate(&self, sub: &SubmissionRow) -> Result<SubmissionRow> {
        let Some(queued) = self.store.requeue_submission(&sub.id).await? else {
            return Err(LeagueError::precondition(format!(
                "only completed or failed submissions can be re-evaluated; this one is {}",
                sub.status.as_str()
            )));
        };
        self.job_ready.notify_waiters();
        self.publish_submission(&queued);
        Ok(queued)
    }

    /// Lease the oldest due job to `owner` (matches only `with_matches`); an evaluation's
    /// submission is now running, and its watchers are told.
    pub async fn lease_job(&self, owner: &str, lease_ms: i64, with_matches: bool) -> Result<Option<LeasedJob>> {
        let job = self.store.lease_job(owner, lease_ms, with_matches).await?;
        if let Some(sub) = job.as_ref().and_then(|j| j.submission.as_ref()) {
            self.publish_submission(sub);
        }
        Ok(job)
    }

    /// Give a leased job back unfinished (this server is stopping): its submission is queued
    /// again, and its watchers are told.
    pub async fn release_job(&self, job_id: &str, lease_token: &str) -> Result<()> {
        if let Some(sub) = self.store.release_job(job_id, lease_token).await? {
            self.publish_submission(&sub);
        }
        Ok(())
    }

    /// Return expired leases to the queue (and, at a start, `owner_prefix`'s leases whatever their
    /// expiry); watchers hear of the submissions queued again or failed for good. Returns how many
    /// failed for good.
    pub async fn requeue_expired(&self, owner_prefix: Option<&str>) -> Result<usize> {
        let changed = self.store.requeue_expired(owner_prefix).await?;
        for s in &changed {
            self.publish_submission(s);
        }
        Ok(changed.iter().filter(|s| s.status == SubStatus::Failed).count())
    }
}
