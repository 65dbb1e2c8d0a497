//! `sim replay`, black-box and through the library: a scripted race (with off-tracks and holds)
//! replayed as a GIF. The file is decoded: one frame per 1/15 s of the race, delays that add up
//! to the race's duration; the frames show the car where the trace says it was, its trail on the
//! road, and the car's camera view.

use std::path::Path;
use std::sync::Arc;

mod common;
use common::{ok_json, pixel, sim};

use slipstream_sim::plot::map::is_speed_colour;
use slipstream_sim::plot::replay::{PANEL_WIDTH, ReplayOptions, ReplayRenderer, frame_rows};
use slipstream_sim::trace::read_trace;
use slipstream_sim::track::{Track, ValidateOptions};

/// The GIF's size, its frames' delays (hundredths of a second) and their rectangles' count.
fn gif_frames(path: &Path) -> ((u16, u16), Vec<u16>) {
    let file = std::fs::File::open(path).unwrap();
    let mut opts = gif::DecodeOptions::new();
    opts.set_color_output(gif::ColorOutput::Indexed);
    let mut d = opts.read_info(std::io::BufReader::new(file)).unwrap();
    let size = (d.width(), d.height());
    let mut delays = Vec::new();
    while let Some(f) = d.read_next_frame().unwrap() {
        assert!(f.left + f.width <= size.0 && f.top + f.height <= size.1);
        delays.push(f.delay);
    }
    (size, delays)
}

#[test]
fn a_race_is_replayed_frame_by_frame_in_real_time() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("race.csv");
    let t = trace.to_str().unwrap();
    let race = ok_json(&[
        "drive",
        "--track",
        "hairpins",
        "--laps",
        "1",
        "--continuous",
        "--number-of-resets",
        "unlimited",
        "--lateral-accel",
        "8",
        "--trace",
        t,
        "--json",
    ]);
    assert!(race["laps"][0]["off_track"].as_u64().unwrap() > 0, "{race}");
    let gif = dir.path().join("race.gif");
    let r = ok_json(&[
        "replay",
        t,
        "--track",
        "hairpins",
        "--out",
        gif.to_str().unwrap(),
        "--json",
    ]);

    // One frame per step of 1/15 s, both ends included; the delays keep real time.
    let rows = read_trace(&trace).unwrap();
    let duration = rows[rows.len() - 1].tstamp - rows[0].tstamp;
    let expected = (duration * 15.0 + 1e-6).floor() as usize + 1;
    assert_eq!(r["frames"], expected, "{r}");
    assert_eq!(frame_rows(&rows, 15.0, None).0.len(), expected);
    let (size, delays) = gif_frames(&gif);
    assert_eq!(delays.len(), expected);
    assert_eq!(
        (u32::from(size.0), u32::from(size.1)),
        (
            r["width"].as_u64().unwrap() as u32,
            r["height"].as_u64().unwrap() as u32
        )
    );
    let total_s = f64::from(delays.iter().map(|&d| u32::from(d)).sum::<u32>()) / 100.0;
    assert!(
        (total_s - expected as f64 / 15.0).abs() < 0.011,
        "{total_s} s of delays for {expected} frames"
    );
    assert_eq!(r["bytes"].as_u64().unwrap(), std::fs::metadata(&gif).unwrap().len());

    // The frames, drawn by the library as the command drew them.
    let track = Arc::new(Track::resolve("hairpins", &ValidateOptions::default()).unwrap());
    let mut replay = ReplayRenderer::new(track, rows.clone(), "race", ReplayOptions::default()).unwrap();
    let (w, _) = replay.size();
    let proj = replay.projection().clone();
    let mut frames = Vec::new();
    let keep = [0, expected / 2, expected - 1];
    let mut i = 0;
    replay
        .render_frames(|f| {
            if keep.contains(&i) {
                frames.push(f.to_vec());
            }
            i += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(i, expected);
    let dark = |c: [u8; 3]| c.iter().all(|&v| v < 60);
    for (f, &k) in frames.iter().zip(&keep) {
        // The car (a dark arrow) is drawn where its row says.
        let row = replay.frame_row(k);
        let (x, y) = proj.to_pixel(row.pos);
        let near: Vec<[u8; 3]> = (-4..=4)
            .flat_map(|dy| (-4..=4).map(move |dx| (x + dx, y + dy)))
            .map(|p| pixel(f, w, p))
            .collect();
        assert!(near.iter().any(|&c| dark(c)), "frame {k}: no car at {:?}", (x, y));
        // The camera view fills its place in the panel with road greys and the sky.
        let cam: Vec<[u8; 3]> = (0..200)
            .map(|d| pixel(f, w, (w as i32 - PANEL_WIDTH as i32 + 40 + d, 200)))
            .collect();
        assert!(
            cam.iter().all(|c| c[0] == c[1] && c[1] == c[2]),
            "frame {k}: the camera is grey"
        );
    }
    assert_ne!(frames[0], frames[2], "the car moved");
    // By the last frame the trail is drawn in speed colours along the road it drove.
    let driven: Vec<_> = rows
        .iter()
        .filter(|r| r.all_wheels_on_track && r.status == "in_progress")
        .collect();
    let on_trail = driven
        .iter()
        .filter(|r| {
            let (x, y) = proj.to_pixel(r.pos);
            (-1..=1).any(|d| is_speed_colour(pixel(&frames[2], w, (x + d, y))))
        })
        .count();
    assert!(
        on_trail * 10 >= driven.len() * 9,
        "{on_trail} of {} driven rows on the trail",
        driven.len()
    );
}

#[test]
fn replays_are_bounded_and_bad_input_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("race.csv");
    let t = trace.to_str().unwrap();
    ok_json(&["drive", "--track", "oval", "--laps", "1", "--trace", t, "--json"]);
    let gif = dir.path().join("short.gif");
    let r = ok_json(&[
        "replay",
        t,
        "--track",
        "oval",
        "--out",
        gif.to_str().unwrap(),
        "--max-frames",
        "20",
        "--no-camera",
        "--width",
        "400",
        "--json",
    ]);
    assert_eq!(r["frames"], 20, "{r}");
    assert_eq!(r["width"], 400 + PANEL_WIDTH, "{r}");
    assert!(r["fps"].as_f64().unwrap() < 15.0, "thinned: {r}");
    assert_eq!(gif_frames(&gif).1.len(), 20);
    let x = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (avi, wrong, none, slow) = (x("x.avi"), x("wrong.gif"), x("none.gif"), x("slow.gif"));
    // The oval 20 m further east: the trace is not on it.
    let far = x("far_oval.npy");
    let rows: Vec<[f64; 6]> = Track::resolve("oval", &ValidateOptions::default())
        .unwrap()
        .rows()
        .iter()
        .map(|r| [r[0] + 20.0, r[1], r[2] + 20.0, r[3], r[4] + 20.0, r[5]])
        .collect();
    slipstream_sim::track::npy::write_track_rows(Path::new(&far), &rows).unwrap();
    for (args, needle) in [
        (vec!["replay", t, "--track", "oval", "--out", &avi], ".gif or .mp4"),
        (
            vec!["replay", t, "--track", &far, "--out", &wrong],
            "is --track the track",
        ),
        (
            vec!["replay", "nope.csv", "--track", "oval", "--out", &none],
            "nope.csv",
        ),
        (
            vec!["replay", t, "--track", "oval", "--out", &slow, "--fps", "0"],
            "fps",
        ),
    ] {
        let out = sim(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // MP4 through ffmpeg, where it is installed.
    let mp4 = dir.path().join("race.mp4");
    let out = sim(&[
        "replay",
        t,
        "--track",
        "oval",
        "--out",
        mp4.to_str().unwrap(),
        "--max-frames",
        "30",
    ]);
    if slipstream_sim::plot::replay::ffmpeg_available() {
        assert!(out.status.success() && std::fs::metadata(&mp4).unwrap().len() > 1000);
    } else {
        eprintln!("ffmpeg is not installed: checking the MP4 request is refused clearly");
        assert!(String::from_utf8_lossy(&out.stderr).contains("need ffmpeg"));
    }
}

#[test]
fn a_head_to_head_replay_draws_the_other_car_where_its_trace_says() {
    use slipstream_sim::driver::PurePursuit;
    use slipstream_sim::plot::replay::{RIVAL_COLOURS, Rival};
    use slipstream_sim::trace::TraceWriter;
    use slipstream_sim::{Action, ActionSpace, EnvConfig, GroupConfig, Mode, RaceConfig, VecEnv};

    // Two cars race one lap of the oval, the second slower; a trace each.
    let dir = tempfile::tempdir().unwrap();
    let track = Track::resolve("oval", &ValidateOptions::default()).unwrap();
    let mut cfg = EnvConfig::new(track.clone());
    cfg.action_space = ActionSpace::continuous(-30.0, 30.0, 0.1, 4.0);
    cfg.group = GroupConfig::of(2);
    cfg.mode = Mode::Race(RaceConfig {
        laps: 1,
        continuous: true,
        number_of_resets: 10_000,
        ..Default::default()
    });
    let mut env = VecEnv::new(cfg.clone(), 2).unwrap();
    let mut out = env.buffers(true);
    env.reset(0, &mut out).unwrap();
    let paths = [dir.path().join("front.csv"), dir.path().join("behind.csv")];
    let mut writers: Vec<_> = paths.iter().map(|p| TraceWriter::create(p).unwrap()).collect();
    for (seat, w) in writers.iter_mut().enumerate() {
        w.record_reset(&out, seat).unwrap();
    }
    let driver = PurePursuit::default();
    while !out.info.iter().all(|i| i.race_over) {
        let actions: Vec<Action> = (0..2)
            .map(|i| {
                let (s, v) = driver.act(&cfg.tracks[0], &cfg.car, &out.params[i]);
                Action::Continuous([s as f32, (v * [1.0, 0.6][i]) as f32])
            })
            .collect();
        env.step(&actions, &mut out).unwrap();
        for (seat, w) in writers.iter_mut().enumerate() {
            w.record_step(&out, seat).unwrap();
        }
    }
    for w in &mut writers {
        w.flush().unwrap();
    }
    let front = read_trace(&paths[0]).unwrap();
    let behind = read_trace(&paths[1]).unwrap();
    assert_eq!(front.len(), behind.len());

    let plain = ReplayRenderer::new(Arc::new(track.clone()), front.clone(), "h2h", ReplayOptions::default()).unwrap();
    let mut replay = ReplayRenderer::new(Arc::new(track), front, "h2h", ReplayOptions::default())
        .unwrap()
        .with_rivals(
            "front",
            vec![Rival {
                name: "behind".into(),
                rows: behind.clone(),
            }],
        );
    // Room for the names under the timer.
    assert!(replay.size().1 >= plain.size().1);
    let (w, _) = replay.size();
    let proj = replay.projection().clone();
    let mid = replay.frames() / 2;
    let mut frame = Vec::new();
    let mut i = 0;
    replay
        .render_frames(|f| {
            if i == mid {
                frame = f.to_vec();
            }
            i += 1;
            Ok(())
        })
        .unwrap();
    // The other car is drawn in its colour where its own trace puts it at that moment.
    let k = replay.frame_row(mid).tstamp;
    let row = behind
        .iter()
        .find(|r| (r.tstamp - k).abs() < 1e-9)
        .expect("rows go step for step");
    let (x, y) = proj.to_pixel(row.pos);
    let c = RIVAL_COLOURS[0];
    let coloured = (-5..=5)
        .flat_map(|dy| (-5..=5).map(move |dx| (x + dx, y + dy)))
        .filter(|&p| pixel(&frame, w, p) == [c.0, c.1, c.2])
        .count();
    assert!(
        coloured > 10,
        "{coloured} pixels of the other car's colour near {:?}",
        (x, y)
    );
    // `sim replay --rival` draws the same head-to-head replay from the files.
    let gif = dir.path().join("h2h.gif");
    let r = ok_json(&[
        "replay",
        paths[0].to_str().unwrap(),
        "--track",
        "oval",
        "--rival",
        paths[1].to_str().unwrap(),
        "--out",
        gif.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(r["frames"].as_u64().unwrap() as usize, replay.frames(), "{r}");
}
