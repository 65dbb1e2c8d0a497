//! Built-in tracks: Slipstream's own designs (none is a copy of a DeepRacer track), from an easy oval to
//! technical hairpins and chicanes, in both driving directions, plus an open drag strip.
//!
//! Each design is a turtle program of straights and circular arcs ([`Piece`]), sampled every
//! [`SPACING`] metres with borders offset half the width either side.

use super::spline::{Piece, turtle, with_borders};
use super::{Track, ValidateOptions};
use crate::error::{TrackError, TrackErrorKind};
use crate::math::Vec2;

/// Waypoint spacing of the built-in tracks, metres (DeepRacer's tracks use 0.15–0.2 m).
pub const SPACING: f64 = 0.15;

/// A built-in track design.
#[derive(Clone, Debug)]
pub struct Builtin {
    pub name: &'static str,
    pub description: &'static str,
    pub difficulty: &'static str,
    pub width: f64,
    pub closed: bool,
    pieces: fn() -> Vec<Piece>,
}

use Piece::{Left as L, Right as R, Straight as S};

fn oval() -> Vec<Piece> {
    vec![S(6.0), L(2.0, 180.0), S(6.0), L(2.0, 180.0)]
}

fn speedway() -> Vec<Piece> {
    vec![S(6.0), R(2.5, 120.0), S(6.0), R(2.5, 120.0), S(6.0), R(2.5, 120.0)]
}

fn kidney() -> Vec<Piece> {
    // A stadium whose far straight has a dent: left, right, left arcs with no net turn.
    let (r, a) = (1.2, 50.0_f64);
    let x = (5.0 - 4.0 * r * crate::math::sin(a.to_radians())) / 2.0;
    vec![
        S(5.0),
        L(1.8, 180.0),
        S(x),
        L(r, a),
        R(r, 2.0 * a),
        L(r, a),
        S(x),
        L(1.8, 180.0),
    ]
}

fn sweeper() -> Vec<Piece> {
    vec![
        S(5.6),
        L(1.9, 120.0),
        S(1.2),
        R(2.1, 40.0),
        S(1.7),
        L(1.8, 140.0),
        S(6.93),
        L(2.4, 140.0),
    ]
}

fn chicanes() -> Vec<Piece> {
    let (r, a) = (0.5, 70.0);
    let chicane = [L(r, a), R(r, 2.0 * a), L(r, a)];
    let mut p = vec![S(1.5)];
    p.extend(chicane);
    p.extend([S(3.0), R(1.6, 180.0), S(1.5)]);
    p.extend(chicane);
    p.extend([S(3.0), R(1.6, 180.0)]);
    p
}

fn snake() -> Vec<Piece> {
    // A meander of half-circles on the near straight.
    let r = 0.65;
    let side = (9.0 - 4.0 * r) / 2.0;
    let mut p = vec![S(9.0), R(1.2, 90.0), S(3.5), R(1.2, 90.0), S(side)];
    p.extend([L(r, 90.0), R(r, 180.0), L(r, 180.0), R(r, 180.0), L(r, 90.0)]);
    p.extend([S(side), R(1.2, 90.0), S(3.5), R(1.2, 90.0)]);
    p
}

fn hairpins() -> Vec<Piece> {
    // Two fingers reaching into the loop, each ending in a 0.55 m hairpin.
    let finger = [L(0.5, 90.0), S(2.5), R(0.55, 180.0), S(2.5), L(0.5, 90.0)];
    let mut p = vec![S(8.0), L(1.0, 90.0), S(3.5), L(1.0, 90.0), S(1.2)];
    p.extend(finger);
    p.push(S(1.4));
    p.extend(finger);
    p.extend([S(1.2), L(1.0, 90.0), S(3.5), L(1.0, 90.0)]);
    p
}

fn harbour() -> Vec<Piece> {
    // A narrow street circuit: a rectilinear outline with 0.5 m corners.
    let outline = [
        (0.0, 0.0),
        (7.0, 0.0),
        (7.0, 2.5),
        (4.5, 2.5),
        (4.5, 5.0),
        (0.0, 5.0),
        (0.0, 3.2),
        (1.5, 3.2),
        (1.5, 1.8),
        (0.0, 1.8),
    ];
    fillet(&outline.map(|(x, y)| Vec2::new(x, y)), 0.5)
}

fn drag_strip() -> Vec<Piece> {
    vec![S(12.0)]
}

/// Turn a polygon (first edge along +x) into straights joined by arcs of radius `r` at every corner.
fn fillet(poly: &[Vec2], r: f64) -> Vec<Piece> {
    let n = poly.len();
    let turn = |i: usize| -> f64 {
        let a = poly[(i + n - 1) % n];
        let b = poly[i];
        let c = poly[(i + 1) % n];
        let (d1, d2) = ((b - a).normalize_or_zero(), (c - b).normalize_or_zero());
        crate::math::atan2(d1.cross(d2), d1.dot(d2))
    };
    let tangent = |i: usize| r * crate::math::tan(turn(i).abs() / 2.0);
    let mut out = Vec::with_capacity(2 * n);
    for i in 0..n {
        let j = (i + 1) % n;
        out.push(S(poly[i].distance(poly[j]) - tangent(i) - tangent(j)));
        let a = turn(j);
        out.push(if a > 0.0 {
            L(r, a.to_degrees())
        } else {
            R(r, -a.to_degrees())
        });
    }
    out
}

/// Every built-in design.
pub fn all() -> &'static [Builtin] {
    const LIST: &[Builtin] = &[
        Builtin {
            name: "oval",
            description: "an easy stadium oval",
            difficulty: "easy",
            width: 1.07,
            closed: true,
            pieces: oval,
        },
        Builtin {
            name: "speedway",
            description: "a fast tri-oval, clockwise",
            difficulty: "easy",
            width: 1.0,
            closed: true,
            pieces: speedway,
        },
        Builtin {
            name: "kidney",
            description: "a stadium with a left-right-left dent on the far side",
            difficulty: "moderate",
            width: 0.9,
            closed: true,
            pieces: kidney,
        },
        Builtin {
            name: "sweeper",
            description: "flowing bends of different radii and a right-hand kink",
            difficulty: "moderate",
            width: 1.1,
            closed: true,
            pieces: sweeper,
        },
        Builtin {
            name: "chicanes",
            description: "a clockwise stadium with a tight chicane on each straight",
            difficulty: "technical",
            width: 0.8,
            closed: true,
            pieces: chicanes,
        },
        Builtin {
            name: "snake",
            description: "a clockwise loop with a meander of half-circle bends",
            difficulty: "technical",
            width: 0.7,
            closed: true,
            pieces: snake,
        },
        Builtin {
            name: "hairpins",
            description: "two fingers reaching into the loop, each ending in a 0.55 m hairpin",
            difficulty: "technical",
            width: 0.76,
            closed: true,
            pieces: hairpins,
        },
        Builtin {
            name: "harbour",
            description: "a narrow street circuit of right-angle corners",
            difficulty: "technical",
            width: 0.6,
            closed: true,
            pieces: harbour,
        },
        Builtin {
            name: "drag_strip",
            description: "an open 12 m straight (not a loop)",
            difficulty: "easy",
            width: 0.8,
            closed: false,
            pieces: drag_strip,
        },
    ];
    LIST
}

/// Find a built-in design by name.
pub fn find(name: &str) -> Option<&'static Builtin> {
    all().iter().find(|b| b.name == name)
}

impl Builtin {
    /// Build and validate the track.
    pub fn build(&self, opts: &ValidateOptions) -> Result<Track, TrackError> {
        let center = turtle(&(self.pieces)(), SPACING, self.closed);
        let waypoints = with_borders(&center, self.width, self.closed);
        Track::from_waypoints(self.name, waypoints, opts)
    }
}

/// Load a built-in track by name.
pub fn load(name: &str, opts: &ValidateOptions) -> Result<Track, TrackError> {
    match find(name) {
        Some(b) => b.build(opts),
        None => Err(TrackError::new(
            name,
            TrackErrorKind::UnknownBuiltin {
                name: name.to_string(),
                known: all().iter().map(|b| b.name).collect::<Vec<_>>().join(", "),
            },
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::Direction;

    #[test]
    fn every_builtin_is_valid_in_both_directions() {
        let opts = ValidateOptions::default();
        let mut directions = Vec::new();
        for b in all() {
            let t = b.build(&opts).unwrap_or_else(|e| panic!("{}: {e}", b.name));
            assert!(
                (t.width_min() - b.width).abs() < 0.02,
                "{}: width {}",
                b.name,
                t.width_min()
            );
            assert!((0.6..=1.1).contains(&b.width));
            assert_eq!(t.is_closed(), b.closed);
            assert!(t.length() > 10.0, "{}", b.name);
            directions.push(t.direction());
            let r = t.reversed();
            assert!((r.length() - t.length()).abs() < 1e-9);
        }
        assert!(directions.contains(&Some(Direction::Clockwise)));
        assert!(directions.contains(&Some(Direction::CounterClockwise)));
        assert!(all().len() >= 9);
    }

    #[test]
    fn unknown_name_lists_the_known_ones() {
        let e = load("nope", &ValidateOptions::default()).unwrap_err().to_string();
        assert!(
            e.contains("nope") && e.contains("oval") && e.contains("hairpins"),
            "{e}"
        );
    }
}
