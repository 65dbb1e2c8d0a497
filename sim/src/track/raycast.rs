//! Ray casting against the track borders by walking the corridor.
//!
//! The road between waypoints `i` and `i + 1` is a quadrilateral: the left and right border segments
//! are walls, the two cross edges (left point to right point at each waypoint) are doors to the
//! neighbouring quads. A ray that starts on the road leaves each quad through exactly one edge: a wall
//! ends the ray, a door moves it to the next quad. The cost is proportional to the number of quads the
//! ray crosses, not to the size of the track. A ray from a point off the road (or a degenerate quad
//! that the walk cannot resolve) falls back to testing every border segment.

use super::Track;
use crate::math::{Vec2, ray_segment};

const MAX_WALK: usize = 4096;

impl Track {
    #[inline]
    fn quad_contains(&self, q: usize, p: Vec2) -> bool {
        let (l0, l1, r0, r1) = (
            self.left[q],
            self.left[q + 1],
            self.right[q],
            self.right[q + 1],
        );
        // Counter-clockwise order: l0 → r0 → r1 → l1.
        (r0 - l0).cross(p - l0) >= 0.0
            && (r1 - r0).cross(p - r0) >= 0.0
            && (l1 - r1).cross(p - r1) >= 0.0
            && (l0 - l1).cross(p - l1) >= 0.0
    }

    /// The quad (segment index) containing `p`, searched near `hint`; `None` if `p` is off the road.
    pub fn locate_quad(&self, p: Vec2, hint: usize) -> Option<usize> {
        let m = self.num_segments();
        let hint = hint.min(m - 1);
        if self.quad_contains(hint, p) {
            return Some(hint);
        }
        let (mut fwd, mut back) = (hint, hint);
        for _ in 0..3 {
            fwd = self.next_seg(fwd);
            if self.quad_contains(fwd, p) {
                return Some(fwd);
            }
            back = self.prev_seg(back);
            if self.quad_contains(back, p) {
                return Some(back);
            }
        }
        // A stale hint (e.g. after a teleport): try around the nearest centre-line segment.
        let seg = self.project_global(p).seg;
        if seg.abs_diff(hint) > 3 {
            self.locate_quad_near(p, seg)
        } else {
            None
        }
    }

    fn locate_quad_near(&self, p: Vec2, seg: usize) -> Option<usize> {
        let (mut fwd, mut back) = (seg, seg);
        if self.quad_contains(seg, p) {
            return Some(seg);
        }
        for _ in 0..3 {
            fwd = self.next_seg(fwd);
            if self.quad_contains(fwd, p) {
                return Some(fwd);
            }
            back = self.prev_seg(back);
            if self.quad_contains(back, p) {
                return Some(back);
            }
        }
        None
    }

    /// Distance along the unit ray `origin + t·dir` to the first border, at most `range`.
    /// `quad` is where the origin lies (from [`Track::locate_quad`]); `None` casts against every border.
    pub fn raycast_borders(&self, origin: Vec2, dir: Vec2, range: f64, quad: Option<usize>) -> f64 {
        match quad {
            Some(q) => self
                .walk(origin, dir, range, q)
                .unwrap_or_else(|| self.raycast_all(origin, dir, range)),
            None => self.raycast_all(origin, dir, range),
        }
    }

    fn walk(&self, o: Vec2, d: Vec2, range: f64, mut q: usize) -> Option<f64> {
        // 0 = entered through no door, 1 = through the back door, 2 = through the front door.
        let mut came = 0u8;
        let m = self.num_segments();
        for _ in 0..MAX_WALK.min(2 * m + 2) {
            let (l0, l1, r0, r1) = (
                self.left[q],
                self.left[q + 1],
                self.right[q],
                self.right[q + 1],
            );
            let mut best = f64::INFINITY;
            let mut exit = 0u8;
            if let Some(t) = ray_segment(o, d, l0, l1) {
                best = t;
            }
            if let Some(t) = ray_segment(o, d, r0, r1) {
                best = best.min(t);
            }
            // A door only counts if the ray leaves the quad through it (it points outwards across it);
            // this also ignores the door the ray came in by and a start exactly on a door.
            if came != 2 && (l1 - r1).cross(d) < 0.0 {
                if let Some(t) = ray_segment(o, d, l1, r1) {
                    if t < best {
                        best = t;
                        exit = 2;
                    }
                }
            }
            if came != 1 && (r0 - l0).cross(d) < 0.0 {
                if let Some(t) = ray_segment(o, d, l0, r0) {
                    if t < best {
                        best = t;
                        exit = 1;
                    }
                }
            }
            if best >= range {
                return Some(range);
            }
            match exit {
                0 if best.is_finite() => return Some(best),
                0 => return None,
                2 => {
                    if !self.closed && q + 1 == m {
                        return Some(range); // off the open end of the track
                    }
                    q = self.next_seg(q);
                    came = 1;
                }
                _ => {
                    if !self.closed && q == 0 {
                        return Some(range);
                    }
                    q = self.prev_seg(q);
                    came = 2;
                }
            }
        }
        None
    }

    /// Brute force: the nearest border hit over every border segment.
    pub fn raycast_all(&self, o: Vec2, d: Vec2, range: f64) -> f64 {
        let mut best = range;
        for i in 0..self.num_segments() {
            for (a, b) in [
                (self.left[i], self.left[i + 1]),
                (self.right[i], self.right[i + 1]),
            ] {
                if let Some(t) = ray_segment(o, d, a, b) {
                    best = best.min(t);
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use crate::math::Vec2;
    use crate::track::{ValidateOptions, builtin};

    #[test]
    fn walk_agrees_with_brute_force_on_every_builtin() {
        let opts = ValidateOptions::default();
        for b in builtin::all() {
            let t = b.build(&opts).unwrap();
            let mut checked = 0;
            for k in 0..60 {
                let s = t.length() * k as f64 / 60.0;
                let (p, seg, _) = t.point_at_s(s, 0);
                let p = p + t.seg_dir(seg).perp() * 0.1;
                let Some(q) = t.locate_quad(p, seg) else {
                    continue;
                };
                for r in 0..24 {
                    let d = Vec2::from_angle(r as f64 * std::f64::consts::TAU / 24.0);
                    let walk = t.raycast_borders(p, d, 5.0, Some(q));
                    let all = t.raycast_all(p, d, 5.0);
                    assert!(
                        (walk - all).abs() < 1e-9,
                        "{} s={s} ray {r}: walk {walk} vs all {all}",
                        b.name
                    );
                    checked += 1;
                }
            }
            assert!(checked > 24 * 50, "{}: only {checked} rays checked", b.name);
        }
    }
}
