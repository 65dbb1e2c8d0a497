//! Animated replays of a race from its trace, rendered without a window: the top-down track map
//! with the car and its trail coloured by speed, a panel with the car's camera view (rendered by
//! the simulator's camera at each row's pose) and the lap timer, at real-time pace — one frame
//! every 1/`fps` simulated seconds (the latest row at that moment). Written as an animated GIF,
//! or as MP4 through `ffmpeg` when it is installed.
//!
//! The static map is drawn once; the trail is drawn into a persistent layer as the race goes;
//! each frame is that layer plus the car, the camera and the text. GIF frames carry only the
//! rectangle that changed since the previous frame, through one global palette (NeuQuant over the
//! background, the speed scale and the camera's greys) and a 32³ lookup table, so encoding stays
//! cheap. A trace carries no objects: boxes and bot cars are not drawn. A head-to-head race's
//! other cars are drawn from their own traces ([`ReplayRenderer::with_rivals`]): on the map in
//! their colours, and in the camera view as the simulator shows them (a held car is a ghost).
//!
//! [`render`] draws the frames ([`ReplayRenderer`]); [`gif`] encodes them (GIF, or MP4 through
//! ffmpeg). Where each car is and what its timer says come from the trace's playback rules
//! ([`crate::trace::playback`]), as in the viewer.

mod gif;
mod render;

use plotters::prelude::RGBColor;

pub use self::gif::{ffmpeg_available, write_gif, write_replay};
pub use self::render::ReplayRenderer;
pub use crate::trace::Rival;
use crate::trace::{Playback, TraceRow};

/// How a replay is drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayOptions {
    /// Frames per simulated second (DeepRacer's camera rate: 15).
    pub fps: f64,
    /// Width of the map, pixels (the panel adds [`PANEL_WIDTH`]).
    pub map_width: u32,
    /// Show the car's camera view.
    pub camera: bool,
    /// At most this many frames: a longer race is shown with frames evenly thinned (faster than
    /// real time), so a replay's size is bounded.
    pub max_frames: Option<usize>,
    /// The car's reference point ahead of its origin, m (trace positions are the reference point;
    /// the camera sits at the origin).
    pub reference_offset: f64,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self {
            fps: 15.0,
            map_width: 720,
            camera: true,
            max_frames: None,
            reference_offset: crate::car::CarParams::default().reference_offset,
        }
    }
}

/// The colours of a head-to-head replay's other cars, in grid order (repeating after four).
pub const RIVAL_COLOURS: [RGBColor; 4] = [
    RGBColor(30, 100, 230),
    RGBColor(235, 120, 20),
    RGBColor(150, 50, 190),
    RGBColor(0, 150, 140),
];

/// The names of [`RIVAL_COLOURS`] (for text: the viewer's HUD).
pub const RIVAL_COLOUR_NAMES: [&str; 4] = ["blue", "orange", "purple", "teal"];

/// What one frame shows: the row of the main car's trace, and where each car is then (the main
/// car, then the other cars in order), by the trace's playback rules ([`crate::trace::playback`]).
#[derive(Clone, Debug, PartialEq)]
pub struct FrameState {
    /// The main car's row (the other cars' rows go step for step with it).
    pub row: usize,
    pub car: Playback,
    pub rivals: Vec<Playback>,
}

/// Width of the panel beside the map (camera view and timer), pixels.
pub const PANEL_WIDTH: u32 = 360;

/// What a written replay holds.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ReplayReport {
    pub frames: usize,
    pub width: u32,
    pub height: u32,
    /// Simulated seconds the replay covers.
    pub duration_s: f64,
    /// Frames per second of the file (the simulated rate, unless frames were thinned).
    pub fps: f64,
    pub format: &'static str,
    pub bytes: u64,
}

/// The trace row each frame shows: the latest row at `t0 + i·step`, for `i` while within the race
/// (at most `max_frames`). Returns the rows' indices and the simulated seconds between frames.
pub fn frame_rows(rows: &[TraceRow], fps: f64, max_frames: Option<usize>) -> (Vec<usize>, f64) {
    if rows.is_empty() {
        return (Vec::new(), 1.0 / fps);
    }
    let (t0, t1) = (rows[0].tstamp, rows[rows.len() - 1].tstamp);
    let mut step = 1.0 / fps;
    let mut n = ((t1 - t0) / step + 1e-6).floor() as usize + 1;
    if let Some(m) = max_frames
        && n > m.max(2)
    {
        step = (t1 - t0) / (m.max(2) - 1) as f64;
        n = m.max(2);
    }
    let mut out = Vec::with_capacity(n);
    let mut k = 0;
    for i in 0..n {
        let t = t0 + i as f64 * step + 1e-6;
        while k + 1 < rows.len() && rows[k + 1].tstamp <= t {
            k += 1;
        }
        out.push(k);
    }
    (out, step)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{HEADER, parse_trace};

    fn rows(times: &[f64]) -> Vec<TraceRow> {
        let text: Vec<String> = std::iter::once(HEADER.to_string())
            .chain(times.iter().enumerate().map(|(i, t)| {
                let status = if i == 0 { "prepare" } else { "in_progress" };
                format!(
                    "0,{i}.0,{},0.0,0.0,0.0,1.0,[0.0 1.0],0.0,False,True,1.0,1,20.0,{t},{status},0.0",
                    0.1 * i as f64
                )
            }))
            .collect();
        parse_trace(&text.join("\n")).unwrap()
    }

    #[test]
    fn one_frame_per_step_at_the_simulated_rate_and_thinned_to_a_cap() {
        let dt = 1.0 / 15.0;
        let r = rows(&(0..31).map(|i| i as f64 * dt).collect::<Vec<_>>());
        let (f, step) = frame_rows(&r, 15.0, None);
        assert_eq!(f.len(), 31, "2 s at 15 frames/s, both ends");
        assert_eq!(f, (0..31).collect::<Vec<_>>());
        assert!((step - dt).abs() < 1e-12);
        // At half the rate every other row; capped, frames are spread over the whole race.
        assert_eq!(frame_rows(&r, 7.5, None).0, (0..31).step_by(2).collect::<Vec<_>>());
        let (f, step) = frame_rows(&r, 15.0, Some(11));
        assert_eq!(f.len(), 11);
        assert_eq!((f[0], f[10]), (0, 30));
        assert!((step - 0.2).abs() < 1e-9);
        // A trial's prepare row at the same moment as the previous row: the later row is shown.
        let r = rows(&[0.0, 0.5, 0.5, 1.0]);
        assert_eq!(frame_rows(&r, 2.0, None).0, vec![0, 2, 3]);
    }
}
