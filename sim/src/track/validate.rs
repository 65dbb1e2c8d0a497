//! Track validation: every check names the waypoint index where it failed. What DeepRacer tolerates
//! (see [`super::repair`]) is returned as warnings instead.

use super::repair::TrackWarning;
use super::{Track, Waypoint};
use crate::error::TrackErrorKind;
use crate::math::{Vec2, segments_cross};

/// What a track must satisfy beyond being well-formed.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidateOptions {
    /// The narrowest allowed track width, metres. Defaults to the DeepRacer car's footprint width.
    pub min_width: f64,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        Self {
            min_width: crate::car::CarParams::default().width,
        }
    }
}

pub(super) fn check_finite(w: &[Waypoint]) -> Result<(), TrackErrorKind> {
    for (i, wp) in w.iter().enumerate() {
        for (k, v) in wp.to_row().into_iter().enumerate() {
            if !v.is_finite() {
                return Err(TrackErrorKind::NonFinite {
                    index: i,
                    column: super::COLUMNS[k],
                    value: v,
                });
            }
        }
    }
    Ok(())
}

pub(super) fn check_distinct(w: &[Waypoint], closed: bool) -> Result<(), TrackErrorKind> {
    let (min, kind) = if closed { (3, "closed") } else { (2, "open") };
    let count = if closed { w.len() - 1 } else { w.len() };
    let mut distinct = usize::from(count > 0);
    for i in 1..count {
        if w[i].center != w[i - 1].center {
            distinct += 1;
        }
    }
    if distinct < min {
        return Err(TrackErrorKind::TooFewPoints { distinct, min, kind });
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Line {
    Center,
    Inner,
    Outer,
}

impl Line {
    fn name(self) -> &'static str {
        match self {
            Line::Center => "centre line",
            Line::Inner => "inner border",
            Line::Outer => "outer border",
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Seg {
    line: Line,
    index: usize,
    a: Vec2,
    b: Vec2,
    min_x: f64,
    max_x: f64,
}

/// Width, crossings and overlap (errors); border points on the wrong side of the centre line
/// locally (warnings: the crossing checks catch a border that really crosses over).
pub(super) fn check_geometry(track: &Track, opts: &ValidateOptions) -> Result<Vec<TrackWarning>, TrackErrorKind> {
    let w = track.waypoints();
    let n = w.len();
    let count = if track.is_closed() { n - 1 } else { n };
    // Width at every waypoint.
    for i in 0..count {
        let width = track.width_at(i);
        if width < opts.min_width {
            return Err(TrackErrorKind::TooNarrow {
                index: i,
                width,
                min: opts.min_width,
            });
        }
    }
    // Each border point should lie on its own side of the centre line.
    let mut warnings = Vec::new();
    let left_name = if track.left_is_inner() { "inner" } else { "outer" };
    let right_name = if track.left_is_inner() { "outer" } else { "inner" };
    let m = track.num_segments();
    for i in 0..count {
        let before = if i > 0 {
            Some(track.seg_dir(i - 1))
        } else if track.is_closed() {
            Some(track.seg_dir(m - 1))
        } else {
            None
        };
        let after = if i < m { Some(track.seg_dir(i)) } else { None };
        let t = match (before, after) {
            (Some(a), Some(b)) => {
                let t = (a + b).normalize_or_zero();
                if t == Vec2::ZERO { b } else { t }
            }
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => continue,
        };
        let c = w[i].center;
        if t.cross(track.left_border()[i] - c) <= 0.0 {
            warnings.push(TrackWarning::BorderWrongSide {
                index: i,
                border: left_name,
            });
        }
        if t.cross(track.right_border()[i] - c) >= 0.0 {
            warnings.push(TrackWarning::BorderWrongSide {
                index: i,
                border: right_name,
            });
        }
    }
    // Crossings between and within the three polylines (sweep and prune on x).
    let mut segs = Vec::with_capacity(3 * m);
    for i in 0..m {
        for (line, a, b) in [
            (Line::Center, w[i].center, w[i + 1].center),
            (Line::Inner, w[i].inner, w[i + 1].inner),
            (Line::Outer, w[i].outer, w[i + 1].outer),
        ] {
            segs.push(Seg {
                line,
                index: i,
                a,
                b,
                min_x: a.x.min(b.x),
                max_x: a.x.max(b.x),
            });
        }
    }
    segs.sort_by(|p, q| p.min_x.total_cmp(&q.min_x));
    let adjacent = |i: usize, j: usize| {
        let d = i.abs_diff(j);
        d <= 1 || (track.is_closed() && d == m - 1)
    };
    let mut first: Option<(Seg, Seg)> = None;
    for (k, p) in segs.iter().enumerate() {
        for q in &segs[k + 1..] {
            if q.min_x > p.max_x {
                break;
            }
            if p.a.y.max(p.b.y) < q.a.y.min(q.b.y) || q.a.y.max(q.b.y) < p.a.y.min(p.b.y) {
                continue;
            }
            if p.line == q.line && adjacent(p.index, q.index) {
                continue;
            }
            if segments_cross(p.a, p.b, q.a, q.b) {
                let (x, y) = if (p.line, p.index) <= (q.line, q.index) {
                    (*p, *q)
                } else {
                    (*q, *p)
                };
                if first.is_none_or(|(fx, fy)| (x.index, x.line, y.index) < (fx.index, fx.line, fy.index)) {
                    first = Some((x, y));
                }
            }
        }
    }
    if let Some((x, y)) = first {
        return Err(match (x.line, y.line) {
            (a, b) if a == b => TrackErrorKind::SelfIntersection {
                index: x.index,
                other: y.index,
                line: a.name(),
            },
            (Line::Center, border) => TrackErrorKind::BorderCrossesCenter {
                index: y.index,
                other: x.index,
                border: if border == Line::Inner { "inner" } else { "outer" },
            },
            _ => TrackErrorKind::BordersCross {
                index: x.index,
                other: y.index,
            },
        });
    }
    check_overlap(track)?;
    Ok(warnings)
}

/// Two parts of the road must not overlap: centre-line points that are far apart along the track
/// (more than 1.5× their summed half-widths) must be at least their summed half-widths apart in space.
/// This catches bends tighter than half the width (the inner border folds back) and legs laid on top
/// of each other, which no border crossing reveals.
fn check_overlap(track: &Track) -> Result<(), TrackErrorKind> {
    let w = track.waypoints();
    let count = if track.is_closed() { w.len() - 1 } else { w.len() };
    let half: Vec<f64> = (0..count).map(|i| 0.5 * track.width_at(i)).collect();
    let max_half = half.iter().copied().fold(0.0, f64::max);
    let mut order: Vec<usize> = (0..count).collect();
    order.sort_by(|&a, &b| w[a].center.x.total_cmp(&w[b].center.x));
    let length = track.length();
    for (k, &i) in order.iter().enumerate() {
        for &j in &order[k + 1..] {
            let (p, q) = (w[i].center, w[j].center);
            if q.x - p.x > 2.0 * max_half {
                break;
            }
            let need = half[i] + half[j];
            let mut arc = (track.s_at(i) - track.s_at(j)).abs();
            if track.is_closed() {
                arc = arc.min(length - arc);
            }
            if arc > 1.5 * need && p.distance(q) < need - 1e-9 {
                let (a, b) = (i.min(j), i.max(j));
                return Err(TrackErrorKind::Overlap {
                    index: a,
                    other: b,
                    distance: p.distance(q),
                    need,
                });
            }
        }
    }
    Ok(())
}
