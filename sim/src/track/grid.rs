//! The ray caster's exact fallback: the border segments bucketed into a uniform grid of square
//! cells, and a ray walked through the cells it crosses (Amanatides–Woo). Used for rays from off the
//! road and through non-convex road cells (see `raycast.rs`).

use crate::math::{Vec2, ray_segment};

/// Grid cell size for the fallback, metres.
const CELL: f64 = 0.25;

/// Border segments bucketed into square cells.
#[derive(Clone, Debug, Default)]
pub(crate) struct Grid {
    origin: Vec2,
    nx: usize,
    ny: usize,
    /// Cell c's segments are `items[start[c]..start[c + 1]]`; segment k = left k/2 or right k/2.
    start: Vec<u32>,
    items: Vec<u32>,
}

impl Grid {
    pub(crate) fn build(left: &[Vec2], right: &[Vec2]) -> Self {
        let (mut lo, mut hi) = (Vec2::new(f64::MAX, f64::MAX), Vec2::new(f64::MIN, f64::MIN));
        for p in left.iter().chain(right) {
            lo = Vec2::new(lo.x.min(p.x), lo.y.min(p.y));
            hi = Vec2::new(hi.x.max(p.x), hi.y.max(p.y));
        }
        let origin = lo - Vec2::new(CELL, CELL);
        let nx = ((hi.x - origin.x) / CELL).ceil() as usize + 1;
        let ny = ((hi.y - origin.y) / CELL).ceil() as usize + 1;
        let cell_of = |p: Vec2| (((p.x - origin.x) / CELL) as usize, ((p.y - origin.y) / CELL) as usize);
        let mut buckets: Vec<Vec<u32>> = vec![Vec::new(); nx * ny];
        for i in 0..left.len() - 1 {
            for (k, (a, b)) in [(left[i], left[i + 1]), (right[i], right[i + 1])]
                .into_iter()
                .enumerate()
            {
                let (ax, ay) = cell_of(Vec2::new(a.x.min(b.x), a.y.min(b.y)));
                let (bx, by) = cell_of(Vec2::new(a.x.max(b.x), a.y.max(b.y)));
                for cy in ay..=by {
                    for cx in ax..=bx {
                        buckets[cy * nx + cx].push((2 * i + k) as u32);
                    }
                }
            }
        }
        let mut start = Vec::with_capacity(nx * ny + 1);
        let mut items = Vec::new();
        for b in &buckets {
            start.push(items.len() as u32);
            items.extend_from_slice(b);
        }
        start.push(items.len() as u32);
        Grid {
            origin,
            nx,
            ny,
            start,
            items,
        }
    }

    /// Nearest border hit along the unit ray within `range` (Amanatides–Woo traversal).
    pub(crate) fn cast(&self, left: &[Vec2], right: &[Vec2], o: Vec2, d: Vec2, range: f64) -> f64 {
        let size = Vec2::new(self.nx as f64 * CELL, self.ny as f64 * CELL);
        // Clip the ray to the grid's box.
        let rel = o - self.origin;
        let (mut t0, mut t1) = (0.0_f64, range);
        for (p, v, s) in [(rel.x, d.x, size.x), (rel.y, d.y, size.y)] {
            if v.abs() < 1e-300 {
                if p < 0.0 || p >= s {
                    return range;
                }
            } else {
                let (a, b) = ((0.0 - p) / v, (s - p) / v);
                t0 = t0.max(a.min(b));
                t1 = t1.min(a.max(b));
            }
        }
        if t0 > t1 {
            return range;
        }
        let entry = rel + d * t0;
        let mut cx = ((entry.x / CELL) as isize).clamp(0, self.nx as isize - 1);
        let mut cy = ((entry.y / CELL) as isize).clamp(0, self.ny as isize - 1);
        let (step_x, step_y) = (if d.x >= 0.0 { 1 } else { -1 }, if d.y >= 0.0 { 1 } else { -1 });
        let next_boundary = |c: isize, step: isize| (c + isize::from(step > 0)) as f64 * CELL;
        let mut t_max_x = if d.x != 0.0 {
            (next_boundary(cx, step_x) - rel.x) / d.x
        } else {
            f64::INFINITY
        };
        let mut t_max_y = if d.y != 0.0 {
            (next_boundary(cy, step_y) - rel.y) / d.y
        } else {
            f64::INFINITY
        };
        let t_delta_x = if d.x != 0.0 { CELL / d.x.abs() } else { f64::INFINITY };
        let t_delta_y = if d.y != 0.0 { CELL / d.y.abs() } else { f64::INFINITY };
        let mut best = range;
        loop {
            let c = cy as usize * self.nx + cx as usize;
            for &k in &self.items[self.start[c] as usize..self.start[c + 1] as usize] {
                let i = (k / 2) as usize;
                let (a, b) = if k % 2 == 0 {
                    (left[i], left[i + 1])
                } else {
                    (right[i], right[i + 1])
                };
                if let Some(t) = ray_segment(o, d, a, b) {
                    best = best.min(t);
                }
            }
            let t_exit = t_max_x.min(t_max_y);
            if best <= t_exit || t_exit > t1 {
                return best;
            }
            if t_max_x < t_max_y {
                cx += step_x;
                t_max_x += t_delta_x;
            } else {
                cy += step_y;
                t_max_y += t_delta_y;
            }
            if cx < 0 || cy < 0 || cx >= self.nx as isize || cy >= self.ny as isize {
                return best;
            }
        }
    }
}
