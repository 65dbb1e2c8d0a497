//! Evaluation jobs' outcomes: recorded, the leaderboard updated, watchers told.

use slipstream_trainer::model::ModelSpec;

use crate::convert::submission_to_pb;
use crate::ctx::Ctx;
use crate::error::{LeagueError, Result};
use crate::evaluation::Outcome;
use crate::store::{Completion, LeasedJob, ModelRow, RaceRow, SubmissionRow};

impl Ctx {
    /// The submission an evaluation races and its race (FailedPrecondition once the race was deleted).
    pub async fn evaluated_submission(&self, submission_id: &str) -> Result<(SubmissionRow, RaceRow)> {
        let sub = self
            .store
            .submission(submission_id)
            .await?
            .ok_or_else(|| LeagueError::internal("job without submission"))?;
        let race = self.evaluated_race(&sub).await?;
        Ok((sub, race))
    }

    /// The race a submission is evaluated in (FailedPrecondition once it was deleted).
    async fn evaluated_race(&self, sub: &SubmissionRow) -> Result<RaceRow> {
        self.store
            .race(&sub.race_id)
            .await?
            .ok_or_else(|| LeagueError::precondition("the race was deleted"))
    }

    /// The race and model of a leased evaluation.
    pub async fn evaluation_inputs<'j>(&self, job: &'j LeasedJob) -> Result<(&'j SubmissionRow, RaceRow, ModelRow)> {
        let sub = job
            .submission
            .as_ref()
            .ok_or_else(|| LeagueError::internal(format!("job {} is not an evaluation", job.job_id)))?;
        let race = self.evaluated_race(sub).await?;
        let model = self.submission_model(sub).await?;
        Ok((sub, race, model))
    }

    /// The model a submission races.
    pub async fn submission_model(&self, sub: &SubmissionRow) -> Result<ModelRow> {
        self.store
            .model(&sub.model_id)
            .await?
            .ok_or_else(|| LeagueError::internal("submission without model"))
    }

    /// A model's settings, as stored at upload. A model uploaded before they were stored has
    /// them read from its file once (and stored); `Err` when the file no longer loads.
    pub async fn model_spec(&self, model: &ModelRow) -> Result<std::result::Result<ModelSpec, String>> {
        if let Ok(spec) = serde_json::from_str::<ModelSpec>(&model.spec_json) {
            return Ok(Ok(spec));
        }
        let bytes = self.model_bytes(model).await?;
        let read = tokio::task::spawn_blocking(move || {
            crate::evaluation::validate_model(&bytes, "model")
                .map(|m| m.spec)
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| LeagueError::internal(format!("reading a model: {e}")))?;
        if let Ok(spec) = &read {
            let json = serde_json::to_string(spec).map_err(|e| LeagueError::internal(e.to_string()))?;
            self.store.set_model_spec(&model.sha256, &json).await?;
        }
        Ok(read)
    }

    /// A model's file.
    pub async fn model_bytes(&self, model: &ModelRow) -> Result<Vec<u8>> {
        self.store
            .blob(&model.sha256)
            .await?
            .ok_or_else(|| LeagueError::internal("model file missing"))
    }

    /// The replay of a completed evaluation (from its trace, on a blocking thread), or `None` with
    /// a warning when it cannot be rendered (e.g. no font on this server): the result counts
    /// without it.
    async fn render_replay(&self, race: &RaceRow, trace: &[u8]) -> Option<Vec<u8>> {
        let inputs = async {
            let run = self.race_run(race).await?;
            let track = self.race_track(&run)?;
            Ok::<_, LeagueError>((run, track))
        };
        let (run, track) = match inputs.await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(race = %race.id, "no replay: {e}");
                return None;
            }
        };
        let trace = trace.to_vec();
        match tokio::task::spawn_blocking(move || crate::evaluation::replay_gif(&run, track, &trace)).await {
            Ok(Ok(gif)) => Some(gif),
            Ok(Err(e)) => {
                tracing::warn!(race = %race.id, "no replay: {e}");
                None
            }
            Err(e) => {
                tracing::warn!(race = %race.id, "no replay: the renderer stopped: {e}");
                None
            }
        }
    }

    /// Record an evaluation's outcome (success or failure), update the leaderboard and tell watchers.
    pub async fn finish_job(
        &self,
        job_id: &str,
        lease_token: &str,
        race: &RaceRow,
        outcome: std::result::Result<Outcome, String>,
    ) -> Result<()> {
        match outcome {
            Ok(o) => {
                // Results of one race are recorded one at a time, so the cached board follows the
                // database's order of commits. The board is cached first, so that what changed is known.
                let replay = self.render_replay(race, &o.trace).await;
                let lock = self.boards.lock(&race.id).await;
                self.boards.get_locked(&lock, &self.store, &race.id).await?;
                match self
                    .store
                    .complete_job(job_id, lease_token, &o.laps, &o.trace, replay.as_deref(), race)
                    .await?
                {
                    Completion::Recorded { submission, board } => {
                        // Watchers of the board hear of it through the board's watch (see boards.rs).
                        if let Err(e) = self
                            .boards
                            .apply(&lock, &self.store, &race.id, &submission.user_id, board)
                            .await
                        {
                            // Committed but not applied: read the board again next time.
                            self.boards.invalidate(&race.id);
                            return Err(e);
                        }
                        self.publish_submission(&submission);
                        drop(lock);
                    }
                    Completion::Ignored => tracing::info!(
                        job_id,
                        "result ignored: the lease was stale or the submission cancelled"
                    ),
                }
            }
            Err(reason) => self.fail_job(job_id, lease_token, &reason).await?,
        }
        Ok(())
    }

    /// Record a failed evaluation: retried with back-off, or failed for good after `max_attempts`.
    pub async fn fail_job(&self, job_id: &str, lease_token: &str, reason: &str) -> Result<()> {
        tracing::warn!(job_id, %reason, "evaluation failed");
        let backoff = self.cfg.backoff.as_millis() as i64;
        if let Some(sub) = self
            .store
            .fail_job(job_id, lease_token, reason, self.cfg.max_attempts, backoff)
            .await?
        {
            self.publish_submission(&sub);
        }
        Ok(())
    }

    /// Tell a submission's watchers it changed: called only here and in `league/submissions.rs`.
    pub(crate) fn publish_submission(&self, sub: &SubmissionRow) {
        self.boards.publish(&sub.race_id, submission_to_pb(sub));
    }
}
