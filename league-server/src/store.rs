//! Persistence: sqlx over SQLite (a file in WAL mode, the embedded default) or PostgreSQL, through
//! sqlx's `Any` driver with portable SQL. The schema lives in `migrations/` and is applied at start.
//!
//! The evaluation queue is the `jobs` table: a job is leased (with an expiry and a secret lease
//! token), heart-beaten, and completed or failed; an expired lease returns the job to the queue, a
//! failure is retried with exponential back-off until `max_attempts`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, AssertSqlSafe, Row, SqlSafeStr};

use crate::error::{LeagueError, Result};
use crate::races::RaceSpec;
use crate::ranking::{self, Key, Lap};
use crate::util::{new_id, now_ms};

/// Roles, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    Racer,
    Facilitator,
    Admin,
    Worker,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Racer => "racer",
            Role::Facilitator => "facilitator",
            Role::Admin => "admin",
            Role::Worker => "worker",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "racer" => Role::Racer,
            "facilitator" => Role::Facilitator,
            "admin" => Role::Admin,
            "worker" => Role::Worker,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RaceRow {
    pub id: String,
    pub spec: RaceSpec,
    pub created_by: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackRow {
    pub id: String,
    pub name: String,
    pub info_json: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InviteRow {
    pub id: String,
    pub race_id: String,
    pub expires_at: i64,
    pub revoked: bool,
    pub uses: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelRow {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub sha256: String,
    pub size: i64,
    pub uploaded_at: i64,
    pub sensor: String,
    pub action_space_type: String,
    pub network: String,
    pub deleted: bool,
}

/// Submission states, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SubStatus {
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl SubStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SubStatus::Queued => "queued",
            SubStatus::Running => "running",
            SubStatus::Completed => "completed",
            SubStatus::Failed => "failed",
            SubStatus::Cancelled => "cancelled",
        }
    }
    fn parse(s: &str) -> SubStatus {
        match s {
            "running" => SubStatus::Running,
            "completed" => SubStatus::Completed,
            "failed" => SubStatus::Failed,
            "cancelled" => SubStatus::Cancelled,
            _ => SubStatus::Queued,
        }
    }
    pub fn finished(self) -> bool {
        matches!(self, SubStatus::Completed | SubStatus::Failed | SubStatus::Cancelled)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct SubmissionRow {
    pub id: String,
    pub race_id: String,
    pub model_id: String,
    pub user_id: String,
    pub status: SubStatus,
    pub laps: Vec<Lap>,
    pub qualified: bool,
    pub score_ms: i64,
    pub off_track: i64,
    pub collisions: i64,
    pub failure_reason: String,
    pub submitted_at: i64,
    pub finished_at: i64,
    pub attempts: i64,
    pub trace_sha256: String,
}

/// A job handed to a worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeasedJob {
    pub job_id: String,
    pub submission_id: String,
    pub lease_token: String,
    pub lease_expires_at: i64,
    pub attempts: i64,
}

/// One leaderboard row (a user's best qualifying result in a race).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoardRow {
    pub user_id: String,
    pub user_name: String,
    pub submission_id: String,
    pub score_ms: i64,
    pub achieved_at: i64,
    pub off_track: i64,
    pub best_lap_ms: i64,
    pub model_name: String,
}

impl BoardRow {
    pub fn key(&self) -> Key {
        Key {
            score_ms: self.score_ms,
            achieved_at_ms: self.achieved_at,
            off_track: self.off_track as u32,
        }
    }
}

/// What recording a result did to the racer's leaderboard row.
#[derive(Clone, Debug, PartialEq)]
pub enum BoardChange {
    Unchanged,
    /// The racer has no qualifying result any more.
    Removed,
    /// The racer's row is now this one.
    Set(BoardRow),
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
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

/// The database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite's single writer, in-process (see [`Store::write_tx`]).
    write_gate: std::sync::Arc<tokio::sync::Mutex<()>>,
}

const MIGRATION_SQL: &str = include_str!("../migrations/0001_init.sql");

fn migrator(backend: Backend) -> Migrator {
    let blob = if backend == Backend::Postgres { "BYTEA" } else { "BLOB" };
    let sql = MIGRATION_SQL.replace("{BLOB}", blob);
    Migrator::with_migrations(vec![Migration::new(
        1,
        Cow::Borrowed("init"),
        MigrationType::Simple,
        AssertSqlSafe(sql).into_sql_str(),
        false,
    )])
}

fn role_of(row: &AnyRow, col: &str) -> Result<Role> {
    let s: String = row.try_get(col)?;
    Role::parse(&s).ok_or_else(|| LeagueError::internal(format!("unknown role {s:?} in the database")))
}

fn user_of(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: role_of(row, "role")?,
        created_at: row.try_get("created_at")?,
    })
}

fn race_of(row: &AnyRow) -> Result<RaceRow> {
    let spec: String = row.try_get("spec_json")?;
    Ok(RaceRow {
        id: row.try_get("id")?,
        spec: serde_json::from_str(&spec).map_err(|e| LeagueError::internal(format!("stored race: {e}")))?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

fn model_of(row: &AnyRow) -> Result<ModelRow> {
    Ok(ModelRow {
        id: row.try_get("id")?,
        owner_id: row.try_get("owner_id")?,
        name: row.try_get("name")?,
        sha256: row.try_get("sha256")?,
        size: row.try_get("size")?,
        uploaded_at: row.try_get("uploaded_at")?,
        sensor: row.try_get("sensor")?,
        action_space_type: row.try_get("action_space_type")?,
        network: row.try_get("network")?,
        deleted: row.try_get::<i64, _>("deleted")? != 0,
    })
}

fn submission_of(row: &AnyRow) -> Result<SubmissionRow> {
    let laps: String = row.try_get("laps_json")?;
    let status: String = row.try_get("status")?;
    Ok(SubmissionRow {
        id: row.try_get("id")?,
        race_id: row.try_get("race_id")?,
        model_id: row.try_get("model_id")?,
        user_id: row.try_get("user_id")?,
        status: SubStatus::parse(&status),
        laps: serde_json::from_str(&laps).map_err(|e| LeagueError::internal(format!("stored laps: {e}")))?,
        qualified: row.try_get::<i64, _>("qualified")? != 0,
        score_ms: row.try_get("score_ms")?,
        off_track: row.try_get("off_track")?,
        collisions: row.try_get("collisions")?,
        failure_reason: row.try_get("failure_reason")?,
        submitted_at: row.try_get("submitted_at")?,
        finished_at: row.try_get("finished_at")?,
        attempts: row.try_get("attempts")?,
        trace_sha256: row.try_get("trace_sha256")?,
    })
}

const SUBMISSION_COLS: &str = "id, race_id, model_id, user_id, status, laps_json, qualified, score_ms, off_track, collisions, \
     failure_reason, submitted_at, finished_at, attempts, trace_sha256";

impl Store {
    /// Connect (`sqlite://file.db` or `postgres://…`), creating an SQLite file if needed, and apply
    /// the schema.
    pub async fn connect(url: &str) -> Result<Store> {
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
        migrator(backend).run(&pool).await?;
        Ok(Store {
            pool,
            backend,
            write_gate: Default::default(),
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

    // ---------------------------------------------------------------------------------- users

    pub async fn create_user(&self, name: &str, role: Role) -> Result<User> {
        let u = User {
            id: new_id("usr"),
            name: name.to_string(),
            role,
            created_at: now_ms(),
        };
        let r = sqlx::query("INSERT INTO users (id, name, role, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&u.id)
            .bind(&u.name)
            .bind(u.role.as_str())
            .bind(u.created_at)
            .execute(&self.pool)
            .await;
        match r {
            Ok(_) => Ok(u),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(LeagueError::AlreadyExists(format!(
                "a user named {name:?} already exists"
            ))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn user(&self, id: &str) -> Result<Option<User>> {
        let row = sqlx::query("SELECT id, name, role, created_at FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_of).transpose()
    }

    pub async fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        let row = sqlx::query("SELECT id, name, role, created_at FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_of).transpose()
    }

    pub async fn list_users(&self, offset: usize, limit: usize) -> Result<Vec<User>> {
        let rows =
            sqlx::query("SELECT id, name, role, created_at FROM users ORDER BY created_at, id LIMIT $1 OFFSET $2")
                .bind(limit as i64)
                .bind(offset as i64)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(user_of).collect()
    }

    // ---------------------------------------------------------------------------------- tokens

    pub async fn insert_token(
        &self,
        user_id: &str,
        token_hash: &str,
        description: &str,
        expires_at: i64,
    ) -> Result<String> {
        let id = new_id("tok");
        sqlx::query(
            "INSERT INTO tokens (id, user_id, token_hash, description, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, 0)",
        )
        .bind(&id)
        .bind(user_id)
        .bind(token_hash)
        .bind(description)
        .bind(now_ms())
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    /// Insert a token with a known hash unless it is there already (the bootstrap admin token).
    pub async fn ensure_token(&self, user_id: &str, token_hash: &str, description: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO tokens (id, user_id, token_hash, description, created_at, expires_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, 0, 0) ON CONFLICT (token_hash) DO NOTHING",
        )
        .bind(new_id("tok"))
        .bind(user_id)
        .bind(token_hash)
        .bind(description)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The user a token belongs to, if the token is valid now.
    pub async fn user_for_token(&self, token_hash: &str, now: i64) -> Result<Option<User>> {
        let row = sqlx::query(
            "SELECT u.id, u.name, u.role, u.created_at FROM tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at = 0 AND (t.expires_at = 0 OR t.expires_at > $2)",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_of).transpose()
    }

    pub async fn revoke_token(&self, token_id: &str) -> Result<bool> {
        let r = sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at = 0")
            .bind(now_ms())
            .bind(token_id)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    // ---------------------------------------------------------------------------------- blobs

    pub async fn put_blob(&self, sha256: &str, data: &[u8]) -> Result<()> {
        sqlx::query("INSERT INTO blobs (sha256, data, size, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING")
            .bind(sha256)
            .bind(data)
            .bind(data.len() as i64)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT data FROM blobs WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get::<Vec<u8>, _>("data")?),
            None => None,
        })
    }

    // ---------------------------------------------------------------------------------- tracks

    pub async fn insert_track(&self, id: &str, name: &str, info_json: &str, by: &str) -> Result<()> {
        sqlx::query("INSERT INTO tracks (id, name, info_json, uploaded_by, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING")
            .bind(id)
            .bind(name)
            .bind(info_json)
            .bind(by)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn track(&self, id: &str) -> Result<Option<TrackRow>> {
        let row = sqlx::query("SELECT id, name, info_json FROM tracks WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(TrackRow {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                info_json: r.try_get("info_json")?,
            }),
            None => None,
        })
    }

    pub async fn list_tracks(&self) -> Result<Vec<TrackRow>> {
        let rows = sqlx::query("SELECT id, name, info_json FROM tracks ORDER BY created_at, id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(TrackRow {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    info_json: r.try_get("info_json")?,
                })
            })
            .collect()
    }

    // ---------------------------------------------------------------------------------- races

    pub async fn insert_race(&self, spec: &RaceSpec, by: &str) -> Result<RaceRow> {
        let race = RaceRow {
            id: new_id("race"),
            spec: spec.clone(),
            created_by: by.to_string(),
            created_at: now_ms(),
        };
        sqlx::query("INSERT INTO races (id, spec_json, created_by, created_at, opens_at, closes_at, private) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&race.id)
            .bind(serde_json::to_string(spec).expect("serialisable"))
            .bind(by)
            .bind(race.created_at)
            .bind(spec.opens_at_ms)
            .bind(spec.closes_at_ms)
            .bind(i64::from(spec.private))
            .execute(&self.pool)
            .await?;
        Ok(race)
    }

    pub async fn update_race(&self, id: &str, spec: &RaceSpec) -> Result<()> {
        sqlx::query("UPDATE races SET spec_json = $1, opens_at = $2, closes_at = $3, private = $4 WHERE id = $5")
            .bind(serde_json::to_string(spec).expect("serialisable"))
            .bind(spec.opens_at_ms)
            .bind(spec.closes_at_ms)
            .bind(i64::from(spec.private))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Delete a race with its invites, members, leaderboard and queued jobs (submissions stay as
    /// records).
    pub async fn delete_race(&self, id: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        for sql in [
            "DELETE FROM invites WHERE race_id = $1",
            "DELETE FROM race_members WHERE race_id = $1",
            "DELETE FROM leaderboard WHERE race_id = $1",
            "UPDATE jobs SET status = 'cancelled' WHERE status IN ('queued', 'leased') AND submission_id IN (SELECT id FROM submissions WHERE race_id = $1)",
            "UPDATE submissions SET status = 'cancelled', failure_reason = 'the race was deleted' WHERE race_id = $1 AND status IN ('queued', 'running')",
            "DELETE FROM races WHERE id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn race(&self, id: &str) -> Result<Option<RaceRow>> {
        let row = sqlx::query("SELECT id, spec_json, created_by, created_at FROM races WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(race_of).transpose()
    }

    /// Races visible to `viewer` (`None` = anonymous: public only; admins see all).
    pub async fn list_races(&self, viewer: Option<&User>, offset: usize, limit: usize) -> Result<Vec<RaceRow>> {
        let rows = match viewer {
            Some(u) if u.role == Role::Admin => {
                sqlx::query("SELECT id, spec_json, created_by, created_at FROM races ORDER BY opens_at DESC, id LIMIT $1 OFFSET $2")
                    .bind(limit as i64)
                    .bind(offset as i64)
                    .fetch_all(&self.pool)
                    .await?
            }
            Some(u) => {
                sqlx::query(
                    "SELECT id, spec_json, created_by, created_at FROM races r WHERE private = 0 OR created_by = $1 \
                     OR EXISTS (SELECT 1 FROM race_members m WHERE m.race_id = r.id AND m.user_id = $1) \
                     ORDER BY opens_at DESC, id LIMIT $2 OFFSET $3",
                )
                .bind(&u.id)
                .bind(limit as i64)
                .bind(offset as i64)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query("SELECT id, spec_json, created_by, created_at FROM races WHERE private = 0 ORDER BY opens_at DESC, id LIMIT $1 OFFSET $2")
                    .bind(limit as i64)
                    .bind(offset as i64)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(race_of).collect()
    }

    pub async fn add_member(&self, race_id: &str, user_id: &str) -> Result<()> {
        sqlx::query("INSERT INTO race_members (race_id, user_id, joined_at) VALUES ($1, $2, $3) ON CONFLICT (race_id, user_id) DO NOTHING")
            .bind(race_id)
            .bind(user_id)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn is_member(&self, race_id: &str, user_id: &str) -> Result<bool> {
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM race_members WHERE race_id = $1 AND user_id = $2")
            .bind(race_id)
            .bind(user_id)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        Ok(n > 0)
    }

    // ---------------------------------------------------------------------------------- invites

    pub async fn insert_invite(&self, race_id: &str, token_hash: &str, expires_at: i64) -> Result<InviteRow> {
        let inv = InviteRow {
            id: new_id("inv"),
            race_id: race_id.to_string(),
            expires_at,
            revoked: false,
            uses: 0,
        };
        sqlx::query("INSERT INTO invites (id, race_id, token_hash, created_at, expires_at, revoked, uses) VALUES ($1, $2, $3, $4, $5, 0, 0)")
            .bind(&inv.id)
            .bind(race_id)
            .bind(token_hash)
            .bind(now_ms())
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(inv)
    }

    fn invite_of(r: &AnyRow) -> Result<InviteRow> {
        Ok(InviteRow {
            id: r.try_get("id")?,
            race_id: r.try_get("race_id")?,
            expires_at: r.try_get("expires_at")?,
            revoked: r.try_get::<i64, _>("revoked")? != 0,
            uses: r.try_get("uses")?,
        })
    }

    pub async fn invite(&self, id: &str) -> Result<Option<InviteRow>> {
        let row = sqlx::query("SELECT id, race_id, expires_at, revoked, uses FROM invites WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(Self::invite_of).transpose()
    }

    pub async fn invite_by_hash(&self, token_hash: &str) -> Result<Option<InviteRow>> {
        let row = sqlx::query("SELECT id, race_id, expires_at, revoked, uses FROM invites WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(Self::invite_of).transpose()
    }

    pub async fn list_invites(&self, race_id: &str) -> Result<Vec<InviteRow>> {
        let rows = sqlx::query(
            "SELECT id, race_id, expires_at, revoked, uses FROM invites WHERE race_id = $1 ORDER BY created_at, id",
        )
        .bind(race_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Self::invite_of).collect()
    }

    pub async fn revoke_invite(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE invites SET revoked = 1 WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn use_invite(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE invites SET uses = uses + 1 WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ---------------------------------------------------------------------------------- models

    /// Record an uploaded model; the same bytes from the same owner give the same model (revived,
    /// under the new name, if it had been deleted). Safe under concurrent uploads of the same bytes.
    pub async fn upsert_model(&self, m: &ModelRow) -> Result<ModelRow> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO models (id, owner_id, name, sha256, size, uploaded_at, sensor, action_space_type, network, deleted) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0) ON CONFLICT (owner_id, sha256) DO NOTHING",
        )
        .bind(&m.id)
        .bind(&m.owner_id)
        .bind(&m.name)
        .bind(&m.sha256)
        .bind(m.size)
        .bind(m.uploaded_at)
        .bind(&m.sensor)
        .bind(&m.action_space_type)
        .bind(&m.network)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE models SET deleted = 0, name = $1, uploaded_at = $2 WHERE owner_id = $3 AND sha256 = $4 AND deleted = 1")
            .bind(&m.name)
            .bind(m.uploaded_at)
            .bind(&m.owner_id)
            .bind(&m.sha256)
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query(
            "SELECT id, owner_id, name, sha256, size, uploaded_at, sensor, action_space_type, network, deleted FROM models WHERE owner_id = $1 AND sha256 = $2",
        )
        .bind(&m.owner_id)
        .bind(&m.sha256)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        model_of(&row)
    }

    pub async fn model(&self, id: &str) -> Result<Option<ModelRow>> {
        let row = sqlx::query("SELECT id, owner_id, name, sha256, size, uploaded_at, sensor, action_space_type, network, deleted FROM models WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(model_of).transpose()
    }

    pub async fn list_models(&self, owner: &str, offset: usize, limit: usize) -> Result<Vec<ModelRow>> {
        let rows = sqlx::query(
            "SELECT id, owner_id, name, sha256, size, uploaded_at, sensor, action_space_type, network, deleted FROM models \
             WHERE owner_id = $1 AND deleted = 0 ORDER BY uploaded_at, id LIMIT $2 OFFSET $3",
        )
        .bind(owner)
        .bind(limit as i64)
        .bind(offset as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(model_of).collect()
    }

    pub async fn delete_model(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE models SET deleted = 1 WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ---------------------------------------------------------------------------------- submissions

    /// Submissions that count against a racer's cap in a race (all but cancelled ones).
    pub async fn count_submissions(&self, race_id: &str, user_id: &str) -> Result<i64> {
        Ok(sqlx::query(
            "SELECT COUNT(*) AS n FROM submissions WHERE race_id = $1 AND user_id = $2 AND status <> 'cancelled'",
        )
        .bind(race_id)
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?)
    }

    /// Create a submission and its queued job, checking the cap inside the transaction.
    pub async fn insert_submission(
        &self,
        race_id: &str,
        model_id: &str,
        user_id: &str,
        cap: u32,
    ) -> Result<SubmissionRow> {
        let now = now_ms();
        let mut tx = self.write_tx().await?;
        if cap > 0 {
            if self.backend == Backend::Postgres {
                // Serialise one user's submissions so that concurrent ones cannot both pass the cap.
                sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
                    .bind(user_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            }
            let n: i64 = sqlx::query(
                "SELECT COUNT(*) AS n FROM submissions WHERE race_id = $1 AND user_id = $2 AND status <> 'cancelled'",
            )
            .bind(race_id)
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
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
        Self::insert_job(&mut tx, &s.id, now).await?;
        tx.commit().await?;
        Ok(s)
    }

    async fn insert_job(tx: &mut sqlx::AnyConnection, submission_id: &str, now: i64) -> Result<()> {
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

    pub async fn submission(&self, id: &str) -> Result<Option<SubmissionRow>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {SUBMISSION_COLS} FROM submissions WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(submission_of).transpose()
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
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(user.unwrap_or(""))
            .bind(race.unwrap_or(""))
            .bind(limit as i64)
            .bind(offset as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(submission_of).collect()
    }

    /// Cancel a queued or running submission. Returns false if it had already finished.
    pub async fn cancel_submission(&self, id: &str) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let r = sqlx::query(
            "UPDATE submissions SET status = 'cancelled', finished_at = $1, failure_reason = 'cancelled' WHERE id = $2 AND status IN ('queued', 'running')",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE jobs SET status = 'cancelled' WHERE submission_id = $1 AND status IN ('queued', 'leased')")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(r.rows_affected() > 0)
    }

    /// Queue a finished submission for evaluation again.
    pub async fn requeue_submission(&self, id: &str) -> Result<bool> {
        let now = now_ms();
        let mut tx = self.write_tx().await?;
        let r = sqlx::query(
            "UPDATE submissions SET status = 'queued', failure_reason = '', finished_at = 0, attempts = 0 WHERE id = $1 AND status IN ('completed', 'failed')",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Ok(false);
        }
        Self::insert_job(&mut tx, id, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    // ---------------------------------------------------------------------------------- jobs

    /// Lease the oldest due job to `owner` for `lease_ms`.
    pub async fn lease_job(&self, owner: &str, lease_ms: i64) -> Result<Option<LeasedJob>> {
        let now = now_ms();
        let token = crate::util::new_secret("lease");
        let pick = if self.backend == Backend::Postgres {
            "SELECT id FROM jobs WHERE status = 'queued' AND next_attempt_at <= $1 ORDER BY next_attempt_at, created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
        } else {
            "SELECT id FROM jobs WHERE status = 'queued' AND next_attempt_at <= $1 ORDER BY next_attempt_at, created_at, id LIMIT 1"
        };
        let sql = format!(
            "UPDATE jobs SET status = 'leased', lease_owner = $2, lease_token = $3, lease_expires_at = $4, attempts = attempts + 1 \
             WHERE status = 'queued' AND id = ({pick}) RETURNING id, submission_id, attempts"
        );
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(now)
            .bind(owner)
            .bind(&token)
            .bind(now + lease_ms)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            tx.commit().await?;
            return Ok(None);
        };
        let job = LeasedJob {
            job_id: row.try_get("id")?,
            submission_id: row.try_get("submission_id")?,
            lease_token: token,
            lease_expires_at: now + lease_ms,
            attempts: row.try_get("attempts")?,
        };
        sqlx::query("UPDATE submissions SET status = 'running', attempts = $1 WHERE id = $2 AND status = 'queued'")
            .bind(job.attempts)
            .bind(&job.submission_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(job))
    }

    /// A lease is valid if the token matches and it has not run out.
    pub async fn check_lease(&self, job_id: &str, token: &str) -> Result<String> {
        let row = sqlx::query("SELECT submission_id, lease_token, lease_expires_at, status FROM jobs WHERE id = $1")
            .bind(job_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| LeagueError::not_found(format!("no job {job_id}")))?;
        let (t, exp, status): (String, i64, String) = (
            row.try_get("lease_token")?,
            row.try_get("lease_expires_at")?,
            row.try_get("status")?,
        );
        if status != "leased" || t != token || exp < now_ms() {
            return Err(LeagueError::precondition(format!(
                "the lease on job {job_id} is no longer held (it expired or the job was cancelled)"
            )));
        }
        Ok(row.try_get("submission_id")?)
    }

    pub async fn heartbeat(&self, job_id: &str, token: &str, lease_ms: i64) -> Result<i64> {
        self.check_lease(job_id, token).await?;
        let until = now_ms() + lease_ms;
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
        race: &RaceRow,
    ) -> Result<Completion> {
        let sha = crate::util::sha256_hex(trace);
        self.put_blob(&sha, trace).await?;
        let now = now_ms();
        let mut tx = self.write_tx().await?;
        let r = sqlx::query("UPDATE jobs SET status = 'done', lease_expires_at = 0 WHERE id = $1 AND lease_token = $2 AND status = 'leased'")
            .bind(job_id)
            .bind(token)
            .execute(&mut *tx)
            .await?;
        if r.rows_affected() == 0 {
            tx.commit().await?;
            return Ok(Completion::Ignored);
        }
        let sub_id: String = sqlx::query("SELECT submission_id FROM jobs WHERE id = $1")
            .bind(job_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("submission_id")?;
        let spec = &race.spec;
        let score = ranking::score(spec.timing, spec.min_laps as usize, laps);
        let off_track: i64 = laps.iter().map(|l| i64::from(l.off_track)).sum();
        let collisions: i64 = laps.iter().map(|l| i64::from(l.collisions)).sum();
        let r = sqlx::query(
            "UPDATE submissions SET status = 'completed', laps_json = $1, qualified = $2, score_ms = $3, off_track = $4, collisions = $5, \
             failure_reason = '', finished_at = $6, trace_sha256 = $7 WHERE id = $8 AND status IN ('running', 'queued')",
        )
        .bind(serde_json::to_string(laps).expect("serialisable"))
        .bind(i64::from(score.is_some()))
        .bind(score.unwrap_or(0))
        .bind(off_track)
        .bind(collisions)
        .bind(now)
        .bind(&sha)
        .bind(&sub_id)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            tx.commit().await?;
            return Ok(Completion::Ignored);
        }
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {SUBMISSION_COLS} FROM submissions WHERE id = $1"
        )))
        .bind(&sub_id)
        .fetch_one(&mut *tx)
        .await?;
        let sub = submission_of(&row)?;
        let board = Self::refresh_best(&mut tx, &sub.race_id, &sub.user_id).await?;
        tx.commit().await?;
        Ok(Completion::Recorded {
            submission: Box::new(sub),
            board,
        })
    }

    /// Recompute a racer's leaderboard row as their best qualifying completed submission (by the
    /// ranking key: score, then earlier achievement, then fewer off-tracks).
    /// Returns what changed.
    async fn refresh_best(tx: &mut sqlx::AnyConnection, race_id: &str, user_id: &str) -> Result<BoardChange> {
        let current = sqlx::query(
            "SELECT submission_id, score_ms, achieved_at, off_track, best_lap_ms, model_name FROM leaderboard              WHERE race_id = $1 AND user_id = $2",
        )
        .bind(race_id)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| -> Result<(String, i64, i64, i64, i64, String)> {
            Ok((
                r.try_get("submission_id")?,
                r.try_get("score_ms")?,
                r.try_get("achieved_at")?,
                r.try_get("off_track")?,
                r.try_get("best_lap_ms")?,
                r.try_get("model_name")?,
            ))
        })
        .transpose()?;
        let best = sqlx::query(
            "SELECT s.id, s.score_ms, s.finished_at, s.off_track, s.laps_json, m.name AS model_name FROM submissions s \
             JOIN models m ON m.id = s.model_id WHERE s.race_id = $1 AND s.user_id = $2 AND s.status = 'completed' AND s.qualified = 1 \
             ORDER BY s.score_ms, s.finished_at, s.off_track, s.id LIMIT 1",
        )
        .bind(race_id)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        match best {
            None => {
                if current.is_none() {
                    return Ok(BoardChange::Unchanged);
                }
                sqlx::query("DELETE FROM leaderboard WHERE race_id = $1 AND user_id = $2")
                    .bind(race_id)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
            }
            Some(b) => {
                let laps: Vec<Lap> = serde_json::from_str(&b.try_get::<String, _>("laps_json")?).unwrap_or_default();
                let new = (
                    b.try_get::<String, _>("id")?,
                    b.try_get::<i64, _>("score_ms")?,
                    b.try_get::<i64, _>("finished_at")?,
                    b.try_get::<i64, _>("off_track")?,
                    ranking::best_lap(&laps).unwrap_or(0),
                    b.try_get::<String, _>("model_name")?,
                );
                if current.as_ref() == Some(&new) {
                    return Ok(BoardChange::Unchanged);
                }
                sqlx::query(
                    "INSERT INTO leaderboard (race_id, user_id, submission_id, score_ms, achieved_at, off_track, best_lap_ms, model_name) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (race_id, user_id) DO UPDATE SET submission_id = $3, score_ms = $4, \
                     achieved_at = $5, off_track = $6, best_lap_ms = $7, model_name = $8",
                )
                .bind(race_id)
                .bind(user_id)
                .bind(&new.0)
                .bind(new.1)
                .bind(new.2)
                .bind(new.3)
                .bind(new.4)
                .bind(&new.5)
                .execute(&mut *tx)
                .await?;
                let user_name: String = sqlx::query_scalar("SELECT name FROM users WHERE id = $1")
                    .bind(user_id)
                    .fetch_one(&mut *tx)
                    .await?;
                return Ok(BoardChange::Set(BoardRow {
                    user_id: user_id.to_string(),
                    user_name,
                    submission_id: new.0,
                    score_ms: new.1,
                    achieved_at: new.2,
                    off_track: new.3,
                    best_lap_ms: new.4,
                    model_name: new.5,
                }));
            }
        }
        Ok(BoardChange::Removed)
    }

    /// Record a failed evaluation: retried after `2^attempts` × `backoff_ms` until `max_attempts`,
    /// then the submission fails with the reason. Returns the submission if it is now failed.
    pub async fn fail_job(
        &self,
        job_id: &str,
        token: &str,
        reason: &str,
        max_attempts: i64,
        backoff_ms: i64,
    ) -> Result<Option<SubmissionRow>> {
        let now = now_ms();
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(
            "SELECT submission_id, attempts FROM jobs WHERE id = $1 AND lease_token = $2 AND status = 'leased'",
        )
        .bind(job_id)
        .bind(token)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.commit().await?;
            return Ok(None);
        };
        let sub_id: String = row.try_get("submission_id")?;
        let attempts: i64 = row.try_get("attempts")?;
        let failed = Self::retry_or_fail(
            &mut tx,
            job_id,
            &sub_id,
            attempts,
            reason,
            max_attempts,
            backoff_ms,
            now,
        )
        .await?;
        tx.commit().await?;
        if failed {
            self.submission(&sub_id).await
        } else {
            Ok(None)
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn retry_or_fail(
        tx: &mut sqlx::AnyConnection,
        job_id: &str,
        sub_id: &str,
        attempts: i64,
        reason: &str,
        max_attempts: i64,
        backoff_ms: i64,
        now: i64,
    ) -> Result<bool> {
        if attempts >= max_attempts {
            sqlx::query("UPDATE jobs SET status = 'failed', last_error = $1, lease_expires_at = 0 WHERE id = $2")
                .bind(reason)
                .bind(job_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE submissions SET status = 'failed', failure_reason = $1, finished_at = $2 WHERE id = $3 AND status IN ('running', 'queued')",
            )
            .bind(format!("evaluation failed after {attempts} attempt(s): {reason}"))
            .bind(now)
            .bind(sub_id)
            .execute(&mut *tx)
            .await?;
            Ok(true)
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
            sqlx::query("UPDATE submissions SET status = 'queued', attempts = attempts - 1 WHERE id = $1 AND status = 'running'")
                .bind(sub_id)
                .execute(&mut *tx)
                .await?;
            Ok(false)
        }
    }

    /// Return expired leases to the queue (or fail them after too many attempts). Also used at start
    /// to recover jobs a killed process held (`owner_prefix` = its local owners, regardless of
    /// expiry). Returns the submissions that failed for good.
    pub async fn requeue_expired(
        &self,
        owner_prefix: Option<&str>,
        max_attempts: i64,
        backoff_ms: i64,
    ) -> Result<Vec<SubmissionRow>> {
        let now = now_ms();
        let rows = match owner_prefix {
            Some(p) => {
                sqlx::query("SELECT id, submission_id, attempts FROM jobs WHERE status = 'leased' AND (lease_expires_at < $1 OR lease_owner LIKE $2)")
                    .bind(now)
                    .bind(format!("{p}%"))
                    .fetch_all(&self.pool)
                    .await?
            }
            None => sqlx::query("SELECT id, submission_id, attempts FROM jobs WHERE status = 'leased' AND lease_expires_at < $1").bind(now).fetch_all(&self.pool).await?,
        };
        let mut failed = Vec::new();
        for r in rows {
            let (job, sub, attempts): (String, String, i64) =
                (r.try_get("id")?, r.try_get("submission_id")?, r.try_get("attempts")?);
            let mut tx = self.write_tx().await?;
            // Only if still leased (another server may have handled it).
            let still: i64 = sqlx::query("SELECT COUNT(*) AS n FROM jobs WHERE id = $1 AND status = 'leased'")
                .bind(&job)
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
            if still == 0 {
                tx.commit().await?;
                continue;
            }
            let gone = Self::retry_or_fail(
                &mut tx,
                &job,
                &sub,
                attempts,
                "the worker stopped (its lease expired)",
                max_attempts,
                backoff_ms,
                now,
            )
            .await?;
            tx.commit().await?;
            if gone && let Some(s) = self.submission(&sub).await? {
                failed.push(s);
            }
        }
        Ok(failed)
    }

    /// Give a lease back without counting the attempt (graceful shutdown).
    pub async fn release_job(&self, job_id: &str, token: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let row =
            sqlx::query("SELECT submission_id FROM jobs WHERE id = $1 AND lease_token = $2 AND status = 'leased'")
                .bind(job_id)
                .bind(token)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(r) = row {
            let sub: String = r.try_get("submission_id")?;
            sqlx::query(
                "UPDATE jobs SET status = 'queued', attempts = attempts - 1, lease_owner = '', lease_token = '', lease_expires_at = 0 WHERE id = $1",
            )
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE submissions SET status = 'queued', attempts = attempts - 1 WHERE id = $1 AND status = 'running'")
                .bind(&sub)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The submission a job evaluates.
    pub async fn job_submission(&self, job_id: &str) -> Result<String> {
        let row = sqlx::query("SELECT submission_id FROM jobs WHERE id = $1")
            .bind(job_id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => Ok(r.try_get("submission_id")?),
            None => Err(LeagueError::not_found(format!("no job {job_id}"))),
        }
    }

    /// Jobs by status (for tests and operators).
    pub async fn job_counts(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status ORDER BY status")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("status")?, r.try_get("n")?)))
            .collect()
    }

    // ---------------------------------------------------------------------------------- leaderboard

    /// A race's leaderboard rows, best first (by the ranking key, then submission id).
    pub async fn leaderboard(&self, race_id: &str) -> Result<Vec<BoardRow>> {
        let rows = sqlx::query(
            "SELECT l.user_id, u.name AS user_name, l.submission_id, l.score_ms, l.achieved_at, l.off_track, l.best_lap_ms, l.model_name \
             FROM leaderboard l JOIN users u ON u.id = l.user_id WHERE l.race_id = $1 \
             ORDER BY l.score_ms, l.achieved_at, l.off_track, l.submission_id",
        )
        .bind(race_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(BoardRow {
                    user_id: r.try_get("user_id")?,
                    user_name: r.try_get("user_name")?,
                    submission_id: r.try_get("submission_id")?,
                    score_ms: r.try_get("score_ms")?,
                    achieved_at: r.try_get("achieved_at")?,
                    off_track: r.try_get("off_track")?,
                    best_lap_ms: r.try_get("best_lap_ms")?,
                    model_name: r.try_get("model_name")?,
                })
            })
            .collect()
    }

    /// Insert a leaderboard row directly (benchmarks and tests seed large boards with it).
    pub async fn insert_board_row(&self, race_id: &str, row: &BoardRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO leaderboard (race_id, user_id, submission_id, score_ms, achieved_at, off_track, best_lap_ms, model_name) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(race_id)
        .bind(&row.user_id)
        .bind(&row.submission_id)
        .bind(row.score_ms)
        .bind(row.achieved_at)
        .bind(row.off_track)
        .bind(row.best_lap_ms)
        .bind(&row.model_name)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

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
