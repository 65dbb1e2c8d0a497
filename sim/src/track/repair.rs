//! Repairs of what DeepRacer tolerates in its own track files, each reported as a [`TrackWarning`].
//!
//! Official DeepRacer files are not all clean, yet DeepRacer trains and races on every one of them:
//! its simulator only asks whether a wheel lies inside the road polygon (shapely), and whether the
//! first and last rows are equal to decide if a file is a loop. Slipstream's validation is stricter
//! (it rejects what cannot be raced: NaN, too few points, a road that crosses itself, a road
//! narrower than the car), so what DeepRacer tolerates is repaired here and said out loud:
//!
//! * **A loop that does not repeat its first point** ([`TrackWarning::LoopClosed`]): the last centre
//!   point stops a few centimetres short of the first, continuing the same direction. DeepRacer
//!   treats the file as a line, and its progress arithmetic wraps across the gap anyway; Slipstream
//!   closes the loop by appending a copy of row 0 (the other rows keep their indices).
//! * **A border that folds back on itself** ([`TrackWarning::BorderFold`]) by a few centimetres,
//!   enclosing a loop of about a square centimetre: the points inside the fold are moved onto the
//!   crossing point, which cuts the loop off and leaves the rest of the border as it was.
//! * **Slanted rows** ([`TrackWarning::SlantedRows`]): a border point that is not beside its centre
//!   point but well ahead of or behind it (more than [`SLANT_TOLERANCE`] of its distance along the
//!   track; `Oval_track`, `Bowtie_track` and `Canada_Training` have rows slanted by up to 70°).
//!   The distance to that point would overstate the road's half-width there, so the half-width
//!   becomes the distance from the centre point to the border line itself (`refit_slanted`),
//!   which is what DeepRacer's polygon test amounts to.
//! * **A border point on the wrong side of the centre line locally**
//!   ([`TrackWarning::BorderWrongSide`], found by validation): in a tight bend a slanted border
//!   point can lie across the centre line's local direction while neither border crosses the
//!   centre line. Accepted as it is.
//!
//! Warnings name the waypoint index in the file's own row order.

use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use super::Waypoint;
use crate::math::{Vec2, segments_cross};

/// A nearly closed loop is closed when its gap is at most this many median segment lengths.
const GAP_SEGMENTS: f64 = 1.5;
/// A border fold is cut off when every point inside it lies within this distance (m) of the crossing.
pub const FOLD_MAX_EXTENT: f64 = 0.1;
/// A fold spans at most this many border segments.
const FOLD_MAX_SEGMENTS: usize = 6;
/// A row is slanted when its border point lies further along the track than this fraction of its
/// distance from the centre point (about 14°).
pub const SLANT_TOLERANCE: f64 = 0.25;

/// Something in a track file that DeepRacer tolerates and Slipstream repaired or accepted.
#[derive(Clone, Debug, PartialEq)]
pub enum TrackWarning {
    /// The last centre point was `gap` metres short of the first; row 0 was appended as row `index`.
    LoopClosed { index: usize, gap: f64 },
    /// The border's points `index ..= last` formed a fold (a small loop of `area` m²) and were moved
    /// onto the point where the border crosses itself.
    BorderFold {
        index: usize,
        last: usize,
        border: &'static str,
        area: f64,
    },
    /// Waypoint `index`'s border point lies on the wrong side of the local centre-line direction,
    /// although the border never crosses the centre line.
    BorderWrongSide { index: usize, border: &'static str },
    /// `count` rows, the first at `index`, have their border point slanted along the track (up to
    /// `worst_deg` off square); their half-widths were measured to the border line instead.
    SlantedRows {
        index: usize,
        count: usize,
        border: &'static str,
        worst_deg: f64,
    },
}

impl TrackWarning {
    /// A short machine-readable name: `loop_closed`, `border_fold` or `border_wrong_side`.
    pub fn kind(&self) -> &'static str {
        match self {
            TrackWarning::LoopClosed { .. } => "loop_closed",
            TrackWarning::BorderFold { .. } => "border_fold",
            TrackWarning::BorderWrongSide { .. } => "border_wrong_side",
            TrackWarning::SlantedRows { .. } => "slanted_rows",
        }
    }

    /// The waypoint index (file row) the warning is about.
    pub fn index(&self) -> usize {
        match self {
            TrackWarning::LoopClosed { index, .. }
            | TrackWarning::BorderFold { index, .. }
            | TrackWarning::BorderWrongSide { index, .. }
            | TrackWarning::SlantedRows { index, .. } => *index,
        }
    }
}

impl fmt::Display for TrackWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrackWarning::LoopClosed { index, gap } => write!(
                f,
                "waypoint {index}: the loop did not repeat its first point (a gap of {gap:.3} m); \
                 closed by repeating waypoint 0 as waypoint {index}"
            ),
            TrackWarning::BorderFold {
                index,
                last,
                border,
                area,
            } => write!(
                f,
                "waypoint {index}: the {border} border folds back on itself up to waypoint {last} (a loop \
                 of {:.2} cm²); the fold was cut off at the crossing",
                area * 1e4
            ),
            TrackWarning::BorderWrongSide { index, border } => write!(
                f,
                "waypoint {index}: the {border} border point lies on the wrong side of the centre line \
                 locally (a slanted row); kept, as the road does not cross itself"
            ),
            TrackWarning::SlantedRows {
                index,
                count,
                border,
                worst_deg,
            } => write!(
                f,
                "waypoint {index}: {count} rows (the first here) have their {border} border point slanted \
                 along the track (up to {worst_deg:.0}° off square); their half-widths are measured to the \
                 {border} border line"
            ),
        }
    }
}

impl Serialize for TrackWarning {
    /// `{"kind": …, "index": …, "message": …}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("TrackWarning", 3)?;
        st.serialize_field("kind", self.kind())?;
        st.serialize_field("index", &self.index())?;
        st.serialize_field("message", &self.to_string())?;
        st.end()
    }
}

/// Close a loop whose last centre point stops just short of the first: the gap must be at least
/// `min_gap` (smaller gaps are snapped shut by the caller), at most [`GAP_SEGMENTS`] median segment
/// lengths and under half the road's width at both ends, and it must continue the direction of travel
/// at both ends (so an open track whose ends merely lie near each other stays open).
pub(super) fn close_gap(w: &mut Vec<Waypoint>, min_gap: f64) -> Option<TrackWarning> {
    let n = w.len();
    if n < 4 {
        return None;
    }
    let (first, last) = (w[0], w[n - 1]);
    let gap_vec = first.center - last.center;
    let gap = gap_vec.length();
    if gap < min_gap {
        return None;
    }
    let mut lengths: Vec<f64> = w
        .windows(2)
        .map(|p| p[0].center.distance(p[1].center))
        .filter(|&l| l > 0.0)
        .collect();
    if lengths.len() < 3 {
        return None;
    }
    lengths.sort_by(f64::total_cmp);
    let median = lengths[lengths.len() / 2];
    let half_width = 0.5 * first.inner.distance(first.outer).min(last.inner.distance(last.outer));
    if gap > GAP_SEGMENTS * median || gap >= half_width {
        return None;
    }
    // The direction of travel into the last point and out of the first one.
    let into_last = w[..n - 1]
        .iter()
        .rev()
        .map(|p| last.center - p.center)
        .find(|d| *d != Vec2::ZERO)?;
    let out_of_first = w[1..]
        .iter()
        .map(|p| p.center - first.center)
        .find(|d| *d != Vec2::ZERO)?;
    if gap_vec.dot(into_last) <= 0.0 || gap_vec.dot(out_of_first) <= 0.0 {
        return None;
    }
    w.push(first);
    Some(TrackWarning::LoopClosed { index: n, gap })
}

/// Where segment p1→p2 crosses segment q1→q2 (they are known to cross properly).
fn crossing_point(p1: Vec2, p2: Vec2, q1: Vec2, q2: Vec2) -> Vec2 {
    let d3 = (q2 - q1).cross(p1 - q1);
    let d4 = (q2 - q1).cross(p2 - q1);
    p1 + (p2 - p1) * (d3 / (d3 - d4))
}

/// Cut off small folds in both borders. `closed`: the last row repeats the first (kept in sync);
/// on a loop a fold may straddle the start line.
pub(super) fn cut_folds(w: &mut [Waypoint], closed: bool) -> Vec<TrackWarning> {
    let mut warnings = Vec::new();
    let m = w.len() - 1; // segments
    // Border point index of segment-walk position `k` (wrapping round a loop).
    let at = |k: usize| if closed { k % m } else { k };
    for border in ["inner", "outer"] {
        let get = |wp: &Waypoint| if border == "inner" { wp.inner } else { wp.outer };
        let mut pts: Vec<Vec2> = w.iter().map(get).collect();
        // Walk positions beyond the last segment exist only on a loop, and never reach back to
        // the segment adjacent to the first one checked.
        let last_j = |i: usize| {
            let j = i + FOLD_MAX_SEGMENTS;
            if closed { j.min(i + m - 2) } else { j.min(m - 1) }
        };
        let mut i = 0;
        while i < m {
            let mut cut = None;
            for j in i + 2..=last_j(i) {
                let (a, b) = (pts[at(i)], pts[at(i) + 1]);
                let (c, d) = (pts[at(j)], pts[at(j) + 1]);
                if !segments_cross(a, b, c, d) {
                    continue;
                }
                let x = crossing_point(a, b, c, d);
                let inside: Vec<Vec2> = (i + 1..=j).map(|k| pts[at(k)]).collect();
                if inside.iter().any(|p| p.distance(x) > FOLD_MAX_EXTENT) {
                    break;
                }
                // Shoelace area of the loop x → inside… → x.
                let ring: Vec<Vec2> = std::iter::once(x).chain(inside).collect();
                let area = 0.5
                    * (0..ring.len())
                        .map(|k| ring[k].cross(ring[(k + 1) % ring.len()]))
                        .sum::<f64>()
                        .abs();
                cut = Some((j, x, area));
                break;
            }
            if let Some((j, x, area)) = cut {
                for k in i + 1..=j {
                    pts[at(k)] = x;
                }
                if closed {
                    pts[m] = pts[0];
                }
                warnings.push(TrackWarning::BorderFold {
                    index: at(i + 1),
                    last: at(j),
                    border,
                    area,
                });
                i = j;
            } else {
                i += 1;
            }
        }
        for (wp, p) in w.iter_mut().zip(&pts) {
            if border == "inner" {
                wp.inner = *p;
            } else {
                wp.outer = *p;
            }
        }
    }
    warnings
}

/// The half-width at a slanted row `i`: the distance from its centre point `c` to the `border`
/// polyline (segments within reach along the track), if that is shorter than `half` (the distance to
/// the row's own border point). `t` is the unit tangent at the row, `s` the arc length at each row.
/// Returns how far the row is slanted (the sine of its angle off square) if it is; rows that are not
/// keep `half` unchanged.
#[allow(clippy::too_many_arguments)]
pub(super) fn refit_slanted(
    i: usize,
    c: Vec2,
    t: Vec2,
    border: &[Vec2],
    s: &[f64],
    closed: bool,
    length: f64,
    half: &mut f64,
) -> Option<f64> {
    let d = border[i] - c;
    let l = d.length();
    if l == 0.0 || t.dot(d).abs() <= SLANT_TOLERANCE * l {
        return None;
    }
    let reach = 2.0 * l + 0.5;
    let mut best2 = l * l;
    for j in 0..border.len() - 1 {
        let mut ds = (s[j] - s[i]).abs().min((s[j + 1] - s[i]).abs());
        if closed {
            ds = ds.min(length - ds);
        }
        if ds > reach {
            continue;
        }
        let (_, d2) = crate::math::project_on_segment(c, border[j], border[j + 1]);
        best2 = best2.min(d2);
    }
    *half = half.min(best2.sqrt());
    Some(t.dot(d).abs() / l)
}

/// Tallies slanted rows of one border into a [`TrackWarning::SlantedRows`].
#[derive(Default)]
pub(super) struct SlantTally {
    first: Option<usize>,
    count: usize,
    worst: f64,
}

impl SlantTally {
    pub(super) fn add(&mut self, i: usize, slant: Option<f64>) {
        if let Some(r) = slant {
            self.first.get_or_insert(i);
            self.count += 1;
            self.worst = self.worst.max(r);
        }
    }

    pub(super) fn warning(&self, border: &'static str) -> Option<TrackWarning> {
        self.first.map(|index| TrackWarning::SlantedRows {
            index,
            count: self.count,
            border,
            worst_deg: libm::asin(self.worst.min(1.0)).to_degrees(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn straight(n: usize) -> Vec<Waypoint> {
        (0..n)
            .map(|i| {
                let x = i as f64 * 0.2;
                Waypoint::from_row([x, 0.0, x, 0.3, x, -0.3])
            })
            .collect()
    }

    #[test]
    fn an_open_straight_is_not_closed_and_has_no_folds() {
        let mut w = straight(10);
        assert_eq!(close_gap(&mut w, 1e-3), None);
        assert_eq!(w.len(), 10);
        assert!(cut_folds(&mut w, false).is_empty());
    }

    #[test]
    fn a_fold_is_cut_at_the_crossing() {
        let mut w = straight(10);
        // The outer border runs on to point 4, steps 6 cm back to point 5 and turns in again to
        // point 6: segments 3→4 and 5→6 cross at (0.82, -0.30), enclosing a 2 cm² loop.
        w[4].outer = Vec2::new(0.84, -0.30);
        w[5].outer = Vec2::new(0.78, -0.32);
        w[6].outer = Vec2::new(0.90, -0.26);
        let warn = cut_folds(&mut w, false);
        assert_eq!(warn.len(), 1, "{warn:?}");
        let TrackWarning::BorderFold {
            index,
            last,
            border,
            area,
        } = warn[0]
        else {
            panic!("{warn:?}")
        };
        assert_eq!((index, last, border), (4, 5, "outer"));
        assert!((area - 2e-4).abs() < 1e-9, "{area}");
        assert_eq!(w[4].outer, w[5].outer, "both fold points moved onto the crossing");
        assert!(!segments_cross(w[3].outer, w[4].outer, w[5].outer, w[6].outer));
        assert!(warn[0].to_string().contains("waypoint 4") && warn[0].kind() == "border_fold");
    }

    #[test]
    fn a_fold_across_a_loops_start_line_is_cut_too() {
        // A 128-row circle (radius 2, outer border 0.3 out, rows 0.11 m apart along it). The outer
        // border runs on from row 126 to row 127 (1.8 steps), steps back to row 0 (0.9 steps, 2 cm
        // out) and comes in again at row 1 (4 cm in): segments 126→127 and 0→1 cross.
        let n = 128;
        let at = |k: f64, r: f64| {
            let a = std::f64::consts::TAU * k / n as f64;
            Vec2::new(r * a.cos(), r * a.sin())
        };
        let mut w: Vec<Waypoint> = (0..=n)
            .map(|k| {
                let k = (k % n) as f64;
                Waypoint {
                    center: at(k, 2.0),
                    inner: at(k, 1.7),
                    outer: at(k, 2.3),
                }
            })
            .collect();
        w[127].outer = at(127.8, 2.3);
        w[0].outer = at(126.9, 2.32);
        w[n].outer = w[0].outer;
        w[1].outer = at(129.0, 2.26);
        let warn = cut_folds(&mut w, true);
        assert_eq!(warn.len(), 1, "{warn:?}");
        let TrackWarning::BorderFold { index, last, .. } = warn[0] else {
            panic!("{warn:?}")
        };
        assert_eq!((index, last), (127, 0));
        assert_eq!(w[127].outer, w[0].outer);
        assert_eq!(w[n].outer, w[0].outer, "the repeated row follows row 0");
        assert!(!segments_cross(w[126].outer, w[127].outer, w[0].outer, w[1].outer));
    }
}
