//! Leaderboards: each race's ranking, cached in memory; and what watchers hear.
//!
//! Reads never touch the database once a race's board is cached. A recorded result changes at
//! most one racer's row: the store says which ([`BoardChange`]), and the cached board is updated
//! in memory (one insertion into the sorted rows) instead of being read again. Recording results
//! of one race is serialised with [`Boards::lock`], so the cache applies changes in commit order.
//! With PostgreSQL, other servers may record results too: a board whose last database read is
//! older than [`PG_BOARD_MAX_AGE`] is read again (by one request; the others keep reading the
//! cached one).
//!
//! Watchers: submission status changes go out on one broadcast channel (small messages); board
//! changes through a per-race `watch` of the current board, from which each watcher computes the
//! rank changes within the part of the board it follows ([`board_diff`]). A watcher that stops
//! reading therefore holds on to nothing but its own last view of its top rows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use slipstream_proto::v1::LeaderboardRow;
use tokio::sync::{OwnedMutexGuard, broadcast, watch};

use crate::error::Result;
use crate::ranking::{self, Ranked};
use crate::store::{Backend, BoardChange, BoardRow, Store};

/// How old a cached board may get on PostgreSQL (where several servers can share a database).
pub const PG_BOARD_MAX_AGE: Duration = Duration::from_secs(2);

/// A race's ranked rows.
#[derive(Debug)]
pub struct Board {
    pub rows: Vec<BoardRow>,
    pub ranks: Vec<u32>,
    by_user: HashMap<String, usize>,
    /// When these rows were last read from the database (an in-memory update keeps it).
    read_at: Instant,
}

impl Default for Board {
    fn default() -> Self {
        Board::new(Vec::new())
    }
}

impl Board {
    /// A board of these rows, in [`ranking::order`] (quick when they come sorted, as the store reads
    /// them).
    pub fn new(mut rows: Vec<BoardRow>) -> Self {
        ranking::sort(&mut rows);
        Board::sorted(rows)
    }

    /// A board of rows already in [`ranking::order`].
    fn sorted(rows: Vec<BoardRow>) -> Self {
        debug_assert!(rows.is_sorted_by(|a, b| ranking::order(a, b).is_le()));
        let keys: Vec<ranking::Key> = rows.iter().map(Ranked::key).collect();
        let ranks = ranking::ranks(&keys);
        let by_user = rows.iter().enumerate().map(|(i, r)| (r.user_id.clone(), i)).collect();
        Board {
            rows,
            ranks,
            by_user,
            read_at: Instant::now(),
        }
    }

    /// This board with one racer's row replaced (`Some`) or removed (`None`).
    pub fn with_row(&self, user_id: &str, row: Option<BoardRow>) -> Board {
        let mut rows: Vec<BoardRow> = self.rows.iter().filter(|r| r.user_id != user_id).cloned().collect();
        if let Some(row) = row {
            let at = rows.partition_point(|r| ranking::order(r, &row).is_lt());
            rows.insert(at, row);
        }
        Board {
            read_at: self.read_at,
            ..Board::sorted(rows)
        }
    }

    /// A racer's place (0-based position in display order), if ranked.
    pub fn position(&self, user_id: &str) -> Option<usize> {
        self.by_user.get(user_id).copied()
    }

    /// The first `n` rows, as the API shows them.
    pub fn top(&self, n: usize) -> Vec<LeaderboardRow> {
        (0..n.min(self.rows.len())).map(|i| self.row(i)).collect()
    }

    pub fn row(&self, i: usize) -> LeaderboardRow {
        let r = &self.rows[i];
        LeaderboardRow {
            rank: self.ranks[i],
            user_id: r.user_id.clone(),
            user_name: r.user_name.clone(),
            score_ms: r.score_ms,
            submission_id: r.submission_id.clone(),
            model_name: r.model_name.clone(),
            achieved_at_ms: r.achieved_at,
            off_track: r.off_track as u32,
            best_lap_ms: r.best_lap_ms,
            submitted_at_ms: r.submitted_at,
        }
    }

    pub fn of_user(&self, user_id: &str) -> Option<LeaderboardRow> {
        self.by_user.get(user_id).map(|&i| self.row(i))
    }

    /// A racer's (rank, score), if ranked.
    pub fn standing(&self, user_id: &str) -> Option<(u32, i64)> {
        self.by_user
            .get(user_id)
            .map(|&i| (self.ranks[i], self.rows[i].score_ms))
    }
}

/// What a watcher of the first `top` places must be told after the board changed from what it
/// last saw (`seen`, the rows it holds, in order) to `after`.
#[derive(Clone, Debug, PartialEq)]
pub enum Diff {
    /// New rows of racers who entered, moved within, or dropped out of the first `top` places
    /// (by position, so a tie at the edge counts), in the new order.
    Rows(Vec<LeaderboardRow>),
    /// A racer it holds left the board altogether: send a fresh snapshot instead.
    Snapshot,
}

/// See [`Diff`].
pub fn board_diff(seen: &[LeaderboardRow], after: &Board, top: usize) -> Diff {
    let mut out = Vec::new();
    for r in seen {
        match after.position(&r.user_id) {
            None => return Diff::Snapshot,
            Some(p) if p >= top || (after.ranks[p], after.rows[p].score_ms) != (r.rank, r.score_ms) => {
                out.push((p, after.row(p)))
            }
            Some(_) => {}
        }
    }
    let held: std::collections::HashSet<&str> = seen.iter().map(|r| r.user_id.as_str()).collect();
    for p in 0..top.min(after.rows.len()) {
        if !held.contains(after.rows[p].user_id.as_str()) {
            out.push((p, after.row(p)));
        }
    }
    out.sort_by_key(|(p, _)| *p);
    Diff::Rows(out.into_iter().map(|(_, r)| r).collect())
}

/// A submission's new status, for the watchers of its race.
#[derive(Clone, Debug)]
pub struct RaceEvent {
    pub race_id: String,
    pub submission: slipstream_proto::v1::Submission,
}

/// All races' boards.
#[derive(Debug)]
pub struct Boards {
    cache: Mutex<HashMap<String, Arc<Board>>>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Each watched race's current board.
    watched: Mutex<HashMap<String, watch::Sender<Arc<Board>>>>,
    events: broadcast::Sender<RaceEvent>,
}

impl Default for Boards {
    fn default() -> Self {
        let (events, _) = broadcast::channel(4096);
        Boards {
            cache: Mutex::new(HashMap::new()),
            locks: Mutex::new(HashMap::new()),
            watched: Mutex::new(HashMap::new()),
            events,
        }
    }
}

/// Whether a cached board must be read again: on PostgreSQL, other servers may have changed it.
fn stale(store: &Store, b: &Board) -> bool {
    store.backend() == Backend::Postgres && b.read_at.elapsed() > PG_BOARD_MAX_AGE
}

/// Held while a race's results are recorded and its board built or updated.
#[derive(Debug)]
pub struct RaceLock(#[allow(dead_code)] OwnedMutexGuard<()>);

impl Boards {
    fn cached(&self, race_id: &str) -> Option<Arc<Board>> {
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(race_id)
            .cloned()
    }

    fn put(&self, race_id: &str, board: Arc<Board>) {
        if let Some(w) = self.watched.lock().unwrap_or_else(|e| e.into_inner()).get(race_id) {
            w.send_replace(board.clone());
        }
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(race_id.to_string(), board);
    }

    /// Follow a race's board: the receiver sees every board that replaces the cached one.
    pub fn watch_board(&self, race_id: &str) -> watch::Receiver<Arc<Board>> {
        let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
        // Forget races nobody follows any more.
        watched.retain(|_, w| w.receiver_count() > 0);
        watched
            .entry(race_id.to_string())
            .or_insert_with(|| watch::Sender::new(self.cached(race_id).unwrap_or_default()))
            .subscribe()
    }

    fn race_mutex(&self, race_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.locks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(race_id.to_string())
            .or_default()
            .clone()
    }

    /// Serialise work on a race's results and board (see the module's documentation).
    pub async fn lock(&self, race_id: &str) -> RaceLock {
        RaceLock(self.race_mutex(race_id).lock_owned().await)
    }

    async fn build(&self, store: &Store, race_id: &str) -> Result<Arc<Board>> {
        let b = Arc::new(Board::new(store.leaderboard(race_id).await?));
        self.put(race_id, b.clone());
        Ok(b)
    }

    /// The race's board: from the cache, or built from the database once however many ask.
    pub async fn get(&self, store: &Store, race_id: &str) -> Result<Arc<Board>> {
        if let Some(b) = self.cached(race_id) {
            if stale(store, &b)
                && let Ok(_lock) = self.race_mutex(race_id).try_lock_owned()
            {
                return self.build(store, race_id).await;
            }
            return Ok(b);
        }
        let _lock = self.lock(race_id).await;
        match self.cached(race_id) {
            Some(b) => Ok(b), // built while we waited
            None => self.build(store, race_id).await,
        }
    }

    /// The race's board while its lock is held (cached, or built from the database).
    pub async fn get_locked(&self, _lock: &RaceLock, store: &Store, race_id: &str) -> Result<Arc<Board>> {
        match self.cached(race_id) {
            Some(b) if !stale(store, &b) => Ok(b),
            _ => self.build(store, race_id).await,
        }
    }

    /// Apply a recorded result's change to the cached board (and so to its watchers).
    pub async fn apply(
        &self,
        lock: &RaceLock,
        store: &Store,
        race_id: &str,
        user_id: &str,
        change: BoardChange,
    ) -> Result<()> {
        let Some(before) = self.cached(race_id) else {
            self.get_locked(lock, store, race_id).await?;
            return Ok(());
        };
        let row = match change {
            BoardChange::Unchanged => return Ok(()),
            BoardChange::Removed => None,
            BoardChange::Set(row) => Some(row),
        };
        // Copying a large board takes milliseconds: not on the threads that answer requests.
        let user = user_id.to_string();
        let after = tokio::task::spawn_blocking(move || before.with_row(&user, row))
            .await
            .map_err(|e| crate::error::LeagueError::internal(format!("updating the leaderboard: {e}")))?;
        self.put(race_id, Arc::new(after));
        Ok(())
    }

    /// Drop the race's cached board (the race was deleted, or the cache cannot be trusted).
    pub fn invalidate(&self, race_id: &str) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).remove(race_id);
    }

    /// Tell the race's watchers about a submission's new status.
    pub fn publish(&self, race_id: &str, submission: slipstream_proto::v1::Submission) {
        // No receivers is fine.
        let _ = self.events.send(RaceEvent {
            race_id: race_id.to_string(),
            submission,
        });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<RaceEvent> {
        self.events.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(user: &str, sub: &str, score: i64, at: i64) -> BoardRow {
        BoardRow {
            user_id: user.into(),
            user_name: user.into(),
            submission_id: sub.into(),
            score_ms: score,
            submitted_at: at,
            achieved_at: at,
            off_track: 0,
            best_lap_ms: score,
            model_name: "m".into(),
        }
    }

    #[test]
    fn a_changed_row_moves_to_its_place_and_ranks_follow() {
        let b = Board::new(vec![
            row("a", "s1", 5000, 1),
            row("b", "s2", 6000, 1),
            row("c", "s3", 7000, 1),
        ]);
        // c ties b with a submission made earlier: listed first, sharing b's rank.
        let b2 = b.with_row("c", Some(row("c", "s4", 6000, 0)));
        let users: Vec<&str> = b2.rows.iter().map(|r| r.user_id.as_str()).collect();
        assert_eq!(users, ["a", "c", "b"]);
        assert_eq!(b2.ranks, [1, 2, 2]);
        assert_eq!(b2.standing("c"), Some((2, 6000)));
        assert_eq!(b2.standing("b"), Some((2, 6000)));
        // b improves past c.
        let b3 = b2.with_row("b", Some(row("b", "s5", 5500, 5)));
        assert_eq!(b3.ranks, [1, 2, 3]);
        assert_eq!(b3.standing("b"), Some((2, 5500)));
        // Removal.
        let b4 = b2.with_row("a", None);
        assert_eq!(b4.rows.len(), 2);
        assert_eq!(b4.standing("a"), None);
        assert_eq!(b4.ranks, [1, 1]);
        // The original is untouched.
        assert_eq!(b.standing("c"), Some((3, 7000)));
    }

    #[test]
    fn a_new_racer_enters_in_order() {
        let b = Board::new(vec![row("a", "s1", 5000, 1), row("b", "s2", 7000, 1)]);
        let b2 = b.with_row("n", Some(row("n", "s9", 6000, 1)));
        assert_eq!(b2.standing("n"), Some((2, 6000)));
        assert_eq!(b2.standing("b"), Some((3, 7000)));
        let b3 = b.with_row("z", Some(row("z", "s0", 9000, 1)));
        assert_eq!(b3.standing("z"), Some((3, 9000)));
    }

    #[test]
    fn watchers_hear_the_changes_within_their_top() {
        let rows: Vec<BoardRow> = (0..6)
            .map(|i| row(&format!("u{i}"), &format!("s{i}"), 5000 + i * 100, 1))
            .collect();
        let before = Board::new(rows);
        let users = |d: Diff| match d {
            Diff::Rows(v) => v.into_iter().map(|r| (r.user_id, r.rank)).collect::<Vec<_>>(),
            Diff::Snapshot => panic!("expected rows"),
        };
        // u5 (6th) jumps to first: everyone above it moves down one place.
        let after = before.with_row("u5", Some(row("u5", "s9", 4000, 2)));
        assert_eq!(
            users(board_diff(&before.top(3), &after, 3)),
            [
                ("u5".to_string(), 1),
                ("u0".into(), 2),
                ("u1".into(), 3),
                ("u2".into(), 4)
            ],
            "the top 3 and the row that dropped out of it"
        );
        assert_eq!(users(board_diff(&before.top(100), &after, 100)).len(), 6);
        // A change below the top is not heard by a top-3 watcher.
        let after2 = before.with_row("u5", Some(row("u5", "s9", 5450, 2)));
        assert_eq!(board_diff(&before.top(3), &after2, 3), Diff::Rows(vec![]));
        assert_eq!(users(board_diff(&before.top(6), &after2, 6)), [("u5".to_string(), 6)]);
        // A racer that leaves the board: a snapshot.
        let after3 = before.with_row("u1", None);
        assert_eq!(board_diff(&before.top(3), &after3, 3), Diff::Snapshot);
    }

    #[test]
    fn a_tie_at_the_edge_of_the_top_counts_by_position() {
        // A(1) B(2) X(2); N ties B and X and enters ahead of them (earlier submission id).
        let before = Board::new(vec![
            row("a", "s1", 5000, 1),
            row("b", "s2", 6000, 1),
            row("x", "s3", 6000, 1),
        ]);
        let after = before.with_row("n", Some(row("n", "s0", 6000, 1)));
        let got = match board_diff(&before.top(3), &after, 3) {
            Diff::Rows(v) => v.into_iter().map(|r| (r.user_id, r.rank)).collect::<Vec<_>>(),
            Diff::Snapshot => panic!("rows"),
        };
        // n enters at place 2; x drops out of the top 3 (same rank, place 4): both are told.
        assert!(got.contains(&("n".to_string(), 2)), "{got:?}");
        assert!(got.iter().any(|(u, _)| u == "x"), "{got:?}");
    }

    #[test]
    fn an_in_memory_update_keeps_the_time_of_the_last_database_read() {
        let b = Board::new(vec![row("a", "s1", 5000, 1)]);
        std::thread::sleep(std::time::Duration::from_millis(5));
        let b2 = b.with_row("z", Some(row("z", "s2", 6000, 1)));
        assert_eq!(b2.read_at, b.read_at);
    }
}
