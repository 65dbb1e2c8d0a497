//! Drawing a replay's frames: the map with the trail drawn so far, every car where its trace puts
//! it, the camera view and the timer.

use std::sync::Arc;

use plotters::prelude::*;

use super::super::map::{MapLayers, MapProjection, OFF_TRACK, TRAIL_WIDTH, draw_track_map, map_size, speed_colour};
use super::super::{FONT, PlotError, init_font, render};
use super::{FrameState, PANEL_WIDTH, RIVAL_COLOURS, ReplayOptions, Rival, frame_rows};
use crate::camera::{Camera, CameraConfig, CameraPose, Randomization};
use crate::episode::EpisodeStatus;
use crate::math::{Obb, Vec2};
use crate::trace::{Cursor, TraceRow, speeds};
use crate::track::Track;

const CAMERA_SCALE: usize = 2;
const PANEL_PAD: i32 = 20;

/// Renders a trace's frames.
pub struct ReplayRenderer {
    track: Arc<Track>,
    pub(super) rows: Vec<TraceRow>,
    speeds: Vec<f64>,
    speed_range: (f64, f64),
    frame_rows: Vec<usize>,
    step_s: f64,
    opts: ReplayOptions,
    size: (u32, u32),
    map_size: (u32, u32),
    proj: MapProjection,
    /// The map with the trail drawn so far.
    pub(super) layer: Vec<u8>,
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
        (0..self.frame_rows.len())
            .map(|i| self.state(&mut cursors, i))
            .collect()
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
            .map(|(i, p)| {
                (
                    RIVAL_COLOURS[i % RIVAL_COLOURS.len()],
                    p.pose.origin,
                    p.pose.heading,
                    p.held,
                )
            })
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
