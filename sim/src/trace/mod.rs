//! Per-step traces in DeepRacer's simtrace CSV layout (the `SIM_TRACE_LOG` columns), so that existing
//! DeepRacer log-analysis tools (deepracer-utils, deepracer-analysis) read them unchanged:
//!
//! ```text
//! episode,steps,X,Y,yaw,steer,throttle,action,reward,done,all_wheels_on_track,progress,closest_waypoint,track_len,tstamp,episode_status,pause_duration
//! ```
//!
//! Values are written the way DeepRacer's simulator writes its simtrace CSV (Python `str()` of each
//! value, `write_simtrace_to_local_file`): `steps` as a float (simapp keeps it as one; only its
//! `SIM_TRACE_LOG:` log lines print it with `%d`, and Slipstream prints no such lines),
//! booleans as `True`/`False`, `X`/`Y` at the car's reference point, `yaw` and `steer` in degrees,
//! `throttle` the commanded speed, `action` the discrete index or `[steer speed]` for a continuous
//! action, `tstamp` in simulated seconds. Every episode starts with a `prepare` row with reward 0.
//!
//! This module writes them ([`TraceWriter`]); [`read`] reads them back into [`TraceRow`]s (the
//! `episode_status` column parsed once into [`crate::episode::EpisodeStatus`]), and [`playback`]
//! holds the rules every replay follows as a trace plays: one [`Cursor`] gives each row's pose,
//! speed, lap clock and held flag.

pub mod playback;
pub mod read;

pub use playback::{Cursor, MAX_SPEED, Playback, TraceLap, TracePose, laps, off_track_points, speeds, step_speed};
pub use read::{REQUIRED, Rival, TraceAction, TraceRow, check_on_track, parse_trace, read_trace};

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::action::Action;
use crate::buffers::{StepBuffers, StepInfo};
use crate::error::SimError;
use crate::params::RewardParams;

/// The header line (without newline).
pub const HEADER: &str = "episode,steps,X,Y,yaw,steer,throttle,action,reward,done,all_wheels_on_track,progress,closest_waypoint,track_len,tstamp,episode_status,pause_duration";

/// Format a float as Python's `repr`/`str` does (`1.0`, `0.1`, `1e-07`, `inf`, `nan`).
pub fn py_float(v: f64, out: &mut String) {
    if v.is_nan() {
        out.push_str("nan");
        return;
    }
    if v.is_infinite() {
        out.push_str(if v > 0.0 { "inf" } else { "-inf" });
        return;
    }
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        // Python switches to exponent notation outside [1e-4, 1e16): mantissa, 'e', sign, ≥2 digits.
        let s = format!("{v:e}");
        let (mant, exp) = s.split_once('e').expect("exponent format");
        let exp: i32 = exp.parse().expect("integer exponent");
        let _ = write!(out, "{mant}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
        return;
    }
    let _ = write!(out, "{v:?}");
}

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// Append one row's fields after `episode,` (from `steps` to `pause_duration`, and the newline) to
/// `l`: for writers that number a row's episode later (the trainer's training simtrace numbers an
/// episode when it ends).
pub fn write_fields(l: &mut String, info: &StepInfo, p: &RewardParams, reward: f32, done: bool) {
    py_float(f64::from(info.steps), l);
    for v in [p.x, p.y, p.heading, p.steering_angle, p.speed] {
        l.push(',');
        py_float(v, l);
    }
    l.push(',');
    match info.action {
        Action::Discrete(i) => {
            let _ = write!(l, "{i}");
        }
        Action::Continuous([s, v]) => {
            l.push('[');
            py_float(f64::from(s), l);
            l.push(' ');
            py_float(f64::from(v), l);
            l.push(']');
        }
    }
    l.push(',');
    py_float(f64::from(reward), l);
    let _ = write!(l, ",{},{},", py_bool(done), py_bool(p.all_wheels_on_track));
    py_float(p.progress, l);
    let _ = write!(l, ",{},", info.closest_waypoint);
    py_float(p.track_length, l);
    l.push(',');
    py_float(info.tstamp, l);
    let _ = write!(l, ",{},", info.status.as_str());
    py_float(info.pause_duration, l);
    l.push('\n');
}

/// Writes trace rows for one or more cars.
#[derive(Debug)]
pub struct TraceWriter<W: Write> {
    w: W,
    line: String,
}

impl TraceWriter<BufWriter<File>> {
    /// Create (truncate) a trace file and write the header.
    pub fn create(path: &Path) -> Result<Self, SimError> {
        let f = File::create(path).map_err(|e| SimError::file(path, format!("cannot create trace: {e}")))?;
        Self::new(BufWriter::new(f)).map_err(|e| SimError::file(path, format!("cannot write trace: {e}")))
    }
}

impl<W: Write> TraceWriter<W> {
    pub fn new(mut w: W) -> std::io::Result<Self> {
        writeln!(w, "{HEADER}")?;
        Ok(Self {
            w,
            line: String::with_capacity(256),
        })
    }

    /// Write one row. `episode` is the trace's episode number (DeepRacer counts them per trace).
    pub fn row(
        &mut self,
        episode: u64,
        info: &StepInfo,
        p: &RewardParams,
        reward: f32,
        done: bool,
    ) -> std::io::Result<()> {
        let l = &mut self.line;
        l.clear();
        let _ = write!(l, "{episode},");
        write_fields(l, info, p, reward, done);
        self.w.write_all(l.as_bytes())
    }

    /// The prepare row of car `car` after `reset` (the buffers must carry params).
    pub fn record_reset(&mut self, out: &StepBuffers, car: usize) -> std::io::Result<()> {
        let info = out.info[car];
        self.row(info.episode, &info, &out.params[car], 0.0, false)
    }

    /// Car `car`'s row for the step just taken, plus the next episode's prepare row if it ended.
    pub fn record_step(&mut self, out: &StepBuffers, car: usize) -> std::io::Result<()> {
        let info = out.info[car];
        let ended = out.ended(car);
        self.row(info.episode, &info, &out.params[car], out.reward[car], ended)?;
        // Training episodes restart automatically: the new episode begins with its prepare row.
        let next = out.reset_info[car];
        if ended && next.episode == info.episode + 1 {
            self.row(next.episode, &next, &out.reset_params[car], 0.0, false)?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.w.flush()
    }

    pub fn into_inner(self) -> W {
        self.w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_look_like_python() {
        let f = |v: f64| {
            let mut s = String::new();
            py_float(v, &mut s);
            s
        };
        assert_eq!(f(1.0), "1.0");
        assert_eq!(f(0.1), "0.1");
        assert_eq!(f(27.987000000000002), "27.987000000000002");
        assert_eq!(f(1e-7), "1e-07");
        assert_eq!(f(-2.5e-5), "-2.5e-05");
        assert_eq!(f(0.0), "0.0");
        assert_eq!(f(f64::NAN), "nan");
    }

    #[test]
    fn row_layout() {
        let mut w = TraceWriter::new(Vec::new()).unwrap();
        let info = StepInfo {
            steps: 2,
            action: Action::Continuous([12.5, 2.0]),
            closest_waypoint: 3,
            tstamp: 0.2,
            ..Default::default()
        };
        let p = RewardParams {
            x: 1.5,
            y: -0.25,
            heading: 90.0,
            steering_angle: 12.5,
            speed: 2.0,
            progress: 1.25,
            track_length: 17.5,
            ..Default::default()
        };
        w.row(0, &info, &p, 0.5, false).unwrap();
        let text = String::from_utf8(w.into_inner()).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next().unwrap(), HEADER);
        assert_eq!(
            lines.next().unwrap(),
            "0,2.0,1.5,-0.25,90.0,12.5,2.0,[12.5 2.0],0.5,False,True,1.25,3,17.5,0.2,prepare,0.0"
        );
        assert_eq!(HEADER.split(',').count(), 17);
    }
}
