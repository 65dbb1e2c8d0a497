//! The geometry queries the simulator runs every step: neighbouring segments, projections onto the
//! centre line (local searches from the previous segment, and a global fallback), half-widths and
//! curvature, arc-length arithmetic round the loop, look-ahead points, lane points and DeepRacer's
//! closest waypoints.

use super::{Projection, Track};
use crate::math::Vec2;

impl Track {
    /// Next segment index in the driving direction (wraps on a closed track, saturates on an open one).
    #[inline]
    pub fn next_seg(&self, seg: usize) -> usize {
        let m = self.num_segments();
        if seg + 1 < m {
            seg + 1
        } else if self.closed {
            0
        } else {
            m - 1
        }
    }

    /// Previous segment index.
    #[inline]
    pub fn prev_seg(&self, seg: usize) -> usize {
        if seg > 0 {
            seg - 1
        } else if self.closed {
            self.num_segments() - 1
        } else {
            0
        }
    }

    /// Project `p` onto segment `seg`: the parameter in [0, 1] and the squared distance.
    #[inline]
    fn project_seg(&self, p: Vec2, seg: usize) -> (f64, f64) {
        let a = self.center[seg];
        let v = self.seg_vec[seg];
        let ap = p - a;
        let t = (ap.dot(v) * self.inv_len2[seg]).clamp(0.0, 1.0);
        (t, (ap - v * t).length_sq())
    }

    fn make_projection(&self, p: Vec2, seg: usize, t: f64, d2: f64) -> Projection {
        let a = self.center[seg];
        let q = a + self.seg_vec[seg] * t;
        let distance = d2.sqrt();
        let side = self.dir[seg].cross(p - q);
        let side = if side == 0.0 { self.dir[seg].cross(p - a) } else { side };
        let lateral = if side < 0.0 { -distance } else { distance };
        Projection {
            seg,
            t,
            s: self.s[seg] + t * self.seg_len[seg],
            lateral,
            distance,
        }
    }

    /// Project a point onto the centre line by searching outwards from segment `hint` (the previous
    /// step's segment): the nearest local minimum of the distance, walking forwards and backwards
    /// while it keeps falling (zero-length segments are stepped over). Cheap and continuous: a car
    /// never jumps to another leg of the track that happens to pass nearby.
    pub fn project_near(&self, p: Vec2, hint: usize) -> Projection {
        let m = self.num_segments();
        if m <= 4 {
            return self.project_global(p);
        }
        let hint = hint.min(m - 1);
        let mut best_seg = hint;
        let (mut best_t, mut best_d) = self.project_seg(p, hint);
        for forward in [true, false] {
            let mut seg = hint;
            for _ in 0..m {
                let next = if forward {
                    self.next_seg(seg)
                } else {
                    self.prev_seg(seg)
                };
                if next == seg {
                    break;
                }
                seg = next;
                let (t, d) = self.project_seg(p, seg);
                if d < best_d {
                    best_d = d;
                    best_t = t;
                    best_seg = seg;
                } else if !(d == best_d && self.inv_len2[seg] == 0.0) {
                    break;
                }
            }
        }
        self.make_projection(p, best_seg, best_t, best_d)
    }

    /// Project a point onto the nearest part of the whole centre line (used on reset, not per step).
    pub fn project_global(&self, p: Vec2) -> Projection {
        let mut best = (0usize, 0.0, f64::INFINITY);
        for seg in 0..self.num_segments() {
            let (t, d) = self.project_seg(p, seg);
            if d < best.2 {
                best = (seg, t, d);
            }
        }
        self.make_projection(p, best.0, best.1, best.2)
    }

    /// Half-widths (left, right) of the track at a projected position.
    #[inline]
    pub fn half_widths(&self, seg: usize, t: f64) -> (f64, f64) {
        let l = self.half_left[seg] + (self.half_left[seg + 1] - self.half_left[seg]) * t;
        let r = self.half_right[seg] + (self.half_right[seg + 1] - self.half_right[seg]) * t;
        (l, r)
    }

    /// Whether a projected point is between the borders.
    #[inline]
    pub fn is_on_track(&self, pr: &Projection) -> bool {
        let (l, r) = self.half_widths(pr.seg, pr.t);
        pr.lateral <= l && pr.lateral >= -r
    }

    /// Signed curvature (1/m, positive turning left) at a projected position.
    #[inline]
    pub fn curvature_at(&self, seg: usize, t: f64) -> f64 {
        self.curvature[seg] + (self.curvature[seg + 1] - self.curvature[seg]) * t
    }

    /// Curvature at waypoint `i`.
    pub fn curvature_at_waypoint(&self, i: usize) -> f64 {
        self.curvature[i]
    }

    /// Track heading (radians) along segment `seg`.
    #[inline]
    pub fn heading_at(&self, seg: usize) -> f64 {
        self.dir[seg].angle()
    }

    /// Wrap an arc length into [0, length) on a closed track; clamp it on an open one.
    #[inline]
    pub fn wrap_s(&self, s: f64) -> f64 {
        if self.closed {
            let r = s % self.length;
            if r < 0.0 { r + self.length } else { r }
        } else {
            s.clamp(0.0, self.length)
        }
    }

    /// Signed change of arc length from `s0` to `s1`, taking the short way round a closed track.
    #[inline]
    pub fn delta_s(&self, s0: f64, s1: f64) -> f64 {
        let d = s1 - s0;
        if self.closed {
            let half = 0.5 * self.length;
            if d > half {
                d - self.length
            } else if d < -half {
                d + self.length
            } else {
                d
            }
        } else {
            d
        }
    }

    /// Segment containing arc length `s` (already wrapped): checks `hint` and its neighbours first
    /// (the common case when stepping along), then falls back to a binary search.
    pub fn seg_at_s(&self, s: f64, hint: usize) -> usize {
        let m = self.num_segments();
        let hint = hint.min(m - 1);
        let inside = |seg: usize| s >= self.s[seg] && s <= self.s[seg + 1];
        if inside(hint) {
            return hint;
        }
        let next = self.next_seg(hint);
        if inside(next) {
            return next;
        }
        let next2 = self.next_seg(next);
        if inside(next2) {
            return next2;
        }
        let prev = self.prev_seg(hint);
        if inside(prev) {
            return prev;
        }
        // First waypoint beyond s, minus one.
        let k = self.s.partition_point(|&x| x <= s);
        k.saturating_sub(1).min(m - 1)
    }

    /// Point on the centre line at arc length `s` (wrapped), with its segment; searching from `hint`.
    pub fn point_at_s(&self, s: f64, hint: usize) -> (Vec2, usize, f64) {
        let s = self.wrap_s(s);
        let seg = self.seg_at_s(s, hint);
        let len = self.seg_len[seg];
        let t = if len > 0.0 {
            ((s - self.s[seg]) / len).clamp(0.0, 1.0)
        } else {
            0.0
        };
        (self.center[seg] + self.seg_vec[seg] * t, seg, t)
    }

    /// Centre-line points at arc lengths `s0 + offsets[k]` (offsets ascending), walking forwards from
    /// segment `seg0`; calls `f(k, point)` for each. On an open track points beyond the end are the
    /// end point. Cheaper than repeated [`Track::point_at_s`] calls: one pass, no search.
    #[inline]
    pub fn points_ahead(&self, s0: f64, seg0: usize, offsets: &[f64], mut f: impl FnMut(usize, Vec2)) {
        let m = self.num_segments();
        let mut seg = seg0.min(m - 1);
        let mut base = 0.0; // whole laps added while wrapping round a closed track
        for (k, d) in offsets.iter().enumerate() {
            let target = s0 + d;
            loop {
                let end = base + self.s[seg + 1];
                if target <= end {
                    break;
                }
                if seg + 1 < m {
                    seg += 1;
                } else if self.closed {
                    seg = 0;
                    base += self.length;
                } else {
                    break;
                }
            }
            let len = self.seg_len[seg];
            let local = target - base - self.s[seg];
            let t = if len > 0.0 { (local / len).clamp(0.0, 1.0) } else { 0.0 };
            f(k, self.center[seg] + self.seg_vec[seg] * t);
        }
    }

    /// A point offset sideways from the centre line at arc length `s`: `offset` is a fraction of the
    /// half-width, positive to the left (−1 = right border, +1 = left border). Returns the point, the
    /// track heading there and the segment (searched from `hint`).
    pub fn lane_point(&self, s: f64, offset: f64, hint: usize) -> (Vec2, f64, usize) {
        let (p, seg, t) = self.point_at_s(s, hint);
        let (l, r) = self.half_widths(seg, t);
        let n = self.dir[seg].perp();
        let d = if offset >= 0.0 { offset * l } else { offset * r };
        (p + n * d, self.heading_at(seg), seg)
    }

    /// DeepRacer's `closest_waypoints`, `[previous, next]`: `next` is the first waypoint strictly
    /// ahead of the projection along the centre line and `previous` the one before it, as DeepRacer's
    /// simulator computes them (`bisect_right` of the projected distance into the waypoints' distances,
    /// `markov/track_geom/utils.py: find_prev_next`). So a point projecting exactly onto waypoint `k`
    /// gets `[k, k + 1]` (not `[k - 1, k]`), and repeated waypoints are stepped over. On a closed loop
    /// the last index (the repeated first waypoint) is "next" on the final segment, and the start
    /// line itself counts as waypoint 0; at the very end of an open track DeepRacer wraps to
    /// `[last, 0]`, and so does this.
    #[inline]
    pub fn closest_waypoints(&self, pr: &Projection) -> [usize; 2] {
        let n = self.waypoints.len();
        let mut s = pr.s;
        let mut next = pr.seg + 1;
        if self.closed && s >= self.length {
            // Exactly on the start line from the last segment: DeepRacer projects it to distance 0.
            s = 0.0;
            next = 1;
        }
        while next < n && self.s[next] <= s {
            next += 1;
        }
        if next == n {
            return [n - 1, 0];
        }
        [next - 1, next]
    }

    /// The single closest waypoint as in DeepRacer's trace column `closest_waypoint`: the nearer of
    /// `[previous, next]` to the point.
    #[inline]
    pub fn closest_waypoint(&self, p: Vec2, pr: &Projection) -> usize {
        let [a, b] = self.closest_waypoints(pr);
        if p.distance(self.waypoints[b].center) < p.distance(self.waypoints[a].center) {
            b
        } else {
            a
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::square;
    use super::*;
    use crate::track::ValidateOptions;

    #[test]
    fn local_projection_matches_global_and_wraps() {
        let t = Track::from_rows("square", &square(4.0, 0.6), &ValidateOptions::default()).unwrap();
        for k in 0..200 {
            let s = k as f64 * 0.08;
            let (p, _, _) = t.point_at_s(s, 0);
            let q = p + Vec2::new(0.05, -0.03);
            let g = t.project_global(q);
            let l = t.project_near(q, t.seg_at_s(t.wrap_s(s - 0.5), 0));
            assert!((g.distance - l.distance).abs() < 1e-12, "s={s}");
        }
        assert!((t.delta_s(15.9, 0.1) - 0.2).abs() < 1e-9);
        assert!((t.delta_s(0.1, 15.9) + 0.2).abs() < 1e-9);
        assert!((t.wrap_s(-1.0) - 15.0).abs() < 1e-9);
    }

    #[test]
    fn points_ahead_match_point_at_s_across_the_start_line() {
        let t = Track::from_rows("square", &square(4.0, 0.6), &ValidateOptions::default()).unwrap();
        let offsets = [0.1, 0.5, 1.0, 2.5, 4.0];
        for s0 in [0.0, 3.9, 14.5, 15.95] {
            let seg0 = t.seg_at_s(s0, 0);
            t.points_ahead(s0, seg0, &offsets, |k, p| {
                let (q, _, _) = t.point_at_s(s0 + offsets[k], 0);
                assert!(p.distance(q) < 1e-9, "s0 {s0} offset {}: {p:?} vs {q:?}", offsets[k]);
            });
        }
    }

    #[test]
    fn closest_waypoints_at_a_waypoint_follow_deepracer() {
        let t = Track::from_rows("square", &square(4.0, 0.6), &ValidateOptions::default()).unwrap();
        // Waypoint 5 is (4, 1), on the second side. A point beside it projects exactly onto it, from
        // segment 4 (t = 1) or segment 5 (t = 0): DeepRacer's bisect_right gives [5, 6] either way.
        let p = Vec2::new(4.1, 1.0);
        for hint in [3, 4, 5] {
            let pr = t.project_near(p, hint);
            assert_eq!(pr.s, t.s_at(5), "hint {hint}");
            assert_eq!(t.closest_waypoints(&pr), [5, 6], "hint {hint}: {pr:?}");
        }
        // Between waypoints nothing changes.
        let pr = t.project_global(Vec2::new(4.1, 1.5));
        assert_eq!(t.closest_waypoints(&pr), [5, 6]);
        // Exactly on the start line, reached from the last segment: [0, 1].
        let mut pr = t.project_global(Vec2::new(0.5, -0.1));
        assert_eq!(t.closest_waypoints(&pr), [0, 1]);
        pr.seg = 15;
        pr.t = 1.0;
        pr.s = t.length();
        assert_eq!(t.closest_waypoints(&pr), [0, 1]);
    }

    #[test]
    fn closest_waypoints_step_over_repeated_waypoints_and_wrap_at_the_end_of_an_open_track() {
        let mut rows: Vec<[f64; 6]> = (0..6).map(|i| [i as f64, 0.0, i as f64, 0.4, i as f64, -0.4]).collect();
        rows.insert(3, rows[3]); // waypoints 3 and 4 coincide
        let t = Track::from_rows("line", &rows, &ValidateOptions::default()).unwrap();
        let pr = t.project_global(Vec2::new(3.0, 0.1));
        assert_eq!(t.closest_waypoints(&pr), [4, 5], "{pr:?}");
        let pr = t.project_global(Vec2::new(2.5, 0.1));
        assert_eq!(t.closest_waypoints(&pr), [2, 3]);
        let pr = t.project_global(Vec2::new(9.0, 0.0));
        assert_eq!(t.closest_waypoints(&pr), [6, 0], "past the end: {pr:?}");
    }

    #[test]
    fn closest_waypoints_wrap_to_zero() {
        let t = Track::from_rows("square", &square(4.0, 0.6), &ValidateOptions::default()).unwrap();
        let pr = t.project_global(Vec2::new(0.0, 0.2));
        assert_eq!(t.closest_waypoints(&pr), [15, 16]);
        assert_eq!(t.closest_waypoint(Vec2::new(0.0, 0.2), &pr), 16);
    }
}
