//! Track files: every class of bad file gets a clear error naming the file and the waypoint, line
//! or field; good files (with DeepRacer's quirks) load.

mod common;

use std::path::{Path, PathBuf};

use slipstream_sim::track::{Track, ValidateOptions, csv, npy};

fn write_npy(dir: &Path, name: &str, rows: &[[f64; 6]]) -> PathBuf {
    let p = dir.join(name);
    npy::write_track_rows(&p, rows).unwrap();
    p
}

fn err(path: &Path) -> String {
    let e = Track::load(path, &ValidateOptions::default()).unwrap_err().to_string();
    assert!(
        e.contains(&path.display().to_string()),
        "error does not name the file: {e}"
    );
    e
}

fn square() -> Vec<[f64; 6]> {
    common::square_rows(4.0, 0.6, 8)
}

#[test]
fn good_files_load_including_deepracer_quirks() {
    let dir = tempfile::tempdir().unwrap();
    // A repeated consecutive waypoint (zero-length segment), as some DeepRacer files have.
    let mut rows = square();
    rows.insert(5, rows[5]);
    let t = Track::load(&write_npy(dir.path(), "dup.npy", &rows), &ValidateOptions::default()).unwrap();
    assert!(t.is_closed());
    assert_eq!(t.num_waypoints(), rows.len());
    assert!((t.length() - 16.0).abs() < 1e-9);
    // An open straight.
    let straight: Vec<[f64; 6]> = (0..20)
        .map(|i| [i as f64 * 0.3, 0.0, i as f64 * 0.3, 0.3, i as f64 * 0.3, -0.3])
        .collect();
    let t = Track::load(
        &write_npy(dir.path(), "straight.npy", &straight),
        &ValidateOptions::default(),
    )
    .unwrap();
    assert!(!t.is_closed());
    assert!(t.direction().is_none());
    // The same columns as CSV, with a header.
    let p = dir.path().join("square.csv");
    std::fs::write(&p, csv::to_string(&square())).unwrap();
    let t = Track::load(&p, &ValidateOptions::default()).unwrap();
    assert_eq!(t.rows(), square());
}

#[test]
fn broken_npy_files() {
    let dir = tempfile::tempdir().unwrap();
    let good = npy::to_bytes(&square());
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("nomagic.npy", b"not numpy at all".to_vec(), "not a valid .npy file"),
        ("truncated.npy", good[..good.len() - 7].to_vec(), "truncated"),
        (
            "int.npy",
            String::from_utf8_lossy(&good[10..60])
                .replace("<f8", "<i8")
                .into_bytes(),
            "dtype",
        ),
        ("header.npy", good[..20].to_vec(), "header"),
    ];
    for (name, bytes, expected) in cases {
        let p = dir.path().join(name);
        let bytes = if name == "int.npy" {
            let mut b = good.clone();
            let pos = b.windows(3).position(|w| w == b"<f8").unwrap();
            b[pos..pos + 3].copy_from_slice(b"<i8");
            b
        } else {
            bytes
        };
        std::fs::write(&p, bytes).unwrap();
        let e = err(&p);
        assert!(e.contains(expected), "{name}: {e}");
    }
    // Wrong column count: a (N, 5) array.
    let mut b = good.clone();
    let pos = b.windows(4).position(|w| w == b", 6)").unwrap();
    b[pos..pos + 4].copy_from_slice(b", 5)");
    let p = dir.path().join("five.npy");
    std::fs::write(&p, b).unwrap();
    let e = err(&p);
    assert!(e.contains("expected 6 columns") && e.contains("found 5"), "{e}");
}

#[test]
fn broken_csv_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.csv");
    std::fs::write(&p, "1,2,3,4,5,6\n1,2,3,oops,5,6\n").unwrap();
    let e = err(&p);
    assert!(e.contains("line 2") && e.contains("inner_y"), "{e}");
    std::fs::write(&p, "1,2,3,4,5,6\n1,2,3\n").unwrap();
    let e = err(&p);
    assert!(e.contains("line 2") && e.contains("found 3"), "{e}");
}

#[test]
fn non_finite_values_name_the_waypoint_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = square();
    rows[3][2] = f64::NAN;
    let e = err(&write_npy(dir.path(), "nan.npy", &rows));
    assert!(
        e.contains("waypoint 3") && e.contains("inner_x") && e.contains("NaN"),
        "{e}"
    );
    rows[3][2] = 0.0;
    rows[7][5] = f64::INFINITY;
    let e = err(&write_npy(dir.path(), "inf.npy", &rows));
    assert!(e.contains("waypoint 7") && e.contains("outer_y"), "{e}");
}

#[test]
fn too_few_distinct_points() {
    let dir = tempfile::tempdir().unwrap();
    let rows = vec![[0.0, 0.0, 0.0, 0.3, 0.0, -0.3]; 5];
    let e = err(&write_npy(dir.path(), "dot.npy", &rows));
    assert!(e.contains("distinct"), "{e}");
    let e = err(&write_npy(dir.path(), "one.npy", &rows[..1]));
    assert!(e.contains("distinct"), "{e}");
}

#[test]
fn a_border_point_moved_across_the_centre_line_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = square();
    // Waypoint 10's inner border point is moved across to the outside: the inner border crosses
    // the centre line on its way there (a slanted row that stays on its side is only a warning).
    let r = rows[10];
    rows[10] = [
        r[0],
        r[1],
        r[0] + (r[0] - r[2]) * 3.0,
        r[1] + (r[1] - r[3]) * 3.0,
        r[4],
        r[5],
    ];
    let e = err(&write_npy(dir.path(), "side.npy", &rows));
    assert!(
        e.contains("waypoint 9: the inner border crosses the centre line"),
        "{e}"
    );
}

#[test]
fn border_point_crossing_to_the_other_side() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows: Vec<[f64; 6]> = (0..12)
        .map(|i| [i as f64 * 0.5, 0.0, i as f64 * 0.5, 0.4, i as f64 * 0.5, -0.4])
        .collect();
    rows[6][5] = 0.8; // the outer border point of waypoint 6 is across the centre line
    let e = err(&write_npy(dir.path(), "cross.npy", &rows));
    assert!(
        e.contains("waypoint 5: the outer border crosses the centre line"),
        "{e}"
    );
}

#[test]
fn a_hairpin_tighter_than_half_the_width_overlaps() {
    let dir = tempfile::tempdir().unwrap();
    // Two 2 m straights 0.4 m apart joined by 0.2 m half-circles, 0.6 m wide: the inner borders of
    // the two legs overlap.
    let mut center = Vec::new();
    for i in 0..10 {
        center.push((i as f64 * 0.2, 0.0));
    }
    for k in 0..8 {
        let a = -std::f64::consts::FRAC_PI_2 + std::f64::consts::PI * k as f64 / 8.0;
        center.push((2.0 + 0.2 * a.cos(), 0.2 + 0.2 * a.sin()));
    }
    for i in 0..10 {
        center.push((2.0 - i as f64 * 0.2, 0.4));
    }
    for k in 0..8 {
        let a = std::f64::consts::FRAC_PI_2 + std::f64::consts::PI * k as f64 / 8.0;
        center.push((0.2 * a.cos(), 0.2 + 0.2 * a.sin()));
    }
    center.push(center[0]);
    let n = center.len();
    let rows: Vec<[f64; 6]> = (0..n)
        .map(|i| {
            let p = center[(i + n - 2) % (n - 1)];
            let q = center[(i + 1) % (n - 1)];
            let (dx, dy) = (q.0 - p.0, q.1 - p.1);
            let l = (dx * dx + dy * dy).sqrt();
            let (nx, ny) = (-dy / l * 0.3, dx / l * 0.3);
            let c = center[i];
            [c.0, c.1, c.0 + nx, c.1 + ny, c.0 - nx, c.1 - ny]
        })
        .collect();
    let e = err(&write_npy(dir.path(), "hairpin.npy", &rows));
    assert!(e.contains("waypoint") && e.contains("overlaps itself"), "{e}");
}

#[test]
fn self_intersecting_centre_line() {
    let dir = tempfile::tempdir().unwrap();
    // A figure of eight drawn as one loop: the centre line crosses itself in the middle.
    let n = 80;
    let rows: Vec<[f64; 6]> = (0..=n)
        .map(|i| {
            let t = std::f64::consts::TAU * (i % n) as f64 / n as f64;
            let (x, y) = (3.0 * t.sin(), 1.5 * (2.0 * t).sin());
            let (dx, dy) = (3.0 * t.cos(), 3.0 * (2.0 * t).cos());
            let l = (dx * dx + dy * dy).sqrt();
            let (nx, ny) = (-dy / l * 0.15, dx / l * 0.15);
            [x, y, x + nx, y + ny, x - nx, y - ny]
        })
        .collect();
    let e = err(&write_npy(dir.path(), "eight.npy", &rows));
    assert!(e.contains("crosses itself") || e.contains("cross"), "{e}");
    assert!(e.contains("waypoint"), "{e}");
}

#[test]
fn narrower_than_the_car() {
    let dir = tempfile::tempdir().unwrap();
    let rows = common::square_rows(4.0, 0.15, 8);
    let e = err(&write_npy(dir.path(), "narrow.npy", &rows));
    assert!(e.contains("waypoint 0") && e.contains("narrower than the car"), "{e}");
}

#[test]
fn missing_file_and_unknown_extension_and_unknown_builtin() {
    let dir = tempfile::tempdir().unwrap();
    let e = err(&dir.path().join("missing.npy"));
    assert!(e.contains("cannot read"), "{e}");
    let p = dir.path().join("track.txt");
    std::fs::write(&p, "x").unwrap();
    let e = err(&p);
    assert!(e.contains(".npy or .csv"), "{e}");
    let e = Track::resolve("no_such_track", &ValidateOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("no_such_track") && e.contains("oval"), "{e}");
}
