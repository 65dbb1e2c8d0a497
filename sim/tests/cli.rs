//! The `sim` binary, black-box: output formats, files it writes, and errors for bad input.

use std::path::Path;
use std::process::Command;

mod common;
use common::{fails_with, ok_json, sim};

#[test]
fn help_explains_the_commands() {
    let out = sim(&["--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["track", "drive", "bench"] {
        assert!(text.contains(word), "{text}");
    }
    let out = sim(&["drive", "--help"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("--laps"));
}

#[test]
fn track_list_info_and_generate() {
    let v = ok_json(&["track", "list", "--json"]);
    let tracks = v["tracks"].as_array().unwrap();
    assert!(tracks.len() >= 9);
    assert!(tracks.iter().any(|t| t["name"] == "oval" && t["closed"] == true));
    let v = ok_json(&["track", "info", "hairpins", "--json"]);
    for key in [
        "name",
        "waypoints",
        "length_m",
        "width_min_m",
        "width_mean_m",
        "closed",
        "direction",
    ] {
        assert!(v.get(key).is_some(), "missing {key}: {v}");
    }
    let rev = ok_json(&["track", "info", "hairpins", "--reverse", "--json"]);
    assert_ne!(v["direction"], rev["direction"]);

    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.npy");
    let b = dir.path().join("b.npy");
    let c = dir.path().join("c.csv");
    let args = |p: &Path| {
        vec![
            "track",
            "generate",
            "--seed",
            "4",
            "--length",
            "30",
            "--width",
            "0.9",
            "--out",
            p.to_str().unwrap(),
            "--json",
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>()
    };
    let run = |p: &Path| {
        let a = args(p);
        ok_json(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let g = run(&a);
    assert!((g["length_m"].as_f64().unwrap() - 30.0).abs() < 0.5, "{g}");
    run(&b);
    run(&c);
    assert_eq!(
        std::fs::read(&a).unwrap(),
        std::fs::read(&b).unwrap(),
        "same seed, same file"
    );
    let info = ok_json(&["track", "info", a.to_str().unwrap(), "--json"]);
    assert_eq!(info["waypoints"], g["waypoints"]);
    let info_csv = ok_json(&["track", "info", c.to_str().unwrap(), "--json"]);
    assert_eq!(info_csv["waypoints"], g["waypoints"]);
}

#[test]
fn track_export_writes_deepracer_npy_that_loads_back_the_same() {
    use slipstream_sim::track::generate::{GenerateRequest, generate};
    use slipstream_sim::track::{Track, ValidateOptions, builtin, npy};
    let dir = tempfile::tempdir().unwrap();
    let opts = ValidateOptions::default();
    let same = |a: &Track, b: &Track| {
        assert_eq!(a.num_waypoints(), b.num_waypoints());
        for (ra, rb) in a.rows().iter().zip(b.rows()) {
            for (x, y) in ra.iter().zip(rb) {
                assert!((x - y).abs() < 1e-12, "{ra:?} vs {rb:?}");
            }
        }
        assert_eq!((a.is_closed(), a.direction()), (b.is_closed(), b.direction()));
        assert!((a.length() - b.length()).abs() < 1e-9);
    };
    for name in ["hairpins", "drag_strip"] {
        let p = dir.path().join(format!("{name}.npy"));
        let v = ok_json(&["track", "export", name, "--out", p.to_str().unwrap(), "--json"]);
        assert_eq!(v["file"], p.to_str().unwrap());
        let orig = builtin::load(name, &opts).unwrap();
        assert_eq!(v["waypoints"], orig.num_waypoints());
        // DeepRacer's layout: N×6 float64, centre, inner, outer; a loop repeats its first row.
        let rows = npy::read_track_rows(&p).unwrap();
        assert_eq!(rows, orig.rows());
        assert_eq!(rows.first() == rows.last(), orig.is_closed(), "{name}");
        let back = Track::load(&p, &opts).unwrap();
        same(&back, &orig);
        assert!(back.warnings().is_empty(), "{:?}", back.warnings());
    }
    // A generated track as .npy loads back as the generator made it.
    let p = dir.path().join("generated.npy");
    ok_json(&[
        "track",
        "generate",
        "--seed",
        "9",
        "--length",
        "25",
        "--width",
        "0.8",
        "--out",
        p.to_str().unwrap(),
        "--json",
    ]);
    let req = GenerateRequest {
        seed: 9,
        length: 25.0,
        width: 0.8,
        difficulty: 0.5,
    };
    same(&Track::load(&p, &opts).unwrap(), &generate(&req, &opts).unwrap());
    // Human output, and bad requests.
    let out = sim(&[
        "track",
        "export",
        "oval",
        "--out",
        dir.path().join("o.csv").to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("wrote "));
    fails_with(&["track", "export", "oval", "--out", "x.txt"], ".npy or .csv");
    fails_with(&["track", "export", "no_such_track", "--out", "x.npy"], "no_such_track");
}

#[test]
fn track_info_lists_what_was_repaired_as_warnings() {
    use slipstream_sim::track::npy;
    let dir = tempfile::tempdir().unwrap();
    // A circle of 100 rows whose last row stops 6 cm short of the first (no repeated row).
    let (r, h, n) = (3.0_f64, 0.4, 100);
    let row = |a: f64| {
        let (c, s) = (a.cos(), a.sin());
        [r * c, r * s, (r - h) * c, (r - h) * s, (r + h) * c, (r + h) * s]
    };
    let mut rows: Vec<[f64; 6]> = (0..n)
        .map(|k| row(std::f64::consts::TAU * k as f64 / n as f64))
        .collect();
    rows[n - 1] = row(std::f64::consts::TAU - 0.06 / r);
    let p = dir.path().join("gap.npy");
    npy::write_track_rows(&p, &rows).unwrap();
    let v = ok_json(&["track", "info", p.to_str().unwrap(), "--json"]);
    let w = v["warnings"].as_array().unwrap();
    assert_eq!(w.len(), 1, "{v}");
    assert_eq!(w[0]["kind"], "loop_closed");
    assert_eq!(w[0]["index"], n);
    assert!(w[0]["message"].as_str().unwrap().contains("0.060 m"), "{v}");
    assert_eq!(v["closed"], true);
    let out = sim(&["track", "info", p.to_str().unwrap(), "--reverse"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.contains("warnings      1") && text.contains("loop_closed"),
        "{text}"
    );
    assert!(text.contains(&format!("waypoint {n}:")), "{text}");
    // The same warning is logged on stderr while loading.
    assert!(String::from_utf8_lossy(&out.stderr).contains("loop_closed"));
    // A clean track says so.
    let out = sim(&["track", "info", "oval"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("warnings      none"));
}

#[test]
fn drive_prints_lap_times_and_writes_a_trace() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.csv");
    let v = ok_json(&[
        "drive",
        "--track",
        "kidney",
        "--laps",
        "2",
        "--trace",
        trace.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(v["completed_laps"], 2);
    let laps = v["laps"].as_array().unwrap();
    assert_eq!(laps.len(), 2);
    assert!(laps.iter().all(|l| l["off_track"] == 0 && l["completed"] == true));
    let best = v["best_lap_s"].as_f64().unwrap();
    assert!(best > 3.0 && best < 20.0, "{v}");
    let text = std::fs::read_to_string(&trace).unwrap();
    assert!(text.starts_with("episode,steps,X,Y,yaw,steer,throttle,action,reward,done"));
    assert!(text.lines().count() > 50);
    // Human output.
    let out = sim(&["drive", "--track", "oval", "--laps", "1"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("best lap"));
    // DeepRacer's race rules as options: a driver cornering too fast leaves the track; by default
    // that ends the trial, with resets it is held for the penalty and laps on.
    let fast = [
        "drive",
        "--track",
        "hairpins",
        "--laps",
        "2",
        "--lateral-accel",
        "12",
        "--json",
    ];
    let v = ok_json(&fast);
    let laps = v["laps"].as_array().unwrap();
    assert_eq!(laps.len(), 2, "{v}");
    assert!(
        laps.iter()
            .all(|l| l["ended"] == "off_track" && l["completed"] == false),
        "{v}"
    );
    let v = ok_json(
        &[
            &fast[..],
            &[
                "--continuous",
                "--number-of-resets",
                "unlimited",
                "--off-track-penalty",
                "3",
            ],
        ]
        .concat(),
    );
    let laps = v["laps"].as_array().unwrap();
    assert!(laps.iter().all(|l| l["completed"] == true), "{v}");
    let off: f64 = laps.iter().map(|l| l["off_track"].as_f64().unwrap()).sum();
    let penalty: f64 = laps.iter().map(|l| l["penalty_s"].as_f64().unwrap()).sum();
    assert!(off > 0.0 && penalty == 3.0 * off, "{v}");
    let out = sim(&["drive", "--track", "oval", "--number-of-resets", "many"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unlimited"));
}

#[test]
fn bench_reports_throughput_and_no_allocations() {
    for obs in ["state", "lidar"] {
        let v = ok_json(&[
            "bench",
            "--obs",
            obs,
            "--cars",
            "64",
            "--steps",
            "20",
            "--repeat",
            "2",
            "--threads",
            "2",
            "--json",
        ]);
        assert!(v["car_steps_per_s"].as_f64().unwrap() > 0.0);
        assert_eq!(v["allocations_per_step"].as_f64().unwrap(), 0.0, "{v}");
        assert_eq!(v["cars"], 64);
    }
}

#[test]
fn bad_input_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.npy");
    fails_with(&["track", "info", missing.to_str().unwrap()], "missing.npy");
    // The cause is said once, not repeated by the error chain.
    let o = sim(&["track", "info", missing.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    let broken = dir.path().join("broken.npy");
    std::fs::write(&broken, b"\x93NUMPY garbage").unwrap();
    fails_with(&["track", "info", broken.to_str().unwrap()], "broken.npy");
    fails_with(&["track", "info", "nowhere"], "built-in tracks");
    fails_with(
        &[
            "track", "generate", "--seed", "1", "--length", "3", "--width", "0.8", "--out", "x.npy",
        ],
        "length",
    );
    fails_with(
        &[
            "track", "generate", "--seed", "1", "--length", "20", "--width", "0.8", "--out", "x.txt",
        ],
        ".npy or .csv",
    );
    fails_with(&["drive", "--track", "oval", "--laps", "0"], "--laps");
    fails_with(&["drive", "--track", "oval", "--lateral-accel=-1"], "--lateral-accel");
    fails_with(&["bench", "--cars", "0"], "--cars");
    fails_with(&["bench", "--obs", "radar"], "radar");
    fails_with(
        &["camera", "--track", "oval", "--fov", "200", "--out", "x.png"],
        "camera.fov_deg",
    );
    fails_with(&["bench", "--threads", "0"], "threads");
}

#[test]
fn camera_writes_a_png_frame() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("f.png");
    let o = sim(&[
        "camera",
        "--track",
        "oval",
        "--progress",
        "5",
        "--stereo",
        "--obstacles",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&out).unwrap()));
    let reader = decoder.read_info().unwrap();
    let info = reader.info();
    assert_eq!((info.width, info.height), (320, 120), "stereo frames lie side by side");
    assert_eq!(info.color_type, png::ColorType::Grayscale);
}

/// `sim view` runs `slipstream-viewer` found next to `sim` (or on PATH) with its arguments, and
/// says how to build it when it is missing. A copy of `sim` in a scratch folder, with PATH
/// emptied, finds nothing; a stand-in script there receives the arguments.
#[cfg(unix)]
#[test]
fn view_runs_the_viewer_beside_sim_or_explains_how_to_build_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim");
    std::fs::copy(env!("CARGO_BIN_EXE_sim"), &sim).unwrap();
    let run = |args: &[&str]| Command::new(&sim).args(args).env("PATH", "").output().unwrap();

    let out = run(&["view", "--track", "oval"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("slipstream-viewer") && err.contains("cargo build --release -p slipstream-viewer"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    let viewer = dir.path().join("slipstream-viewer");
    let seen = dir.path().join("args.txt");
    std::fs::write(
        &viewer,
        format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\nexit 3\n", seen.display()),
    )
    .unwrap();
    std::fs::set_permissions(&viewer, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = run(&["view", "--track", "oval", "--bots", "2", "--help"]);
    assert_eq!(out.status.code(), Some(3), "the viewer's exit status comes back");
    let args = std::fs::read_to_string(&seen).unwrap();
    assert_eq!(
        args.lines().collect::<Vec<_>>(),
        ["--track", "oval", "--bots", "2", "--help"]
    );
}
