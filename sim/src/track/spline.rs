//! Centre-line construction helpers shared by the built-in designs and the generator: a turtle that
//! lays straights and circular arcs, a closed centripetal Catmull–Rom spline, uniform resampling, and
//! border offsetting.

use super::Waypoint;
use crate::math::{Vec2, cos, sin};

/// One piece of a turtle-drawn centre line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Piece {
    /// A straight of the given length, metres.
    Straight(f64),
    /// A left (counter-clockwise) arc: radius metres, angle degrees.
    Left(f64, f64),
    /// A right (clockwise) arc: radius metres, angle degrees.
    Right(f64, f64),
}

/// Draw pieces from the origin heading +x, one point every `spacing` metres or less.
/// For a closed design, the small closing error of hand-entered numbers is spread along the path
/// (a shear proportional to arc length), so the last point lands exactly on the first.
pub fn turtle(pieces: &[Piece], spacing: f64, closed: bool) -> Vec<Vec2> {
    let mut p = Vec2::ZERO;
    let mut h: f64 = 0.0;
    let mut pts = vec![p];
    for &piece in pieces {
        match piece {
            Piece::Straight(len) => {
                let n = (len / spacing).ceil().max(1.0) as usize;
                let d = Vec2::from_angle(h) * (len / n as f64);
                for _ in 0..n {
                    p += d;
                    pts.push(p);
                }
            }
            Piece::Left(r, deg) | Piece::Right(r, deg) => {
                let sign = if matches!(piece, Piece::Left(..)) { 1.0 } else { -1.0 };
                let a = deg.to_radians();
                let n = (r * a / spacing).ceil().max(2.0) as usize;
                let center = p + Vec2::new(-sin(h), cos(h)) * (sign * r);
                let h0 = h;
                for k in 1..=n {
                    let hk = h0 + sign * a * k as f64 / n as f64;
                    pts.push(center + Vec2::new(sin(hk), -cos(hk)) * (sign * r));
                }
                h = h0 + sign * a;
                p = *pts.last().expect("non-empty");
            }
        }
    }
    if closed {
        let err = *pts.last().expect("non-empty") - pts[0];
        let lens = cumulative(&pts);
        let total = *lens.last().expect("non-empty");
        for (q, s) in pts.iter_mut().zip(&lens) {
            *q -= err * (s / total);
        }
        let n = pts.len();
        pts[n - 1] = pts[0];
    }
    pts
}

/// Cumulative arc length at each point of a polyline.
pub fn cumulative(pts: &[Vec2]) -> Vec<f64> {
    let mut out = Vec::with_capacity(pts.len());
    let mut acc = 0.0;
    out.push(0.0);
    for w in pts.windows(2) {
        acc += w[0].distance(w[1]);
        out.push(acc);
    }
    out
}

/// Closed centripetal Catmull–Rom spline through `ctrl`, `per_span` samples per span. The result is
/// closed: its last point equals its first.
pub fn catmull_rom_closed(ctrl: &[Vec2], per_span: usize) -> Vec<Vec2> {
    let n = ctrl.len();
    let mut out = Vec::with_capacity(n * per_span + 1);
    let knot = |a: Vec2, b: Vec2| a.distance(b).sqrt().max(1e-6);
    for i in 0..n {
        let p0 = ctrl[(i + n - 1) % n];
        let p1 = ctrl[i];
        let p2 = ctrl[(i + 1) % n];
        let p3 = ctrl[(i + 2) % n];
        let t0 = 0.0;
        let t1 = t0 + knot(p0, p1);
        let t2 = t1 + knot(p1, p2);
        let t3 = t2 + knot(p2, p3);
        for k in 0..per_span {
            let t = t1 + (t2 - t1) * k as f64 / per_span as f64;
            let a1 = p0 * ((t1 - t) / (t1 - t0)) + p1 * ((t - t0) / (t1 - t0));
            let a2 = p1 * ((t2 - t) / (t2 - t1)) + p2 * ((t - t1) / (t2 - t1));
            let a3 = p2 * ((t3 - t) / (t3 - t2)) + p3 * ((t - t2) / (t3 - t2));
            let b1 = a1 * ((t2 - t) / (t2 - t0)) + a2 * ((t - t0) / (t2 - t0));
            let b2 = a2 * ((t3 - t) / (t3 - t1)) + a3 * ((t - t1) / (t3 - t1));
            out.push(b1 * ((t2 - t) / (t2 - t1)) + b2 * ((t - t1) / (t2 - t1)));
        }
    }
    out.push(out[0]);
    out
}

/// Resample a polyline at (close to) uniform spacing. A closed input (last == first) gives a closed output.
pub fn resample(pts: &[Vec2], spacing: f64) -> Vec<Vec2> {
    let lens = cumulative(pts);
    let total = *lens.last().expect("non-empty");
    let n = (total / spacing).round().max(3.0) as usize;
    let mut out = Vec::with_capacity(n + 1);
    let mut j = 0;
    for k in 0..n {
        let s = total * k as f64 / n as f64;
        while j + 1 < pts.len() - 1 && lens[j + 1] < s {
            j += 1;
        }
        let seg = lens[j + 1] - lens[j];
        let t = if seg > 0.0 { (s - lens[j]) / seg } else { 0.0 };
        out.push(pts[j].lerp(pts[j + 1], t));
    }
    out.push(*pts.last().expect("non-empty"));
    out
}

/// Signed area of a closed polyline (positive counter-clockwise).
pub fn signed_area(pts: &[Vec2]) -> f64 {
    0.5 * pts.windows(2).map(|w| w[0].cross(w[1])).sum::<f64>()
}

/// Waypoints with borders offset `width / 2` either side of the centre line. On a closed loop the
/// inner border is the one on the inside of the loop (left when counter-clockwise).
pub fn with_borders(center: &[Vec2], width: f64, closed: bool) -> Vec<Waypoint> {
    let n = center.len();
    let inner_is_left = !closed || signed_area(center) >= 0.0;
    let h = 0.5 * width;
    (0..n)
        .map(|i| {
            let prev = if i > 0 {
                center[i - 1]
            } else if closed {
                center[n - 2]
            } else {
                center[0]
            };
            let next = if i + 1 < n {
                center[i + 1]
            } else if closed {
                center[1]
            } else {
                center[n - 1]
            };
            let t = (next - prev).normalize_or_zero();
            let left = center[i] + t.perp() * h;
            let right = center[i] - t.perp() * h;
            let (inner, outer) = if inner_is_left { (left, right) } else { (right, left) };
            Waypoint {
                center: center[i],
                inner,
                outer,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turtle_closes_a_stadium() {
        let pts = turtle(
            &[
                Piece::Straight(6.0),
                Piece::Left(2.0, 180.0),
                Piece::Straight(6.0),
                Piece::Left(2.0, 180.0),
            ],
            0.1,
            true,
        );
        assert_eq!(pts[0], *pts.last().unwrap());
        let l = *cumulative(&pts).last().unwrap();
        assert!((l - (12.0 + 4.0 * std::f64::consts::PI)).abs() < 0.01, "{l}");
        assert!(signed_area(&pts) > 0.0);
    }

    #[test]
    fn spline_passes_through_control_points_and_resamples() {
        let ctrl = [
            Vec2::new(0.0, 0.0),
            Vec2::new(4.0, 0.0),
            Vec2::new(4.0, 3.0),
            Vec2::new(0.0, 3.0),
        ];
        let s = catmull_rom_closed(&ctrl, 16);
        assert_eq!(s[0], ctrl[0]);
        assert_eq!(s[16], ctrl[1]);
        let r = resample(&s, 0.15);
        let d = cumulative(&r);
        let steps: Vec<f64> = d.windows(2).map(|w| w[1] - w[0]).collect();
        let (lo, hi) = steps
            .iter()
            .fold((f64::MAX, 0.0_f64), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        assert!(hi - lo < 0.02, "spacing {lo}..{hi}");
    }
}
