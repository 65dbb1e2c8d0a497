//! The server's shared state and the operations services and workers share.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use slipstream_proto::v1 as pb;
use slipstream_sim::track::{Track, ValidateOptions, builtin, npy};
use tokio::sync::Notify;

use crate::auth::Auth;
use crate::boards::Boards;
use crate::convert::submission_to_pb;
use crate::error::{LeagueError, Result};
use crate::evaluation::Outcome;
use crate::races::{RaceRun, race_seed};
use crate::store::{Completion, LeasedJob, ModelRow, RaceRow, Store, SubmissionRow};

/// Server settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Largest accepted model upload, bytes.
    pub max_model_bytes: usize,
    /// In-process evaluation workers.
    pub workers: usize,
    /// How long a lease lasts without a heartbeat.
    pub lease: Duration,
    /// Attempts before a job fails for good.
    pub max_attempts: i64,
    /// First retry delay (doubles per attempt).
    pub backoff: Duration,
    /// Wall-clock limit of one evaluation.
    pub eval_wall_limit: Duration,
    /// How long shutdown waits for running evaluations before returning them to the queue.
    pub shutdown_grace: Duration,
    /// The bootstrap admin token (registered at start).
    pub admin_token: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_model_bytes: 64 << 20,
            workers: 1,
            lease: Duration::from_secs(60),
            max_attempts: 3,
            backoff: Duration::from_secs(2),
            eval_wall_limit: Duration::from_secs(120),
            shutdown_grace: Duration::from_secs(20),
            admin_token: None,
        }
    }
}

/// Everything a request handler or worker needs.
#[derive(Debug)]
pub struct Ctx {
    pub store: Store,
    pub auth: Auth,
    pub boards: Boards,
    pub cfg: Config,
    /// Signalled when a job is queued.
    pub job_ready: Notify,
    /// Lease owner prefix of this process's workers.
    pub boot_id: String,
    /// Turns true when the server begins to shut down: workers stop leasing, watch streams end.
    pub stopping: tokio::sync::watch::Sender<bool>,
    /// Races read on hot paths (leaderboard queries), briefly cached; see [`Ctx::race`].
    races: Mutex<RaceCache>,
    /// Models' settings by file, for who can race whom (see `events.rs`).
    pub(crate) worlds: crate::events::ModelWorlds,
    /// The ids of events (brackets, ladders) that changed: their matches queued, raced or failed.
    pub events: tokio::sync::broadcast::Sender<String>,
}

#[derive(Debug, Default)]
struct RaceCache {
    rows: HashMap<String, (RaceRow, Instant)>,
    /// Bumped by every [`Ctx::forget_race`]: a read that started before one is not cached.
    generation: u64,
}

/// How long a cached race is trusted. This server forgets a race at once when it changes one;
/// other servers sharing a PostgreSQL database see the change within this time.
const RACE_CACHE_TTL: Duration = Duration::from_secs(5);

/// Uploaded tracks are named `upload:<sha256 of the .npy>`.
pub fn upload_sha(track: &str) -> Option<&str> {
    track.strip_prefix("upload:")
}

impl Ctx {
    pub fn new(store: Store, cfg: Config) -> Self {
        Ctx {
            auth: Auth::new(store.clone()),
            store,
            boards: Boards::default(),
            cfg,
            job_ready: Notify::new(),
            boot_id: format!("local:{}:", crate::util::new_id("boot")),
            stopping: tokio::sync::watch::Sender::new(false),
            races: Mutex::new(RaceCache::default()),
            worlds: Default::default(),
            events: tokio::sync::broadcast::Sender::new(256),
        }
    }

    /// A race by id, from a short-lived cache (leaderboard reads need it on every request).
    pub async fn race(&self, id: &str) -> Result<Option<RaceRow>> {
        let generation = {
            let cache = self.races.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((r, at)) = cache.rows.get(id)
                && at.elapsed() < RACE_CACHE_TTL
            {
                return Ok(Some(r.clone()));
            }
            cache.generation
        };
        let race = self.store.race(id).await?;
        let mut cache = self.races.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = &race
            && cache.generation == generation
        {
            if cache.rows.len() >= 10_000 {
                cache.rows.retain(|_, (_, at)| at.elapsed() < RACE_CACHE_TTL);
            }
            cache.rows.insert(id.to_string(), (r.clone(), Instant::now()));
        }
        Ok(race)
    }

    /// Forget a cached race (it is being edited or deleted).
    pub fn forget_race(&self, id: &str) {
        let mut cache = self.races.lock().unwrap_or_else(|e| e.into_inner());
        cache.rows.remove(id);
        cache.generation += 1;
    }

    /// Whether a track id names a known track (built-in or uploaded).
    pub async fn track_exists(&self, id: &str) -> Result<bool> {
        Ok(builtin::find(id).is_some() || self.store.track(id).await?.is_some())
    }

    /// A track's summary.
    pub async fn track_info(&self, id: &str) -> Result<Option<pb::TrackInfo>> {
        if let Some(b) = builtin::find(id) {
            let t = b
                .build(&ValidateOptions::default())
                .map_err(|e| LeagueError::internal(e.to_string()))?;
            return Ok(Some(track_info_pb(id, id, &t, true)));
        }
        Ok(match self.store.track(id).await? {
            Some(row) => {
                let s: StoredTrack = serde_json::from_str(&row.info_json)
                    .map_err(|e| LeagueError::internal(format!("stored track: {e}")))?;
                Some(pb::TrackInfo {
                    id: row.id,
                    name: row.name,
                    waypoints: s.waypoints,
                    length_m: s.length_m,
                    width_min_m: s.width_min_m,
                    width_mean_m: s.width_mean_m,
                    closed: s.closed,
                    builtin: false,
                })
            }
            None => None,
        })
    }

    /// What an evaluation of a race needs.
    pub async fn race_run(&self, race: &RaceRow) -> Result<RaceRun> {
        let spec = &race.spec;
        let rows = match upload_sha(&spec.track) {
            Some(sha) => {
                let bytes = self
                    .store
                    .blob(sha)
                    .await?
                    .ok_or_else(|| LeagueError::internal(format!("track {} is missing its file", spec.track)))?;
                let a = npy::parse(&bytes).map_err(|e| LeagueError::internal(format!("track {}: {e}", spec.track)))?;
                a.data
                    .chunks_exact(6)
                    .map(|c| [c[0], c[1], c[2], c[3], c[4], c[5]])
                    .collect()
            }
            None => vec![],
        };
        Ok(RaceRun {
            race_id: race.id.clone(),
            track_name: spec.track.clone(),
            rows,
            reverse: spec.reverse,
            scenario: spec.scenario(),
            rules: spec.rules(),
            seed: race_seed(&race.id),
        })
    }

    /// The submission, race and model of a leased job.
    pub async fn job_inputs(&self, job: &LeasedJob) -> Result<(SubmissionRow, RaceRow, ModelRow)> {
        let sub = self
            .store
            .submission(&job.submission_id)
            .await?
            .ok_or_else(|| LeagueError::internal("job without submission"))?;
        let race = self
            .store
            .race(&sub.race_id)
            .await?
            .ok_or_else(|| LeagueError::precondition("the race was deleted"))?;
        let model = self.submission_model(&sub).await?;
        Ok((sub, race, model))
    }

    /// The model a submission races.
    pub async fn submission_model(&self, sub: &SubmissionRow) -> Result<ModelRow> {
        self.store
            .model(&sub.model_id)
            .await?
            .ok_or_else(|| LeagueError::internal("submission without model"))
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
        let run = match self.race_run(race).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(race = %race.id, "no replay: {e}");
                return None;
            }
        };
        let trace = trace.to_vec();
        match tokio::task::spawn_blocking(move || crate::evaluation::replay_gif(&run, &trace)).await {
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
        self.store
            .fail_job(job_id, lease_token, reason, self.cfg.max_attempts, backoff)
            .await?;
        let sub_id = self.store.job_submission(job_id).await?;
        if let Some(sub) = self.store.submission(&sub_id).await? {
            self.publish_submission(&sub);
        }
        Ok(())
    }

    pub fn publish_submission(&self, sub: &SubmissionRow) {
        self.boards.publish(&sub.race_id, submission_to_pb(sub));
    }
}

/// Completes once the server starts shutting down ([`Ctx::stopping`]): what ends the streams that
/// never end by themselves (leaderboard watches, the web site's live events).
pub async fn stopped(rx: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

/// An uploaded track's summary as stored.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct StoredTrack {
    pub waypoints: u32,
    pub length_m: f64,
    pub width_min_m: f64,
    pub width_mean_m: f64,
    pub closed: bool,
}

impl StoredTrack {
    pub fn of(t: &Track) -> Self {
        let i = t.info();
        StoredTrack {
            waypoints: i.waypoints as u32,
            length_m: i.length_m,
            width_min_m: i.width_min_m,
            width_mean_m: i.width_mean_m,
            closed: i.closed,
        }
    }
}

/// A track's summary message.
pub fn track_info_pb(id: &str, name: &str, t: &Track, builtin: bool) -> pb::TrackInfo {
    let i = t.info();
    pb::TrackInfo {
        id: id.to_string(),
        name: name.to_string(),
        waypoints: i.waypoints as u32,
        length_m: i.length_m,
        width_min_m: i.width_min_m,
        width_mean_m: i.width_mean_m,
        closed: i.closed,
        builtin,
    }
}
