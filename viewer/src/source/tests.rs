//! The sources' tests: live races, replays, and the viewer agreeing with the GIF replay.

use super::*;
use slipstream_sim::Action;
use slipstream_sim::RaceConfig;
use slipstream_sim::objects::Scenario;
use slipstream_sim::plot::replay::RIVAL_COLOURS;
use slipstream_sim::track::ValidateOptions;

fn oval() -> Arc<Track> {
    Arc::new(Track::resolve("oval", &ValidateOptions::default()).expect("built-in track"))
}

fn one_lap() -> EvalOptions {
    EvalOptions {
        race: RaceConfig {
            laps: 1,
            max_time_s: 60.0,
            ..RaceConfig::default()
        },
        ..EvalOptions::default()
    }
}

#[test]
fn scripted_car_laps_the_track_and_the_hud_counts_it() {
    let track = oval();
    let mut src = Source::scripted(track.clone(), &one_lap(), PurePursuit::default()).unwrap();
    let first = src.start().unwrap();
    let start = first.car.expect("a car");
    assert_eq!(first.hud.lap, 1);
    assert_eq!(first.hud.best_lap_s, None);
    let mut last = first.clone();
    let mut max_speed: f64 = 0.0;
    while !src.finished() {
        last = src.step().unwrap();
        max_speed = max_speed.max(last.hud.speed);
        assert!(last.step < 60 * 15, "the race ends within its time limit");
    }
    assert!(last.hud.race_over);
    let best = last.hud.best_lap_s.expect("the pure-pursuit driver completes the lap");
    assert!(best > 2.0 && best < 60.0, "best lap {best}");
    assert!(max_speed > 0.5, "the car drove ({max_speed} m/s)");
    // It ends the lap near where it started.
    let end = last.car.unwrap();
    assert!(end.pos.distance(start.pos) < 1.5, "{:?} vs {:?}", end.pos, start.pos);
}

#[test]
fn scripted_race_shows_obstacle_boxes_along_the_track() {
    let track = oval();
    let mut opts = one_lap();
    opts.scenario = Scenario::ObjectAvoidance(slipstream_sim::objects::ObstacleConfig {
        count: 2,
        ..Default::default()
    });
    let mut src = Source::scripted(track.clone(), &opts, PurePursuit::default()).unwrap();
    let s = src.start().unwrap();
    assert_eq!(s.objects.len(), 2);
    for b in &s.objects {
        assert_eq!(b.kind, BoxKind::Obstacle);
        let pr = track.project_global(b.pose.pos);
        assert!(track.is_on_track(&pr), "a box on the road");
        assert!((b.length - 0.3).abs() < 1e-9);
    }
}

#[test]
fn a_camera_model_races_and_its_image_is_shown() {
    // An untrained camera model, saved and loaded as `--model` does: it drives (badly) in race
    // mode, and every step's camera image comes with it.
    let cfg = slipstream_trainer::TrainConfig::parse("[network]\ntype = \"cnn\"\n[sensor]\ntype = \"stereo_camera\"\n")
        .unwrap();
    tch::manual_seed(3);
    let model = Model::new(cfg.model_spec(), -0.5, false, tch::Device::Cpu);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    model.save(&path).unwrap();
    let model = Model::load(&path, tch::Device::Cpu).unwrap();
    let mut src = Source::model(model, oval(), &one_lap()).unwrap();
    assert_eq!(src.label(), "model");
    let first = src.start().unwrap();
    let img0 = src.camera_image().expect("a camera model's image");
    assert_eq!((img0.channels, img0.width, img0.height), (2, 160, 120));
    assert_eq!(img0.pixels.len(), 2 * 160 * 120);
    assert!(
        img0.pixels.iter().any(|&p| p != img0.pixels[0]),
        "the camera sees the track"
    );
    let mut moved = false;
    for _ in 0..20 {
        let s = src.step().unwrap();
        moved |= s.car.unwrap().pos.distance(first.car.unwrap().pos) > 0.05;
    }
    assert!(moved, "the model's actions move the car");
    assert_ne!(
        src.camera_image().unwrap().pixels,
        img0.pixels,
        "the image follows the car"
    );
}

#[test]
fn replay_follows_the_trace_rows() {
    // A trace written the way `sim drive --trace` writes it, replayed: poses at the rows'
    // reference points (minus the offset), heading from the motion, laps from the statuses.
    let track = oval();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trace.csv");
    let mut live = Source::scripted(track.clone(), &one_lap(), PurePursuit::default()).unwrap();
    let Source::Live(l) = &mut live else { unreachable!() };
    let mut w = slipstream_sim::trace::TraceWriter::create(&path).unwrap();
    w.record_reset(l.buffers(), 0).unwrap();
    let mut live_poses = vec![l.snapshot(0).unwrap().car.unwrap()];
    while !l.buffers().info[0].race_over {
        l.step().unwrap();
        w.record_step(l.buffers(), 0).unwrap();
        live_poses.push(l.snapshot(0).unwrap().car.unwrap());
    }
    w.flush().unwrap();
    drop(w);
    let mut rep = Source::replay(&path, track.clone()).unwrap();
    let mut shown = vec![rep.start().unwrap()];
    while !rep.finished() {
        shown.push(rep.step().unwrap());
    }
    assert_eq!(shown.len(), live_poses.len());
    // Positions agree to a few centimetres (the heading comes from the motion).
    for (k, (s, p)) in shown.iter().zip(&live_poses).enumerate().skip(2) {
        let d = s.car.unwrap().pos.distance(p.pos);
        assert!(d < 0.05, "row {k}: replay {:?} vs live {:?}", s.car.unwrap().pos, p.pos);
    }
    let last = shown.last().unwrap();
    assert!(last.hud.race_over);
    assert!(last.hud.best_lap_s.is_some());
    assert!(last.rivals.is_empty());

    // With a rival whose trace is twice as long (the same lap, then the same lap again): the
    // replay lasts until the rival's trace ends, the car waiting where its trace ended (its lap
    // counted once), the rival following its own rows in the first rival colour.
    let rows = read_trace(&path).unwrap();
    let mut longer = rows.clone();
    longer.extend(rows.iter().cloned());
    let rival = Rival {
        name: "car-2".into(),
        rows: longer.clone(),
    };
    let mut rep = Source::replay(&path, track.clone())
        .unwrap()
        .with_rivals(vec![rival])
        .unwrap();
    assert!(rep.label().contains("car-2 (blue)"), "{}", rep.label());
    let mut shown = vec![rep.start().unwrap()];
    while !rep.finished() {
        shown.push(rep.step().unwrap());
    }
    assert_eq!(shown.len(), longer.len());
    let offset = CarParams::default().reference_offset;
    for (k, s) in shown.iter().enumerate() {
        let r = s.rivals[0];
        let heading = longer[k].yaw_deg.to_radians();
        assert!(
            r.pose.pos.distance(longer[k].pos - Vec2::from_angle(heading) * offset) < 1e-9,
            "row {k}"
        );
        assert_eq!(r.colour, [RIVAL_COLOURS[0].0, RIVAL_COLOURS[0].1, RIVAL_COLOURS[0].2]);
    }
    let (end, waited) = (&shown[rows.len() - 1], shown.last().unwrap());
    assert_eq!(waited.car, end.car);
    assert_eq!(
        (waited.hud.lap, waited.hud.best_lap_s),
        (end.hud.lap, end.hud.best_lap_s)
    );
    assert!(!end.hud.race_over && waited.hud.race_over);
    // Rivals come from traces only.
    let live = Source::scripted(track, &one_lap(), PurePursuit::default()).unwrap();
    assert!(live.with_rivals(Vec::new()).is_err());
}

/// A head-to-head race of two laps (continuous), the second car slower: each car's trace.
fn head_to_head_traces() -> (Arc<Track>, Vec<TraceRow>, Vec<TraceRow>) {
    use slipstream_sim::trace::TraceWriter;
    use slipstream_sim::{GroupConfig, RaceConfig};
    let track = oval();
    let mut cfg = EnvConfig::new((*track).clone());
    cfg.action_space = ActionSpace::continuous(-30.0, 30.0, 0.1, 4.0);
    cfg.group = GroupConfig::of(2);
    cfg.mode = Mode::Race(RaceConfig {
        laps: 2,
        continuous: true,
        number_of_resets: 10_000,
        max_time_s: 120.0,
        ..Default::default()
    });
    let mut env = VecEnv::new(cfg.clone(), 2).unwrap();
    let mut out = env.buffers(true);
    env.reset(0, &mut out).unwrap();
    let mut writers: Vec<_> = (0..2).map(|_| TraceWriter::new(Vec::new()).unwrap()).collect();
    for (seat, w) in writers.iter_mut().enumerate() {
        w.record_reset(&out, seat).unwrap();
    }
    let driver = PurePursuit::default();
    let mut ended = [false; 2];
    while !out.info.iter().all(|i| i.race_over) {
        let actions: Vec<Action> = (0..2)
            .map(|i| {
                let (s, v) = driver.act(&cfg.tracks[0], &cfg.car, &out.params[i]);
                Action::Continuous([s as f32, (v * [1.0, 0.7][i]) as f32])
            })
            .collect();
        env.step(&actions, &mut out).unwrap();
        // As `trainer match` writes them: a car's trace ends with its race.
        for (seat, w) in writers.iter_mut().enumerate() {
            if !ended[seat] {
                w.record_step(&out, seat).unwrap();
                ended[seat] = out.info[seat].race_over;
            }
        }
    }
    let mut traces = writers.into_iter().map(|w| {
        let text = String::from_utf8(w.into_inner()).unwrap();
        slipstream_sim::trace::parse_trace(&text).unwrap()
    });
    (track, traces.next().unwrap(), traces.next().unwrap())
}

/// The viewer and the GIF replay show the same head-to-head trace the same way: at every frame
/// of the GIF, the viewer's step for that row has the same lap, lap time, best lap, off-tracks,
/// and the same pose (heading included) for the main car and its rival.
fn assert_viewer_and_gif_agree(track: &Arc<Track>, front: &[TraceRow], behind: &[TraceRow]) -> Vec<Snapshot> {
    use slipstream_sim::plot::replay::{ReplayOptions, ReplayRenderer};
    let rival = || Rival {
        name: "behind".into(),
        rows: behind.to_vec(),
    };
    let opts = ReplayOptions {
        camera: false,
        ..ReplayOptions::default()
    };
    let gif = ReplayRenderer::new(track.clone(), front.to_vec(), "h2h", opts)
        .unwrap()
        .with_rivals("front", vec![rival()]);
    let mut viewer = Source::replay_rows(front.to_vec(), track.clone())
        .unwrap()
        .with_rivals(vec![rival()])
        .unwrap();
    let mut shown = vec![viewer.start().unwrap()];
    while !viewer.finished() {
        shown.push(viewer.step().unwrap());
    }
    assert_eq!(
        shown.len(),
        front.len().max(behind.len()),
        "the viewer plays until the longer trace ends"
    );
    let states = gif.frame_states();
    assert_eq!(states.len(), front.len(), "one GIF frame per row at 15 frames/s");
    for (i, f) in states.iter().enumerate() {
        let v = &shown[f.row];
        let (car, hud) = (v.car.unwrap(), &v.hud);
        let at = format!("frame {i} (row {})", f.row);
        assert_eq!(car.heading, f.car.pose.heading, "{at}: heading");
        assert_eq!(car.pos, f.car.pose.origin, "{at}: position");
        assert_eq!(
            (hud.lap, hud.lap_time_s, hud.best_lap_s, hud.off_track),
            (f.car.lap, f.car.lap_time_s, f.car.best_lap_s, f.car.off_track),
            "{at}: lap clock"
        );
        assert_eq!(hud.speed, f.car.speed.unwrap_or(0.0), "{at}: speed");
        assert_eq!(v.rivals.len(), 1);
        let (r, g) = (v.rivals[0], f.rivals[0]);
        assert_eq!(
            (r.pose.pos, r.pose.heading, r.held),
            (g.pose.origin, g.pose.heading, g.held),
            "{at}: the rival"
        );
    }
    shown
}

#[test]
fn the_viewer_and_the_gif_replay_agree_on_laps_and_headings() {
    let (track, front, behind) = head_to_head_traces();
    assert!(front.len() < behind.len(), "the second car is slower");
    let laps = slipstream_sim::trace::laps(&front);
    let completed: Vec<f64> = laps.iter().filter(|l| l.completed).map(|l| l.time_s).collect();
    assert_eq!(completed.len(), 2, "{laps:?}");
    let shown = assert_viewer_and_gif_agree(&track, &front, &behind);
    // Concretely: two laps, the best one the faster of the trace's two, and the main car's
    // heading the trace's yaw (as the rival's, and as the GIF's).
    let last_lap = front
        .iter()
        .rposition(|r| r.status == EpisodeStatus::LapComplete)
        .unwrap();
    let end = &shown[last_lap].hud;
    assert_eq!(end.lap, 2);
    assert_eq!(end.best_lap_s, Some(completed[0].min(completed[1])));
    let k = front.len() / 3;
    assert_eq!(shown[k].car.unwrap().heading, front[k].yaw_deg.to_radians());
    assert_eq!(shown[k].rivals[0].pose.heading, behind[k].yaw_deg.to_radians());
    // The second lap's clock restarts where the first lap ended.
    let first_end = front
        .iter()
        .position(|r| r.status == EpisodeStatus::LapComplete)
        .unwrap();
    let next = &shown[first_end + 1].hud;
    assert_eq!(next.lap, 2);
    assert!(
        (next.lap_time_s - (front[first_end + 1].tstamp - front[first_end].tstamp)).abs() < 1e-12,
        "{next:?}"
    );
    // Traces without yaw (one heading rule: the motion) agree too.
    let no_yaw = |rows: &[TraceRow]| -> Vec<TraceRow> {
        rows.iter()
            .cloned()
            .map(|mut r| {
                r.yaw_deg = f64::NAN;
                r
            })
            .collect()
    };
    let shown = assert_viewer_and_gif_agree(&track, &no_yaw(&front), &no_yaw(&behind));
    let h = shown[k].car.unwrap().heading;
    let yaw = front[k].yaw_deg.to_radians();
    assert!(
        (h - yaw).sin().abs() < 0.2,
        "the motion's direction is close to the yaw: {h} vs {yaw}"
    );
}
