//! `sim plot`, black-box: a scripted race's trace plotted on its track. The pictures are decoded
//! and checked against the trace: the driven line lies on the road where the track projects, the
//! off-tracks are marked where the car left the road, and the lap times match the race's.

use std::path::Path;

mod common;
use common::{fails_with_env as fails_with, ok_json, pixel, sim_env as sim};

use slipstream_sim::plot::map::{OFF_TRACK_CROSS, is_speed_colour, map_size};
use slipstream_sim::plot::render;
use slipstream_sim::plot::trace_plots::{ACTIONS_FILE, LAPS_FILE, MAP_FILE, TracePlot};
use slipstream_sim::trace::{off_track_points, read_trace};
use slipstream_sim::track::{Track, ValidateOptions};

/// Decode an RGB PNG: (width, height, pixels).
fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = png::Decoder::new(std::io::BufReader::new(file)).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb, "{}", path.display());
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn a_race_with_off_tracks_is_plotted_on_its_track() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("race.csv");
    let trace_s = trace.to_str().unwrap();
    // Cornering at 8 m/s² the scripted car leaves the road in most hairpins; with resets it is
    // held for the penalty each time and laps on.
    let race = ok_json(&[
        "drive",
        "--track",
        "hairpins",
        "--laps",
        "2",
        "--continuous",
        "--number-of-resets",
        "unlimited",
        "--lateral-accel",
        "8",
        "--trace",
        trace_s,
        "--json",
    ]);
    let race_laps = race["laps"].as_array().unwrap();
    let race_off: u64 = race_laps.iter().map(|l| l["off_track"].as_u64().unwrap()).sum();
    assert!(race_off >= 4, "the race should have off-tracks: {race}");

    let out = dir.path().join("plots");
    let report = ok_json(&[
        "plot",
        trace_s,
        "--track",
        "hairpins",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    let files: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 3, "{report}");
    for (f, name) in files.iter().zip([MAP_FILE, LAPS_FILE, ACTIONS_FILE]) {
        assert_eq!(Path::new(f), out.join(name));
        let (w, h, rgb) = decode(Path::new(f));
        assert!(w >= 1000 && h >= 500, "{f}: {w}×{h}");
        let ink = rgb.chunks(3).filter(|p| *p != [255, 255, 255]).count();
        assert!(ink > (w * h / 50) as usize, "{f}: only {ink} non-white pixels");
    }

    // The summary agrees with the race: laps (to the step), penalties, off-tracks.
    let s = &report["summary"];
    assert_eq!(s["speed_from"], "X/Y and tstamp");
    assert_eq!(s["completed_laps"], race["completed_laps"]);
    assert_eq!(s["off_track"].as_u64().unwrap(), race_off);
    let laps = s["laps"].as_array().unwrap();
    assert_eq!(laps.len(), race_laps.len());
    for (l, r) in laps.iter().zip(race_laps) {
        let (a, b) = (l["time_s"].as_f64().unwrap(), r["time_s"].as_f64().unwrap());
        assert!(
            (a - b).abs() <= 1.0 / 15.0 + 1e-9,
            "lap {a} s from the trace, {b} s in the race"
        );
        assert_eq!(l["penalty_s"], r["penalty_s"]);
    }

    // The map the command wrote is the library's drawing of the trace, pixel for pixel; so its
    // projection says where every trace row is in the picture.
    let track = Track::resolve("hairpins", &ValidateOptions::default()).unwrap();
    let rows = read_trace(&trace).unwrap();
    let plot = TracePlot::new(&track, &rows, "race.csv");
    let (w, h, written) = decode(&out.join(MAP_FILE));
    assert_eq!((w, h), map_size(&track, &plot.layers(), 1400));
    let (rgb, proj) = render((w, h), |a| plot.draw_map(a)).unwrap();
    assert!(rgb == written, "the written map differs from the library's drawing");
    let (sx, sy) = proj.pixels_per_metre();
    assert!((sx / sy - 1.0).abs() < 0.01, "not to scale: {sx} px/m across, {sy} up");
    // Rows driven with all wheels on the road are drawn in a speed colour where they project.
    let on_road: Vec<_> = rows
        .iter()
        .filter(|r| r.all_wheels_on_track && r.status == "in_progress")
        .collect();
    let coloured = on_road
        .iter()
        .filter(|r| is_speed_colour(pixel(&rgb, w, proj.to_pixel(r.pos))))
        .count();
    assert!(
        coloured * 100 >= on_road.len() * 97,
        "{coloured} of {} rows on the line",
        on_road.len()
    );
    // Every speed-coloured pixel of the map lies on the road or just off it (where wheels were off).
    let (xs, ys) = proj.pixel_range();
    let (mut trail, mut far) = (0, 0);
    for y in ys {
        for x in xs.clone() {
            if is_speed_colour(pixel(&rgb, w, (x, y))) {
                trail += 1;
                let p = track.project_global(proj.to_metres((x, y)));
                if p.distance > track.width_at(p.seg) / 2.0 + 0.6 {
                    far += 1;
                }
            }
        }
    }
    assert!(
        trail > 2000 && far == 0,
        "{far} of {trail} line pixels far off the road"
    );
    // Each off-track is marked with a cross where the car left the road.
    let offs = off_track_points(&rows);
    assert_eq!(offs.len() as u64, race_off);
    for p in &offs {
        let (cx, cy) = proj.to_pixel(*p);
        let cross = (-10..=10)
            .flat_map(|dy| (-10..=10).map(move |dx| (cx + dx, cy + dy)))
            .filter(|&q| pixel(&rgb, w, q) == [OFF_TRACK_CROSS.0, OFF_TRACK_CROSS.1, OFF_TRACK_CROSS.2])
            .count();
        assert!(cross >= 10, "no cross at the off-track {p:?} ({cross} pixels)");
        assert!(
            track.project_global(*p).distance > track.width_at(0) / 2.0 - 0.1,
            "{p:?} is on the road"
        );
    }

    // One picture with all three when --out names a .png file.
    let one = dir.path().join("sub/race.png");
    let report = ok_json(&[
        "plot",
        trace_s,
        "--track",
        "hairpins",
        "--out",
        one.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(report["files"], serde_json::json!([one]));
    let (w, h, rgb) = decode(&one);
    assert!(
        w > h
            && rgb
                .chunks(3)
                .any(|p| p == [OFF_TRACK_CROSS.0, OFF_TRACK_CROSS.1, OFF_TRACK_CROSS.2])
    );
    // People get the numbers and the paths.
    let text = sim(
        &["plot", trace_s, "--track", "hairpins", "--out", out.to_str().unwrap()],
        &[],
    );
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("2 completed lap(s)") && text.contains(&format!("wrote {}", out.join(MAP_FILE).display())),
        "{text}"
    );
}

#[test]
fn bad_plot_input_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.csv");
    let t = trace.to_str().unwrap();
    let out = dir.path().join("p");
    let o = out.to_str().unwrap();
    fails_with(
        &["plot", "missing.csv", "--track", "oval", "--out", o],
        &[],
        "missing.csv",
    );
    std::fs::write(&trace, "episode,X\n0,1\n").unwrap();
    fails_with(&["plot", t, "--track", "oval", "--out", o], &[], "missing column(s) Y");
    ok_json(&["drive", "--track", "hairpins", "--laps", "1", "--trace", t, "--json"]);
    fails_with(
        &["plot", t, "--track", "no_such_track", "--out", o],
        &[],
        "no_such_track",
    );
    fails_with(
        &["plot", t, "--track", "drag_strip", "--out", o],
        &[],
        "is --track the track this trace was driven on",
    );
    fails_with(
        &["plot", t, "--track", "hairpins", "--out", o],
        &[("SLIPSTREAM_FONT", "/no/such/font.ttf")],
        "/no/such/font.ttf",
    );
    assert!(!out.join(MAP_FILE).exists(), "nothing is written after an error");
    let help = sim(&["plot", "--help"], &[]);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--track") && help.contains(".png") && help.contains("SIM_TRACE_LOG"),
        "{help}"
    );
}
