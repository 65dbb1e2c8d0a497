//! Tracks: loading (DeepRacer `.npy`, CSV), built-in designs, the procedural generator, validation and
//! the geometry queries the simulator runs every step.
//!
//! A [`Track`] keeps the waypoints exactly as given (DeepRacer's reward parameters refer to them by
//! index) and precomputes what the per-step queries need: arc length at every waypoint, unit segment
//! directions, left/right half-widths and curvature. Queries are local searches from the previous
//! segment, so a step costs a handful of segment projections whatever the track's size.

pub mod builtin;
pub mod csv;
pub mod generate;
mod grid;
pub mod npy;
mod query;
pub mod raycast;
pub mod repair;
pub mod spline;
mod validate;

use std::path::Path;

use serde::Serialize;

use crate::error::{TrackError, TrackErrorKind};
use crate::math::{Vec2, wrap_angle};

pub use repair::TrackWarning;
pub use validate::ValidateOptions;

/// Column names of a DeepRacer track file, in order.
pub const COLUMNS: [&str; 6] = ["center_x", "center_y", "inner_x", "inner_y", "outer_x", "outer_y"];

/// Two end points closer than this (metres) make a track a closed loop.
pub const CLOSE_TOLERANCE: f64 = 1e-3;

/// Which way round a closed track's waypoints run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    CounterClockwise,
    Clockwise,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::CounterClockwise => "counter_clockwise",
            Direction::Clockwise => "clockwise",
        }
    }
}

/// One waypoint row: a centre-line point and the inner and outer border points beside it (metres).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Waypoint {
    pub center: Vec2,
    pub inner: Vec2,
    pub outer: Vec2,
}

impl Waypoint {
    pub fn from_row(r: [f64; 6]) -> Self {
        Waypoint {
            center: Vec2::new(r[0], r[1]),
            inner: Vec2::new(r[2], r[3]),
            outer: Vec2::new(r[4], r[5]),
        }
    }
    pub fn to_row(self) -> [f64; 6] {
        [
            self.center.x,
            self.center.y,
            self.inner.x,
            self.inner.y,
            self.outer.x,
            self.outer.y,
        ]
    }
}

/// Summary of a track, as `sim track info` prints it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TrackInfo {
    pub name: String,
    pub waypoints: usize,
    pub length_m: f64,
    pub width_min_m: f64,
    pub width_mean_m: f64,
    pub closed: bool,
    /// `counter_clockwise`, `clockwise`, or `null` for an open track.
    pub direction: Option<Direction>,
    /// What was repaired or accepted although not clean (DeepRacer tolerates it), in file row order.
    pub warnings: Vec<TrackWarning>,
}

/// Where a point lies relative to the centre line.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Projection {
    /// Segment index (segment `i` runs from waypoint `i` to waypoint `i + 1`).
    pub seg: usize,
    /// Position along the segment in [0, 1].
    pub t: f64,
    /// Arc length from waypoint 0 to the projected point, metres.
    pub s: f64,
    /// Signed distance from the centre line, metres: positive to the left of the driving direction.
    pub lateral: f64,
    /// Unsigned distance from the centre line, metres.
    pub distance: f64,
}

/// A validated track with its precomputed geometry.
#[derive(Clone, Debug)]
pub struct Track {
    name: String,
    waypoints: Vec<Waypoint>,
    closed: bool,
    reversed: bool,
    /// Arc length at each waypoint.
    s: Vec<f64>,
    length: f64,
    /// Centre-line points (a copy of the waypoints' centres, for cache-friendly queries).
    center: Vec<Vec2>,
    /// Per segment: the vector from its start to its end and 1/|that|² (0 for a zero-length segment).
    seg_vec: Vec<Vec2>,
    inv_len2: Vec<f64>,
    /// Per segment: unit direction (a zero-length segment borrows its neighbour's) and length.
    dir: Vec<Vec2>,
    seg_len: Vec<f64>,
    /// Per waypoint: distance from the centre to the left / right border.
    half_left: Vec<f64>,
    half_right: Vec<f64>,
    /// Per waypoint: the left / right border points (inner/outer sorted by side).
    left: Vec<Vec2>,
    right: Vec<Vec2>,
    /// Whether the inner border is on the left of the driving direction.
    left_is_inner: bool,
    /// Merged road quads for the lidar's corridor walk, and the grid fallback.
    corridor: raycast::Corridor,
    grid: grid::Grid,
    /// Per waypoint: signed curvature (1/m, positive turning left).
    curvature: Vec<f64>,
    width_min: f64,
    width_mean: f64,
    /// What loading repaired or accepted (see [`repair`]).
    warnings: Vec<TrackWarning>,
}

impl Track {
    /// Build a track from waypoint rows, validating it. `name` is used in error messages.
    pub fn from_rows(name: impl Into<String>, rows: &[[f64; 6]], opts: &ValidateOptions) -> Result<Track, TrackError> {
        let name = name.into();
        let waypoints: Vec<Waypoint> = rows.iter().map(|r| Waypoint::from_row(*r)).collect();
        Self::from_waypoints(name, waypoints, opts)
    }

    /// Build a track from waypoints, validating it. A first and last waypoint closer than
    /// [`CLOSE_TOLERANCE`] make a closed loop (the last is snapped onto the first). What DeepRacer
    /// tolerates is repaired and listed in [`Track::warnings`] (see [`repair`]); what cannot be raced
    /// is an error.
    pub fn from_waypoints(
        name: impl Into<String>,
        mut waypoints: Vec<Waypoint>,
        opts: &ValidateOptions,
    ) -> Result<Track, TrackError> {
        let name = name.into();
        let err = |kind| TrackError::new(name.clone(), kind);
        validate::check_finite(&waypoints).map_err(err)?;
        let mut warnings: Vec<TrackWarning> = repair::close_gap(&mut waypoints, CLOSE_TOLERANCE).into_iter().collect();
        let closed = waypoints.len() >= 2
            && waypoints[0].center.distance(waypoints[waypoints.len() - 1].center) < CLOSE_TOLERANCE;
        if closed {
            let n = waypoints.len();
            waypoints[n - 1] = waypoints[0];
        }
        validate::check_distinct(&waypoints, closed).map_err(err)?;
        warnings.extend(repair::cut_folds(&mut waypoints, closed));
        let (mut track, slanted) = Self::build(name.clone(), waypoints, closed, false);
        warnings.extend(slanted);
        warnings.extend(validate::check_geometry(&track, opts).map_err(err)?);
        track.warnings = warnings;
        Ok(track)
    }

    /// Load a `.npy` or `.csv` track file.
    pub fn load(path: &Path, opts: &ValidateOptions) -> Result<Track, TrackError> {
        let source = path.display().to_string();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let rows = match ext.as_str() {
            "npy" => npy::read_track_rows(path),
            "csv" => csv::read_track_rows(path),
            other => Err(TrackErrorKind::Extension(other.to_string())),
        }
        .map_err(|kind| TrackError::new(source.clone(), kind))?;
        let track = Self::from_rows(source, &rows, opts)?;
        for w in &track.warnings {
            tracing::warn!(track = %track.name, kind = w.kind(), index = w.index(), "{w}");
        }
        Ok(track)
    }

    /// A built-in track name or a path to a `.npy`/`.csv` file.
    pub fn resolve(spec: &str, opts: &ValidateOptions) -> Result<Track, TrackError> {
        let path = Path::new(spec);
        if builtin::find(spec).is_some() || (!path.exists() && path.extension().is_none()) {
            return builtin::load(spec, opts);
        }
        Self::load(path, opts)
    }

    /// The track and its slanted-rows warnings (file order unless `reversed`).
    fn build(name: String, waypoints: Vec<Waypoint>, closed: bool, reversed: bool) -> (Track, Vec<TrackWarning>) {
        let n = waypoints.len();
        let m = n - 1;
        let mut seg_len = Vec::with_capacity(m);
        let mut dir = vec![Vec2::ZERO; m];
        for i in 0..m {
            let d = waypoints[i + 1].center - waypoints[i].center;
            seg_len.push(d.length());
            dir[i] = d.normalize_or_zero();
        }
        // Zero-length segments borrow the direction of the nearest real segment (forwards, then backwards).
        for i in 0..m {
            if dir[i] == Vec2::ZERO {
                let found = (1..m)
                    .map(|k| if closed { (i + k) % m } else { (i + k).min(m - 1) })
                    .find(|&j| dir[j] != Vec2::ZERO);
                let found = found.or_else(|| (1..=i).map(|k| i - k).find(|&j| dir[j] != Vec2::ZERO));
                if let Some(j) = found {
                    dir[i] = dir[j];
                }
            }
        }
        let mut s = Vec::with_capacity(n);
        let mut acc = 0.0;
        s.push(0.0);
        for &l in &seg_len {
            acc += l;
            s.push(acc);
        }
        // Tangent at each waypoint: the mean of the adjoining segment directions.
        let tangent = |i: usize| -> Vec2 {
            let before = if i > 0 {
                Some(dir[i - 1])
            } else if closed {
                Some(dir[m - 1])
            } else {
                None
            };
            let after = if i < m {
                Some(dir[i])
            } else if closed {
                Some(dir[0])
            } else {
                None
            };
            match (before, after) {
                (Some(a), Some(b)) => {
                    let t = (a + b).normalize_or_zero();
                    if t == Vec2::ZERO { b } else { t }
                }
                (Some(a), None) => a,
                (None, Some(b)) => b,
                (None, None) => Vec2::new(1.0, 0.0),
            }
        };
        // Decide which border is on the left by majority vote over waypoints.
        let mut votes = 0i64;
        for (i, w) in waypoints.iter().enumerate() {
            let t = tangent(i);
            let c = t.cross(w.inner - w.center);
            votes += if c > 0.0 {
                1
            } else if c < 0.0 {
                -1
            } else {
                0
            };
        }
        let left_is_inner = votes >= 0;
        let (left, right): (Vec<Vec2>, Vec<Vec2>) = waypoints
            .iter()
            .map(|w| {
                if left_is_inner {
                    (w.inner, w.outer)
                } else {
                    (w.outer, w.inner)
                }
            })
            .unzip();
        let mut half_left: Vec<f64> = waypoints
            .iter()
            .zip(&left)
            .map(|(w, l)| w.center.distance(*l))
            .collect();
        let mut half_right: Vec<f64> = waypoints
            .iter()
            .zip(&right)
            .map(|(w, r)| w.center.distance(*r))
            .collect();
        // A slanted row's border point overstates the half-width: use the distance to the border line.
        let count = if closed { n - 1 } else { n };
        let (mut slant_left, mut slant_right) = (repair::SlantTally::default(), repair::SlantTally::default());
        for (i, w) in waypoints.iter().enumerate() {
            let t = tangent(i);
            let l = repair::refit_slanted(i, w.center, t, &left, &s, closed, acc, &mut half_left[i]);
            let r = repair::refit_slanted(i, w.center, t, &right, &s, closed, acc, &mut half_right[i]);
            if i < count {
                slant_left.add(i, l);
                slant_right.add(i, r);
            }
        }
        let (left_name, right_name) = if left_is_inner {
            ("inner", "outer")
        } else {
            ("outer", "inner")
        };
        let slanted: Vec<TrackWarning> = [slant_left.warning(left_name), slant_right.warning(right_name)]
            .into_iter()
            .flatten()
            .collect();
        let widths: Vec<f64> = half_left.iter().zip(&half_right).map(|(l, r)| l + r).collect();
        let width_min = widths[..count].iter().copied().fold(f64::INFINITY, f64::min);
        let width_mean = widths[..count].iter().sum::<f64>() / count as f64;
        // Signed curvature at each waypoint: turning angle over the mean adjoining length.
        let mut curvature = vec![0.0; n];
        for (i, k) in curvature.iter_mut().enumerate() {
            let (a, la, b, lb) = if i == 0 || i == m {
                if !closed {
                    continue;
                }
                (dir[m - 1], seg_len[m - 1], dir[0], seg_len[0])
            } else {
                (dir[i - 1], seg_len[i - 1], dir[i], seg_len[i])
            };
            let turn = wrap_angle(b.angle() - a.angle());
            let l = 0.5 * (la + lb);
            if l > 1e-9 {
                *k = turn / l;
            }
        }
        let corridor = raycast::Corridor::build(&left, &right, closed);
        let grid = grid::Grid::build(&left, &right);
        let center: Vec<Vec2> = waypoints.iter().map(|w| w.center).collect();
        let seg_vec: Vec<Vec2> = center.windows(2).map(|w| w[1] - w[0]).collect();
        let inv_len2: Vec<f64> = seg_vec
            .iter()
            .map(|v| if v.length_sq() > 0.0 { 1.0 / v.length_sq() } else { 0.0 })
            .collect();
        let track = Track {
            name,
            center,
            seg_vec,
            inv_len2,
            waypoints,
            closed,
            reversed,
            length: acc,
            s,
            dir,
            seg_len,
            half_left,
            half_right,
            left,
            right,
            left_is_inner,
            corridor,
            grid,
            curvature,
            width_min,
            width_mean,
            warnings: Vec::new(),
        };
        (track, slanted)
    }

    /// The same track driven the other way round (DeepRacer's clockwise/counter-clockwise variants).
    /// Waypoint order is reversed, so progress, closest waypoints and left/right follow the new direction.
    pub fn reversed(&self) -> Track {
        let mut w = self.waypoints.clone();
        w.reverse();
        let (mut t, _) = Self::build(self.name.clone(), w, self.closed, !self.reversed);
        t.warnings = self.warnings.clone();
        t
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn set_name(&mut self, name: impl Into<String>) {
        self.name = name.into();
    }
    pub fn waypoints(&self) -> &[Waypoint] {
        &self.waypoints
    }
    pub fn num_waypoints(&self) -> usize {
        self.waypoints.len()
    }
    /// Number of segments (waypoints − 1).
    pub fn num_segments(&self) -> usize {
        self.waypoints.len() - 1
    }
    pub fn is_closed(&self) -> bool {
        self.closed
    }
    /// What loading repaired or accepted although DeepRacer's file was not clean (file row order).
    pub fn warnings(&self) -> &[TrackWarning] {
        &self.warnings
    }
    /// Whether this track was reversed relative to its source's waypoint order.
    pub fn is_reversed(&self) -> bool {
        self.reversed
    }
    /// Centre-line length, metres.
    pub fn length(&self) -> f64 {
        self.length
    }
    pub fn width_min(&self) -> f64 {
        self.width_min
    }
    pub fn width_mean(&self) -> f64 {
        self.width_mean
    }
    pub fn left_is_inner(&self) -> bool {
        self.left_is_inner
    }
    /// Arc length at waypoint `i`.
    pub fn s_at(&self, i: usize) -> f64 {
        self.s[i]
    }
    pub fn seg_len(&self, seg: usize) -> f64 {
        self.seg_len[seg]
    }
    /// Unit direction of segment `seg`.
    pub fn seg_dir(&self, seg: usize) -> Vec2 {
        self.dir[seg]
    }
    pub fn left_border(&self) -> &[Vec2] {
        &self.left
    }
    pub fn right_border(&self) -> &[Vec2] {
        &self.right
    }
    /// Track width (inner to outer) at waypoint `i`.
    pub fn width_at(&self, i: usize) -> f64 {
        self.half_left[i] + self.half_right[i]
    }

    /// Direction of travel of a closed track from the sign of its enclosed area.
    pub fn direction(&self) -> Option<Direction> {
        if !self.closed {
            return None;
        }
        let area: f64 = self.waypoints.windows(2).map(|w| w[0].center.cross(w[1].center)).sum();
        Some(if area >= 0.0 {
            Direction::CounterClockwise
        } else {
            Direction::Clockwise
        })
    }

    pub fn info(&self) -> TrackInfo {
        TrackInfo {
            name: self.name.clone(),
            waypoints: self.waypoints.len(),
            length_m: self.length,
            width_min_m: self.width_min,
            width_mean_m: self.width_mean,
            closed: self.closed,
            direction: self.direction(),
            warnings: self.warnings.clone(),
        }
    }

    /// The waypoint rows in DeepRacer column order.
    pub fn rows(&self) -> Vec<[f64; 6]> {
        self.waypoints.iter().map(|w| w.to_row()).collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A counter-clockwise square loop of side `size`, 4 points per side (shared by the track's tests).
    pub(crate) fn square(size: f64, width: f64) -> Vec<[f64; 6]> {
        let mut rows = Vec::new();
        let h = width / 2.0;
        let corners = [(0.0, 0.0), (size, 0.0), (size, size), (0.0, size)];
        for k in 0..4 {
            let (x0, y0) = corners[k];
            let (x1, y1) = corners[(k + 1) % 4];
            for j in 0..4 {
                let t = j as f64 / 4.0;
                let (x, y) = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
                let (cx, cy) = (size / 2.0, size / 2.0);
                let (dx, dy) = (x - cx, y - cy);
                let l = (dx * dx + dy * dy).sqrt();
                let (ux, uy) = (dx / l, dy / l);
                rows.push([x, y, x - ux * h, y - uy * h, x + ux * h, y + uy * h]);
            }
        }
        rows.push(rows[0]);
        rows
    }

    #[test]
    fn square_loop_geometry() {
        let t = Track::from_rows("square", &square(4.0, 0.6), &ValidateOptions::default()).unwrap();
        assert!(t.is_closed());
        assert!((t.length() - 16.0).abs() < 1e-9);
        assert_eq!(t.direction(), Some(Direction::CounterClockwise));
        assert!(t.left_is_inner());
        let p = t.project_global(Vec2::new(2.0, 0.1));
        assert_eq!(p.seg, 1);
        assert!((p.s - 2.0).abs() < 1e-9);
        assert!((p.lateral - 0.1).abs() < 1e-9, "left of a +x segment is +y");
        assert!(t.is_on_track(&p));
        let r = t.reversed();
        assert_eq!(r.direction(), Some(Direction::Clockwise));
        let pr = r.project_global(Vec2::new(2.0, 0.1));
        assert!(pr.lateral < 0.0);
    }
}
