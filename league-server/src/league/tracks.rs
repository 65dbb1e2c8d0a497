//! Tracks: built-in and uploaded, their summaries, and what an evaluation of a race needs.

use std::sync::Arc;

use slipstream_proto::v1 as pb;
use slipstream_sim::track::{Track, ValidateOptions, builtin, npy};

use crate::ctx::Ctx;
use crate::error::{LeagueError, Result};
use crate::races::{RaceRules, RaceRun, race_seed, upload_sha};
use crate::store::RaceRow;

impl Ctx {
    /// Whether a track id names a known track (built-in or uploaded).
    pub async fn track_exists(&self, id: &str) -> Result<bool> {
        Ok(builtin::find(id).is_some() || self.store.track(id).await?.is_some())
    }

    /// A track's summary.
    pub async fn track_info(&self, id: &str) -> Result<Option<pb::TrackInfo>> {
        if let Some(b) = builtin::find(id) {
            let t = self.cached_track(id, false, || {
                b.build(&ValidateOptions::default())
                    .map_err(|e| LeagueError::internal(e.to_string()))
            })?;
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

    /// A race's track as the simulator loads it: built and validated once per track and
    /// direction, then shared (evaluations, replays and pages of the same track).
    pub fn race_track(&self, run: &RaceRun) -> Result<Arc<Track>> {
        self.cached_track(&run.track_name, run.reverse, || run.track())
    }

    fn cached_track(&self, id: &str, reverse: bool, build: impl FnOnce() -> Result<Track>) -> Result<Arc<Track>> {
        let key = (id.to_string(), reverse);
        if let Some(t) = self.tracks.0.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(t.clone());
        }
        let track = Arc::new(build()?);
        let mut tracks = self.tracks.0.lock().unwrap_or_else(|e| e.into_inner());
        // Bounded: uploads are many and each is kept only while it is used.
        if tracks.len() >= 256 {
            tracks.clear();
        }
        Ok(tracks.entry(key).or_insert(track).clone())
    }

    /// A track by id (a built-in's name or an upload's) and direction, loaded once and shared.
    pub async fn track_by_id(&self, id: &str, reverse: bool) -> Result<Arc<Track>> {
        let rows = self.track_rows(id).await?;
        self.cached_track(id, reverse, || {
            let opts = slipstream_sim::track::ValidateOptions::default();
            let t = if rows.is_empty() {
                Track::resolve(id, &opts)
            } else {
                Track::from_rows(id.to_string(), &rows, &opts)
            }
            .map_err(|e| LeagueError::internal(format!("track {id}: {e}")))?;
            Ok(if reverse { t.reversed() } else { t })
        })
    }

    /// An uploaded track's waypoint rows (none for a built-in's name).
    async fn track_rows(&self, id: &str) -> Result<Vec<[f64; 6]>> {
        Ok(match upload_sha(id) {
            Some(sha) => {
                let bytes = self
                    .store
                    .blob(sha)
                    .await?
                    .ok_or_else(|| LeagueError::internal(format!("track {id} is missing its file")))?;
                let a = npy::parse(&bytes).map_err(|e| LeagueError::internal(format!("track {id}: {e}")))?;
                a.data
                    .chunks_exact(6)
                    .map(|c| [c[0], c[1], c[2], c[3], c[4], c[5]])
                    .collect()
            }
            None => vec![],
        })
    }

    /// What an evaluation of a race needs.
    pub async fn race_run(&self, race: &RaceRow) -> Result<RaceRun> {
        let spec = &race.spec;
        let rows = self.track_rows(&spec.track).await?;
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
