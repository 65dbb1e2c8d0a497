//! Playing a trace back, row by row: the one set of rules every replay follows — the GIF/MP4
//! replay (`plot::replay`, the `plot` feature), `sim plot`'s trace charts and the 3-D viewer. A
//! [`Cursor`] walks a trace's rows in order and gives, per row, a [`Playback`]: the car's pose (one heading
//! rule), its speed (one cap, [`MAX_SPEED`]), the lap number, the current lap's time, the best lap,
//! the off-tracks so far, and whether the car is held. [`laps`], [`speeds`] and
//! [`off_track_points`] summarise a whole trace with the same rules.
//!
//! The rules:
//! * **Heading**: the trace's `yaw` (DeepRacer's and Slipstream's traces have it); a trace without
//!   it: the direction the car last drove in (a move of more than [`MIN_MOVE`] at a measured
//!   speed), from the track's direction where an episode starts (when the cursor knows the track).
//! * **Speed**: the distance from the previous row over the time between them; none where there is
//!   nothing to measure (an episode's first row, the row after an incident — the car is put back —,
//!   or a jump faster than [`MAX_SPEED`]).
//! * **Laps**: the trace's first row starts lap 1; every new episode starts a lap (a trial at its
//!   `prepare` row; a continuous race's next lap, without one, where the previous lap ended), as
//!   does the row after a `lap_complete` within an episode. A lap's `lap_complete` row still shows
//!   that lap (and its time): the race's last row says "lap 3" of 3, not "lap 4". Lap times run to
//!   the row (the time the car was held included).
//! * **Held**: a `pause` row (held for a penalty), or past the trace's last row (its race over).

use std::sync::Arc;

use super::read::TraceRow;
use crate::episode::EpisodeStatus;
use crate::math::Vec2;
use crate::track::Track;

/// Speeds faster than this (m/s) between two rows are a jump (a reset), not driving.
pub const MAX_SPEED: f64 = 20.0;

/// A move shorter than this between two rows (m) gives no heading: the car stood still.
pub const MIN_MOVE: f64 = 1e-3;

/// The car's speed at row `r` after row `prev`, m/s: the distance between their positions over the
/// time between them. `None` where there is nothing to measure: the first row, an episode's first
/// row, the row after an incident, or a jump (faster than [`MAX_SPEED`]).
pub fn step_speed(prev: Option<&TraceRow>, r: &TraceRow) -> Option<f64> {
    let p = prev?;
    if p.episode != r.episode || p.resets_car() || r.is_prepare() {
        return None;
    }
    let dt = r.tstamp - p.tstamp;
    let v = (r.pos - p.pos).length() / dt;
    (dt > 0.0 && v.is_finite() && v <= MAX_SPEED).then_some(v)
}

/// A car's pose at a row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TracePose {
    /// The row's `X`, `Y`: the car's reference point, metres.
    pub reference: Vec2,
    /// The car's origin (the centre of its footprint): the reference point less the reference
    /// offset along the heading.
    pub origin: Vec2,
    /// Radians, counter-clockwise from +x.
    pub heading: f64,
}

/// What a trace shows at one step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Playback {
    /// The row shown (the last row past the trace's end).
    pub row: usize,
    pub pose: TracePose,
    /// Ground speed, m/s ([`step_speed`]).
    pub speed: Option<f64>,
    /// The lap being driven, 1-based, counted over the whole trace (trials and continuous laps).
    pub lap: u32,
    /// Simulated seconds at the lap's start.
    pub lap_start_s: f64,
    /// Seconds into the current lap (at a `lap_complete` row: the lap's time).
    pub lap_time_s: f64,
    /// Fastest completed lap so far, seconds.
    pub best_lap_s: Option<f64>,
    /// Laps completed so far (`lap_complete` rows).
    pub laps_done: u32,
    /// `off_track` rows so far.
    pub off_track: u32,
    /// A ghost to the others: held for a penalty (a `pause` row), or past the trace's last row.
    pub held: bool,
    /// Past the trace's last row: the car stays where its race ended.
    pub past_end: bool,
}

/// Walks a trace's rows in order (each row seen once) and tells what each shows.
#[derive(Clone, Debug)]
pub struct Cursor {
    reference_offset: f64,
    track: Option<Arc<Track>>,
    /// Rows seen so far.
    seen: usize,
    heading: f64,
    speed: Option<f64>,
    lap: u32,
    lap_start_s: f64,
    best_lap_s: Option<f64>,
    laps_done: u32,
    off_track: u32,
}

impl Cursor {
    /// A cursor at a trace's start. `reference_offset`: how far the trace's `X`, `Y` (the car's
    /// reference point) lie ahead of the car's origin, m.
    pub fn new(reference_offset: f64) -> Self {
        Self {
            reference_offset,
            track: None,
            seen: 0,
            heading: 0.0,
            speed: None,
            lap: 1,
            lap_start_s: 0.0,
            best_lap_s: None,
            laps_done: 0,
            off_track: 0,
        }
    }

    /// The track the trace was driven on: a trace without `yaw` starts each episode heading along it.
    pub fn with_track(mut self, track: Arc<Track>) -> Self {
        self.track = Some(track);
        self
    }

    /// What the trace shows at step `k`: every row up to `k` is seen once, in order (a `k` before
    /// the last one asked for starts again from the first row); past the last row, the last row,
    /// held. `None` for a trace without rows.
    pub fn at(&mut self, rows: &[TraceRow], k: usize) -> Option<Playback> {
        let last = rows.len().checked_sub(1)?;
        let i = k.min(last);
        if i + 1 < self.seen {
            *self = Self {
                track: self.track.take(),
                ..Self::new(self.reference_offset)
            };
        }
        while self.seen <= i {
            self.see(rows, self.seen);
            self.seen += 1;
        }
        let r = &rows[i];
        let past_end = k > last;
        Some(Playback {
            row: i,
            pose: TracePose {
                reference: r.pos,
                origin: r.pos - Vec2::from_angle(self.heading) * self.reference_offset,
                heading: self.heading,
            },
            speed: self.speed,
            lap: self.lap,
            lap_start_s: self.lap_start_s,
            lap_time_s: (r.tstamp - self.lap_start_s).max(0.0),
            best_lap_s: self.best_lap_s,
            laps_done: self.laps_done,
            off_track: self.off_track,
            held: r.is_held() || past_end,
            past_end,
        })
    }

    /// Take row `i` into account (rows before it were seen).
    fn see(&mut self, rows: &[TraceRow], i: usize) {
        let r = &rows[i];
        let prev = i.checked_sub(1).map(|j| &rows[j]);
        // The lap clock.
        match prev {
            None => self.lap_start_s = r.tstamp,
            Some(p) if p.episode != r.episode => {
                // A new trial from the start line, or a continuous race's next lap from where the
                // last one ended.
                self.lap += 1;
                self.lap_start_s = if r.is_prepare() { r.tstamp } else { p.tstamp };
            }
            Some(p) if p.status == EpisodeStatus::LapComplete && !r.is_prepare() => {
                self.lap += 1;
                self.lap_start_s = p.tstamp;
            }
            _ => {}
        }
        if r.status == EpisodeStatus::LapComplete {
            let t = r.tstamp - self.lap_start_s;
            self.best_lap_s = Some(self.best_lap_s.map_or(t, |b| b.min(t)));
            self.laps_done += 1;
        }
        if r.status == EpisodeStatus::OffTrack {
            self.off_track += 1;
        }
        // Speed and heading.
        self.speed = step_speed(prev, r);
        if r.yaw_deg.is_finite() {
            self.heading = r.yaw_deg.to_radians();
        } else if let Some(track) = self.track.as_ref().filter(|_| prev.is_none() || r.is_prepare()) {
            self.heading = track.heading_at(track.project_global(r.pos).seg);
        } else if let (Some(p), Some(_)) = (prev, self.speed) {
            let d = r.pos - p.pos;
            if d.length() > MIN_MOVE {
                self.heading = d.angle();
            }
        }
    }
}

/// A lap, or the part of an episode after its last completed lap.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceLap {
    pub episode: u64,
    /// 1-based within its episode.
    pub lap: u32,
    /// Simulated seconds from the lap's start to its last row (to the step: the simulator times a
    /// lap to the moment it crosses the line, between two rows), the time the car was held included.
    pub time_s: f64,
    /// Penalty seconds charged during the lap (the incidents' `pause_duration`).
    pub penalty_s: f64,
    /// Off-tracks, crashes, reversals and immobilisations during the lap.
    pub incidents: u32,
    /// The lap ended at the line (`lap_complete`); otherwise the episode ended first.
    pub completed: bool,
    /// Progress reached, percent (100 for a completed lap).
    pub progress: f64,
}

/// Split a trace into laps (the [`Cursor`]'s): a lap ends at a `lap_complete` row; what an
/// episode drove after its last completed lap (an off-track end of a training episode, a race cut
/// by its time limit) is an incomplete lap.
pub fn laps(rows: &[TraceRow]) -> Vec<TraceLap> {
    let mut out = Vec::new();
    let mut cursor = Cursor::new(0.0);
    let mut current: Option<TraceLap> = None;
    let mut moved = false;
    let mut lap = 0;
    for (i, r) in rows.iter().enumerate() {
        let before = cursor.lap;
        let Some(at) = cursor.at(rows, i) else { break };
        if i == 0 || at.lap != before {
            // A new lap starts here: what the last one drove after its last completed lap.
            if let Some(l) = current.take().filter(|_| moved) {
                out.push(l);
            }
            lap = if i > 0 && rows[i - 1].episode == r.episode {
                lap + 1
            } else {
                1
            };
            moved = false;
            current = Some(TraceLap {
                episode: r.episode,
                lap,
                time_s: 0.0,
                penalty_s: 0.0,
                incidents: 0,
                completed: false,
                progress: 0.0,
            });
        }
        let Some(l) = current.as_mut() else { continue };
        if r.resets_car() {
            l.incidents += 1;
            l.penalty_s += r.pause_duration;
        }
        if !r.is_prepare() {
            moved = true;
            l.progress = l.progress.max(r.progress);
        }
        l.time_s = at.lap_time_s;
        if r.status == EpisodeStatus::LapComplete {
            l.completed = true;
            l.progress = 100.0;
            out.extend(current.take());
        }
    }
    if let Some(l) = current.filter(|_| moved) {
        out.push(l);
    }
    out
}

/// The car's speed at every row, m/s ([`step_speed`]); NaN where there is nothing to measure.
pub fn speeds(rows: &[TraceRow]) -> Vec<f64> {
    rows.iter()
        .enumerate()
        .map(|(i, r)| step_speed(i.checked_sub(1).map(|k| &rows[k]), r).unwrap_or(f64::NAN))
        .collect()
}

/// Where the car left the road, one point per `off_track` row: the row's own position (DeepRacer's
/// and Slipstream's off-track row shows where the car left), or the previous row's in a trace
/// whose off-track row shows the car already back on the track (Slipstream before its races
/// followed DeepRacer's).
pub fn off_track_points(rows: &[TraceRow]) -> Vec<Vec2> {
    rows.iter()
        .enumerate()
        .filter(|(_, r)| r.status == EpisodeStatus::OffTrack)
        .map(|(i, r)| match i.checked_sub(1).map(|k| &rows[k]) {
            Some(p) if r.all_wheels_on_track && p.episode == r.episode => p.pos,
            _ => r.pos,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::read::tests::row;
    use crate::trace::{HEADER, parse_trace};

    #[test]
    fn laps_end_at_the_line_and_count_penalties() {
        let text = [
            HEADER.to_string(),
            row(0, 0.0, 0.0, "prepare", true, 0.0),
            row(0, 1.0, 1.0, "in_progress", true, 0.0),
            row(0, 2.0, 2.0, "off_track", false, 2.0),
            row(0, 3.0, 1.0, "pause", true, 1.0),
            row(0, 4.0, 1.0, "pause", true, 0.0),
            row(0, 10.0, 2.0, "lap_complete", true, 0.0),
            // A continuous race's next lap is the next episode, without a prepare row.
            row(1, 11.0, 2.5, "in_progress", true, 0.0),
            row(1, 18.0, 3.0, "lap_complete", true, 0.0),
            row(2, 18.0, 0.0, "prepare", true, 0.0),
            row(2, 19.0, 1.0, "in_progress", true, 0.0),
            row(2, 20.0, 2.0, "off_track", false, 0.0),
        ]
        .join("\n");
        let laps = laps(&parse_trace(&text).unwrap());
        assert_eq!(laps.len(), 3, "{laps:?}");
        assert_eq!(
            (laps[0].time_s, laps[0].penalty_s, laps[0].incidents, laps[0].completed),
            (10.0, 2.0, 1, true)
        );
        assert_eq!((laps[1].episode, laps[1].time_s, laps[1].penalty_s), (1, 8.0, 0.0));
        assert_eq!((laps[2].episode, laps[2].lap, laps[2].completed), (2, 1, false));
        assert_eq!((laps[2].time_s, laps[2].progress), (2.0, 10.0));
    }

    #[test]
    fn speeds_come_from_positions_and_skip_resets() {
        let text = [
            HEADER.to_string(),
            row(0, 0.0, 0.0, "prepare", true, 0.0),
            row(0, 0.5, 1.0, "in_progress", true, 0.0),
            row(0, 1.0, 2.5, "in_progress", true, 0.0),
            row(0, 1.5, 3.0, "off_track", false, 2.0),
            row(0, 2.0, -3.0, "pause", true, 1.5),
            row(1, 2.0, 0.0, "prepare", true, 0.0),
            row(1, 2.5, 0.5, "in_progress", false, 0.0),
            row(1, 3.0, 0.9, "off_track", false, 0.0),
        ]
        .join("\n");
        let rows = parse_trace(&text).unwrap();
        let v = speeds(&rows);
        assert!(v[0].is_nan());
        assert_eq!((v[1], v[2], v[3]), (2.0, 3.0, 1.0));
        assert!(v[4].is_nan(), "the car was put back after the off-track row");
        assert!(v[5].is_nan());
        // Off-tracks are marked where the car left (the off-track rows).
        assert_eq!(off_track_points(&rows), vec![Vec2::new(3.0, 0.0), Vec2::new(0.9, 0.0)]);
    }

    fn parsed(rows: &[(u64, f64, &str)]) -> Vec<TraceRow> {
        let text: Vec<String> = std::iter::once(HEADER.to_string())
            .chain(rows.iter().map(|&(ep, t, s)| row(ep, t, 0.0, s, true, 0.0)))
            .collect();
        parse_trace(&text.join("\n")).unwrap()
    }

    #[test]
    fn the_lap_clock_follows_trials_and_continuous_laps() {
        let trace = parsed(&[
            (0, 0.0, "prepare"),
            (0, 5.0, "lap_complete"),
            (1, 5.0, "prepare"),
            (1, 7.0, "off_track"),
            (2, 7.0, "prepare"),
            (2, 13.0, "lap_complete"),
            (3, 13.5, "in_progress"),
            (3, 17.0, "lap_complete"),
        ]);
        let mut c = Cursor::new(0.0);
        let seen: Vec<Playback> = (0..trace.len()).map(|k| c.at(&trace, k).unwrap()).collect();
        let clock = |k: usize| (seen[k].lap, seen[k].lap_start_s);
        assert_eq!(clock(1), (1, 0.0), "the first lap done in 5 s, still shown as lap 1");
        assert_eq!(seen[1].lap_time_s, 5.0);
        assert_eq!(clock(2), (2, 5.0), "trial 2 from its prepare row");
        assert_eq!(clock(3), (2, 5.0));
        assert_eq!(clock(4), (3, 7.0), "trial 2 ended off the track: trial 3");
        assert_eq!(clock(5), (3, 7.0), "trial 3 done in 6 s");
        assert_eq!(clock(6), (4, 13.0), "a continuous lap starts where the last one ended");
        assert_eq!(clock(7), (4, 13.0), "the race's last row shows its last lap");
        let end = seen[7];
        assert_eq!((end.best_lap_s, end.off_track, end.laps_done), (Some(4.0), 1, 3));
        // Asked again for an earlier row, the cursor starts over: the same answer.
        assert_eq!(c.at(&trace, 3), Some(seen[3]));
        // The charts' laps are the cursor's.
        let laps = laps(&trace);
        let times: Vec<(u64, u32, f64, bool)> =
            laps.iter().map(|l| (l.episode, l.lap, l.time_s, l.completed)).collect();
        assert_eq!(
            times,
            [
                (0, 1, 5.0, true),
                (1, 1, 2.0, false),
                (2, 1, 6.0, true),
                (3, 1, 4.0, true)
            ]
        );
    }

    #[test]
    fn past_its_traces_end_a_car_stays_there_as_a_ghost() {
        let mut r = parsed(&[(0, 0.0, "prepare"), (0, 0.1, "pause"), (0, 0.2, "in_progress")]);
        for (i, row) in r.iter_mut().enumerate() {
            row.pos = Vec2::new(0.1 * i as f64, 0.0);
        }
        let mut c = Cursor::new(0.0);
        let ghost: Vec<bool> = (0..5).map(|k| c.at(&r, k).unwrap().held).collect();
        assert_eq!(ghost, [false, true, false, true, true]);
        let (end, past) = (c.at(&r, 2).unwrap(), c.at(&r, 4).unwrap());
        assert_eq!((past.pose, past.row, past.past_end), (end.pose, 2, true));
        assert!(c.at(&[], 0).is_none());
    }

    #[test]
    fn one_heading_rule_yaw_or_else_the_motion() {
        // With yaw: the trace's yaw, the origin behind the reference point.
        let mut r = parsed(&[
            (0, 0.0, "prepare"),
            (0, 0.5, "in_progress"),
            (0, 1.0, "in_progress"),
            (0, 1.5, "in_progress"),
        ]);
        for (i, row) in r.iter_mut().enumerate() {
            row.pos = Vec2::new(0.0, 0.5 * i as f64);
            row.yaw_deg = 90.0;
        }
        let mut c = Cursor::new(0.1);
        let p = c.at(&r, 1).unwrap();
        assert_eq!(p.pose.heading, 90f64.to_radians());
        assert!(p.pose.origin.distance(Vec2::new(0.0, 0.4)) < 1e-12);
        assert_eq!(p.speed, Some(1.0));
        // Without: the direction of the motion, kept while the car stands still or jumps.
        for row in &mut r {
            row.yaw_deg = f64::NAN;
        }
        r[2].pos = r[1].pos;
        r[3].pos = Vec2::new(50.0, 0.5);
        let mut c = Cursor::new(0.0);
        let h: Vec<f64> = (0..4).map(|k| c.at(&r, k).unwrap().pose.heading).collect();
        assert_eq!(h, [0.0, 90f64.to_radians(), 90f64.to_radians(), 90f64.to_radians()]);
        assert_eq!(c.at(&r, 3).unwrap().speed, None, "a jump is not driving");
    }
}
