//! Ray casting against the track borders (the lidar's hot path).
//!
//! **Corridor walk.** The road between two waypoints is a quadrilateral whose left and right edges are
//! walls and whose cross edges (left point to right point) are doors to the neighbouring quads.
//! Consecutive quads whose walls continue in a straight line (within [`MERGE_TOLERANCE`]) are merged,
//! so a straight is one quad. A ray starting on the road leaves each quad through exactly one edge: a
//! wall ends it, a door moves it on. With `s(v)` the side of vertex `v` relative to the ray, a line
//! through a convex quad (vertices l0, r0, r1, l1 counter-clockwise) leaves through the one edge
//! a→b with `s(a) < 0 ≤ s(b)`, so a step costs two cross products and no division; the distance is
//! computed once, on the wall. Cost grows with the quads crossed, not with the track's size.
//!
//! **Grid fallback** (`grid.rs`). A ray from off the road, or through a non-convex quad (very tight
//! inside corners), is cast through a uniform grid of border segments instead (exact, a little slower).

use super::Track;
use crate::math::{Vec2, ray_segment};

/// Quads are merged while every border point in between lies within this distance (m) of the
/// straight walls of the merged quad.
pub const MERGE_TOLERANCE: f64 = 1e-6;

/// A cross edge of the road (left and right border points at a kept waypoint), and whether the
/// quad that starts at it is convex.
#[derive(Clone, Copy, Debug, Default)]
struct Door {
    l: Vec2,
    r: Vec2,
    convex: bool,
}

/// The merged road quads: quad q lies between doors q and q + 1.
#[derive(Clone, Debug, Default)]
pub(crate) struct Corridor {
    doors: Vec<Door>,
    /// Fine segment index → merged quad index.
    of_seg: Vec<u32>,
    closed: bool,
}

fn off_line(p: Vec2, a: Vec2, b: Vec2) -> f64 {
    let ab = b - a;
    let l = ab.length();
    if l == 0.0 {
        p.distance(a)
    } else {
        ab.cross(p - a).abs() / l
    }
}

impl Corridor {
    pub(crate) fn build(left: &[Vec2], right: &[Vec2], closed: bool) -> Self {
        let n = left.len();
        let mut keep = vec![0usize];
        let mut k = 0;
        while k < n - 1 {
            let mut j = k + 1;
            while j + 1 < n {
                let cand = j + 1;
                let straight = (k + 1..cand).all(|i| {
                    off_line(left[i], left[k], left[cand]) <= MERGE_TOLERANCE
                        && off_line(right[i], right[k], right[cand]) <= MERGE_TOLERANCE
                        && (left[i] - left[k]).dot(left[cand] - left[i]) >= 0.0
                        && (right[i] - right[k]).dot(right[cand] - right[i]) >= 0.0
                });
                if !straight {
                    break;
                }
                j = cand;
            }
            keep.push(j);
            k = j;
        }
        let cl: Vec<Vec2> = keep.iter().map(|&i| left[i]).collect();
        let cr: Vec<Vec2> = keep.iter().map(|&i| right[i]).collect();
        let mut of_seg = vec![0u32; n - 1];
        for (q, w) in keep.windows(2).enumerate() {
            for s in &mut of_seg[w[0]..w[1]] {
                *s = q as u32;
            }
        }
        let doors = (0..keep.len())
            .map(|q| {
                // Counter-clockwise l0 → r0 → r1 → l1: every turn a left turn (or straight).
                let convex = q + 1 < keep.len() && {
                    let v = [cl[q], cr[q], cr[q + 1], cl[q + 1]];
                    (0..4).all(|k| (v[(k + 1) % 4] - v[k]).cross(v[(k + 2) % 4] - v[(k + 1) % 4]) >= 0.0)
                };
                Door {
                    l: cl[q],
                    r: cr[q],
                    convex,
                }
            })
            .collect();
        Corridor { doors, of_seg, closed }
    }

    fn quads(&self) -> usize {
        self.doors.len() - 1
    }

    fn next(&self, q: usize) -> Option<usize> {
        if q + 1 < self.quads() {
            Some(q + 1)
        } else if self.closed {
            Some(0)
        } else {
            None
        }
    }

    fn prev(&self, q: usize) -> Option<usize> {
        if q > 0 {
            Some(q - 1)
        } else if self.closed {
            Some(self.quads() - 1)
        } else {
            None
        }
    }

    #[inline]
    fn contains(&self, q: usize, p: Vec2) -> bool {
        let (l0, l1, r0, r1) = (
            self.doors[q].l,
            self.doors[q + 1].l,
            self.doors[q].r,
            self.doors[q + 1].r,
        );
        (r0 - l0).cross(p - l0) >= 0.0
            && (r1 - r0).cross(p - r0) >= 0.0
            && (l1 - r1).cross(p - r1) >= 0.0
            && (l0 - l1).cross(p - l1) >= 0.0
    }

    fn locate_near(&self, p: Vec2, q: usize) -> Option<usize> {
        if self.contains(q, p) {
            return Some(q);
        }
        let (mut fwd, mut back) = (Some(q), Some(q));
        for _ in 0..3 {
            fwd = fwd.and_then(|f| self.next(f));
            if let Some(f) = fwd
                && self.contains(f, p)
            {
                return Some(f);
            }
            back = back.and_then(|b| self.prev(b));
            if let Some(b) = back
                && self.contains(b, p)
            {
                return Some(b);
            }
        }
        None
    }

    /// See the module docs. `None` when a non-convex quad is met.
    #[inline]
    fn walk(&self, o: Vec2, d: Vec2, range: f64, q0: usize) -> Option<f64> {
        let doors = &self.doors;
        let side = |v: Vec2| d.cross(v - o);
        let hit = |a: Vec2, b: Vec2| {
            let e = b - a;
            ((a - o).cross(e) / d.cross(e)).min(range)
        };
        let (back, front) = (doors[q0], doors[q0 + 1]);
        if !back.convex {
            return None;
        }
        let (sl0, sr0) = (side(back.l), side(back.r));
        let (sl1, sr1) = (side(front.l), side(front.r));
        // The start quad: the ray leaves through a wall, or it is a forward or a backward ray. In a
        // convex quad a line crosses two edges, one in and one out, so a ray that left through a door
        // keeps going the same way until it meets a wall.
        if sr0 < 0.0 && sr1 >= 0.0 {
            return Some(hit(back.r, front.r));
        }
        if sl1 < 0.0 && sl0 >= 0.0 {
            return Some(hit(front.l, back.l));
        }
        let n = self.quads();
        let limit = n + 1;
        if sr1 < 0.0 && sl1 >= 0.0 {
            // Forward: quad q lies between doors q and q + 1; only the walls and the front door remain.
            let (mut q, mut prev, mut sl, mut sr) = (q0, front, sl1, sr1);
            for crossed in 1..limit {
                if (crossed & 3) == 0 && (prev.l - o).dot(d) > range && (prev.r - o).dot(d) > range {
                    return Some(range);
                }
                q += 1;
                if q == n {
                    if !self.closed {
                        return Some(range); // off the open end
                    }
                    q = 0;
                }
                let cur = doors[q];
                if !cur.convex {
                    return None;
                }
                let next = doors[q + 1];
                let (nl, nr) = (side(next.l), side(next.r));
                if sr < 0.0 && nr >= 0.0 {
                    return Some(hit(cur.r, next.r));
                }
                if nl < 0.0 && sl >= 0.0 {
                    return Some(hit(next.l, cur.l));
                }
                (prev, sl, sr) = (next, nl, nr);
            }
            return None;
        }
        if sl0 < 0.0 && sr0 >= 0.0 {
            // Backward: the mirror image.
            let (mut q, mut prev, mut sl, mut sr) = (q0, back, sl0, sr0);
            for crossed in 1..limit {
                if (crossed & 3) == 0 && (prev.l - o).dot(d) > range && (prev.r - o).dot(d) > range {
                    return Some(range);
                }
                if q == 0 {
                    if !self.closed {
                        return Some(range);
                    }
                    q = n;
                }
                q -= 1;
                let cur = doors[q];
                if !cur.convex {
                    return None;
                }
                let (cl, cr) = (side(cur.l), side(cur.r));
                // Quad q: l0 = cur.l, r0 = cur.r, r1 = prev.r, l1 = prev.l.
                if cr < 0.0 && sr >= 0.0 {
                    return Some(hit(cur.r, prev.r));
                }
                if sl < 0.0 && cl >= 0.0 {
                    return Some(hit(prev.l, cur.l));
                }
                (prev, sl, sr) = (cur, cl, cr);
            }
            return None;
        }
        None
    }
}

/// The most rays one fan may have.
pub const MAX_FAN: usize = 1024;

/// Reusable working memory for [`Track::raycast_fan`] (keep one per thread; it grows once).
#[derive(Clone, Debug, Default)]
pub struct FanScratch {
    fwd: Vec<u16>,
    bwd: Vec<u16>,
}

impl FanScratch {
    pub fn with_capacity(rays: usize) -> Self {
        Self {
            fwd: Vec::with_capacity(rays),
            bwd: Vec::with_capacity(rays),
        }
    }
}

/// Distance along ray `d` from the origin to the line through `a` (given relative to the origin,
/// `wa = a − o`) along direction `e` (the wall), at most `range`.
#[inline]
fn wall_hit(d: Vec2, wa: Vec2, e: Vec2, range: f64) -> f64 {
    (wa.cross(e) / d.cross(e)).min(range)
}

/// Distance from the origin to the segment between `wa` and `wb` (relative to the origin).
#[inline]
fn segment_distance(wa: Vec2, wb: Vec2) -> f64 {
    let e = wb - wa;
    let l2 = e.length_sq();
    let t = if l2 > 0.0 {
        (-wa.dot(e) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (wa + e * t).length()
}

/// Rotate `list` (indices of rays in one angular run) so that it starts where the ray indices jump:
/// a run that wraps past the last ray (field of view over 180°) comes out in angular order.
fn unwrap_run(list: &mut [u16]) {
    if let Some(p) = (1..list.len()).find(|&p| list[p] != list[p - 1] + 1) {
        list.rotate_left(p);
    }
}

impl Corridor {
    /// Cast a fan of rays (unit directions sorted counter-clockwise, as a lidar's are) from `o` in
    /// quad `q0`. Rays the corridor cannot resolve are left as NaN for the caller's fallback.
    ///
    /// All rays share the origin, so instead of walking each ray the fan is swept through the
    /// corridor like portals: the rays leaving the start quad through its front door form one
    /// angular run; in each following (convex) quad the run's rightmost rays hit the right wall, its
    /// leftmost rays hit the left wall, and the middle passes on through the next door. Each quad costs
    /// a few cross products whatever the number of rays, and each ray one division at its wall.
    pub(crate) fn cast_fan(
        &self,
        o: Vec2,
        dirs: &[Vec2],
        range: f64,
        q0: usize,
        out: &mut [f64],
        scratch: &mut FanScratch,
    ) {
        let n = dirs.len().min(MAX_FAN);
        let (back, front) = (self.doors[q0], self.doors[q0 + 1]);
        if !back.convex {
            out[..n].fill(f64::NAN);
            return;
        }
        let (wl0, wr0, wl1, wr1) = (back.l - o, back.r - o, front.l - o, front.r - o);
        let FanScratch { fwd, bwd } = scratch;
        fwd.clear();
        bwd.clear();
        for (k, &d) in dirs[..n].iter().enumerate() {
            let (sl0, sr0, sl1, sr1) = (d.cross(wl0), d.cross(wr0), d.cross(wl1), d.cross(wr1));
            out[k] = if sr0 < 0.0 && sr1 >= 0.0 {
                wall_hit(d, wr0, wr1 - wr0, range)
            } else if sl1 < 0.0 && sl0 >= 0.0 {
                wall_hit(d, wl1, wl0 - wl1, range)
            } else if sr1 < 0.0 && sl1 >= 0.0 {
                fwd.push(k as u16);
                continue;
            } else if sl0 < 0.0 && sr0 >= 0.0 {
                bwd.push(k as u16);
                continue;
            } else {
                f64::NAN
            };
        }
        unwrap_run(fwd);
        unwrap_run(bwd);
        self.sweep(o, dirs, range, q0, fwd, out, true);
        self.sweep(o, dirs, range, q0, bwd, out, false);
    }

    /// Carry a run of rays (angular order) through the corridor from quad `q0`, forwards or backwards.
    #[allow(clippy::too_many_arguments)]
    fn sweep(&self, o: Vec2, dirs: &[Vec2], range: f64, q0: usize, run: &[u16], out: &mut [f64], forward: bool) {
        let quads = self.quads();
        let (mut lo, mut hi) = (0, run.len());
        let near = if forward { self.doors[q0 + 1] } else { self.doors[q0] };
        let (mut wl, mut wr) = (near.l - o, near.r - o);
        let mut q = q0;
        let mut steps = 0;
        // What rays still in the run get if the sweep stops early: the range off an open end,
        // NaN (fallback) at a non-convex quad.
        let mut rest = f64::NAN;
        while lo < hi {
            steps += 1;
            // Every few quads: if the door the rays last went through is out of range, so are they.
            if steps > quads + 1 || ((steps & 3) == 0 && segment_distance(wl, wr) > range) {
                let v = if steps > quads + 1 { f64::NAN } else { range };
                for &k in &run[lo..hi] {
                    out[k as usize] = v;
                }
                return;
            }
            // Into the next quad.
            let far = if forward {
                q += 1;
                if q == quads {
                    if !self.closed {
                        rest = range; // off the open end: nothing to hit
                        break;
                    }
                    q = 0;
                }
                if !self.doors[q].convex {
                    break;
                }
                self.doors[q + 1]
            } else {
                if q == 0 {
                    if !self.closed {
                        rest = range;
                        break;
                    }
                    q = quads;
                }
                q -= 1;
                if !self.doors[q].convex {
                    break;
                }
                self.doors[q]
            };
            let (fl, fr) = (far.l - o, far.r - o);
            if forward {
                // Right wall near.r → far.r takes the clockwise end of the run, left wall far.l → near.l
                // the counter-clockwise end.
                while lo < hi && dirs[run[lo] as usize].cross(fr) >= 0.0 {
                    let d = dirs[run[lo] as usize];
                    out[run[lo] as usize] = wall_hit(d, wr, fr - wr, range);
                    lo += 1;
                }
                while hi > lo && dirs[run[hi - 1] as usize].cross(fl) < 0.0 {
                    let d = dirs[run[hi - 1] as usize];
                    out[run[hi - 1] as usize] = wall_hit(d, wl, fl - wl, range);
                    hi -= 1;
                }
            } else {
                // Going backwards the left wall takes the clockwise end and the right wall the other.
                while lo < hi && dirs[run[lo] as usize].cross(fl) >= 0.0 {
                    let d = dirs[run[lo] as usize];
                    out[run[lo] as usize] = wall_hit(d, wl, fl - wl, range);
                    lo += 1;
                }
                while hi > lo && dirs[run[hi - 1] as usize].cross(fr) < 0.0 {
                    let d = dirs[run[hi - 1] as usize];
                    out[run[hi - 1] as usize] = wall_hit(d, wr, fr - wr, range);
                    hi -= 1;
                }
            }
            (wl, wr) = (fl, fr);
        }
        for &k in &run[lo..hi] {
            out[k as usize] = rest;
        }
    }
}

impl Track {
    /// The road cell (merged quad) containing `p`, searched near centre-line segment `seg`; `None`
    /// if `p` is off the road (or in a cell the walk cannot use).
    pub fn locate_quad(&self, p: Vec2, seg: usize) -> Option<usize> {
        let c = &self.corridor;
        let q = c.of_seg[seg.min(c.of_seg.len() - 1)] as usize;
        c.locate_near(p, q)
    }

    /// Distance along the unit ray `origin + t·dir` to the first border, at most `range`. `quad` is
    /// the road cell holding the origin (from [`Track::locate_quad`]); `None` uses the grid.
    #[inline]
    pub fn raycast_borders(&self, origin: Vec2, dir: Vec2, range: f64, quad: Option<usize>) -> f64 {
        match quad.and_then(|q| self.corridor.walk(origin, dir, range, q)) {
            Some(t) => t,
            None => self.grid.cast(&self.left, &self.right, origin, dir, range),
        }
    }

    /// Cast a fan of rays from `origin` (unit directions sorted counter-clockwise, at most
    /// [`MAX_FAN`]), writing each ray's distance to the first border (at most `range`) into `out`.
    /// `quad` is the road cell holding the origin; rays the corridor sweep cannot resolve (off the
    /// road, non-convex cells) use the grid.
    pub fn raycast_fan(
        &self,
        origin: Vec2,
        dirs: &[Vec2],
        range: f64,
        quad: Option<usize>,
        out: &mut [f64],
        scratch: &mut FanScratch,
    ) {
        let n = dirs.len().min(MAX_FAN).min(out.len());
        match quad {
            Some(q) => self
                .corridor
                .cast_fan(origin, &dirs[..n], range, q, &mut out[..n], scratch),
            None => out[..n].fill(f64::NAN),
        }
        for (o, d) in out[..n].iter_mut().zip(dirs) {
            if o.is_nan() {
                *o = self.grid.cast(&self.left, &self.right, origin, *d, range);
            }
        }
    }

    /// Brute force over every border segment (the reference the fast paths are tested against).
    pub fn raycast_all(&self, o: Vec2, d: Vec2, range: f64) -> f64 {
        let mut best = range;
        for i in 0..self.num_segments() {
            for (a, b) in [(self.left[i], self.left[i + 1]), (self.right[i], self.right[i + 1])] {
                if let Some(t) = ray_segment(o, d, a, b) {
                    best = best.min(t);
                }
            }
        }
        best
    }

    /// Number of merged road cells (quads) the lidar walks through.
    pub fn road_cells(&self) -> usize {
        self.corridor.quads()
    }
}

#[cfg(test)]
mod tests {
    use crate::math::Vec2;
    use crate::track::generate::{GenerateRequest, generate};
    use crate::track::{Track, ValidateOptions, builtin};

    fn check(t: &Track, name: &str) {
        let (mut walked, mut fallback) = (0, 0);
        for k in 0..80 {
            let s = t.length() * k as f64 / 80.0;
            let (p, seg, _) = t.point_at_s(s, 0);
            for lateral in [-0.2, 0.0, 0.13, 0.6] {
                let p = p + t.seg_dir(seg).perp() * lateral;
                let quad = t.locate_quad(p, seg);
                for r in 0..24 {
                    let d = Vec2::from_angle(0.1 + r as f64 * std::f64::consts::TAU / 24.0);
                    let all = t.raycast_all(p, d, 5.0);
                    if let Some(q) = quad {
                        match t.corridor.walk(p, d, 5.0, q) {
                            Some(w) => {
                                walked += 1;
                                assert!((w - all).abs() < 1e-6, "{name} s={s} ray {r}: walk {w} vs all {all}");
                            }
                            None => fallback += 1,
                        }
                    }
                    let g = t.grid.cast(&t.left, &t.right, p, d, 5.0);
                    assert!(
                        (g - all).abs() < 1e-9,
                        "{name} s={s} lateral {lateral} ray {r}: grid {g} vs all {all}"
                    );
                    assert!((t.raycast_borders(p, d, 5.0, quad) - all).abs() < 1e-6);
                }
            }
        }
        assert!(walked > 80 * 24 * 2, "{name}: only {walked} rays walked");
        assert!(
            fallback * 50 < walked,
            "{name}: {fallback} fallbacks for {walked} walks"
        );
    }

    #[test]
    fn fast_paths_agree_with_brute_force_on_builtin_and_generated_tracks() {
        let opts = ValidateOptions::default();
        for b in builtin::all() {
            let t = b.build(&opts).unwrap();
            check(&t, b.name);
            check(&t.reversed(), b.name);
        }
        for seed in 0..4 {
            let t = generate(
                &GenerateRequest {
                    seed,
                    length: 20.0,
                    width: 0.7,
                    difficulty: 1.0,
                },
                &opts,
            )
            .unwrap();
            check(&t, t.name());
        }
    }

    fn check_fan(t: &Track, name: &str) {
        let mut resolved = 0;
        let mut total = 0;
        for (fov, rays) in [(180.0_f64, 32usize), (300.0, 64), (360.0, 33), (20.0, 5)] {
            let cfg = crate::sensors::LidarConfig {
                rays,
                fov_deg: fov,
                range: 4.0,
            };
            let car_dirs = cfg.directions();
            for k in 0..60 {
                let s = t.length() * k as f64 / 60.0;
                let (p, seg, _) = t.point_at_s(s, 0);
                for (lateral, heading) in [(-0.15, 0.3_f64), (0.0, 0.0), (0.12, -0.5), (0.05, 3.0), (0.6, 1.0)] {
                    let p = p + t.seg_dir(seg).perp() * lateral;
                    let fwd = t.seg_dir(seg).rotate_cs(heading.cos(), heading.sin());
                    let dirs: Vec<Vec2> = car_dirs.iter().map(|d| d.rotate_cs(fwd.x, fwd.y)).collect();
                    let quad = t.locate_quad(p, seg);
                    let mut out = vec![0.0; rays];
                    let mut scratch = super::FanScratch::default();
                    if let Some(q) = quad {
                        t.corridor.cast_fan(p, &dirs, 4.0, q, &mut out, &mut scratch);
                        resolved += out.iter().filter(|v| !v.is_nan()).count();
                        total += rays;
                    }
                    t.raycast_fan(p, &dirs, 4.0, quad, &mut out, &mut scratch);
                    for (r, d) in dirs.iter().enumerate() {
                        let all = t.raycast_all(p, *d, 4.0);
                        assert!(
                            (out[r] - all).abs() < 1e-6,
                            "{name} fov {fov} s={s} lat {lateral} ray {r}: fan {} vs all {all}",
                            out[r]
                        );
                    }
                }
            }
        }
        assert!(
            resolved * 50 > total * 49,
            "{name}: the sweep resolved only {resolved} of {total} rays"
        );
    }

    #[test]
    fn fan_sweep_agrees_with_brute_force() {
        let opts = ValidateOptions::default();
        for b in builtin::all() {
            let t = b.build(&opts).unwrap();
            check_fan(&t, b.name);
            check_fan(&t.reversed(), b.name);
        }
        for seed in 0..4 {
            let t = generate(
                &GenerateRequest {
                    seed,
                    length: 20.0,
                    width: 0.7,
                    difficulty: 1.0,
                },
                &opts,
            )
            .unwrap();
            check_fan(&t, t.name());
        }
    }

    #[test]
    fn straights_are_merged_into_one_cell() {
        let t = builtin::load("drag_strip", &ValidateOptions::default()).unwrap();
        assert_eq!(t.road_cells(), 1);
        let oval = builtin::load("oval", &ValidateOptions::default()).unwrap();
        // Each 6 m straight (40 segments) becomes one cell; the arcs keep theirs.
        assert!(
            oval.road_cells() + 70 < oval.num_segments(),
            "{} cells",
            oval.road_cells()
        );
    }
}
