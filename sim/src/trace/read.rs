//! Reading a SIM_TRACE_LOG CSV trace back (the layout [`super::TraceWriter`] writes, and
//! DeepRacer's simtrace files) into [`TraceRow`]s. What a row means as the trace plays (pose,
//! speed, laps) is [`super::playback`]'s.
//!
//! Columns are found by their header names, so a file with extra columns or another column order
//! (DeepRacer's own simtrace) reads too.

use std::path::Path;

use crate::episode::EpisodeStatus;
use crate::error::SimError;
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
    /// The car's heading (DeepRacer's `yaw`), degrees; NaN when the trace has no `yaw` column.
    pub yaw_deg: f64,
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
    /// The `episode_status` column (DeepRacer's strings: `prepare`, `in_progress`, `lap_complete`,
    /// `off_track`, `crashed`, `reversed`, `immobilized`, `time_up`, `pause`).
    pub status: EpisodeStatus,
    /// Penalty seconds charged at this row (0 when the column is missing).
    pub pause_duration: f64,
}

impl TraceRow {
    /// The first row of an episode, before any action.
    pub fn is_prepare(&self) -> bool {
        self.status == EpisodeStatus::Prepare
    }

    /// The car left the road here: DeepRacer's `off_track` status, or not all wheels on the track.
    pub fn is_off_track(&self) -> bool {
        self.status == EpisodeStatus::OffTrack || !self.all_wheels_on_track
    }

    /// An incident (off-track, crash, reversal, immobilisation): the row shows where it happened;
    /// after it the episode ends, or — in a race with resets — the car is held (`pause` rows)
    /// where it is put back, so its position jumps.
    pub fn resets_car(&self) -> bool {
        self.status.is_incident()
    }

    /// The car is held here for a penalty (a `pause` row): a ghost to the other cars.
    pub fn is_held(&self) -> bool {
        self.status == EpisodeStatus::Pause
    }
}

/// Refuse a trace driven on another track (it would be drawn in the wrong place): most of its
/// positions more than 2 m off the road of `track`.
pub fn check_on_track(track: &crate::track::Track, rows: &[TraceRow]) -> Result<(), String> {
    let far = rows
        .iter()
        .filter(|r| track.project_global(r.pos).distance > track.width_mean() + 2.0)
        .count();
    if far * 2 > rows.len() {
        return Err(format!(
            "{far} of {} positions are more than 2 m off {} ({:.1} m): is --track the track this trace was driven on?",
            rows.len(),
            track.name(),
            track.length()
        ));
    }
    Ok(())
}

/// Read a trace file.
pub fn read_trace(path: &Path) -> Result<Vec<TraceRow>, SimError> {
    let text = std::fs::read_to_string(path).map_err(|e| SimError::file(path, format!("cannot read trace: {e}")))?;
    parse_trace(&text).map_err(|(line, message)| {
        if line == 0 {
            SimError::file(path, message)
        } else {
            SimError::file(path, format!("line {line}: {message}"))
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
    let yaw = col("yaw");
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
            yaw_deg: match yaw {
                Some(k) => num(k)?,
                None => f64::NAN,
            },
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
            status: EpisodeStatus::parse(fields[status]).ok_or_else(|| {
                (
                    n,
                    format!(
                        "column episode_status: expected one of {}, got {:?}",
                        EpisodeStatus::ALL.map(EpisodeStatus::as_str).join(", "),
                        fields[status]
                    ),
                )
            })?,
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

/// Another car of a head-to-head race: its name and its trace (one row per step, as every other
/// car's).
#[derive(Clone, Debug)]
pub struct Rival {
    pub name: String,
    pub rows: Vec<TraceRow>,
}

impl Rival {
    /// A trace file, named after the file (`car-2.csv` → `car-2`).
    pub fn from_trace(path: &Path) -> Result<Self, SimError> {
        Ok(Rival {
            name: path
                .file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned()),
            rows: read_trace(path)?,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::trace::HEADER;

    /// A trace row on the x axis: episode `ep` at `t` s, at `x`, with its status, on the road or
    /// not, and its pause (the reader's and the playback's tests).
    pub(crate) fn row(ep: u64, t: f64, x: f64, status: &str, on: bool, pause: f64) -> String {
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
    fn statuses_are_deepracers_strings() {
        // simapp's `markov/metrics/constants.py` EpisodeStatus: ten of them, `park` included.
        assert_eq!(EpisodeStatus::ALL.len(), 10);
        assert_eq!(EpisodeStatus::parse("park"), Some(EpisodeStatus::Park));
        for s in EpisodeStatus::ALL {
            let text = format!("{HEADER}\n{}\n", row(0, 0.0, 1.0, s.as_str(), true, 0.0));
            assert_eq!(parse_trace(&text).unwrap()[0].status, s);
        }
        let e = parse_trace(&format!("{HEADER}\n{}\n", row(0, 0.0, 1.0, "done", true, 0.0))).unwrap_err();
        assert_eq!(e.0, 2);
        assert!(
            e.1.contains("column episode_status") && e.1.contains("lap_complete"),
            "{}",
            e.1
        );
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
}
