//! What the viewer shows, one simulator step at a time, without any renderer: a car raced live by a
//! model ([`slipstream_trainer::evaluate::RaceRun`], the race `trainer evaluate` runs) or by the
//! pure-pursuit driver (`sim drive`'s), or a trace replayed row by row (with a head-to-head race's
//! other cars from their traces). Each step yields a [`Snapshot`]: the car's pose, the other cars',
//! the objects' boxes, the HUD's numbers and the model's camera image.
//! Physics and race rules stay in the simulator; this only reads its state.
//!
//! [`live`]: a race in the simulator; [`replay`]: a trace played by the simulator's playback rules
//! ([`slipstream_sim::trace::playback`], as its GIF replays are).

mod live;
mod replay;
#[cfg(test)]
mod tests;

pub use live::Live;
pub use replay::Replay;

use std::path::Path;
use std::sync::Arc;

use slipstream_sim::driver::PurePursuit;
use slipstream_sim::episode::EpisodeStatus;
use slipstream_sim::math::Vec2;
use slipstream_sim::plot::replay::RIVAL_COLOUR_NAMES;
use slipstream_sim::trace::{Cursor, Rival, TraceRow, read_trace};
use slipstream_sim::track::Track;
use slipstream_sim::{ActionSpace, CarParams, EnvConfig, Mode, RewardPreset, VecEnv};
use slipstream_trainer::Model;
use slipstream_trainer::evaluate::{EvalOptions, RaceRun};

use live::{Driver, LapClock};

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
