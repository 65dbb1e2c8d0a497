//! A live race in the simulator: a model (`trainer evaluate`'s race) or the pure-pursuit driver,
//! stepped one step at a time; its lap clock from the simulator's race results.

use std::sync::Arc;

use slipstream_sim::driver::PurePursuit;
use slipstream_sim::objects::Scenario;
use slipstream_sim::track::Track;
use slipstream_sim::{Action, CarParams, Laps, StepBuffers, VecEnv};
use slipstream_trainer::Model;
use slipstream_trainer::evaluate::RaceRun;

use super::{BoxKind, HudStats, ObjectBox, Pose, Snapshot, SourceError};

/// Who drives a live race.
#[derive(Debug)]
pub(super) enum Driver {
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
pub(super) struct LapClock {
    start_s: f64,
    best_s: Option<f64>,
    laps_done: u32,
    off_track: u32,
}

/// A live race (model or scripted) in the simulator.
#[derive(Debug)]
pub struct Live {
    pub(super) driver: Driver,
    pub(super) track: Arc<Track>,
    pub(super) scenario: Scenario,
    pub(super) car: CarParams,
    pub(super) laps_total: u32,
    pub(super) clock: LapClock,
    pub(super) camera_shape: Option<[usize; 3]>,
    pub(super) steps: u64,
}

impl Live {
    pub(super) fn driver_name(&self) -> &'static str {
        match self.driver {
            Driver::Model { .. } => "model",
            Driver::Scripted { .. } => "pure-pursuit driver",
        }
    }

    pub(super) fn buffers(&self) -> &StepBuffers {
        match &self.driver {
            Driver::Model { race, .. } => race.buffers(),
            Driver::Scripted { out, .. } => out,
        }
    }

    pub(super) fn env_mut(&mut self) -> &mut VecEnv {
        match &mut self.driver {
            Driver::Model { race, .. } => race.env_mut(),
            Driver::Scripted { env, .. } => env,
        }
    }

    pub(super) fn step(&mut self) -> Result<Snapshot, SourceError> {
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

    pub(super) fn snapshot(&mut self, step: u64) -> Result<Snapshot, SourceError> {
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
