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

use std::borrow::Cow;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use plotters::prelude::*;

use super::map::{
    BORDER, CENTRE, GRASS, MapLayers, MapProjection, OFF_TRACK, ROAD, TRAIL_WIDTH, draw_track_map, map_size,
    speed_colour,
};
use super::{FONT, PlotError, init_font, render};
use crate::camera::{Camera, CameraConfig, CameraPose, Randomization};
use crate::episode::EpisodeStatus;
use crate::math::{Obb, Vec2};
pub use crate::trace::Rival;
use crate::trace::{Cursor, Playback, TraceRow, speeds};
use crate::track::Track;

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
const CAMERA_SCALE: usize = 2;
const PANEL_PAD: i32 = 20;

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

/// Renders a trace's frames.
pub struct ReplayRenderer {
    track: Arc<Track>,
    rows: Vec<TraceRow>,
    speeds: Vec<f64>,
    speed_range: (f64, f64),
    frame_rows: Vec<usize>,
    step_s: f64,
    opts: ReplayOptions,
    size: (u32, u32),
    map_size: (u32, u32),
    proj: MapProjection,
    /// The map with the trail drawn so far.
    layer: Vec<u8>,
    drawn_to: Option<usize>,
    camera: Option<Camera>,
    /// The main car's name (head-to-head) and the other cars.
    name: Option<String>,
    rivals: Vec<Rival>,
}

impl std::fmt::Debug for ReplayRenderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayRenderer")
            .field("track", &self.track.name())
            .field("rows", &self.rows.len())
            .field("frames", &self.frame_rows.len())
            .field("size", &self.size)
            .finish()
    }
}

impl ReplayRenderer {
    /// Prepare a replay of `rows` (a trace read with [`crate::trace::read_trace`]) on `track`.
    pub fn new(track: Arc<Track>, rows: Vec<TraceRow>, title: &str, opts: ReplayOptions) -> Result<Self, PlotError> {
        if !(opts.fps.is_finite() && opts.fps > 0.0 && opts.fps <= 120.0) {
            return Err(PlotError::Invalid(format!(
                "fps: expected 0–120 frames per second, got {}",
                opts.fps
            )));
        }
        if !(320..=4000).contains(&opts.map_width) {
            return Err(PlotError::Invalid(format!(
                "width: expected 320–4000 pixels, got {}",
                opts.map_width
            )));
        }
        if rows.is_empty() {
            return Err(PlotError::Invalid("the trace has no rows to replay".into()));
        }
        init_font()?;
        let speeds = speeds(&rows);
        let (lo, hi) = speeds
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let speed_range = if lo <= hi { (lo, hi.max(lo + 0.05)) } else { (0.0, 1.0) };
        let layers = MapLayers {
            // The whole path sizes the map (so the view does not move); it is drawn as the race goes.
            trail: Vec::new(),
            speed_range: Some(speed_range),
            speed_label: "speed (m/s)".into(),
            off_track: rows.iter().map(|r| r.pos).collect(),
            wheels_off: Vec::new(),
        };
        let map_sz = map_size(&track, &layers, opts.map_width);
        let layers = MapLayers {
            off_track: Vec::new(),
            ..layers
        };
        let (layer, proj) = render(map_sz, |area| draw_track_map(area, &track, title, &layers))?;
        let (frame_rows, step_s) = frame_rows(&rows, opts.fps, opts.max_frames);
        let camera = if opts.camera {
            Some(
                Camera::new(CameraConfig::default(), false, std::slice::from_ref(&track))
                    .map_err(|e| PlotError::Invalid(format!("camera: {e}")))?,
            )
        } else {
            None
        };
        let cam_h = CameraConfig::default().height * CAMERA_SCALE as u32;
        let height = map_sz.1.max(cam_h + 260);
        Ok(Self {
            track,
            rows,
            speeds,
            speed_range,
            frame_rows,
            step_s,
            opts,
            size: (map_sz.0 + PANEL_WIDTH, height),
            map_size: map_sz,
            proj,
            layer,
            drawn_to: None,
            camera,
            name: None,
            rivals: Vec::new(),
        })
    }

    /// A head-to-head replay: the main car (the one whose trail, camera and timer are shown) is
    /// `name`; the other cars are drawn from their traces, row for row with the main car's.
    pub fn with_rivals(mut self, name: &str, rivals: Vec<Rival>) -> Self {
        self.name = Some(name.to_string());
        // Room under the timer for a line per car.
        let cam_h = if self.camera.is_some() {
            CameraConfig::default().height * CAMERA_SCALE as u32 + 48
        } else {
            0
        };
        let legend = cam_h + 24 + 4 * 32 + 40 + 28 * rivals.len() as u32 + 24;
        self.size.1 = self.size.1.max(legend);
        self.rivals = rivals;
        self
    }

    /// A cursor for each car's trace (the main car's first).
    fn cursors(&self) -> Vec<Cursor> {
        let cursor = Cursor::new(self.opts.reference_offset).with_track(self.track.clone());
        vec![cursor; 1 + self.rivals.len()]
    }

    /// What frame `i` shows, every car's trace played up to it with `cursors`.
    fn state(&self, cursors: &mut [Cursor], i: usize) -> FrameState {
        let k = self.frame_rows[i];
        let traces = std::iter::once(&self.rows).chain(self.rivals.iter().map(|r| &r.rows));
        let mut cars = cursors
            .iter_mut()
            .zip(traces)
            .map(|(c, rows)| c.at(rows, k).expect("a trace with rows"));
        let car = cars.next().expect("the main car");
        FrameState {
            row: k,
            car,
            rivals: cars.collect(),
        }
    }

    /// What every frame shows, in order (the numbers [`Self::render_frames`] draws).
    pub fn frame_states(&self) -> Vec<FrameState> {
        let mut cursors = self.cursors();
        (0..self.frame_rows.len()).map(|i| self.state(&mut cursors, i)).collect()
    }

    /// The picture size, pixels.
    pub fn size(&self) -> (u32, u32) {
        self.size
    }

    pub fn frames(&self) -> usize {
        self.frame_rows.len()
    }

    /// Simulated seconds between frames.
    pub fn step_s(&self) -> f64 {
        self.step_s
    }

    /// The trace row frame `i` shows.
    pub fn frame_row(&self, i: usize) -> &TraceRow {
        &self.rows[self.frame_rows[i]]
    }

    /// The map's projection (metres → the frame's pixels: the map is at the frame's top left).
    pub fn projection(&self) -> &MapProjection {
        &self.proj
    }

    /// Draw every frame in order into an RGB buffer and hand it to `sink`.
    pub fn render_frames(&mut self, mut sink: impl FnMut(&[u8]) -> Result<(), PlotError>) -> Result<(), PlotError> {
        let (w, h) = self.size;
        let mut frame = vec![255u8; w as usize * h as usize * 3];
        let mut cam_img = self.camera.as_ref().map(|c| vec![0u8; c.image_len()]);
        let mut scratch = self.camera.as_ref().map(Camera::scratch);
        let mut cursors = self.cursors();
        for i in 0..self.frame_rows.len() {
            let state = self.state(&mut cursors, i);
            self.draw_trail_to(state.row)?;
            self.compose(&mut frame, &state, cam_img.as_deref_mut(), scratch.as_mut())?;
            sink(&frame)?;
        }
        Ok(())
    }

    /// Extend the trail layer up to row `k`.
    fn draw_trail_to(&mut self, k: usize) -> Result<(), PlotError> {
        let from = self.drawn_to.map_or(0, |d| d + 1);
        if from > k {
            return Ok(());
        }
        let (mw, mh) = self.map_size;
        let root = BitMapBackend::with_buffer(&mut self.layer, (mw, mh)).into_drawing_area();
        for j in from..=k {
            let r = &self.rows[j];
            let v = self.speeds[j];
            if j > 0 && v.is_finite() {
                let a = self.proj.to_pixel(self.rows[j - 1].pos);
                let b = self.proj.to_pixel(r.pos);
                let c = speed_colour(v, self.speed_range);
                root.draw(&PathElement::new(vec![a, b], c.stroke_width(TRAIL_WIDTH)))
                    .map_err(|e| PlotError::Draw(e.to_string()))?;
            }
            if r.status == EpisodeStatus::OffTrack {
                let (x, y) = self.proj.to_pixel(r.pos);
                let s = 6;
                for d in [[(-s, -s), (s, s)], [(-s, s), (s, -s)]] {
                    root.draw(&PathElement::new(
                        vec![(x + d[0].0, y + d[0].1), (x + d[1].0, y + d[1].1)],
                        OFF_TRACK.stroke_width(3),
                    ))
                    .map_err(|e| PlotError::Draw(e.to_string()))?;
                }
            }
        }
        root.present().map_err(|e| PlotError::Draw(e.to_string()))?;
        self.drawn_to = Some(k);
        Ok(())
    }

    /// One frame: the trail layer, the cars, the panel.
    fn compose(
        &self,
        frame: &mut [u8],
        state: &FrameState,
        cam_img: Option<&mut [u8]>,
        scratch: Option<&mut crate::camera::RenderScratch>,
    ) -> Result<(), PlotError> {
        let (w, h) = self.size;
        let (mw, mh) = self.map_size;
        frame.fill(255);
        for y in 0..mh as usize {
            let src = &self.layer[y * mw as usize * 3..(y + 1) * mw as usize * 3];
            frame[y * w as usize * 3..y * w as usize * 3 + src.len()].copy_from_slice(src);
        }
        let car = &state.car;
        let r = &self.rows[state.row];
        let heading = car.pose.heading;
        let fwd = Vec2::new(heading.cos(), heading.sin());
        let origin = car.pose.origin;
        // The other cars: (colour, origin, heading, held).
        let rivals: Vec<(RGBColor, Vec2, f64, bool)> = state
            .rivals
            .iter()
            .enumerate()
            .map(|(i, p)| (RIVAL_COLOURS[i % RIVAL_COLOURS.len()], p.pose.origin, p.pose.heading, p.held))
            .collect();
        if let (Some(cam), Some(img), Some(scratch)) = (&self.camera, cam_img, scratch) {
            // The other cars as the simulator's camera sees them (a held car is a ghost).
            let car = crate::car::CarParams::default();
            let scene: Vec<_> = rivals
                .iter()
                .filter(|r| !r.3)
                .map(|&(_, o, h, _)| crate::camera::scene_object(Obb::new(o, h, car.length, car.width), true))
                .collect();
            cam.render(
                0,
                &CameraPose::new(origin, heading),
                &scene,
                &Randomization::IDENTITY,
                0,
                scratch,
                img,
            );
            let cfg = CameraConfig::default();
            let (cw, ch) = (cfg.width as usize, cfg.height as usize);
            let (x0, y0) = (mw as usize + PANEL_PAD as usize, 48usize);
            for y in 0..ch * CAMERA_SCALE {
                for x in 0..cw * CAMERA_SCALE {
                    let g = img[(y / CAMERA_SCALE) * cw + x / CAMERA_SCALE];
                    let o = ((y0 + y) * w as usize + x0 + x) * 3;
                    frame[o..o + 3].copy_from_slice(&[g, g, g]);
                }
            }
        }
        let root = BitMapBackend::with_buffer(frame, (w, h)).into_drawing_area();
        let err = |e: &dyn std::fmt::Display| PlotError::Draw(e.to_string());
        // The car: a dark arrow with a white outline, about its real size (at least 12 px long).
        let (ppm, _) = self.proj.pixels_per_metre();
        let len = (0.4 * ppm).max(18.0);
        let side = Vec2::new(-fwd.y, fwd.x);
        let c = self.proj.to_pixel(r.pos);
        let p = |along: f64, across: f64| {
            (
                c.0 + (fwd.x * along + side.x * across).round() as i32,
                c.1 - (fwd.y * along + side.y * across).round() as i32,
            )
        };
        let arrow = vec![p(0.6 * len, 0.0), p(-0.4 * len, 0.35 * len), p(-0.4 * len, -0.35 * len)];
        // The other cars first (the main car on top): filled in their colours, a held one only
        // outlined.
        for &(colour, o, h, held) in &rivals {
            let f = Vec2::from_angle(h);
            let s = Vec2::new(-f.y, f.x);
            let c = self.proj.to_pixel(o + f * self.opts.reference_offset);
            let q = |along: f64, across: f64| {
                (
                    c.0 + (f.x * along + s.x * across).round() as i32,
                    c.1 - (f.y * along + s.y * across).round() as i32,
                )
            };
            let shape = vec![q(0.6 * len, 0.0), q(-0.4 * len, 0.35 * len), q(-0.4 * len, -0.35 * len)];
            let mut outline = shape.clone();
            outline.push(outline[0]);
            if !held {
                root.draw(&Polygon::new(shape, colour.filled())).map_err(|e| err(&e))?;
            }
            root.draw(&PathElement::new(outline, colour.stroke_width(2)))
                .map_err(|e| err(&e))?;
        }
        root.draw(&Polygon::new(arrow.clone(), BLACK.filled()))
            .map_err(|e| err(&e))?;
        let mut outline = arrow;
        outline.push(outline[0]);
        root.draw(&PathElement::new(outline, WHITE.stroke_width(2)))
            .map_err(|e| err(&e))?;
        // The panel: camera caption and the timer.
        let x = mw as i32 + PANEL_PAD;
        let text = |s: &str, y: i32, size: f64, color: RGBColor| {
            root.draw(&Text::new(
                s.to_string(),
                (x, y),
                (FONT, size).into_font().color(&color),
            ))
            .map_err(|e| err(&e))
        };
        let grey = RGBColor(90, 90, 90);
        if self.camera.is_some() {
            text("the car's camera (160 × 120)", 18, 18.0, grey)?;
        }
        let cam_h = if self.camera.is_some() {
            CameraConfig::default().height as i32 * CAMERA_SCALE as i32 + 48
        } else {
            0
        };
        let mut y = cam_h + 24;
        text(&format!("lap {}   {:6.2} s", car.lap, car.lap_time_s), y, 30.0, BLACK)?;
        y += 42;
        let best = car.best_lap_s.map_or("–".to_string(), |b| format!("{b:.2} s"));
        text(&format!("best lap {best}"), y, 22.0, BLACK)?;
        y += 32;
        let speed = car.speed.map_or("–".into(), |v| format!("{v:.2} m/s"));
        text(&format!("speed {speed}   progress {:.0} %", r.progress), y, 22.0, BLACK)?;
        y += 32;
        text(
            &format!(
                "off-track {}   time {:.1} s",
                car.off_track,
                r.tstamp - self.rows[0].tstamp
            ),
            y,
            22.0,
            BLACK,
        )?;
        y += 32;
        let status = match r.status {
            EpisodeStatus::Pause => format!("held: {:.1} s left", r.pause_duration.max(0.0)),
            s => s.as_str().replace('_', " "),
        };
        text(&status, y, 22.0, if r.is_held() { OFF_TRACK } else { grey })?;
        if let Some(name) = &self.name {
            // Who is who: the main car in black, the others in their colours.
            y += 40;
            text(&format!("▲ {name}"), y, 22.0, BLACK)?;
            for (i, rival) in self.rivals.iter().enumerate() {
                y += 28;
                text(
                    &format!("▲ {}", rival.name),
                    y,
                    22.0,
                    RIVAL_COLOURS[i % RIVAL_COLOURS.len()],
                )?;
            }
        }
        root.present().map_err(|e| err(&e))?;
        Ok(())
    }
}

/// Render `renderer`'s frames into `path`: an animated GIF (`.gif`), or MP4 (`.mp4`) through
/// `ffmpeg`.
pub fn write_replay(path: &Path, renderer: &mut ReplayRenderer) -> Result<ReplayReport, PlotError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let (w, h) = renderer.size();
    let fps = 1.0 / renderer.step_s();
    let format = match ext.as_str() {
        "gif" => {
            let file =
                std::fs::File::create(path).map_err(|e| PlotError::file(path, format!("cannot create replay: {e}")))?;
            write_gif(std::io::BufWriter::new(file), renderer).map_err(|e| match e {
                PlotError::Invalid(m) => PlotError::file(path, m),
                e => e,
            })?;
            "gif"
        }
        "mp4" => {
            write_mp4(path, renderer, fps)?;
            "mp4"
        }
        _ => {
            return Err(PlotError::file(
                path,
                "expected a .gif or .mp4 file name (MP4 needs ffmpeg on the PATH)",
            ));
        }
    };
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let rows = &renderer.rows;
    Ok(ReplayReport {
        frames: renderer.frames(),
        width: w,
        height: h,
        duration_s: rows[rows.len() - 1].tstamp - rows[0].tstamp,
        fps,
        format,
        bytes,
    })
}

/// Render `renderer`'s frames as an animated GIF into `w` (a file, or memory for the league).
pub fn write_gif<W: Write>(w: W, renderer: &mut ReplayRenderer) -> Result<(), PlotError> {
    let fps = 1.0 / renderer.step_s();
    let mut gif = GifSink::new(w, renderer.size(), renderer, fps).map_err(PlotError::Invalid)?;
    renderer.render_frames(|f| gif.frame(f).map_err(PlotError::Invalid))?;
    gif.finish().map_err(PlotError::Invalid)
}

/// Whether `ffmpeg` can be run (MP4 replays).
pub fn ffmpeg_available() -> bool {
    Command::new("ffmpeg")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn write_mp4(path: &Path, renderer: &mut ReplayRenderer, fps: f64) -> Result<(), PlotError> {
    if !ffmpeg_available() {
        return Err(PlotError::file(
            path,
            "MP4 replays need ffmpeg on the PATH (on Debian: apt-get install ffmpeg); write a .gif instead",
        ));
    }
    let (w, h) = renderer.size();
    let mut child = Command::new("ffmpeg")
        .args(["-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s"])
        .arg(format!("{w}x{h}"))
        .arg("-r")
        .arg(format!("{fps}"))
        .args(["-i", "-", "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-pix_fmt", "yuv420p"])
        .arg(path)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| PlotError::file(path, format!("cannot start ffmpeg: {e}")))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let res = renderer.render_frames(|f| {
        stdin
            .write_all(f)
            .map_err(|e| PlotError::file(path, format!("ffmpeg stopped reading frames: {e}")))
    });
    drop(stdin);
    let out = child
        .wait_with_output()
        .map_err(|e| PlotError::file(path, format!("ffmpeg: {e}")))?;
    res?;
    if !out.status.success() {
        return Err(PlotError::file(
            path,
            format!("ffmpeg failed: {}", String::from_utf8_lossy(&out.stderr).trim()),
        ));
    }
    Ok(())
}

/// The palette index of "unchanged" pixels.
const TRANSPARENT: u8 = 255;

/// GIF frames through one global palette; each frame stores only the rectangle that changed.
struct GifSink<W: Write> {
    enc: gif::Encoder<W>,
    size: (u32, u32),
    lut: Vec<u8>,
    prev: Vec<u8>,
    index: Vec<u8>,
    fps: f64,
    n: usize,
}

impl<W: Write> GifSink<W> {
    fn new(w: W, size: (u32, u32), renderer: &ReplayRenderer, fps: f64) -> Result<Self, String> {
        // The palette: the map's and the text's exact colours, then NeuQuant's over the map, the
        // speed scale and the camera's greys; index 255 is transparent: a pixel that did not change
        // since the previous frame (so the unchanged parts of a frame's rectangle compress to
        // almost nothing).
        let mut fixed = vec![
            BLACK,
            WHITE,
            OFF_TRACK,
            ROAD,
            GRASS,
            CENTRE,
            BORDER,
            RGBColor(90, 90, 90),
        ];
        fixed.extend(RIVAL_COLOURS);
        // The camera's greys, every 8 levels.
        fixed.extend((0..32).map(|k| RGBColor(k * 8 + 4, k * 8 + 4, k * 8 + 4)));
        let mut sample: Vec<u8> = renderer.layer.chunks(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect();
        for i in 0..=255u8 {
            let c = speed_colour(f64::from(i) / 255.0, (0.0, 1.0));
            for _ in 0..8 {
                sample.extend([c.0, c.1, c.2, 255]);
            }
        }
        let nq = color_quant::NeuQuant::new(10, 255 - fixed.len(), &sample);
        let mut colours: Vec<[u8; 3]> = fixed.iter().map(|c| [c.0, c.1, c.2]).collect();
        colours.extend(nq.color_map_rgb().chunks(3).map(|c| [c[0], c[1], c[2]]));
        let mut lut = vec![0u8; 32 * 32 * 32];
        for (i, v) in lut.iter_mut().enumerate() {
            let c = |s: usize| i32::from(((((i >> s) & 31) << 3) | 4) as u8);
            let (r, g, b) = (c(10), c(5), c(0));
            let d = |p: &[u8; 3]| {
                let (dr, dg, db) = (i32::from(p[0]) - r, i32::from(p[1]) - g, i32::from(p[2]) - b);
                dr * dr + dg * dg + db * db
            };
            *v = (0..colours.len()).min_by_key(|&k| d(&colours[k])).unwrap_or(0) as u8;
        }
        let mut palette: Vec<u8> = colours.iter().flatten().copied().collect();
        palette.resize(256 * 3, 0);
        let mut enc = gif::Encoder::new(w, size.0 as u16, size.1 as u16, &palette).map_err(|e| e.to_string())?;
        enc.set_repeat(gif::Repeat::Infinite).map_err(|e| e.to_string())?;
        let px = size.0 as usize * size.1 as usize;
        Ok(Self {
            enc,
            size,
            lut,
            prev: Vec::new(),
            index: vec![0; px],
            fps,
            n: 0,
        })
    }

    fn frame(&mut self, rgb: &[u8]) -> Result<(), String> {
        let (w, h) = (self.size.0 as usize, self.size.1 as usize);
        // The rectangle that changed (the whole picture for the first frame).
        let (mut x0, mut y0, mut x1, mut y1) = (0, 0, w, h);
        if !self.prev.is_empty() {
            (x0, y0, x1, y1) = (w, h, 0, 0);
            for y in 0..h {
                let row = y * w * 3;
                let (a, b) = (&rgb[row..row + w * 3], &self.prev[row..row + w * 3]);
                if a == b {
                    continue;
                }
                let first = (0..w)
                    .find(|&x| a[x * 3..x * 3 + 3] != b[x * 3..x * 3 + 3])
                    .unwrap_or(0);
                let last = (0..w)
                    .rev()
                    .find(|&x| a[x * 3..x * 3 + 3] != b[x * 3..x * 3 + 3])
                    .unwrap_or(0);
                (x0, x1, y0, y1) = (x0.min(first), x1.max(last + 1), y0.min(y), y + 1);
            }
            if x1 <= x0 {
                (x0, y0, x1, y1) = (0, 0, 1, 1);
            }
        }
        let (rw, rh) = (x1 - x0, y1 - y0);
        let first = self.prev.is_empty();
        for y in 0..rh {
            for x in 0..rw {
                let o = ((y0 + y) * w + x0 + x) * 3;
                self.index[y * rw + x] = if !first && rgb[o..o + 3] == self.prev[o..o + 3] {
                    TRANSPARENT
                } else {
                    let key = (usize::from(rgb[o] >> 3) << 10)
                        | (usize::from(rgb[o + 1] >> 3) << 5)
                        | usize::from(rgb[o + 2] >> 3);
                    self.lut[key]
                };
            }
        }
        // Delays in hundredths of a second, accumulated so the replay keeps real time.
        let at = |n: usize| (n as f64 * 100.0 / self.fps).round() as u16;
        let frame = gif::Frame {
            left: x0 as u16,
            top: y0 as u16,
            width: rw as u16,
            height: rh as u16,
            delay: at(self.n + 1) - at(self.n),
            dispose: gif::DisposalMethod::Keep,
            transparent: (!first).then_some(TRANSPARENT),
            buffer: Cow::Borrowed(&self.index[..rw * rh]),
            ..gif::Frame::default()
        };
        self.enc.write_frame(&frame).map_err(|e| e.to_string())?;
        self.prev.clear();
        self.prev.extend_from_slice(rgb);
        self.n += 1;
        Ok(())
    }

    fn finish(self) -> Result<(), String> {
        self.enc
            .into_inner()
            .map_err(|e| e.to_string())?
            .flush()
            .map_err(|e| e.to_string())
    }
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
