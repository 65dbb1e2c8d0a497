//! Reading a SIM_TRACE_LOG CSV trace back (the layout [`crate::trace`] writes, and DeepRacer's
//! simtrace files), and what the plots derive from it: laps and speeds.
//!
//! Columns are found by their header names, so a file with extra columns or another column order
//! (DeepRacer's own simtrace) reads too.

use std::path::Path;

use super::PlotError;
use crate::math::Vec2;

/// The columns a trace must have.
pub const REQUIRED: [&str; 10] = [
    "episode",
    "X",
    "Y",
    "steer",
    "throttle",
    "action",
    "all_wheels_on_track",
    "progress",
    "tstamp",
    "episode_status",
];

/// A row's action: a discrete index, or a continuous `[steer speed]` pair as written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TraceAction {
    Discrete(u32),
    Continuous { steer: f64, speed: f64 },
}

/// One row of a trace (the columns the plots use).
#[derive(Clone, Debug, PartialEq)]
pub struct TraceRow {
    pub episode: u64,
    /// The car's reference point, metres.
    pub pos: Vec2,
    /// Steering angle, degrees.
    pub steer: f64,
    /// Commanded speed, m/s.
    pub throttle: f64,
    pub action: TraceAction,
    pub all_wheels_on_track: bool,
    /// Progress round the lap, percent.
    pub progress: f64,
    /// Simulated seconds.
    pub tstamp: f64,
    /// `prepare`, `in_progress`, `lap_complete`, `off_track`, `crashed`, `reversed`, `immobilized`, …
    pub status: String,
    /// Penalty seconds charged at this row (0 when the column is missing).
    pub pause_duration: f64,
}

impl TraceRow {
    /// The first row of an episode, before any action.
    pub fn is_prepare(&self) -> bool {
        self.status == "prepare"
    }

    /// The car left the road here: DeepRacer's `off_track` status, or not all wheels on the track.
    pub fn is_off_track(&self) -> bool {
        self.status == "off_track" || !self.all_wheels_on_track
    }

    /// An incident (off-track, crash, reversal, immobilisation): the row shows where it happened;
    /// after it the episode ends, or — in a race with resets — the car is held (`pause` rows)
    /// where it is put back, so its position jumps.
    pub fn resets_car(&self) -> bool {
        matches!(
            self.status.as_str(),
            "off_track" | "crashed" | "reversed" | "immobilized"
        )
    }
}

/// Read a trace file.
pub fn read_trace(path: &Path) -> Result<Vec<TraceRow>, PlotError> {
    let text = std::fs::read_to_string(path).map_err(|e| PlotError::file(path, format!("cannot read trace: {e}")))?;
    parse_trace(&text).map_err(|(line, message)| {
        if line == 0 {
            PlotError::file(path, message)
        } else {
            PlotError::Line {
                path: path.to_path_buf(),
                line,
                message,
            }
        }
    })
}

/// Parse a trace's text. Errors are (1-based line number, or 0 for the whole file; message).
pub fn parse_trace(text: &str) -> Result<Vec<TraceRow>, (usize, String)> {
    let mut lines = text.lines().enumerate();
    let Some((_, header)) = lines.next() else {
        return Err((0, "empty file: expected a SIM_TRACE_LOG CSV header".into()));
    };
    let names: Vec<&str> = header.trim().split(',').map(str::trim).collect();
    let col = |name: &str| names.iter().position(|n| *n == name);
    let missing: Vec<&str> = REQUIRED.iter().copied().filter(|n| col(n).is_none()).collect();
    if !missing.is_empty() {
        return Err((
            1,
            format!(
                "not a SIM_TRACE_LOG CSV trace: missing column(s) {} (the header has: {})",
                missing.join(", "),
                names.join(",")
            ),
        ));
    }
    let c = |name: &str| col(name).expect("required column");
    let (episode, x, y, steer, throttle, action) =
        (c("episode"), c("X"), c("Y"), c("steer"), c("throttle"), c("action"));
    let (wheels, progress, tstamp, status) = (
        c("all_wheels_on_track"),
        c("progress"),
        c("tstamp"),
        c("episode_status"),
    );
    let pause = col("pause_duration");
    let mut rows = Vec::new();
    for (i, line) in lines {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != names.len() {
            return Err((
                n,
                format!(
                    "expected {} fields as in the header, found {}",
                    names.len(),
                    fields.len()
                ),
            ));
        }
        let num = |k: usize| -> Result<f64, (usize, String)> {
            let v: f64 = fields[k].parse().map_err(|_| {
                (
                    n,
                    format!("column {}: expected a number, got {:?}", names[k], fields[k]),
                )
            })?;
            Ok(v)
        };
        let finite = |k: usize| -> Result<f64, (usize, String)> {
            let v = num(k)?;
            if v.is_finite() {
                Ok(v)
            } else {
                Err((
                    n,
                    format!("column {}: expected a finite number, got {}", names[k], fields[k]),
                ))
            }
        };
        let ep = num(episode)?;
        if !(ep >= 0.0 && ep.fract() == 0.0) {
            return Err((
                n,
                format!("column episode: expected a whole number, got {}", fields[episode]),
            ));
        }
        let on_track = match fields[wheels] {
            "True" | "true" | "1" => true,
            "False" | "false" | "0" => false,
            other => {
                return Err((
                    n,
                    format!("column all_wheels_on_track: expected True or False, got {other:?}"),
                ));
            }
        };
        rows.push(TraceRow {
            episode: ep as u64,
            pos: Vec2::new(finite(x)?, finite(y)?),
            steer: num(steer)?,
            throttle: num(throttle)?,
            action: parse_action(fields[action]).ok_or_else(|| {
                (
                    n,
                    format!(
                        "column action: expected an index or [steer speed], got {:?}",
                        fields[action]
                    ),
                )
            })?,
            all_wheels_on_track: on_track,
            progress: num(progress)?,
            tstamp: finite(tstamp)?,
            status: fields[status].to_string(),
            pause_duration: match pause {
                Some(k) => num(k)?,
                None => 0.0,
            },
        });
    }
    if rows.is_empty() {
        return Err((0, "the trace has a header but no rows".into()));
    }
    Ok(rows)
}

fn parse_action(s: &str) -> Option<TraceAction> {
    if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        let mut it = inner.split_whitespace();
        let steer = it.next()?.parse().ok()?;
        let speed = it.next()?.parse().ok()?;
        return it.next().is_none().then_some(TraceAction::Continuous { steer, speed });
    }
    // DeepRacer writes discrete indices as integers; accept "3.0" too.
    let v: f64 = s.parse().ok()?;
    (v >= 0.0 && v.fract() == 0.0 && v < f64::from(u32::MAX)).then_some(TraceAction::Discrete(v as u32))
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

/// Split a trace into laps: a lap ends at a `lap_complete` row; what an episode drove after its
/// last completed lap (an off-track end of a training episode, a race cut by its time limit) is an
/// incomplete lap.
pub fn laps(rows: &[TraceRow]) -> Vec<TraceLap> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let ep = rows[i].episode;
        let mut j = i;
        while j < rows.len() && rows[j].episode == ep {
            j += 1;
        }
        let episode = &rows[i..j];
        // A trial (or training episode) starts at its prepare row; a continuous race's next lap
        // (a new episode without one) where the previous lap ended.
        let mut start = match i.checked_sub(1) {
            Some(k) if !episode[0].is_prepare() => rows[k].tstamp,
            _ => episode[0].tstamp,
        };
        let mut lap = 1;
        let (mut penalty, mut incidents, mut moved, mut progress) = (0.0, 0, false, 0.0f64);
        for r in episode {
            if r.resets_car() {
                incidents += 1;
                penalty += r.pause_duration;
            }
            if !r.is_prepare() {
                moved = true;
                progress = progress.max(r.progress);
            }
            if r.status == "lap_complete" {
                out.push(TraceLap {
                    episode: ep,
                    lap,
                    time_s: r.tstamp - start,
                    penalty_s: penalty,
                    incidents,
                    completed: true,
                    progress: 100.0,
                });
                lap += 1;
                start = r.tstamp;
                (penalty, incidents, moved, progress) = (0.0, 0, false, 0.0);
            }
        }
        if moved {
            let last = &episode[episode.len() - 1];
            out.push(TraceLap {
                episode: ep,
                lap,
                time_s: last.tstamp - start,
                penalty_s: penalty,
                incidents,
                completed: false,
                progress,
            });
        }
        i = j;
    }
    out
}

/// Speeds faster than this (m/s) between two rows are a jump (a reset), not driving.
pub const MAX_SPEED: f64 = 20.0;

/// The car's speed at every row, m/s, from its positions (`X`, `Y`) and `tstamp`: the distance
/// from the previous row over the time between them. NaN where there is nothing to measure: an
/// episode's first row, the row after an incident (a race puts the car back on the track there),
/// or a jump.
pub fn speeds(rows: &[TraceRow]) -> Vec<f64> {
    let mut out = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let v = match i.checked_sub(1).map(|k| &rows[k]) {
            Some(p) if p.episode == r.episode && !p.resets_car() && !r.is_prepare() => {
                let dt = r.tstamp - p.tstamp;
                let v = (r.pos - p.pos).length() / dt;
                if dt > 0.0 && v.is_finite() && v <= MAX_SPEED {
                    v
                } else {
                    f64::NAN
                }
            }
            _ => f64::NAN,
        };
        out.push(v);
    }
    out
}

/// Where the car left the road, one point per `off_track` row: the row's own position (DeepRacer's
/// and Slipstream's off-track row shows where the car left), or the previous row's in a trace
/// whose off-track row shows the car already back on the track (Slipstream before its races
/// followed DeepRacer's).
pub fn off_track_points(rows: &[TraceRow]) -> Vec<Vec2> {
    rows.iter()
        .enumerate()
        .filter(|(_, r)| r.status == "off_track")
        .map(|(i, r)| match i.checked_sub(1).map(|k| &rows[k]) {
            Some(p) if r.all_wheels_on_track && p.episode == r.episode => p.pos,
            _ => r.pos,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::HEADER;

    fn row(ep: u64, t: f64, x: f64, status: &str, on: bool, pause: f64) -> String {
        let on = if on { "True" } else { "False" };
        format!("{ep},1.0,{x},0.0,0.0,0.0,1.0,[0.0 1.0],0.0,False,{on},10.0,1,20.0,{t},{status},{pause}")
    }

    #[test]
    fn rows_are_read_by_column_name() {
        let text = format!(
            "{HEADER}\n{}\n0,2.0,1.5,2.5,10.0,-12.5,2.0,3,1.0,False,False,4.5,2,20.0,0.0667,off_track,2.0\n",
            row(0, 0.0, 1.0, "prepare", true, 0.0)
        );
        let rows = parse_trace(&text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].action, TraceAction::Continuous { steer: 0.0, speed: 1.0 });
        let r = &rows[1];
        assert_eq!((r.pos, r.steer, r.throttle), (Vec2::new(1.5, 2.5), -12.5, 2.0));
        assert_eq!(r.action, TraceAction::Discrete(3));
        assert!(!r.all_wheels_on_track && r.is_off_track() && r.resets_car());
        assert_eq!((r.progress, r.tstamp, r.pause_duration), (4.5, 0.0667, 2.0));
        // Another column order (and no pause_duration) reads the same.
        let reordered = "X,Y,episode,steer,throttle,action,all_wheels_on_track,progress,tstamp,episode_status\n\
                         1.5,2.5,0,-12.5,2.0,3,False,4.5,0.0667,off_track\n";
        let r2 = &parse_trace(reordered).unwrap()[0];
        assert_eq!((r2.pos, r2.action, r2.pause_duration), (r.pos, r.action, 0.0));
    }

    #[test]
    fn bad_traces_name_the_line_and_column() {
        assert_eq!(parse_trace("").unwrap_err().0, 0);
        let e = parse_trace("episode,X\n0,1\n").unwrap_err();
        assert_eq!(e.0, 1);
        assert!(e.1.contains("missing column(s) Y, steer"), "{}", e.1);
        let bad = format!("{HEADER}\n0,1.0,x,0.0,0.0,0.0,1.0,0,0.0,False,True,10.0,1,20.0,0.0,prepare,0.0\n");
        let e = parse_trace(&bad).unwrap_err();
        assert_eq!(e.0, 2);
        assert!(e.1.contains("column X"), "{}", e.1);
        let short = format!("{HEADER}\n0,1.0\n");
        assert!(parse_trace(&short).unwrap_err().1.contains("expected 17 fields"));
        assert!(parse_trace(&format!("{HEADER}\n")).unwrap_err().1.contains("no rows"));
    }

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
}
