//! Seeded procedural track generator.
//!
//! A star-shaped closed curve (a random Fourier series of radius against angle, with a random
//! stretch) is scaled to the requested length and resampled every 0.15 m. A candidate is kept only if it passes full track validation, its tightest
//! bend is wide enough for the difficulty, and separate parts of the loop keep clear of each other;
//! otherwise the next attempt (a new sub-seed) is tried. Same request → same track, bit for bit.

use super::spline::{cumulative, resample, with_borders};
use super::{Track, ValidateOptions};
use crate::error::{TrackError, TrackErrorKind};
use crate::math::{Vec2, cos, sin};
use crate::rng::{Rng, mix_seed};

/// What to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct GenerateRequest {
    pub seed: u64,
    /// Centre-line length, metres (10–200).
    pub length: f64,
    /// Track width, metres (at least the car's width + 0.2, at most 2).
    pub width: f64,
    /// 0 = gentle curves, 1 = many tight bends.
    pub difficulty: f64,
}

impl Default for GenerateRequest {
    fn default() -> Self {
        Self {
            seed: 0,
            length: 25.0,
            width: 0.9,
            difficulty: 0.5,
        }
    }
}

/// Attempts before giving up.
pub const MAX_ATTEMPTS: u32 = 400;

/// Generate a closed, validated track.
pub fn generate(req: &GenerateRequest, opts: &ValidateOptions) -> Result<Track, TrackError> {
    let name = format!(
        "generated(seed={},length={},width={},difficulty={})",
        req.seed, req.length, req.width, req.difficulty
    );
    let bad = |msg: String| TrackError::new(name.clone(), TrackErrorKind::GeneratorRequest(msg));
    if !(req.length.is_finite() && (10.0..=200.0).contains(&req.length)) {
        return Err(bad(format!("length {} m is outside 10–200 m", req.length)));
    }
    let min_w = opts.min_width + 0.2;
    if !(req.width.is_finite() && req.width >= min_w && req.width <= 2.0) {
        return Err(bad(format!("width {} m is outside {min_w:.2}–2 m", req.width)));
    }
    if !(req.difficulty.is_finite() && (0.0..=1.0).contains(&req.difficulty)) {
        return Err(bad(format!("difficulty {} is outside 0–1", req.difficulty)));
    }
    let d = req.difficulty;
    // The tightest allowed bend: gentle tracks keep well clear of the width, hard ones nearly reach it.
    let min_radius = 0.5 * req.width + 0.15 + (1.0 - d) * 0.25 * req.length.sqrt();
    let clearance = req.width + 0.3;
    for attempt in 0..MAX_ATTEMPTS {
        let mut rng = Rng::new(mix_seed(&[req.seed, u64::from(attempt)]));
        // A star-shaped closed curve r(θ) = 1 + Σ a_j cos(jθ + φ_j): a random Fourier series whose
        // harmonics (more and stronger with difficulty) make the bends. Star-shaped means it never
        // crosses itself; an elliptical stretch adds straights.
        // Later attempts get calmer, so that a hard request still finds a valid track.
        let calm = 1.0 - 0.6 * f64::from(attempt) / f64::from(MAX_ATTEMPTS);
        let harmonics = 2 + (d * (req.length / 6.0).min(6.0)).round() as usize;
        let amp = (0.1 + 0.2 * d) * calm;
        let terms: Vec<(f64, f64)> = (2..=harmonics + 1)
            .map(|j| {
                (
                    amp * rng.range(-1.0, 1.0) / (j as f64 - 1.0).sqrt(),
                    rng.range(0.0, std::f64::consts::TAU),
                )
            })
            .collect();
        let stretch = rng.range(1.0, 1.6);
        let rot = rng.range(0.0, std::f64::consts::TAU);
        let (cr, sr) = (cos(rot), sin(rot));
        const SAMPLES: usize = 1440;
        let mut dense: Vec<Vec2> = (0..SAMPLES)
            .map(|i| {
                let theta = std::f64::consts::TAU * i as f64 / SAMPLES as f64;
                let r = 1.0
                    + terms
                        .iter()
                        .enumerate()
                        .map(|(k, (a, phi))| a * cos((k + 2) as f64 * theta + phi))
                        .sum::<f64>();
                Vec2::new(stretch * r * cos(theta), r * sin(theta)).rotate_cs(cr, sr)
            })
            .collect();
        if dense.iter().any(|p| p.length() < 0.2) {
            continue;
        }
        dense.push(dense[0]);
        let unit_len = *cumulative(&dense).last().expect("non-empty");
        let scaled: Vec<Vec2> = dense.iter().map(|p| *p * (req.length / unit_len)).collect();
        let center = resample(&scaled, super::builtin::SPACING);
        if !bends_ok(&center, min_radius) || !clear_of_itself(&center, clearance, 3.0 * req.width) {
            continue;
        }
        let waypoints = with_borders(&center, req.width, true);
        // A candidate is kept only if it is clean: generated tracks need no repairs.
        if let Ok(mut t) = Track::from_waypoints(name.clone(), waypoints, opts)
            && t.warnings().is_empty()
        {
            t.set_name(format!("generated-{}", req.seed));
            return Ok(t);
        }
    }
    Err(TrackError::new(
        name,
        TrackErrorKind::GeneratorFailed { attempts: MAX_ATTEMPTS },
    ))
}

/// Every bend's radius (from three consecutive points) is at least `min_radius`.
fn bends_ok(c: &[Vec2], min_radius: f64) -> bool {
    let n = c.len() - 1;
    (0..n).all(|i| {
        let a = c[(i + n - 1) % n];
        let b = c[i];
        let d = c[(i + 1) % n];
        // Circumradius R = |ab||bd||da| / (2 |cross|).
        let cross = (b - a).cross(d - b).abs();
        cross == 0.0 || a.distance(b) * b.distance(d) * d.distance(a) / (2.0 * cross) >= min_radius
    })
}

/// Points further apart than `skip` metres along the loop are at least `clearance` apart in space.
fn clear_of_itself(c: &[Vec2], clearance: f64, skip: f64) -> bool {
    let s = cumulative(c);
    let total = *s.last().expect("non-empty");
    let n = c.len() - 1;
    let c2 = clearance * clearance;
    for i in 0..n {
        for j in i + 1..n {
            let ds = (s[j] - s[i]).min(total - (s[j] - s[i]));
            if ds > skip && (c[i] - c[j]).length_sq() < c2 {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_track_and_requested_length() {
        let req = GenerateRequest {
            seed: 11,
            length: 30.0,
            width: 0.8,
            difficulty: 0.6,
        };
        let a = generate(&req, &ValidateOptions::default()).unwrap();
        let b = generate(&req, &ValidateOptions::default()).unwrap();
        assert_eq!(a.rows(), b.rows());
        assert!((a.length() - 30.0).abs() < 0.3, "{}", a.length());
        let c = generate(&GenerateRequest { seed: 12, ..req }, &ValidateOptions::default()).unwrap();
        assert_ne!(a.rows(), c.rows());
    }

    #[test]
    fn many_seeds_and_difficulties_give_valid_tracks() {
        for seed in 0..12 {
            for (difficulty, width) in [(0.0, 1.1), (0.5, 0.8), (1.0, 0.6)] {
                let req = GenerateRequest {
                    seed,
                    length: 25.0,
                    width,
                    difficulty,
                };
                let t = generate(&req, &ValidateOptions::default()).unwrap_or_else(|e| panic!("{e}"));
                assert!(t.is_closed());
                assert!((t.width_min() - width).abs() < 0.05);
            }
        }
    }

    #[test]
    fn bad_requests_are_refused() {
        let opts = ValidateOptions::default();
        for req in [
            GenerateRequest {
                length: 2.0,
                ..Default::default()
            },
            GenerateRequest {
                width: 0.1,
                ..Default::default()
            },
            GenerateRequest {
                difficulty: 1.5,
                ..Default::default()
            },
            GenerateRequest {
                length: f64::NAN,
                ..Default::default()
            },
        ] {
            let e = generate(&req, &opts).unwrap_err();
            assert!(matches!(e.kind, TrackErrorKind::GeneratorRequest(_)), "{e}");
        }
    }
}
