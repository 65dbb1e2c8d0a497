//! `sim plot`'s figures from a trace: the track map with the driven line coloured by speed and the
//! off-track points marked, the lap times, and a histogram of the actions taken.
//!
//! Speed is the car's measured speed, from consecutive positions (`X`, `Y`) and `tstamp`
//! ([`crate::trace::speeds`]), not the `throttle` column (the commanded speed, which the car reaches
//! only after accelerating).

use std::path::{Path, PathBuf};

use plotters::prelude::*;
use serde::Serialize;

use super::chart::{Bar, BarChart};
use super::map::{MapLayers, MapProjection, TrailPoint, draw_track_map, map_size};
use super::{Area, PlotError, write_png};
use crate::episode::EpisodeStatus;
use crate::trace::{TraceAction, TraceLap, TraceRow, laps, off_track_points, speeds};
use crate::track::Track;

/// What the colour of the driven line means (the colour bar's description).
pub const SPEED_LABEL: &str = "speed (m/s, from X/Y and tstamp)";

/// The file names `sim plot` writes into a folder.
pub const MAP_FILE: &str = "track_map.png";
pub const LAPS_FILE: &str = "lap_times.png";
pub const ACTIONS_FILE: &str = "actions.png";

const COMPLETED: RGBColor = RGBColor(31, 119, 180);
const INCOMPLETE: RGBColor = RGBColor(170, 170, 170);
const PENALTY: RGBColor = RGBColor(255, 127, 14);
const STEER: RGBColor = RGBColor(44, 160, 44);
const SPEED: RGBColor = RGBColor(148, 103, 189);

/// One lap in a summary.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LapSummary {
    pub episode: u64,
    pub lap: u32,
    pub time_s: f64,
    pub penalty_s: f64,
    pub completed: bool,
    pub progress: f64,
}

/// What the plots show, in numbers.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TraceSummary {
    pub track: String,
    pub rows: usize,
    pub episodes: usize,
    pub laps: Vec<LapSummary>,
    pub completed_laps: usize,
    /// Fastest completed lap including its penalties, seconds.
    pub best_lap_s: Option<f64>,
    /// Rows with status `off_track`.
    pub off_track: usize,
    /// Rows with a wheel off the track.
    pub wheels_off_rows: usize,
    pub max_speed_m_s: Option<f64>,
    /// Where the line's colour comes from.
    pub speed_from: &'static str,
}

/// A trace, ready to plot on a track.
#[derive(Debug)]
pub struct TracePlot<'a> {
    pub track: &'a Track,
    pub rows: &'a [TraceRow],
    /// The trace's name for titles (its file name).
    pub name: String,
    laps: Vec<TraceLap>,
    speeds: Vec<f64>,
}

impl<'a> TracePlot<'a> {
    pub fn new(track: &'a Track, rows: &'a [TraceRow], name: impl Into<String>) -> Self {
        TracePlot {
            track,
            rows,
            name: name.into(),
            laps: laps(rows),
            speeds: speeds(rows),
        }
    }

    pub fn summary(&self) -> TraceSummary {
        let mut episodes: Vec<u64> = self.rows.iter().map(|r| r.episode).collect();
        episodes.dedup();
        let completed: Vec<&TraceLap> = self.laps.iter().filter(|l| l.completed).collect();
        TraceSummary {
            track: self.track.name().to_string(),
            rows: self.rows.len(),
            episodes: episodes.len(),
            laps: self
                .laps
                .iter()
                .map(|l| LapSummary {
                    episode: l.episode,
                    lap: l.lap,
                    time_s: l.time_s,
                    penalty_s: l.penalty_s,
                    completed: l.completed,
                    progress: l.progress,
                })
                .collect(),
            completed_laps: completed.len(),
            best_lap_s: completed.iter().map(|l| l.time_s).reduce(f64::min),
            off_track: self.rows.iter().filter(|r| r.status == EpisodeStatus::OffTrack).count(),
            wheels_off_rows: self.rows.iter().filter(|r| !r.all_wheels_on_track).count(),
            max_speed_m_s: self.speeds.iter().copied().filter(|v| v.is_finite()).reduce(f64::max),
            speed_from: "X/Y and tstamp",
        }
    }

    /// The map's layers: the driven line, off-track crosses, wheels-off halo.
    pub fn layers(&self) -> MapLayers {
        MapLayers {
            trail: self
                .rows
                .iter()
                .zip(&self.speeds)
                .map(|(r, &speed)| TrailPoint { pos: r.pos, speed })
                .collect(),
            speed_range: None,
            speed_label: SPEED_LABEL.into(),
            off_track: off_track_points(self.rows),
            wheels_off: self
                .rows
                .iter()
                .filter(|r| !r.all_wheels_on_track)
                .map(|r| r.pos)
                .collect(),
        }
    }

    fn map_title(&self) -> String {
        let s = self.summary();
        let laps = match s.completed_laps {
            1 => "1 lap".to_string(),
            n => format!("{n} laps"),
        };
        format!(
            "{} ({:.1} m): {} — {laps}, {} off-track",
            self.track.name(),
            self.track.length(),
            self.name,
            s.off_track
        )
    }

    /// Draw the map; returns its projection.
    pub fn draw_map(&self, area: &Area<'_>) -> Result<MapProjection, PlotError> {
        draw_track_map(area, self.track, &self.map_title(), &self.layers())
    }

    /// The lap-time bars: driving time, penalties stacked on top; incomplete laps grey with the
    /// progress they reached.
    pub fn laps_chart(&self) -> BarChart {
        let s = self.summary();
        let title = match s.best_lap_s {
            Some(b) => format!(
                "Lap times: best {b:.2} s, {} of {} laps completed",
                s.completed_laps,
                self.laps.len()
            ),
            None => format!("Lap times: no lap completed in {} episode(s)", s.episodes),
        };
        let several = s.episodes > 1;
        let x_label = if several {
            "lap, in trace order (all episodes)"
        } else {
            "lap"
        };
        let mut chart = BarChart::new(title, x_label, "time (s)");
        chart.integer_x = true;
        let notes = self.laps.len() <= 24;
        for (i, l) in self.laps.iter().enumerate() {
            let x = (i + 1) as f64;
            chart.bars.push(Bar {
                x: x - 0.35..x + 0.35,
                segments: vec![
                    // The time the car was held is inside the lap time: drawn on top of the rest.
                    (
                        (l.time_s - l.penalty_s).max(0.0),
                        if l.completed { COMPLETED } else { INCOMPLETE },
                    ),
                    (l.penalty_s.min(l.time_s), PENALTY),
                ],
                note: notes.then(|| {
                    if l.completed {
                        format!("{:.2}", l.time_s)
                    } else {
                        format!("{:.0} %", l.progress)
                    }
                }),
            });
        }
        chart.legend.push(("completed lap".into(), COMPLETED));
        if self.laps.iter().any(|l| !l.completed) {
            chart.legend.push(("unfinished (progress %)".into(), INCOMPLETE));
        }
        if self.laps.iter().any(|l| l.penalty_s > 0.0) {
            chart.legend.push(("held (penalty)".into(), PENALTY));
        }
        chart
    }

    /// Histograms of the actions: one bar per index for a discrete action space; steering angle
    /// and speed for a continuous one.
    pub fn action_charts(&self) -> Vec<BarChart> {
        let acted: Vec<&TraceRow> = self.rows.iter().filter(|r| !r.is_prepare()).collect();
        let discrete: Vec<u32> = acted
            .iter()
            .filter_map(|r| match r.action {
                TraceAction::Discrete(i) => Some(i),
                TraceAction::Continuous { .. } => None,
            })
            .collect();
        if discrete.len() >= acted.len() / 2 && !discrete.is_empty() {
            let n = discrete.iter().max().map_or(0, |m| *m as usize + 1);
            let mut counts = vec![0usize; n];
            for i in &discrete {
                counts[*i as usize] += 1;
            }
            let mut chart = BarChart::new(
                format!("Actions taken ({} steps, discrete)", discrete.len()),
                "action index",
                "steps",
            );
            chart.integer_x = true;
            chart.bars = counts
                .iter()
                .enumerate()
                .map(|(i, &c)| Bar {
                    x: i as f64 - 0.4..i as f64 + 0.4,
                    segments: vec![(c as f64, COMPLETED)],
                    note: (n <= 16).then(|| format!("{:.0} %", 100.0 * c as f64 / discrete.len() as f64)),
                })
                .collect();
            return vec![chart];
        }
        let (steer, speed): (Vec<f64>, Vec<f64>) = acted
            .iter()
            .filter_map(|r| match r.action {
                TraceAction::Continuous { steer, speed } => Some((steer, speed)),
                TraceAction::Discrete(_) => None,
            })
            .unzip();
        let hist = |title: String, x_label: &str, v: &[f64], c: RGBColor| {
            let mut chart = BarChart::new(title, x_label, "steps");
            chart.bars = histogram(v, 20, c);
            chart
        };
        vec![
            hist(
                format!("Steering actions ({} steps)", steer.len()),
                "steering angle (°, + left)",
                &steer,
                STEER,
            ),
            hist(
                format!("Speed actions ({} steps)", speed.len()),
                "commanded speed (m/s)",
                &speed,
                SPEED,
            ),
        ]
    }

    /// Write the figures: into a folder as [`MAP_FILE`], [`LAPS_FILE`] and [`ACTIONS_FILE`], or —
    /// when `out` ends in `.png` — as one picture with all of them. Returns the files written.
    pub fn write(&self, out: &Path) -> Result<Vec<PathBuf>, PlotError> {
        if out.extension().is_some_and(|e| e.eq_ignore_ascii_case("png")) {
            if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| PlotError::file(parent, format!("cannot create folder: {e}")))?;
            }
            write_png(out, (2200, 1200), |root| {
                let (left, right) = root.split_horizontally(1300);
                self.draw_map(&left)?;
                let (top, bottom) = right.split_vertically(560);
                self.laps_chart().draw(&top)?;
                self.draw_actions(&bottom)
            })?;
            return Ok(vec![out.to_path_buf()]);
        }
        std::fs::create_dir_all(out).map_err(|e| PlotError::file(out, format!("cannot create folder: {e}")))?;
        let map = out.join(MAP_FILE);
        write_png(&map, map_size(self.track, &self.layers(), 1400), |a| {
            self.draw_map(a).map(|_| ())
        })?;
        let laps = out.join(LAPS_FILE);
        write_png(&laps, (1100, 600), |a| self.laps_chart().draw(a))?;
        let actions = out.join(ACTIONS_FILE);
        let width = if self.action_charts().len() > 1 { 1600 } else { 1100 };
        write_png(&actions, (width, 600), |a| self.draw_actions(a))?;
        Ok(vec![map, laps, actions])
    }

    fn draw_actions(&self, area: &Area<'_>) -> Result<(), PlotError> {
        let charts = self.action_charts();
        let panels = area.split_evenly((1, charts.len()));
        for (c, a) in charts.iter().zip(&panels) {
            c.draw(a)?;
        }
        Ok(())
    }
}

/// `bins` equal bins over the values' range, as bars.
fn histogram(values: &[f64], bins: usize, colour: RGBColor) -> Vec<Bar> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let Some(lo) = finite.iter().copied().reduce(f64::min) else {
        return Vec::new();
    };
    let hi = finite.iter().copied().fold(lo, f64::max);
    let (lo, hi) = if hi - lo < 1e-9 { (lo - 0.5, hi + 0.5) } else { (lo, hi) };
    let w = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for v in finite {
        counts[(((v - lo) / w) as usize).min(bins - 1)] += 1;
    }
    counts
        .iter()
        .enumerate()
        .map(|(i, &c)| Bar {
            x: lo + w * i as f64..lo + w * (i as f64 + 0.92),
            segments: vec![(c as f64, colour)],
            note: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{HEADER, parse_trace};
    use crate::track::ValidateOptions;

    #[test]
    fn histograms_count_every_value_once() {
        let bars = histogram(&[0.0, 0.1, 0.5, 1.0, 1.0, f64::NAN], 4, STEER);
        let counts: Vec<f64> = bars.iter().map(|b| b.segments[0].0).collect();
        assert_eq!(counts, vec![2.0, 0.0, 1.0, 2.0]);
        assert_eq!(bars[0].x.start, 0.0);
        assert!(histogram(&[], 4, STEER).is_empty());
    }

    #[test]
    fn discrete_actions_get_one_bar_per_index_and_the_prepare_row_is_not_an_action() {
        let track = Track::resolve("oval", &ValidateOptions::default()).unwrap();
        let row =
            |a: &str, status: &str| format!("0,1.0,0.5,0.0,0.0,0.0,1.0,{a},0.0,False,True,1.0,1,20.0,0.1,{status},0.0");
        let text = [
            HEADER.to_string(),
            row("0", "prepare"),
            row("2", "in_progress"),
            row("2", "in_progress"),
            row("0", "in_progress"),
        ]
        .join("\n");
        let rows = parse_trace(&text).unwrap();
        let plot = TracePlot::new(&track, &rows, "t.csv");
        let charts = plot.action_charts();
        assert_eq!(charts.len(), 1);
        let counts: Vec<f64> = charts[0].bars.iter().map(|b| b.segments[0].0).collect();
        assert_eq!(counts, vec![1.0, 0.0, 2.0]);
        let s = plot.summary();
        assert_eq!((s.rows, s.episodes, s.completed_laps, s.off_track), (4, 1, 0, 0));
        assert_eq!(s.laps.len(), 1);
        assert!(!s.laps[0].completed);
    }
}
