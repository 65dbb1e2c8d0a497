//! DeepRacer's episode statuses (the `episode_status` of its traces).

use serde::{Deserialize, Serialize};

/// DeepRacer's episode statuses, as written in traces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpisodeStatus {
    #[default]
    Prepare,
    InProgress,
    OffTrack,
    Crashed,
    Reversed,
    Immobilized,
    LapComplete,
    TimeUp,
    Pause,
    /// A car that finished a head-to-head race that ends when every car has (DeepRacer's done
    /// condition `all`), parked beside the track. Slipstream does not write it (its finished cars
    /// wait, held, and their traces end); DeepRacer's traces have it.
    Park,
}

impl EpisodeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EpisodeStatus::Prepare => "prepare",
            EpisodeStatus::InProgress => "in_progress",
            EpisodeStatus::OffTrack => "off_track",
            EpisodeStatus::Crashed => "crashed",
            EpisodeStatus::Reversed => "reversed",
            EpisodeStatus::Immobilized => "immobilized",
            EpisodeStatus::LapComplete => "lap_complete",
            EpisodeStatus::TimeUp => "time_up",
            EpisodeStatus::Pause => "pause",
            EpisodeStatus::Park => "park",
        }
    }

    /// Every status.
    pub const ALL: [EpisodeStatus; 10] = [
        EpisodeStatus::Prepare,
        EpisodeStatus::InProgress,
        EpisodeStatus::OffTrack,
        EpisodeStatus::Crashed,
        EpisodeStatus::Reversed,
        EpisodeStatus::Immobilized,
        EpisodeStatus::LapComplete,
        EpisodeStatus::TimeUp,
        EpisodeStatus::Pause,
        EpisodeStatus::Park,
    ];

    /// The status a trace's `episode_status` column names (DeepRacer's strings, as
    /// [`Self::as_str`] writes them).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// An incident (off-track, crash, reversal, immobilisation): the episode ends, or — in a race
    /// with resets — the car is held where it is put back.
    pub fn is_incident(self) -> bool {
        matches!(
            self,
            EpisodeStatus::OffTrack | EpisodeStatus::Crashed | EpisodeStatus::Reversed | EpisodeStatus::Immobilized
        )
    }
}

/// A status equals DeepRacer's string for it (`status == "lap_complete"`), for tools and tests that
/// read traces with DeepRacer's names.
impl PartialEq<&str> for EpisodeStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Display for EpisodeStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
