//! What the viewer shows, one simulator step at a time, without any renderer: a car raced live by a
//! model ([`slipstream_trainer::evaluate::RaceRun`], the race `trainer evaluate` runs) or by the
//! pure-pursuit driver (`sim drive`'s), or a trace replayed row by row (with a head-to-head race's
//! other cars from their traces). Each step yields a [`Snapshot`]: the car's pose, the other cars',
//! the objects' boxes, the HUD's numbers and the model's camera image.
//! Physics and race rules stay in the simulator; this only reads its state.

use std::path::Path;
use std::sync::Arc;

use slipstream_sim::driver::PurePursuit;
use slipstream_sim::math::Vec2;
use slipstream_sim::objects::Scenario;
use slipstream_sim::episode::EpisodeStatus;
use slipstream_sim::plot::replay::{RIVAL_COLOUR_NAMES, RIVAL_COLOURS};
use slipstream_sim::trace::{Cursor, Playback, Rival, TraceRow, read_trace};
use slipstream_sim::track::Track;
use slipstream_sim::{Action, ActionSpace, CarParams, EnvConfig, Laps, Mode, RewardPreset, StepBuffers, VecEnv};
use slipstream_trainer::Model;
use slipstream_trainer::evaluate::{EvalOptions, RaceRun};

/// What went wrong preparing or stepping a source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Sim(#[from] slipstream_sim::SimError),
    #[error(transparent)]
    Train(#[from] slipstream_trainer::TrainError),
    #[error(transparent)]
    Trace(#[from] slipstream_sim::plot::PlotError),
    #[error("{0}")]
    Invalid(String),
}

/// A car's pose: its origin (the centre of its footprint) and heading (radians, counter-clockwise
/// from +x).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pose {
    pub pos: Vec2,
    pub heading: f64,
}

/// What a box stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoxKind {
    Obstacle,
    Bot,
}

/// A box on the track: an obstacle or a bot car.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ObjectBox {
    pub kind: BoxKind,
    pub pose: Pose,
    /// Along and across its heading, metres.
    pub length: f64,
    pub width: f64,
}

/// Another car of a head-to-head race (a replay's rival), where it is at this step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RivalCar {
    pub pose: Pose,
    /// Its colour (the simulator's replay colours, in the order the rivals were given), sRGB.
    pub colour: [u8; 3],
    /// A ghost to the others: held for a penalty, or its race over (past its trace's end).
    pub held: bool,
}

/// The HUD's numbers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HudStats {
    /// The lap being driven (1-based; the last lap's number once the race is over).
    pub lap: u32,
    /// Laps (or trials) of the race (0: unknown, a trace replay).
    pub laps_total: u32,
    /// Time in the current lap, seconds (penalty holds included).
    pub lap_time_s: f64,
    /// Fastest completed lap so far, seconds.
    pub best_lap_s: Option<f64>,
    /// Ground speed, m/s.
    pub speed: f64,
    /// Progress round the current lap, percent.
    pub progress: f64,
    /// Off-tracks so far.
    pub off_track: u32,
    /// The step's episode status (`in_progress`, `pause`, `lap_complete`, …).
    pub status: EpisodeStatus,
    /// Simulated seconds since the start.
    pub sim_time_s: f64,
    /// The race is over (live), or the trace's last row is shown (replay).
    pub race_over: bool,
    /// A trace replay (the HUD says "end of trace" at its end).
    pub replay: bool,
}

/// Everything drawn for one step.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub car: Option<Pose>,
    /// A head-to-head replay's other cars.
    pub rivals: Vec<RivalCar>,
    pub objects: Vec<ObjectBox>,
    pub hud: HudStats,
    /// Steps taken since the start.
    pub step: u64,
}

/// The model's camera image of the last step: `channels` images of `width` × `height` 8-bit luma
/// (2 for a stereo camera), channel-major.
#[derive(Clone, Debug, PartialEq)]
pub struct CameraImage {
    pub channels: usize,
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

/// Who drives a live race.
#[derive(Debug)]
enum Driver {
    /// A trained model (its deterministic policy), in the race `trainer evaluate` runs.
    Model { model: Box<Model>, race: Box<RaceRun> },
    /// The pure-pursuit baseline (`sim drive`'s driver).
    Scripted {
        env: Box<VecEnv>,
        out: Box<StepBuffers>,
        driver: PurePursuit,
        car: CarParams,
        track: Arc<Track>,
    },
}

/// A live race's lap bookkeeping (from the simulator's race results): when the current lap started,
/// the best lap. A replay's lap clock is the trace's playback [`Cursor`]'s.
#[derive(Clone, Debug, Default)]
struct LapClock {
    start_s: f64,
    best_s: Option<f64>,
    laps_done: u32,
    off_track: u32,
}

/// A live race (model or scripted) in the simulator.
#[derive(Debug)]
pub struct Live {
    driver: Driver,
    track: Arc<Track>,
    scenario: Scenario,
    car: CarParams,
    laps_total: u32,
    clock: LapClock,
    camera_shape: Option<[usize; 3]>,
    steps: u64,
}

/// A trace replayed row by row (one row per simulator step), with the other cars of its
/// head-to-head race (their traces go step for step with it). It lasts until the longest trace
/// ends: a car whose trace ended stays where its race ended.
#[derive(Debug)]
pub struct Replay {
    rows: Vec<TraceRow>,
    rivals: Vec<Rival>,
    track: Arc<Track>,
    car: CarParams,
    next: usize,
    /// The main car's trace as it plays, then each rival's (one set of rules: the simulator's
    /// [`Cursor`], as in its GIF replays).
    cursors: Vec<Cursor>,
}

/// The viewer's source of snapshots.
#[derive(Debug)]
pub enum Source {
    Live(Box<Live>),
    Replay(Box<Replay>),
}

impl Source {
    /// A model racing: `trainer evaluate`'s race, stepped one step at a time.
    pub fn model(model: Model, track: Arc<Track>, opts: &EvalOptions) -> Result<Self, SourceError> {
        let race = RaceRun::with_params(&model, track.clone(), opts, true)?;
        let camera_shape = model.spec.image_shape().map(|s| s.map(|d| d as usize));
        let car = model.spec.car.clone();
        Ok(Source::Live(Box::new(Live {
            driver: Driver::Model {
                model: Box::new(model),
                race: Box::new(race),
            },
            track,
            scenario: opts.scenario.clone(),
            car,
            laps_total: opts.race.laps,
            clock: LapClock::default(),
            camera_shape,
            steps: 0,
        })))
    }

    /// The pure-pursuit driver racing (`sim drive`'s car: continuous actions, the default car).
    pub fn scripted(track: Arc<Track>, opts: &EvalOptions, driver: PurePursuit) -> Result<Self, SourceError> {
        if opts.race.laps == 0 {
            return Err(SourceError::Invalid("--laps: expected at least 1 lap".into()));
        }
        let mut cfg = EnvConfig::new((*track).clone());
        cfg.tracks = vec![track.clone()];
        cfg.action_space = ActionSpace::continuous(-30.0, 30.0, 0.1, 4.0);
        cfg.reward = Arc::new(RewardPreset::Zero);
        cfg.mode = Mode::Race(opts.race.clone());
        cfg.scenario = opts.scenario.clone();
        let car = cfg.car.clone();
        let mut env = VecEnv::new(cfg, 1)?;
        let mut out = env.buffers(true);
        env.reset(opts.seed, &mut out)?;
        Ok(Source::Live(Box::new(Live {
            driver: Driver::Scripted {
                env: Box::new(env),
                out: Box::new(out),
                driver,
                car: car.clone(),
                track: track.clone(),
            },
            track,
            scenario: opts.scenario.clone(),
            car,
            laps_total: opts.race.laps,
            clock: LapClock::default(),
            camera_shape: None,
            steps: 0,
        })))
    }

    /// A trace (SIM_TRACE_LOG CSV) on `track`.
    pub fn replay(path: &Path, track: Arc<Track>) -> Result<Self, SourceError> {
        let rows = read_trace(path)?;
        Self::replay_rows(rows, track)
    }

    /// Replay rows already read.
    pub fn replay_rows(rows: Vec<TraceRow>, track: Arc<Track>) -> Result<Self, SourceError> {
        if rows.is_empty() {
            return Err(SourceError::Invalid("the trace has no rows".into()));
        }
        let car = CarParams::default();
        let cursor = Cursor::new(car.reference_offset).with_track(track.clone());
        Ok(Source::Replay(Box::new(Replay {
            rows,
            rivals: Vec::new(),
            track,
            car,
            next: 0,
            cursors: vec![cursor],
        })))
    }

    /// A replay with the other cars of its head-to-head race (`trainer match --trace-dir`, the
    /// league's `DownloadMatchTrace`), drawn in the simulator's replay colours.
    pub fn with_rivals(self, rivals: Vec<Rival>) -> Result<Self, SourceError> {
        match self {
            Source::Replay(mut r) => {
                if let Some(empty) = rivals.iter().find(|r| r.rows.is_empty()) {
                    return Err(SourceError::Invalid(format!(
                        "rival {}: the trace has no rows",
                        empty.name
                    )));
                }
                let cursor = r.cursors[0].clone();
                r.cursors.truncate(1);
                r.cursors.extend(rivals.iter().map(|_| cursor.clone()));
                r.rivals = rivals;
                Ok(Source::Replay(r))
            }
            Source::Live(_) => Err(SourceError::Invalid(
                "rivals are drawn from traces: replay a trace to add them".into(),
            )),
        }
    }

    pub fn track(&self) -> &Arc<Track> {
        match self {
            Source::Live(l) => &l.track,
            Source::Replay(r) => &r.track,
        }
    }

    /// The car's footprint size (length, width), metres.
    pub fn car_size(&self) -> (f64, f64) {
        let c = match self {
            Source::Live(l) => &l.car,
            Source::Replay(r) => &r.car,
        };
        (c.length, c.width)
    }

    /// Who drives, for the HUD.
    pub fn label(&self) -> String {
        match self {
            Source::Live(l) => l.driver_name().to_string(),
            Source::Replay(r) if r.rivals.is_empty() => format!("trace replay ({} rows)", r.rows.len()),
            Source::Replay(r) => {
                let rivals: Vec<String> = r
                    .rivals
                    .iter()
                    .enumerate()
                    .map(|(i, rival)| format!("{} ({})", rival.name, RIVAL_COLOUR_NAMES[i % RIVAL_COLOUR_NAMES.len()]))
                    .collect();
                format!("trace replay (red) vs {}", rivals.join(", "))
            }
        }
    }

    /// Whether there is nothing more to step (the race is over, or the trace's last row shown).
    pub fn finished(&self) -> bool {
        match self {
            Source::Live(l) => l.buffers().info[0].race_over,
            Source::Replay(r) => r.next >= r.len(),
        }
    }

    /// The state at the start (before any step).
    pub fn start(&mut self) -> Result<Snapshot, SourceError> {
        match self {
            Source::Live(l) => l.snapshot(0),
            Source::Replay(r) => Ok(r.advance()),
        }
    }

    /// One step (one trace row), then the new state. Past the end it returns the last state again.
    pub fn step(&mut self) -> Result<Snapshot, SourceError> {
        match self {
            Source::Live(l) => l.step(),
            Source::Replay(r) => Ok(r.advance()),
        }
    }

    /// Seconds of simulated time per step.
    pub fn step_seconds(&self) -> f64 {
        match self {
            Source::Live(l) => match &l.driver {
                Driver::Model { model, .. } => model.spec.agent_dt,
                Driver::Scripted { env, .. } => env.config().agent_dt,
            },
            Source::Replay(r) => {
                let dts: Vec<f64> = r
                    .rows
                    .windows(2)
                    .map(|w| w[1].tstamp - w[0].tstamp)
                    .filter(|d| *d > 0.0)
                    .collect();
                dts.get(dts.len() / 2).copied().unwrap_or(1.0 / 15.0)
            }
        }
    }

    /// The model's camera image of the last step (a camera model only).
    pub fn camera_image(&self) -> Option<CameraImage> {
        let Source::Live(l) = self else { return None };
        let [channels, height, width] = l.camera_shape?;
        let out = l.buffers();
        Some(CameraImage {
            channels,
            width,
            height,
            pixels: out.image_of(0).to_vec(),
        })
    }
}

impl Live {
    fn driver_name(&self) -> &'static str {
        match self.driver {
            Driver::Model { .. } => "model",
            Driver::Scripted { .. } => "pure-pursuit driver",
        }
    }

    fn buffers(&self) -> &StepBuffers {
        match &self.driver {
            Driver::Model { race, .. } => race.buffers(),
            Driver::Scripted { out, .. } => out,
        }
    }

    fn env_mut(&mut self) -> &mut VecEnv {
        match &mut self.driver {
            Driver::Model { race, .. } => race.env_mut(),
            Driver::Scripted { env, .. } => env,
        }
    }

    fn step(&mut self) -> Result<Snapshot, SourceError> {
        if self.buffers().info[0].race_over {
            return self.snapshot(self.steps);
        }
        match &mut self.driver {
            Driver::Model { model, race } => race.step(model, None)?,
            Driver::Scripted {
                env,
                out,
                driver,
                car,
                track,
            } => {
                let (steer, speed) = driver.act(track, car, &out.params[0]);
                env.step(&[Action::Continuous([steer as f32, speed as f32])], out)?;
            }
        }
        self.steps += 1;
        self.snapshot(self.steps)
    }

    fn snapshot(&mut self, step: u64) -> Result<Snapshot, SourceError> {
        let states = self.env_mut().car_states()?;
        let race = self.env_mut().race_results()?.into_iter().next();
        let out = self.buffers();
        let info = out.info[0];
        let params = out.params.first().copied();
        let car = states.iter().find(|s| s.car == 0).map(|s| s.state);
        // A new lap starts at each new episode (a trial, or a continuous race's next lap).
        let laps_done = race.as_ref().map_or(0, |r| r.laps.len() as u32);
        if laps_done != self.clock.laps_done {
            self.clock.laps_done = laps_done;
            self.clock.start_s = info.tstamp;
        }
        if let Some(r) = &race {
            self.clock.best_s = r.laps.as_slice().best_lap();
            self.clock.off_track = r.laps.as_slice().off_track();
        }
        let objects = match params {
            Some(p) => object_boxes(&self.scenario, &self.car, &self.track, p.objects()),
            None => Vec::new(),
        };
        Ok(Snapshot {
            car: car.map(|s| Pose {
                pos: s.pos,
                heading: s.heading,
            }),
            rivals: Vec::new(),
            objects,
            hud: HudStats {
                lap: (laps_done + 1).min(self.laps_total.max(1)),
                laps_total: self.laps_total,
                lap_time_s: (info.tstamp - self.clock.start_s).max(0.0),
                best_lap_s: self.clock.best_s,
                speed: car.map_or(0.0, |s| s.speed()),
                progress: info.progress,
                off_track: self.clock.off_track,
                status: info.status,
                sim_time_s: info.tstamp,
                race_over: info.race_over,
                replay: false,
            },
            step,
        })
    }
}

/// The objects' boxes from a step's parameters: static boxes lie along the track (DeepRacer passes
/// their heading as 0), bot cars have their own heading and the car's size.
fn object_boxes(
    scenario: &Scenario,
    car: &CarParams,
    track: &Track,
    objects: &[slipstream_sim::params::ObjectParams],
) -> Vec<ObjectBox> {
    objects
        .iter()
        .map(|o| match scenario {
            Scenario::ObjectAvoidance(c) => {
                let pr = track.project_global(o.location);
                ObjectBox {
                    kind: BoxKind::Obstacle,
                    pose: Pose {
                        pos: o.location,
                        heading: track.heading_at(pr.seg),
                    },
                    length: c.length,
                    width: c.width,
                }
            }
            _ => ObjectBox {
                kind: BoxKind::Bot,
                pose: Pose {
                    pos: o.location,
                    heading: o.heading,
                },
                length: car.length,
                width: car.width,
            },
        })
        .collect()
}

impl Replay {
    /// Steps to show: the longest trace's rows.
    fn len(&self) -> usize {
        self.rivals
            .iter()
            .map(|r| r.rows.len())
            .fold(self.rows.len(), usize::max)
    }

    /// Show the next step (the last one again past the end).
    fn advance(&mut self) -> Snapshot {
        let step = self.next.min(self.len() - 1);
        self.next = (step + 1).min(self.len());
        let (car, rivals) = self.cars_at(step);
        let rivals = rivals
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let c = RIVAL_COLOURS[k % RIVAL_COLOURS.len()];
                RivalCar {
                    pose: Pose {
                        pos: p.pose.origin,
                        heading: p.pose.heading,
                    },
                    colour: [c.0, c.1, c.2],
                    held: p.held,
                }
            })
            .collect();
        let row = &self.rows[car.row];
        Snapshot {
            car: Some(Pose {
                pos: car.pose.origin,
                heading: car.pose.heading,
            }),
            rivals,
            objects: Vec::new(),
            hud: HudStats {
                lap: car.lap,
                laps_total: 0,
                lap_time_s: car.lap_time_s,
                best_lap_s: car.best_lap_s,
                speed: car.speed.unwrap_or(0.0),
                progress: row.progress,
                off_track: car.off_track,
                status: row.status,
                sim_time_s: row.tstamp,
                race_over: self.next >= self.len(),
                replay: true,
            },
            step: step as u64,
        }
    }

    /// Where the main car and each rival are at `step`, by the trace's playback rules (a car whose
    /// trace ended stays where its race ended).
    fn cars_at(&mut self, step: usize) -> (Playback, Vec<Playback>) {
        let traces = std::iter::once(&self.rows).chain(self.rivals.iter().map(|r| &r.rows));
        let mut cars = self
            .cursors
            .iter_mut()
            .zip(traces)
            .map(|(c, rows)| c.at(rows, step).expect("traces with rows"));
        let car = cars.next().expect("the main car");
        (car, cars.collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slipstream_sim::RaceConfig;
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
        let cfg =
            slipstream_trainer::TrainConfig::parse("[network]\ntype = \"cnn\"\n[sensor]\ntype = \"stereo_camera\"\n")
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
        assert_eq!(shown.len(), front.len().max(behind.len()), "the viewer plays until the longer trace ends");
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
        let last_lap = front.iter().rposition(|r| r.status == EpisodeStatus::LapComplete).unwrap();
        let end = &shown[last_lap].hud;
        assert_eq!(end.lap, 2);
        assert_eq!(end.best_lap_s, Some(completed[0].min(completed[1])));
        let k = front.len() / 3;
        assert_eq!(shown[k].car.unwrap().heading, front[k].yaw_deg.to_radians());
        assert_eq!(shown[k].rivals[0].pose.heading, behind[k].yaw_deg.to_radians());
        // The second lap's clock restarts where the first lap ended.
        let first_end = front.iter().position(|r| r.status == EpisodeStatus::LapComplete).unwrap();
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
}
