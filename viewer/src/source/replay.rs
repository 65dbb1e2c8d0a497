//! A trace replayed step by step, with a head-to-head race's other cars: every car posed, timed and
//! counted by the simulator's playback [`Cursor`] (the rules its GIF replays follow).

use std::sync::Arc;

use slipstream_sim::CarParams;
use slipstream_sim::plot::replay::RIVAL_COLOURS;
use slipstream_sim::trace::{Cursor, Playback, Rival, TraceRow};
use slipstream_sim::track::Track;

use super::{HudStats, Pose, RivalCar, Snapshot};

/// A trace replayed row by row (one row per simulator step), with the other cars of its
/// head-to-head race (their traces go step for step with it). It lasts until the longest trace
/// ends: a car whose trace ended stays where its race ended.
#[derive(Debug)]
pub struct Replay {
    pub(super) rows: Vec<TraceRow>,
    pub(super) rivals: Vec<Rival>,
    pub(super) track: Arc<Track>,
    pub(super) car: CarParams,
    pub(super) next: usize,
    /// The main car's trace as it plays, then each rival's (one set of rules: the simulator's
    /// [`Cursor`], as in its GIF replays).
    pub(super) cursors: Vec<Cursor>,
}

impl Replay {
    /// Steps to show: the longest trace's rows.
    pub(super) fn len(&self) -> usize {
        self.rivals
            .iter()
            .map(|r| r.rows.len())
            .fold(self.rows.len(), usize::max)
    }

    /// Show the next step (the last one again past the end).
    pub(super) fn advance(&mut self) -> Snapshot {
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
