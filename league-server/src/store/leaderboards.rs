//! Leaderboard rows: each racer's best qualifying result in a race, as [`ranking::best`] picks it.

use super::Store;
use crate::error::Result;
use crate::ranking::{self, Key, Lap, Ranked};

/// One leaderboard row (a user's best qualifying result in a race).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct BoardRow {
    pub user_id: String,
    pub user_name: String,
    pub submission_id: String,
    pub score_ms: i64,
    /// When the submission was made: what orders ties.
    pub submitted_at: i64,
    /// When its evaluation finished (shown, never ranked on).
    pub achieved_at: i64,
    pub off_track: i64,
    pub best_lap_ms: i64,
    pub model_name: String,
}

impl Ranked for BoardRow {
    fn key(&self) -> Key {
        Key {
            score_ms: self.score_ms,
            submitted_at_ms: self.submitted_at,
            off_track: self.off_track as u32,
        }
    }
    fn submission_id(&self) -> &str {
        &self.submission_id
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

/// A racer's stored row, less who they are.
#[derive(Debug, PartialEq, sqlx::FromRow)]
struct Entry {
    submission_id: String,
    score_ms: i64,
    submitted_at: i64,
    achieved_at: i64,
    off_track: i64,
    best_lap_ms: i64,
    model_name: String,
}

/// One of a racer's qualifying results: a candidate for their row.
#[derive(Debug, sqlx::FromRow)]
struct Qualifying {
    id: String,
    score_ms: i64,
    submitted_at: i64,
    finished_at: i64,
    off_track: i64,
    laps_json: String,
    model_name: String,
}

impl Ranked for Qualifying {
    fn key(&self) -> Key {
        Key {
            score_ms: self.score_ms,
            submitted_at_ms: self.submitted_at,
            off_track: self.off_track as u32,
        }
    }
    fn submission_id(&self) -> &str {
        &self.id
    }
}

/// Recompute a racer's leaderboard row as their best qualifying completed submission
/// ([`ranking::best`]). Returns what changed.
pub(super) async fn refresh_best(tx: &mut sqlx::AnyConnection, race_id: &str, user_id: &str) -> Result<BoardChange> {
    let current: Option<Entry> = sqlx::query_as(
        "SELECT submission_id, score_ms, submitted_at, achieved_at, off_track, best_lap_ms, model_name FROM leaderboard \
         WHERE race_id = $1 AND user_id = $2",
    )
    .bind(race_id)
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    let results: Vec<Qualifying> = sqlx::query_as(
        "SELECT s.id, s.score_ms, s.submitted_at, s.finished_at, s.off_track, s.laps_json, m.name AS model_name FROM submissions s \
         JOIN models m ON m.id = s.model_id WHERE s.race_id = $1 AND s.user_id = $2 AND s.status = 'completed' AND s.qualified = 1",
    )
    .bind(race_id)
    .bind(user_id)
    .fetch_all(&mut *tx)
    .await?;
    let Some(best) = ranking::best(results) else {
        if current.is_none() {
            return Ok(BoardChange::Unchanged);
        }
        sqlx::query("DELETE FROM leaderboard WHERE race_id = $1 AND user_id = $2")
            .bind(race_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        return Ok(BoardChange::Removed);
    };
    let laps: Vec<Lap> = serde_json::from_str(&best.laps_json).unwrap_or_default();
    let new = Entry {
        submission_id: best.id,
        score_ms: best.score_ms,
        submitted_at: best.submitted_at,
        achieved_at: best.finished_at,
        off_track: best.off_track,
        best_lap_ms: ranking::best_lap(&laps).unwrap_or(0),
        model_name: best.model_name,
    };
    if current.as_ref() == Some(&new) {
        return Ok(BoardChange::Unchanged);
    }
    sqlx::query(
        "INSERT INTO leaderboard (race_id, user_id, submission_id, score_ms, submitted_at, achieved_at, off_track, best_lap_ms, model_name) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (race_id, user_id) DO UPDATE SET submission_id = $3, score_ms = $4, \
         submitted_at = $5, achieved_at = $6, off_track = $7, best_lap_ms = $8, model_name = $9",
    )
    .bind(race_id)
    .bind(user_id)
    .bind(&new.submission_id)
    .bind(new.score_ms)
    .bind(new.submitted_at)
    .bind(new.achieved_at)
    .bind(new.off_track)
    .bind(new.best_lap_ms)
    .bind(&new.model_name)
    .execute(&mut *tx)
    .await?;
    let user_name: String = sqlx::query_scalar("SELECT name FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
    Ok(BoardChange::Set(BoardRow {
        user_id: user_id.to_string(),
        user_name,
        submission_id: new.submission_id,
        score_ms: new.score_ms,
        submitted_at: new.submitted_at,
        achieved_at: new.achieved_at,
        off_track: new.off_track,
        best_lap_ms: new.best_lap_ms,
        model_name: new.model_name,
    }))
}

impl Store {
    /// A race's leaderboard rows in [`ranking::order`]. The `ORDER BY` says the same (the
    /// `leaderboard_rank` index serves it) only so that [`crate::boards::Board::new`]'s sort by
    /// [`ranking::order`] finds the rows sorted already; `tests/storage/ranking_order.rs` pins the
    /// two together.
    pub async fn leaderboard(&self, race_id: &str) -> Result<Vec<BoardRow>> {
        Ok(sqlx::query_as(
            "SELECT l.user_id, u.name AS user_name, l.submission_id, l.score_ms, l.submitted_at, l.achieved_at, l.off_track, \
             l.best_lap_ms, l.model_name FROM leaderboard l JOIN users u ON u.id = l.user_id WHERE l.race_id = $1 \
             ORDER BY l.score_ms, l.submitted_at, l.off_track, l.submission_id",
        )
        .bind(race_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The public races on whose leaderboards a racer has a row, most recently opened first (at
    /// most 500): the web site's racer page.
    pub async fn public_races_ranking(&self, user_id: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT l.race_id FROM leaderboard l JOIN races r ON r.id = l.race_id \
             WHERE l.user_id = $1 AND r.private = 0 ORDER BY r.opens_at DESC, r.id LIMIT 500",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Recompute the rows made before ties were ordered by submission time (migration 2 marks them
    /// `submitted_at = -1`) from their racers' submissions, as [`ranking::best`] picks them now. Run
    /// at every start (it finds nothing once done); it only rewrites rows from the submissions.
    pub(super) async fn backfill_leaderboard(&self) -> Result<()> {
        let stale: Vec<(String, String)> =
            sqlx::query_as("SELECT race_id, user_id FROM leaderboard WHERE submitted_at = -1")
                .fetch_all(&self.pool)
                .await?;
        for (race_id, user_id) in &stale {
            let mut tx = self.write_tx().await?;
            refresh_best(&mut tx, race_id, user_id).await?;
            tx.commit().await?;
        }
        if !stale.is_empty() {
            tracing::info!(
                rows = stale.len(),
                "leaderboard rows recomputed: ties are ordered by submission time"
            );
        }
        Ok(())
    }

    /// Insert a leaderboard row directly (benchmarks and tests seed large boards with it).
    pub async fn insert_board_row(&self, race_id: &str, row: &BoardRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO leaderboard (race_id, user_id, submission_id, score_ms, submitted_at, achieved_at, off_track, best_lap_ms, model_name) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(race_id)
        .bind(&row.user_id)
        .bind(&row.submission_id)
        .bind(row.score_ms)
        .bind(row.submitted_at)
        .bind(row.achieved_at)
        .bind(row.off_track)
        .bind(row.best_lap_ms)
        .bind(&row.model_name)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
