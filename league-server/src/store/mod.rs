//! Persistence: sqlx over SQLite (a file in WAL mode, the embedded default) or PostgreSQL, through
//! sqlx's `Any` driver with portable SQL. The schema lives in `migrations/` and is applied at start.
//!
//! This module holds the [`Store`] (connecting, migrations, write transactions) and the column
//! adapters rows are read with; each resource's rows and SQL live in their own file, as the gRPC
//! services do in `service/`:
//!
//! | resource | file |
//! |---|---|
//! | users and roles | `users.rs` |
//! | bearer tokens | `tokens.rs` |
//! | content-addressed bytes (model files, traces) | `blobs.rs` |
//! | uploaded tracks | `tracks.rs` |
//! | races and their members | `races.rs` |
//! | invites to private races | `invites.rs` |
//! | models | `models.rs` |
//! | submissions | `submissions.rs` |
//! | the evaluation queue (`jobs`) | `jobs.rs` |
//! | leaderboard rows | `leaderboards.rs` |
//! | seasons | `seasons.rs` |
//! | head-to-head matches | `matches.rs` |
//! | brackets and ladders (events) | `events.rs` |
//!
//! The evaluation queue is the `jobs` table: a job is leased (with an expiry and a secret lease
//! token), heart-beaten, and completed or failed; an expired lease returns the job to the queue
//! without using up an attempt, a failure is retried with exponential back-off until `max_attempts`.

use std::borrow::Cow;

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, AssertSqlSafe, SqlSafeStr};

use crate::error::{LeagueError, Result};
use crate::util::Clock;

mod accounts;
mod blobs;
mod events;
mod invites;
mod jobs;
mod leaderboards;
mod matches;
mod models;
mod races;
mod seasons;
mod submissions;
mod tokens;
mod tracks;
mod trainings;
mod users;

pub use accounts::{NewSignupInvite, SignupInviteRow};
pub use events::EventRow;
pub use invites::InviteRow;
pub use jobs::{Completion, JobSubject, LeasedJob, MAX_INTERRUPTIONS};
pub use leaderboards::{BoardChange, BoardRow};
pub use matches::MatchRow;
pub use models::ModelRow;
pub use races::{RaceRow, RaceScope};
pub use seasons::SeasonRow;
pub use submissions::{Pending, SubStatus, SubmissionRow};
pub use tokens::{BOOTSTRAP_DESCRIPTION, TokenRow, TokenUser};
pub use tracks::TrackRow;
pub use trainings::{NewTraining, TrainingLimits, TrainingProgress, TrainingRow, TrainingStatus};
pub use users::{Role, User};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite's single writer, in-process (see [`Store::write_tx`]).
    write_gate: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// The time every row is stamped and every expiry decided by.
    clock: Clock,
}

/// A write transaction; on SQLite it also holds the store's write lock until it ends.
struct WriteTx {
    // Field order matters: the transaction ends (commit or rollback) before the lock is released.
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _gate: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    async fn commit(self) -> std::result::Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

/// A database URL fit for messages: `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_string(),
    }
}

/// The migrations, in order: (version, description, SQL). Applied ones are never edited: a change
/// of schema is a new file.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../../migrations/0001_init.sql")),
    (
        2,
        "fairness and tokens",
        include_str!("../../migrations/0002_fairness_and_tokens.sql"),
    ),
    (3, "replays", include_str!("../../migrations/0003_replays.sql")),
    (4, "seasons", include_str!("../../migrations/0004_seasons.sql")),
    (
        5,
        "head to head",
        include_str!("../../migrations/0005_head_to_head.sql"),
    ),
    (6, "model spec", include_str!("../../migrations/0006_model_spec.sql")),
    (7, "accounts", include_str!("../../migrations/0007_accounts.sql")),
    (8, "trainings", include_str!("../../migrations/0008_trainings.sql")),
];

/// The migrator for the migrations up to `upto` (all of them when `None`).
fn migrator(backend: Backend, upto: Option<i64>) -> Migrator {
    let blob = if backend == Backend::Postgres { "BYTEA" } else { "BLOB" };
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .filter(|(v, _, _)| upto.is_none_or(|u| *v <= u))
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    AssertSqlSafe(sql.replace("{BLOB}", blob)).into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

impl Store {
    /// This store with `clock` (shared with the server's other parts) instead of the system's.
    pub fn with_clock(mut self, clock: Clock) -> Store {
        self.clock = clock;
        self
    }

    /// The store's clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Now, by the store's clock (Unix ms).
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Connect (`sqlite://file.db` or `postgres://…`), creating an SQLite file if needed, and apply
    /// the schema.
    pub async fn connect(url: &str) -> Result<Store> {
        let store = Store::connect_upto(url, None).await?;
        store.backfill_leaderboard().await?;
        Ok(store)
    }

    /// Connect with the schema as of migration `upto` only (tests of migrations: an old database).
    #[doc(hidden)]
    pub async fn connect_at_version(url: &str, upto: i64) -> Result<Store> {
        Store::connect_upto(url, Some(upto)).await
    }

    async fn connect_upto(url: &str, upto: Option<i64>) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if url.starts_with("sqlite:") {
            let u = if url.contains('?') {
                url.to_string()
            } else {
                format!("{url}?mode=rwc")
            };
            (Backend::Sqlite, u)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(LeagueError::invalid(format!(
                "--db: expected sqlite://FILE or postgres://…, got {url:?}"
            )));
        };
        let mut opts = AnyPoolOptions::new().max_connections(if backend == Backend::Sqlite { 8 } else { 16 });
        if backend == Backend::Sqlite {
            opts = opts.after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query("PRAGMA busy_timeout = 15000").execute(&mut *conn).await?;
                    sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut *conn).await?;
                    Ok(())
                })
            });
        }
        let pool = opts.connect(&url).await.map_err(|e| {
            LeagueError::invalid(format!("--db {}: cannot open the database: {e}", redact_password(&url)))
        })?;
        if backend == Backend::Sqlite {
            sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await?;
        }
        migrator(backend, upto).run(&pool).await?;
        Ok(Store {
            pool,
            backend,
            write_gate: Default::default(),
            clock: Clock::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A transaction that will write. On SQLite it takes the write lock up front (`BEGIN
    /// IMMEDIATE`): a deferred transaction that reads and then writes fails at once with "database is
    /// locked" when another writer got in between, whatever the busy timeout.
    ///
    /// SQLite allows one writer at a time. Writers queue on an async lock here first, so a burst of
    /// writes waits without holding pool connections (a connection spinning in SQLite's busy
    /// handler is one that readers cannot use).
    async fn write_tx(&self) -> Result<WriteTx> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let gate = self.write_gate.clone().lock_owned().await;
                WriteTx {
                    tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
                    _gate: Some(gate),
                }
            }
            Backend::Postgres => WriteTx {
                tx: self.pool.begin().await?,
                _gate: None,
            },
        })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

// ------------------------------------------------------------------------------ column adapters
//
// Rows are read with `#[derive(sqlx::FromRow)]`. A field whose Rust type is not what its column
// holds is read through one of these with `#[sqlx(try_from = "…")]`.

/// A BIGINT 0/1 flag column, for a `bool` field (sqlx's `Any` driver reads no SQLite booleans, so
/// the schema stores flags as integers).
#[derive(Debug, sqlx::Type)]
#[sqlx(transparent)]
pub struct Flag(i64);

impl From<Flag> for bool {
    fn from(f: Flag) -> bool {
        f.0 != 0
    }
}

/// A TEXT column holding JSON, for a field of the type it serialises (a race's settings, laps).
#[derive(Debug, sqlx::Type)]
#[sqlx(transparent)]
pub struct JsonText(String);

#[cfg(test)]
mod url_tests {
    use super::redact_password;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact_password("postgres://ann:s3cret@db:5432/league"),
            "postgres://ann:***@db:5432/league"
        );
        assert_eq!(redact_password("postgres://ann@db/league"), "postgres://ann@db/league");
        assert_eq!(
            redact_password("sqlite://league.db?mode=rwc"),
            "sqlite://league.db?mode=rwc"
        );
    }
}
