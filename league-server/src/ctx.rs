//! The server's shared state (its operations: `league/`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use slipstream_sim::Track;
use tokio::sync::Notify;

use crate::auth::Auth;
use crate::boards::Boards;
use crate::error::Result;
use crate::store::{RaceRow, Store};

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
    /// The time the server decides by (the system's; tests move it on).
    pub clock: crate::util::Clock,
    /// Reward checks (students' code in the sandbox) running at once; more wait their turn.
    pub reward_checks: usize,
    /// Console cookies are `Secure` (sent over HTTPS only): the server is reached through HTTPS (a
    /// reverse proxy that terminates TLS; docs/console.md).
    pub secure_cookies: bool,
    /// In-process training runners (training jobs at once on this server; 0 = none here).
    pub trainers: usize,
    /// Threads each training job may use (its simulator's and libtorch's): jobs share the machine's
    /// cores by this budget, and leave the server its own.
    pub training_threads: usize,
    /// Where training jobs keep their folders (config, reward function, checkpoints) between runs:
    /// a job interrupted by a restart resumes from its checkpoint there.
    pub training_dir: std::path::PathBuf,
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
            clock: Default::default(),
            reward_checks: 2,
            secure_cookies: false,
            trainers: 1,
            training_threads: 1,
            training_dir: std::env::temp_dir().join("slipstream-league-training"),
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
    /// Tracks as the simulator loads them, one per track and direction (see `league/tracks.rs`).
    pub(crate) tracks: TrackCache,
    /// The ids of events (brackets, ladders) that changed: their matches queued, raced or failed.
    pub events: tokio::sync::broadcast::Sender<String>,
    /// Where students' code runs (found on first use; see `league/rewards.rs`).
    pub(crate) student_code: crate::league::rewards::StudentCode,
    /// Sign-in attempts counted against their limits (see `league/accounts.rs`).
    pub(crate) sign_ins: crate::league::accounts::SignInLimiter,
    /// Set when the console takes passwords over plain HTTP off loopback: admins see it on their
    /// console (see `league::accounts::in_clear_warning`).
    pub in_clear_warning: Option<String>,
    /// Signalled when a training job is queued.
    pub training_ready: Notify,
    /// The ids of training jobs that changed (progress, stop, end): their pages' live updates.
    pub trainings: tokio::sync::broadcast::Sender<String>,
}

/// Loaded tracks by (track id, reversed): a track's id names its content (a built-in's name, an
/// upload's SHA-256), so an entry never goes stale.
#[derive(Debug, Default)]
pub struct TrackCache(pub(crate) Mutex<HashMap<(String, bool), Arc<Track>>>);

#[derive(Debug, Default)]
struct RaceCache {
    rows: HashMap<String, (RaceRow, Instant)>,
    /// Bumped by every [`Ctx::forget_race`]: a read that started before one is not cached.
    generation: u64,
}

/// How long a cached race is trusted. This server forgets a race at once when it changes one;
/// other servers sharing a PostgreSQL database see the change within this time.
const RACE_CACHE_TTL: Duration = Duration::from_secs(5);

impl Ctx {
    pub fn new(store: Store, cfg: Config) -> Self {
        let cfg_reward_checks = cfg.reward_checks;
        Ctx {
            auth: Auth::new(store.clone()),
            store,
            boards: Boards::default(),
            cfg,
            job_ready: Notify::new(),
            boot_id: format!("local:{}:", crate::util::new_id("boot")),
            stopping: tokio::sync::watch::Sender::new(false),
            races: Mutex::new(RaceCache::default()),
            tracks: Default::default(),
            events: tokio::sync::broadcast::Sender::new(256),
            student_code: crate::league::rewards::StudentCode::new(cfg_reward_checks),
            sign_ins: Default::default(),
            in_clear_warning: None,
            training_ready: Notify::new(),
            trainings: tokio::sync::broadcast::Sender::new(256),
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

    /// Now, by the server's clock (Unix ms).
    pub fn now_ms(&self) -> i64 {
        self.store.now_ms()
    }

    /// Tell a training job's watchers that it changed.
    pub fn training_changed(&self, id: &str) {
        let _ = self.trainings.send(id.to_string());
    }

    /// Forget a cached race (it is being edited or deleted).
    pub fn forget_race(&self, id: &str) {
        let mut cache = self.races.lock().unwrap_or_else(|e| e.into_inner());
        cache.rows.remove(id);
        cache.generation += 1;
    }
}

/// Completes once the server starts shutting down ([`Ctx::stopping`]): what ends the streams that
/// never end by themselves (leaderboard watches, the web site's live events).
pub async fn stopped(rx: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}
