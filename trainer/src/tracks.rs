//! The set of tracks a model trains on: named tracks (files or built-ins), procedurally generated
//! ones, optionally each in both directions.

use std::sync::Arc;

use slipstream_sim::Track;
use slipstream_sim::rng::Rng;
use slipstream_sim::track::ValidateOptions;
use slipstream_sim::track::generate::{GenerateRequest, generate};

use crate::config::GeneratedTracks;
use crate::error::TrainError;

/// Training tracks and their display names.
#[derive(Clone, Debug)]
pub struct TrackSet {
    pub tracks: Vec<Arc<Track>>,
    pub names: Vec<String>,
}

impl TrackSet {
    /// Resolve `specs` (built-in names or `.npy`/`.csv` paths), add `generated` tracks, and add each
    /// reversed when `both_directions`.
    pub fn build(specs: &[String], generated: &GeneratedTracks, both_directions: bool) -> Result<Self, TrainError> {
        let opts = ValidateOptions::default();
        let mut tracks = Vec::new();
        let mut names = Vec::new();
        for s in specs {
            tracks.push(Track::resolve(s, &opts)?);
            names.push(s.clone());
        }
        let mut rng = Rng::new(generated.seed);
        for k in 0..generated.count {
            let req = GenerateRequest {
                seed: generated.seed.wrapping_add(k as u64),
                length: rng.range(generated.length[0], generated.length[1].max(generated.length[0] + 1e-9)),
                width: rng.range(generated.width[0], generated.width[1].max(generated.width[0] + 1e-9)),
                difficulty: rng
                    .range(
                        generated.difficulty[0],
                        generated.difficulty[1].max(generated.difficulty[0] + 1e-9),
                    )
                    .min(1.0),
            };
            let t = generate(&req, &opts)?;
            names.push(t.name().to_string());
            tracks.push(t);
        }
        if tracks.is_empty() {
            return Err(TrainError::option(
                "--track",
                "no training track: give --track (repeatable) or generated tracks in the config",
            ));
        }
        if both_directions {
            let reversed: Vec<Track> = tracks.iter().map(Track::reversed).collect();
            let rnames: Vec<String> = names.iter().map(|n| format!("{n} (reversed)")).collect();
            tracks.extend(reversed);
            names.extend(rnames);
        }
        Ok(TrackSet {
            tracks: tracks.into_iter().map(Arc::new).collect(),
            names,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_generated_and_reversed() {
        let g = GeneratedTracks {
            count: 2,
            ..Default::default()
        };
        let s = TrackSet::build(&["oval".to_string()], &g, true).unwrap();
        assert_eq!(s.tracks.len(), 6);
        assert!(s.names[3].contains("reversed"));
        assert!(s.tracks[3].is_reversed());
        let e = TrackSet::build(&[], &GeneratedTracks::default(), false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--track"), "{e}");
        let e = TrackSet::build(&["nope.npy".to_string()], &GeneratedTracks::default(), false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("nope.npy"), "{e}");
    }
}
