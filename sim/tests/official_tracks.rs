//! What official DeepRacer track files get wrong and DeepRacer tolerates: each defect, built into a
//! `.npy` the test writes, loads with a warning naming its kind and waypoint, and the track is raced
//! both ways round. What cannot be raced is still refused.

mod common;

use std::path::{Path, PathBuf};

use slipstream_sim::driver::PurePursuit;
use slipstream_sim::track::{Track, TrackWarning, ValidateOptions, npy};
use slipstream_sim::{Action, ActionSpace, EnvConfig, Mode, RaceConfig, VecEnv};

/// A counter-clockwise stadium: straights `l` long joined by half-circles of radius `r` (the centre
/// line), `2h` wide, a row about every 0.1 m, starting on the bottom straight. Returns the rows
/// (the last repeats the first) and each row's arc length `u`.
struct Stadium {
    l: f64,
    r: f64,
    h: f64,
    n: usize,
}

impl Stadium {
    fn new(l: f64, r: f64, h: f64) -> Self {
        let n = ((2.0 * l + 2.0 * std::f64::consts::PI * r) / 0.1).round() as usize;
        Stadium { l, r, h, n }
    }
    fn perimeter(&self) -> f64 {
        2.0 * self.l + 2.0 * std::f64::consts::PI * self.r
    }
    fn u(&self, k: usize) -> f64 {
        self.perimeter() * k as f64 / self.n as f64
    }
    /// Centre point and unit tangent at arc length `u`.
    fn at(&self, u: f64) -> ((f64, f64), (f64, f64)) {
        let (l, r) = (self.l, self.r);
        let pi = std::f64::consts::PI;
        let u = u.rem_euclid(self.perimeter());
        if u < l {
            ((u, -r), (1.0, 0.0))
        } else if u < l + pi * r {
            let a = -pi / 2.0 + (u - l) / r;
            ((l + r * a.cos(), r * a.sin()), (-a.sin(), a.cos()))
        } else if u < 2.0 * l + pi * r {
            ((l - (u - l - pi * r), r), (-1.0, 0.0))
        } else {
            let a = pi / 2.0 + (u - 2.0 * l - pi * r) / r;
            ((r * a.cos(), r * a.sin()), (-a.sin(), a.cos()))
        }
    }
    /// Whether arc length `u` lies in a bend.
    fn in_bend(&self, u: f64) -> bool {
        let pi = std::f64::consts::PI;
        let u = u.rem_euclid(self.perimeter());
        (self.l..self.l + pi * self.r).contains(&u) || u >= 2.0 * self.l + pi * self.r
    }
    /// A row at arc length `u`, its outer border point taken at `u + outer_shift`.
    fn row(&self, u: f64, outer_shift: f64) -> [f64; 6] {
        let ((x, y), (tx, ty)) = self.at(u);
        let (nx, ny) = (-ty, tx); // left: inside for a counter-clockwise loop
        let ((ox, oy), (otx, oty)) = self.at(u + outer_shift);
        let (onx, ony) = (-oty, otx);
        [
            x,
            y,
            x + nx * self.h,
            y + ny * self.h,
            ox - onx * self.h,
            oy - ony * self.h,
        ]
    }
    fn rows(&self, outer_shift: f64) -> Vec<[f64; 6]> {
        let mut rows: Vec<[f64; 6]> = (0..self.n).map(|k| self.row(self.u(k), outer_shift)).collect();
        rows.push(rows[0]);
        rows
    }
}

fn write_npy(dir: &Path, name: &str, rows: &[[f64; 6]]) -> PathBuf {
    let p = dir.join(name);
    npy::write_track_rows(&p, rows).unwrap();
    p
}

/// Race the pure-pursuit driver one lap round `track`; returns (completed laps, off-tracks).
fn race_one_lap(track: Track) -> (u32, u32) {
    let mut cfg = EnvConfig::new(track);
    cfg.action_space = ActionSpace::continuous(-30.0, 30.0, 0.1, 4.0);
    cfg.mode = Mode::Race(RaceConfig {
        laps: 1,
        ..Default::default()
    });
    let car = cfg.car.clone();
    let track = cfg.tracks[0].clone();
    let mut env = VecEnv::new(cfg, 1).unwrap();
    let mut out = env.buffers(true);
    env.reset(0, &mut out).unwrap();
    let driver = PurePursuit::default();
    for _ in 0..3000 {
        let (s, v) = driver.act(&track, &car, &out.params[0]);
        env.step(&[Action::Continuous([s as f32, v as f32])], &mut out).unwrap();
        if out.done[0] != 0 {
            break;
        }
    }
    let r = env.race_results().unwrap().remove(0);
    let off: u32 = r.laps.iter().map(|l| l.off_track).sum();
    (r.completed_laps() as u32, off)
}

/// Load `path` (which must load) and race it both ways round without leaving the road.
fn loads_and_races(path: &Path) -> Track {
    let t = Track::load(path, &ValidateOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    for track in [t.clone(), t.reversed()] {
        let reversed = track.is_reversed();
        let (laps, off) = race_one_lap(track);
        assert_eq!((laps, off), (1, 0), "{} reversed={reversed}", path.display());
    }
    t
}

#[test]
fn a_loop_that_does_not_repeat_its_first_point_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let s = Stadium::new(4.0, 1.0, 0.4);
    let mut rows = s.rows(0.0);
    rows.pop(); // no repeated first row ...
    let last = rows.len() - 1;
    rows[last] = s.row(s.perimeter() - 0.07, 0.0); // ... and the last one stops 7 cm short
    let path = write_npy(dir.path(), "gap.npy", &rows);
    let t = loads_and_races(&path);
    assert!(t.is_closed());
    assert_eq!(t.num_waypoints(), rows.len() + 1, "row 0 appended");
    assert_eq!(t.waypoints()[rows.len()], t.waypoints()[0]);
    match t.warnings() {
        [TrackWarning::LoopClosed { index, gap }] => {
            assert_eq!(*index, rows.len());
            assert!((gap - 0.07).abs() < 1e-3, "{gap}");
        }
        other => panic!("{other:?}"),
    }
    let w = &t.warnings()[0];
    assert_eq!(w.kind(), "loop_closed");
    assert!(w.to_string().contains(&format!("waypoint {}", rows.len())), "{w}");
    // Its info lists the warning.
    assert_eq!(t.info().warnings.len(), 1);

    // A gap of several rows is no near-miss: the file is an open line whose ends overlap.
    let mut rows = s.rows(0.0);
    rows.truncate(rows.len() - 6);
    let e = Track::load(
        &write_npy(dir.path(), "wide_gap.npy", &rows),
        &ValidateOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("overlaps itself"), "{e}");
}

/// Rows with the outer border folding back just after row `k` (a loop of `size` scale).
fn fold(s: &Stadium, k: usize, size: f64) -> Vec<[f64; 6]> {
    let mut rows = s.rows(0.0);
    let step = s.u(1);
    // On the bottom straight: along +x, outwards −y.
    // Point k+1 runs on to 1.8 steps, k+2 steps back to 0.9 and 2 cm out, k+3 (in its place) lies
    // 4 cm in: k+2 → k+3 crosses k → k+1 at 1.6 steps, enclosing a 2 cm² loop.
    let (ax, ay) = (rows[k][4], rows[k][5]);
    rows[k + 1][4..6].copy_from_slice(&[ax + 1.8 * step, ay]);
    rows[k + 2][4..6].copy_from_slice(&[ax + 0.9 * step, ay - 0.02 * size]);
    rows[k + 3][4..6].copy_from_slice(&[ax + 3.0 * step, ay + 0.04 * size]);
    rows
}

#[test]
fn a_border_folding_back_by_centimetres_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let s = Stadium::new(4.0, 1.0, 0.4);
    let path = write_npy(dir.path(), "fold.npy", &fold(&s, 10, 1.0));
    let t = loads_and_races(&path);
    match t.warnings() {
        [
            TrackWarning::BorderFold {
                index,
                last,
                border,
                area,
            },
        ] => {
            assert_eq!((*index, *last, *border), (11, 12, "outer"));
            assert!(*area > 1e-4 && *area < 3e-4, "about 2 cm²: {area}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(t.warnings()[0].kind(), "border_fold");
    assert_eq!(t.waypoints()[11].outer, t.waypoints()[12].outer);
    // A fold six times the size (12 cm deep) is a border that really crosses itself.
    let e = Track::load(
        &write_npy(dir.path(), "big_fold.npy", &fold(&s, 10, 6.0)),
        &ValidateOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("outer border crosses itself"), "{e}");
}

#[test]
fn slanted_rows_with_border_points_on_the_wrong_side_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    // Tight bends (radius 0.5 m, 0.8 m wide) and outer border points taken 0.6 m further along
    // than their centre points: in the bends some lie across the centre line's local direction.
    let s = Stadium::new(3.0, 0.5, 0.4);
    let shift = 0.6;
    let path = write_npy(dir.path(), "slanted.npy", &s.rows(shift));
    let t = loads_and_races(&path);
    // Every outer row is slanted (one summary warning) ...
    match &t.warnings()[0] {
        TrackWarning::SlantedRows {
            index,
            count,
            border,
            worst_deg,
        } => {
            assert_eq!((*index, *count, *border), (0, s.n, "outer"));
            assert!(*worst_deg > 50.0 && *worst_deg < 90.0, "{worst_deg}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(t.warnings()[0].kind(), "slanted_rows");
    // ... and in the bends some border points lie across the centre line's local direction.
    let wrong_side = &t.warnings()[1..];
    assert!(!wrong_side.is_empty());
    for w in wrong_side {
        let TrackWarning::BorderWrongSide { index, border } = w else {
            panic!("{w:?}")
        };
        assert_eq!(*border, "outer");
        let u = s.u(*index);
        assert!(s.in_bend(u) || s.in_bend(u + shift), "row {index} is near a bend");
        assert!(w.to_string().contains(&format!("waypoint {index}")), "{w}");
        assert_eq!(w.kind(), "border_wrong_side");
    }
    // The half-width towards a slanted border is the distance to the border line (0.4 m), not to
    // the row's own border point (over 0.7 m away), in bends and on straights alike.
    let k = match wrong_side[0] {
        TrackWarning::BorderWrongSide { index, .. } => index,
        _ => unreachable!(),
    };
    for row in [k, 5] {
        let (left, right) = t.half_widths(row, 0.0);
        let to_point = t.waypoints()[row].center.distance(t.waypoints()[row].outer);
        assert!(to_point > 0.7, "row {row}: {to_point}");
        assert!(
            (right - 0.4).abs() < 0.01 && (left - 0.4).abs() < 1e-9,
            "row {row}: {left} {right}"
        );
    }
}

#[test]
fn clean_tracks_have_no_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let s = Stadium::new(4.0, 1.0, 0.4);
    let t = loads_and_races(&write_npy(dir.path(), "clean.npy", &s.rows(0.0)));
    assert!(t.warnings().is_empty(), "{:?}", t.warnings());
    for b in slipstream_sim::track::builtin::all() {
        let t = b.build(&ValidateOptions::default()).unwrap();
        assert!(t.warnings().is_empty(), "{}: {:?}", b.name, t.warnings());
    }
    let t = common::builtin("oval");
    assert_eq!(t.info().warnings, vec![]);
}
