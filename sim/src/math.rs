//! Small 2-D math core: vectors, angles and the intersection tests the simulator uses every step.
//!
//! Everything here is plain `f64` arithmetic with no fused multiply-add and no platform `libm`:
//! transcendental functions come from the pure-Rust [`libm`] crate so that results are bit-identical
//! on every machine, which is what the simulator's determinism promise rests on.

use std::ops::{Add, AddAssign, Mul, Neg, Sub, SubAssign};

/// A 2-D vector or point in metres (world frame unless stated otherwise).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Vec2 {
    pub x: f64,
    pub y: f64,
}

impl Vec2 {
    pub const ZERO: Vec2 = Vec2 { x: 0.0, y: 0.0 };

    #[inline]
    pub const fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }

    /// Unit vector at `angle` radians from the +x axis.
    #[inline]
    pub fn from_angle(angle: f64) -> Self {
        Self::new(cos(angle), sin(angle))
    }

    #[inline]
    pub fn dot(self, o: Vec2) -> f64 {
        self.x * o.x + self.y * o.y
    }

    /// z component of the 3-D cross product: positive when `o` is counter-clockwise from `self`.
    #[inline]
    pub fn cross(self, o: Vec2) -> f64 {
        self.x * o.y - self.y * o.x
    }

    #[inline]
    pub fn length_sq(self) -> f64 {
        self.dot(self)
    }

    #[inline]
    pub fn length(self) -> f64 {
        self.length_sq().sqrt()
    }

    #[inline]
    pub fn distance(self, o: Vec2) -> f64 {
        (self - o).length()
    }

    /// The vector scaled to unit length, or zero for a (near) zero vector.
    #[inline]
    pub fn normalize_or_zero(self) -> Vec2 {
        let l = self.length();
        if l > 1e-12 { self * (1.0 / l) } else { Vec2::ZERO }
    }

    /// The vector rotated 90° counter-clockwise (the left normal of a direction).
    #[inline]
    pub fn perp(self) -> Vec2 {
        Vec2::new(-self.y, self.x)
    }

    /// Rotate by the angle whose cosine and sine are `c` and `s`.
    #[inline]
    pub fn rotate_cs(self, c: f64, s: f64) -> Vec2 {
        Vec2::new(c * self.x - s * self.y, s * self.x + c * self.y)
    }

    /// Angle from the +x axis in (-π, π].
    #[inline]
    pub fn angle(self) -> f64 {
        atan2(self.y, self.x)
    }

    #[inline]
    pub fn lerp(self, o: Vec2, t: f64) -> Vec2 {
        self + (o - self) * t
    }

    #[inline]
    pub fn is_finite(self) -> bool {
        self.x.is_finite() && self.y.is_finite()
    }
}

impl Add for Vec2 {
    type Output = Vec2;
    #[inline]
    fn add(self, o: Vec2) -> Vec2 {
        Vec2::new(self.x + o.x, self.y + o.y)
    }
}
impl AddAssign for Vec2 {
    #[inline]
    fn add_assign(&mut self, o: Vec2) {
        self.x += o.x;
        self.y += o.y;
    }
}
impl Sub for Vec2 {
    type Output = Vec2;
    #[inline]
    fn sub(self, o: Vec2) -> Vec2 {
        Vec2::new(self.x - o.x, self.y - o.y)
    }
}
impl SubAssign for Vec2 {
    #[inline]
    fn sub_assign(&mut self, o: Vec2) {
        self.x -= o.x;
        self.y -= o.y;
    }
}
impl Mul<f64> for Vec2 {
    type Output = Vec2;
    #[inline]
    fn mul(self, k: f64) -> Vec2 {
        Vec2::new(self.x * k, self.y * k)
    }
}
impl Neg for Vec2 {
    type Output = Vec2;
    #[inline]
    fn neg(self) -> Vec2 {
        Vec2::new(-self.x, -self.y)
    }
}

/// Deterministic sine (pure Rust, identical on every platform).
#[inline]
pub fn sin(x: f64) -> f64 {
    libm::sin(x)
}
/// Deterministic cosine.
#[inline]
pub fn cos(x: f64) -> f64 {
    libm::cos(x)
}
/// Deterministic `atan2(y, x)`.
#[inline]
pub fn atan2(y: f64, x: f64) -> f64 {
    libm::atan2(y, x)
}
/// Deterministic arctangent.
#[inline]
pub fn atan(x: f64) -> f64 {
    libm::atan(x)
}
/// Deterministic tangent.
#[inline]
pub fn tan(x: f64) -> f64 {
    libm::tan(x)
}

/// Wrap an angle into (-π, π].
#[inline]
pub fn wrap_angle(a: f64) -> f64 {
    use std::f64::consts::{PI, TAU};
    if a > -PI && a <= PI {
        return a;
    }
    let mut r = a % TAU;
    if r <= -PI {
        r += TAU;
    } else if r > PI {
        r -= TAU;
    }
    r
}

/// Closest point on segment `a`–`b` to `p`: returns the parameter `t` in [0, 1] and the squared distance.
/// A zero-length segment is treated as the point `a`.
#[inline]
pub fn project_on_segment(p: Vec2, a: Vec2, b: Vec2) -> (f64, f64) {
    let ab = b - a;
    let l2 = ab.length_sq();
    let t = if l2 > 0.0 {
        ((p - a).dot(ab) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let q = a + ab * t;
    (t, (p - q).length_sq())
}

/// Where the ray `origin + t·dir` (t ≥ 0) crosses segment `a`–`b`, as the ray parameter `t`.
/// `dir` need not be unit length; `t` is in units of `dir`. Parallel rays never hit.
#[inline]
pub fn ray_segment(origin: Vec2, dir: Vec2, a: Vec2, b: Vec2) -> Option<f64> {
    let e = b - a;
    let denom = dir.cross(e);
    if denom == 0.0 {
        return None;
    }
    let ao = a - origin;
    let t = ao.cross(e) / denom;
    let u = ao.cross(dir) / denom;
    if t >= 0.0 && (0.0..=1.0).contains(&u) {
        Some(t)
    } else {
        None
    }
}

/// Whether the closed segments `p1`–`p2` and `q1`–`q2` intersect, with a tolerance that ignores touching
/// at shared end points (consecutive segments of one polyline share an end point and must not count).
pub fn segments_cross(p1: Vec2, p2: Vec2, q1: Vec2, q2: Vec2) -> bool {
    let d1 = (p2 - p1).cross(q1 - p1);
    let d2 = (p2 - p1).cross(q2 - p1);
    let d3 = (q2 - q1).cross(p1 - q1);
    let d4 = (q2 - q1).cross(p2 - q1);
    // Proper crossing: strictly opposite sides both ways.
    (d1 > 0.0 && d2 < 0.0 || d1 < 0.0 && d2 > 0.0) && (d3 > 0.0 && d4 < 0.0 || d3 < 0.0 && d4 > 0.0)
}

/// An oriented rectangle (a car's or an obstacle's footprint).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Obb {
    pub center: Vec2,
    /// Unit vector along the rectangle's length.
    pub axis: Vec2,
    pub half_length: f64,
    pub half_width: f64,
}

impl Default for Obb {
    fn default() -> Self {
        Obb {
            center: Vec2::ZERO,
            axis: Vec2::new(1.0, 0.0),
            half_length: 0.0,
            half_width: 0.0,
        }
    }
}

impl Obb {
    pub fn new(center: Vec2, heading: f64, length: f64, width: f64) -> Self {
        Self {
            center,
            axis: Vec2::from_angle(heading),
            half_length: 0.5 * length,
            half_width: 0.5 * width,
        }
    }

    /// The four corners, counter-clockwise starting front-left.
    pub fn corners(&self) -> [Vec2; 4] {
        let f = self.axis * self.half_length;
        let l = self.axis.perp() * self.half_width;
        [
            self.center + f + l,
            self.center - f + l,
            self.center - f - l,
            self.center + f - l,
        ]
    }

    /// Whether `p` lies inside the rectangle (its edges included).
    pub fn contains(&self, p: Vec2) -> bool {
        let d = p - self.center;
        d.dot(self.axis).abs() <= self.half_length && d.dot(self.axis.perp()).abs() <= self.half_width
    }

    /// Separating-axis overlap test between two oriented rectangles.
    pub fn overlaps(&self, o: &Obb) -> bool {
        let d = o.center - self.center;
        for axis in [self.axis, self.axis.perp(), o.axis, o.axis.perp()] {
            let ra = self.half_length * self.axis.dot(axis).abs() + self.half_width * self.axis.perp().dot(axis).abs();
            let rb = o.half_length * o.axis.dot(axis).abs() + o.half_width * o.axis.perp().dot(axis).abs();
            if d.dot(axis).abs() > ra + rb {
                return false;
            }
        }
        true
    }

    /// Distance along the ray `origin + t·dir` (unit `dir`) to the rectangle, if it is hit.
    /// A ray starting inside reports 0.
    pub fn ray_hit(&self, origin: Vec2, dir: Vec2) -> Option<f64> {
        // Slab test in the rectangle's frame.
        let rel = origin - self.center;
        let ax = self.axis;
        let ay = self.axis.perp();
        let (o_local, d_local) = ([rel.dot(ax), rel.dot(ay)], [dir.dot(ax), dir.dot(ay)]);
        let half = [self.half_length, self.half_width];
        let mut t_min = 0.0_f64;
        let mut t_max = f64::INFINITY;
        for k in 0..2 {
            if d_local[k].abs() < 1e-12 {
                if o_local[k].abs() > half[k] {
                    return None;
                }
            } else {
                let inv = 1.0 / d_local[k];
                let mut t1 = (-half[k] - o_local[k]) * inv;
                let mut t2 = (half[k] - o_local[k]) * inv;
                if t1 > t2 {
                    std::mem::swap(&mut t1, &mut t2);
                }
                t_min = t_min.max(t1);
                t_max = t_max.min(t2);
                if t_min > t_max {
                    return None;
                }
            }
        }
        Some(t_min)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    #[test]
    fn wrap_angle_stays_in_range() {
        for k in -20..=20 {
            let a = k as f64 * 0.7;
            let w = wrap_angle(a);
            assert!(w > -PI && w <= PI, "{a} -> {w}");
            assert!((sin(w) - sin(a)).abs() < 1e-9 && (cos(w) - cos(a)).abs() < 1e-9);
        }
        assert_eq!(wrap_angle(-PI), PI);
    }

    #[test]
    fn ray_segment_hits_and_misses() {
        let o = Vec2::ZERO;
        let t = ray_segment(o, Vec2::new(1.0, 0.0), Vec2::new(2.0, -1.0), Vec2::new(2.0, 1.0));
        assert_eq!(t, Some(2.0));
        assert_eq!(
            ray_segment(o, Vec2::new(-1.0, 0.0), Vec2::new(2.0, -1.0), Vec2::new(2.0, 1.0)),
            None
        );
        assert_eq!(
            ray_segment(o, Vec2::new(1.0, 0.0), Vec2::new(2.0, 0.5), Vec2::new(2.0, 1.0)),
            None
        );
    }

    #[test]
    fn segments_cross_ignores_shared_endpoints() {
        let a = Vec2::new(0.0, 0.0);
        let b = Vec2::new(1.0, 0.0);
        let c = Vec2::new(1.0, 1.0);
        assert!(!segments_cross(a, b, b, c));
        assert!(segments_cross(
            Vec2::new(0.0, -1.0),
            Vec2::new(0.0, 1.0),
            Vec2::new(-1.0, 0.0),
            Vec2::new(1.0, 0.0)
        ));
    }

    #[test]
    fn obb_overlap_and_ray() {
        let a = Obb::new(Vec2::ZERO, 0.0, 2.0, 1.0);
        let b = Obb::new(Vec2::new(1.6, 0.0), PI / 4.0, 1.0, 1.0);
        let c = Obb::new(Vec2::new(3.0, 0.0), 0.0, 1.0, 1.0);
        assert!(a.overlaps(&b));
        assert!(!a.overlaps(&c));
        let t = c.ray_hit(Vec2::ZERO, Vec2::new(1.0, 0.0)).unwrap();
        assert!((t - 2.5).abs() < 1e-12);
        assert!(c.ray_hit(Vec2::ZERO, Vec2::new(0.0, 1.0)).is_none());
        assert_eq!(c.ray_hit(Vec2::new(3.0, 0.0), Vec2::new(0.0, 1.0)), Some(0.0));
    }

    #[test]
    fn project_on_zero_length_segment() {
        let (t, d2) = project_on_segment(Vec2::new(1.0, 1.0), Vec2::ZERO, Vec2::ZERO);
        assert_eq!(t, 0.0);
        assert_eq!(d2, 2.0);
    }
}
