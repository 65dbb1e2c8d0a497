//! DeepRacer's own lidar sensors, `LIDAR` and `SECTOR_LIDAR`, as its simulator defines them.
//!
//! From deepracer-simapp: the scan (`markov/sensors/constants.py`, matching `racecar.launch` and the
//! car's URDF) has 64 samples from −2.61799 to +2.61799 rad (300°) in the laser's frame, range
//! 0.15–12 m; the laser sits 0.02913 m ahead of the car's origin, turned round by 3.1416 rad
//! (`hokuyo_joint` in `urdf/deepracer/deepracer_single_cam_lidar.urdf`), so the 60° blind cone
//! points forwards (the camera is there) and the samples run counter-clockwise from 30° left of
//! the nose round the back to 30° right of it. The observation filters (the training preset's
//! `get_graph_manager` input filters, `markov/filters/observation/observation_binary_filter.py`,
//! `markov/environments/constants.py`):
//!
//! * `LIDAR`: the 64 ranges clipped to [0.15, 1.0] m (`ObservationClippingFilter(0.15, 1.0)`);
//!   nothing within a metre reads 1.0.
//! * `SECTOR_LIDAR`: the 64 ranges in 8 sectors of 8 consecutive samples; a sector reads 1.0 when
//!   its nearest sample is closer than 0.5 m, else 0.0.
//!
//! The laser sees 3-D things: boxes and bot cars. DeepRacer's track borders are painted lines, so
//! they are invisible to it; [`DeepRacerLidarConfig::borders`] (off by default) makes the borders
//! walls, as Slipstream's own lidar has them. Not modelled: Gazebo's range noise (σ = 0.01 m) and
//! 1 cm range resolution, and a hit nearer than 0.15 m reads 0.15 m (Gazebo starts its rays there).
//!
//! Like every Slipstream observation vector, the readings are followed by the car's speed and
//! steering angle, normalised (a learner may ignore them).

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::math::{Obb, Vec2};
use crate::track::Track;

/// Samples per scan.
pub const SAMPLES: usize = 64;
/// First and last sample angle in the laser's frame, rad.
pub const MIN_ANGLE: f64 = -2.61799;
pub const MAX_ANGLE: f64 = 2.61799;
/// The laser's range, m.
pub const MIN_RANGE: f64 = 0.15;
pub const MAX_RANGE: f64 = 12.0;
/// `LIDAR` observations are clipped to [`MIN_RANGE`, `CLIP_RANGE`], m.
pub const CLIP_RANGE: f64 = 1.0;
/// `SECTOR_LIDAR`: sectors, and the distance under which a sector reads 1, m.
pub const SECTORS: usize = 8;
pub const SECTOR_DISTANCE: f64 = 0.5;
/// The laser's mount: metres ahead of the car's origin, and its yaw relative to the car, rad (the
/// URDF's rounded value, kept as DeepRacer has it).
pub const MOUNT_X: f64 = 0.02913;
#[allow(clippy::approx_constant)]
pub const MOUNT_YAW: f64 = 3.1416;

/// Settings of DeepRacer's `LIDAR` and `SECTOR_LIDAR` presets.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeepRacerLidarConfig {
    /// Also see the track borders as walls (Slipstream's addition, off as in DeepRacer, where the
    /// borders are painted lines and the laser sees only boxes and bot cars).
    pub borders: bool,
}

/// Which of DeepRacer's two lidar observations: the 64 clipped ranges or the 8 binary sectors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeepRacerLidarKind {
    /// `LIDAR`.
    #[default]
    Lidar,
    /// `SECTOR_LIDAR`.
    SectorLidar,
}

impl DeepRacerLidarKind {
    /// Readings in the observation (before the speed and steering that follow them).
    pub fn readings(self) -> usize {
        match self {
            DeepRacerLidarKind::Lidar => SAMPLES,
            DeepRacerLidarKind::SectorLidar => SECTORS,
        }
    }

    /// DeepRacer's sensor name.
    pub fn sensor_name(self) -> &'static str {
        match self {
            DeepRacerLidarKind::Lidar => "LIDAR",
            DeepRacerLidarKind::SectorLidar => "SECTOR_LIDAR",
        }
    }

    /// Names of the readings: `lidar_0` … `lidar_63` or `sector_0` … `sector_7`.
    pub fn reading_names(self) -> impl Iterator<Item = String> {
        let prefix = match self {
            DeepRacerLidarKind::Lidar => "lidar",
            DeepRacerLidarKind::SectorLidar => "sector",
        };
        (0..self.readings()).map(move |i| format!("{prefix}_{i}"))
    }

    /// Write one scan's observation into `out` (at least [`Self::readings`] long); returns how many
    /// values were written.
    pub fn observe(self, ranges: &[f64; SAMPLES], out: &mut [f32]) -> usize {
        match self {
            DeepRacerLidarKind::Lidar => observe_lidar(ranges, out),
            DeepRacerLidarKind::SectorLidar => observe_sectors(ranges, out),
        }
        self.readings()
    }
}

/// Sample `k`'s angle in the car's frame (x forward, y left), rad, in [0, 2π).
pub fn sample_angle(k: usize) -> f64 {
    MOUNT_YAW + MIN_ANGLE + (MAX_ANGLE - MIN_ANGLE) * k as f64 / (SAMPLES - 1) as f64
}

/// Unit sample directions in the car's frame.
static DIRS: LazyLock<[Vec2; SAMPLES]> = LazyLock::new(|| std::array::from_fn(|k| Vec2::from_angle(sample_angle(k))));

/// The raw ranges of one scan, m: the distance to the nearest object (or border, with `borders`)
/// along each sample, `f64::INFINITY` when nothing is within [`CLIP_RANGE`] (farther hits never
/// change an observation). `pos`/`forward` are the car's origin and unit heading; `seg` is the
/// centre-line segment near the car (a search hint).
#[allow(clippy::too_many_arguments)]
pub fn scan(
    track: &Track,
    pos: Vec2,
    forward: Vec2,
    seg: usize,
    borders: bool,
    objects: &[Obb],
    out: &mut [f64; SAMPLES],
) {
    let origin = pos + forward * MOUNT_X;
    let quad = if borders { track.locate_quad(origin, seg) } else { None };
    for (k, o) in out.iter_mut().enumerate() {
        let dir = DIRS[k].rotate_cs(forward.x, forward.y);
        let mut t = if borders {
            track.raycast_borders(origin, dir, CLIP_RANGE, quad)
        } else {
            f64::INFINITY
        };
        for obb in objects {
            if let Some(h) = obb.ray_hit(origin, dir) {
                t = t.min(h);
            }
        }
        *o = if t >= CLIP_RANGE { f64::INFINITY } else { t };
    }
}

/// `LIDAR`'s observation: each range clipped to [0.15, 1.0] m.
pub fn observe_lidar(ranges: &[f64; SAMPLES], out: &mut [f32]) {
    for (o, r) in out.iter_mut().zip(ranges) {
        *o = r.clamp(MIN_RANGE, CLIP_RANGE) as f32;
    }
}

/// `SECTOR_LIDAR`'s observation: 1.0 for a sector whose nearest range is under 0.5 m, else 0.0.
pub fn observe_sectors(ranges: &[f64; SAMPLES], out: &mut [f32]) {
    for (o, sector) in out.iter_mut().zip(ranges.chunks_exact(SAMPLES / SECTORS)) {
        let nearest = sector.iter().copied().fold(f64::INFINITY, f64::min);
        *o = if nearest < SECTOR_DISTANCE { 1.0 } else { 0.0 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::{ValidateOptions, builtin};

    #[test]
    fn samples_cover_300_degrees_with_the_blind_cone_ahead() {
        let deg: Vec<f64> = (0..SAMPLES).map(|k| sample_angle(k).to_degrees()).collect();
        assert!(
            (deg[0] - 30.0).abs() < 1e-3,
            "first sample 30° left of the nose: {}",
            deg[0]
        );
        assert!((deg[63] - 330.0).abs() < 1e-3, "last 30° right of it: {}", deg[63]);
        let step = deg[1] - deg[0];
        assert!((step - 300.0 / 63.0).abs() < 1e-3, "{step}");
        assert!(
            deg.iter().all(|d| *d > 29.9 && *d < 330.1),
            "none in the blind cone ahead"
        );
    }

    #[test]
    fn objects_are_seen_clipped_and_binned_but_painted_borders_are_not() {
        let t = builtin::load("drag_strip", &ValidateOptions::default()).unwrap();
        let pos = Vec2::new(2.0, 0.0);
        let fwd = Vec2::new(1.0, 0.0);
        let mut r = [0.0; SAMPLES];
        // Nothing but painted lines 0.4 m away: DeepRacer's laser sees nothing.
        scan(&t, pos, fwd, 0, false, &[], &mut r);
        assert!(r.iter().all(|v| v.is_infinite()), "{r:?}");
        let mut obs = [0.0f32; SAMPLES];
        observe_lidar(&r, &mut obs);
        assert!(obs.iter().all(|&v| v == 1.0));
        // With borders as walls, the samples to the side read about 0.4 m.
        scan(&t, pos, fwd, 0, true, &[], &mut r);
        let left = (0..SAMPLES)
            .min_by(|&a, &b| {
                (sample_angle(a) - std::f64::consts::FRAC_PI_2)
                    .abs()
                    .total_cmp(&(sample_angle(b) - std::f64::consts::FRAC_PI_2).abs())
            })
            .unwrap();
        assert!(
            (r[left] - 0.4).abs() < 0.01,
            "sample {left} at {:.1}°: {}",
            sample_angle(left).to_degrees(),
            r[left]
        );
        // A box just behind the car, 0.3 m from the laser: the rear samples see it, clipped and binned.
        let boxes = [Obb::new(Vec2::new(pos.x + MOUNT_X - 0.4, 0.0), 0.0, 0.2, 0.2)];
        scan(&t, pos, fwd, 0, false, &boxes, &mut r);
        let rear = (SAMPLES - 1) / 2; // 177.6°
        assert!((r[rear] - 0.3).abs() < 0.01, "{}", r[rear]);
        observe_lidar(&r, &mut obs);
        assert!((obs[rear] - 0.3).abs() < 0.01);
        assert_eq!(obs[0], 1.0, "nothing ahead-left");
        let mut sectors = [0.0f32; SECTORS];
        observe_sectors(&r, &mut sectors);
        assert_eq!(
            sectors,
            [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0],
            "the two rear sectors"
        );
        // Nearer than the minimum range reads the minimum.
        let touching = [Obb::new(Vec2::new(pos.x + MOUNT_X - 0.15, 0.0), 0.0, 0.2, 0.2)];
        scan(&t, pos, fwd, 0, false, &touching, &mut r);
        observe_lidar(&r, &mut obs);
        assert_eq!(obs[rear], MIN_RANGE as f32);
    }
}
