//! Leaderboards: each race's ranking, cached in memory and rebuilt from the database when a result
//! changes it; and the broadcast of submission and rank changes to watchers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use slipstream_proto::v1::{LeaderboardEvent, LeaderboardRow};
use tokio::sync::broadcast;

use crate::error::Result;
use crate::ranking;
use crate::store::{BoardRow, Store};

/// A race's ranked rows.
#[derive(Debug, Default)]
pub struct Board {
    pub rows: Vec<BoardRow>,
    pub ranks: Vec<u32>,
    by_user: HashMap<String, usize>,
}

impl Board {
    pub fn new(rows: Vec<BoardRow>) -> Self {
        let keys: Vec<ranking::Key> = rows.iter().map(BoardRow::key).collect();
        let ranks = ranking::ranks(&keys);
        let by_user = rows.iter().enumerate().map(|(i, r)| (r.user_id.clone(), i)).collect();
        Board { rows, ranks, by_user }
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
        }
    }

    pub fn of_user(&self, user_id: &str) -> Option<LeaderboardRow> {
        self.by_user.get(user_id).map(|&i| self.row(i))
    }
}

/// An event for watchers of one race.
#[derive(Clone, Debug)]
pub struct RaceEvent {
    pub race_id: String,
    pub event: LeaderboardEvent,
}

/// All races' boards.
#[derive(Debug)]
pub struct Boards {
    cache: Mutex<HashMap<String, Arc<Board>>>,
    events: broadcast::Sender<RaceEvent>,
}

impl Default for Boards {
    fn default() -> Self {
        let (events, _) = broadcast::channel(4096);
        Boards {
            cache: Mutex::new(HashMap::new()),
            events,
        }
    }
}

impl Boards {
    /// The race's board (from the cache, or built from the database).
    pub async fn get(&self, store: &Store, race_id: &str) -> Result<Arc<Board>> {
        if let Some(b) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(race_id) {
            return Ok(b.clone());
        }
        let b = Arc::new(Board::new(store.leaderboard(race_id).await?));
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(race_id.to_string(), b.clone());
        Ok(b)
    }

    /// Drop the cached board (its results changed).
    pub fn invalidate(&self, race_id: &str) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).remove(race_id);
    }

    pub fn publish(&self, race_id: &str, event: LeaderboardEvent) {
        // No receivers is fine.
        let _ = self.events.send(RaceEvent {
            race_id: race_id.to_string(),
            event,
        });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<RaceEvent> {
        self.events.subscribe()
    }
}
