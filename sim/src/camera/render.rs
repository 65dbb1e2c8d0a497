//! The renderer's core: given a track's texture, the objects and a camera pose, write 8-bit luma.
//!
//! What is precomputed, and where:
//! * once per track ([`TrackTexture`]): the ground as a mip-mapped luma texture;
//! * once per camera configuration ([`Camera::new`]): one [`Row`] per image row. A camera without
//!   roll looking at a flat ground sees each image row as a straight line on the ground at one
//!   forward distance, its pixels evenly spaced across it; so a row is its forward distance, its
//!   lateral offset at the first column and step per column (in the car's frame), its footprint along
//!   the ground (for filtering), and for rows at and above the horizon the sky / wall tone with the
//!   fraction of ground, supersampled 8 times down the row.
//!
//! Per frame, each ground row is turned into world texture coordinates (two multiply-adds), stepped
//! along in 16.16 fixed point, and sampled from the mip level whose texel matches the pixel's lateral
//! footprint, with 1, 2 or 4 samples spread along the row's (longer) forward footprint: anisotropic
//! filtering that keeps far lines and dashes steady from frame to frame. Obstacles and bot cars are
//! then drawn far to near as shaded boxes (sides and top), each face clipped at the near plane,
//! projected and filled with analytic edge coverage.

use std::sync::Arc;

use crate::error::SimError;
use crate::math::{Obb, Vec2};
use crate::track::Track;

use super::config::CameraConfig;
use super::randomize::Randomization;
use super::texture::{self, TrackTexture};
use super::tones::{TONE_SKY_HIGH, TONE_SKY_LOW, TONE_WALL};

/// Height of an obstacle box, metres. Of a bot car, metres.
pub const BOX_HEIGHT: f64 = 0.2;
pub const BOT_HEIGHT: f64 = 0.14;
/// The wall band's top, as the tangent of its elevation (about 4°).
const WALL_TAN: f64 = 0.07;
/// Near clipping distance, metres (Gazebo's camera clips at 0.02 m).
const NEAR: f64 = 0.02;
/// Objects farther than this are not drawn, metres.
const FAR_OBJECTS: f64 = 30.0;
/// Vertical supersamples of the sky rows.
const SKY_SS: usize = 8;

/// Sky or wall tone for a ray whose elevation has tangent `tan_e` (> 0).
fn sky_tone(tan_e: f64) -> f64 {
    if tan_e <= WALL_TAN {
        f64::from(TONE_WALL)
    } else {
        let k = ((tan_e - WALL_TAN) / 0.6).min(1.0);
        f64::from(TONE_SKY_LOW) + (f64::from(TONE_SKY_HIGH) - f64::from(TONE_SKY_LOW)) * k
    }
}

/// What the camera sees of one image row (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Row {
    /// Fraction of the row's height below the horizon (1: all ground, 0: all sky).
    pub ground: f32,
    /// Sky/wall part of the row's tone (already weighted by `1 − ground`).
    pub sky: f32,
    /// Ground rows: forward distance from the lens, lateral offset (+ left) at column 0's centre and
    /// its step per column, metres in the car's frame; the row's footprint along the forward axis.
    pub fwd: f64,
    pub lat0: f64,
    pub dlat: f64,
    pub depth: f64,
}

/// One row table for a lens at `height` metres pitched `pitch` radians down.
pub fn compute_rows(cfg: &CameraConfig, pitch: f64, height: f64, out: &mut Vec<Row>) {
    out.clear();
    let f = cfg.focal_px();
    let (w, h) = (f64::from(cfg.width), f64::from(cfg.height));
    let (sp, cp) = (crate::math::sin(pitch), crate::math::cos(pitch));
    for r in 0..cfg.height as usize {
        // Sky part: 8 vertical samples; a sample's ray (1, ·, −yn) has down-component sp + yn·cp.
        let (mut sky, mut ground) = (0.0, 0.0);
        for k in 0..SKY_SS {
            let yn = (r as f64 + (k as f64 + 0.5) / SKY_SS as f64 - 0.5 * h) / f;
            let down = sp + yn * cp;
            let horiz = cp - yn * sp;
            if down > 0.0 && horiz > 0.0 {
                ground += 1.0;
            } else {
                let tan_e = if horiz > 0.0 { -down / horiz } else { 1e3 };
                sky += sky_tone(tan_e.max(0.0));
            }
        }
        let mut row = Row {
            ground: (ground / SKY_SS as f64) as f32,
            sky: (sky / SKY_SS as f64) as f32,
            ..Default::default()
        };
        let yn = (r as f64 + 0.5 - 0.5 * h) / f;
        let down = sp + yn * cp;
        if row.ground >= 1.0 && down > 0.0 {
            let t = height / down;
            row.fwd = t * (cp - yn * sp);
            row.dlat = -t / f;
            row.lat0 = -t * (0.5 - 0.5 * w) / f;
            row.depth = height / (f * down * down);
        }
        out.push(row);
    }
}

/// An object as the camera draws it: a box standing on the ground.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SceneObject {
    pub obb: Obb,
    pub height: f64,
    pub tone: u8,
}

/// Where the car is: its origin and heading (the camera's mount is relative to them).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CameraPose {
    pub pos: Vec2,
    /// Unit forward vector (cos, sin of the heading).
    pub forward: Vec2,
}

impl CameraPose {
    pub fn new(pos: Vec2, heading: f64) -> Self {
        Self {
            pos,
            forward: Vec2::from_angle(heading),
        }
    }
}

/// Working memory of the renderer (one per thread); create with [`Camera::scratch`] and rendering
/// never allocates.
#[derive(Clone, Debug, Default)]
pub struct RenderScratch {
    rows: Vec<Row>,
}

/// A camera (or stereo pair) with its row table and every track's texture.
#[derive(Clone, Debug)]
pub struct Camera {
    pub config: CameraConfig,
    pub stereo: bool,
    rows: Vec<Row>,
    textures: Vec<Arc<TrackTexture>>,
    pitch: f64,
}

impl Camera {
    /// Validate the settings, build the row table and rasterise every track.
    pub fn new(config: CameraConfig, stereo: bool, tracks: &[Arc<Track>]) -> Result<Self, SimError> {
        config.validate()?;
        let textures = tracks.iter().map(|t| Arc::new(TrackTexture::new(t))).collect();
        let pitch = config.pitch_deg.to_radians();
        let mut rows = Vec::with_capacity(config.height as usize);
        compute_rows(&config, pitch, config.mount_z, &mut rows);
        Ok(Self {
            config,
            stereo,
            rows,
            textures,
            pitch,
        })
    }

    pub fn channels(&self) -> usize {
        if self.stereo { 2 } else { 1 }
    }

    /// Bytes of one image (channels × height × width).
    pub fn image_len(&self) -> usize {
        self.channels() * self.config.width as usize * self.config.height as usize
    }

    pub fn texture(&self, track: usize) -> &TrackTexture {
        &self.textures[track]
    }

    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    pub fn scratch(&self) -> RenderScratch {
        RenderScratch {
            rows: Vec::with_capacity(self.config.height as usize),
        }
    }

    /// Lateral offsets of the lenses (+ left): one, or left then right.
    fn eyes(&self) -> [f64; 2] {
        let b = 0.5 * self.config.baseline;
        [b, -b]
    }

    /// Render the image of a car at `pose` on track `track` with `objects` in view into `out`
    /// (channels × height × width; stereo: left lens first). `rand` is the episode's randomisation
    /// and `frame` varies its noise.
    pub fn render(
        &self,
        track: usize,
        pose: &CameraPose,
        objects: &[SceneObject],
        rand: &Randomization,
        frame: u32,
        scratch: &mut RenderScratch,
        out: &mut [u8],
    ) {
        let jitter = rand.enabled && (rand.pitch_rad != 0.0 || rand.height != 0.0);
        let (rows, pitch, height) = if jitter {
            let pitch = self.pitch + rand.pitch_rad;
            let height = (self.config.mount_z + rand.height).max(0.005);
            compute_rows(&self.config, pitch, height, &mut scratch.rows);
            (&scratch.rows[..], pitch, height)
        } else {
            (&self.rows[..], self.pitch, self.config.mount_z)
        };
        let tex = &self.textures[track];
        let n = self.config.width as usize * self.config.height as usize;
        let eyes = self.eyes();
        for (c, img) in out[..self.image_len()].chunks_exact_mut(n).enumerate() {
            let lat = if self.stereo { eyes[c] } else { 0.0 };
            let f = pose.forward;
            let left = f.perp();
            let eye = pose.pos + f * self.config.mount_x + left * lat;
            draw_ground(&self.config, rows, tex, eye, f, img);
            let view = View::new(&self.config, eye, f, pitch, height);
            draw_objects(&view, objects, img);
            rand.apply(frame.wrapping_add(c as u32 * 0x5bd1_e995), img);
        }
    }

    /// A reference rendering, `ss × ss` point samples per pixel of the exact scene (the ground
    /// classified at each sample's hit point by a global projection onto the centre line; objects
    /// by ray-box intersection). Slow (for tests and the anti-aliasing figure), no randomisation.
    pub fn render_reference(&self, track: &Track, pose: &CameraPose, objects: &[SceneObject], ss: u32, out: &mut [u8]) {
        let cfg = &self.config;
        let (w, h) = (cfg.width as usize, cfg.height as usize);
        let fpx = cfg.focal_px();
        let eyes = self.eyes();
        for (c, img) in out[..self.image_len()].chunks_exact_mut(w * h).enumerate() {
            let lat = if self.stereo { eyes[c] } else { 0.0 };
            let fw = pose.forward;
            let eye2 = pose.pos + fw * cfg.mount_x + fw.perp() * lat;
            let view = View::new(cfg, eye2, fw, self.pitch, cfg.mount_z);
            for r in 0..h {
                for col in 0..w {
                    let mut acc = 0.0;
                    for sy in 0..ss {
                        for sx in 0..ss {
                            let xn = (col as f64 + (f64::from(sx) + 0.5) / f64::from(ss) - 0.5 * w as f64) / fpx;
                            let yn = (r as f64 + (f64::from(sy) + 0.5) / f64::from(ss) - 0.5 * h as f64) / fpx;
                            let d = [
                                view.a[0] + xn * view.r[0] + yn * view.d[0],
                                view.a[1] + xn * view.r[1] + yn * view.d[1],
                                view.a[2] + xn * view.r[2] + yn * view.d[2],
                            ];
                            acc += reference_sample(track, &view, objects, d);
                        }
                    }
                    img[r * w + col] = (acc / f64::from(ss * ss) + 0.5).clamp(0.0, 255.0) as u8;
                }
            }
        }
    }
}

/// Fill every row: sky rows with their tone, ground rows from the texture.
fn draw_ground(cfg: &CameraConfig, rows: &[Row], tex: &TrackTexture, eye: Vec2, f: Vec2, img: &mut [u8]) {
    let w = cfg.width as usize;
    let left = f.perp();
    let inv = 1.0 / tex.texel;
    let top = tex.levels.len() - 1;
    let mean = f32::from(tex.mean());
    let l0 = &tex.levels[0];
    let (umax, vmax) = ((l0.w as i64) << 16, (l0.h as i64) << 16);
    const ONE: f64 = 65536.0;
    const LIM: f64 = (1u64 << 40) as f64;
    let fix = |x: f64| (x * ONE).clamp(-LIM, LIM) as i64;
    for (r, row) in rows.iter().enumerate() {
        let line = &mut img[r * w..(r + 1) * w];
        if row.ground < 1.0 {
            line.fill((row.sky + row.ground * mean + 0.5) as u8);
            continue;
        }
        // Mip level from the lateral footprint, samples along the forward footprint.
        let fh = -row.dlat * inv;
        let fd = row.depth * inv;
        let mut level = 0usize;
        while level < top && fh > 1.414 * (1u64 << level) as f64 {
            level += 1;
        }
        let mut ns;
        loop {
            let ratio = fd / (1u64 << level) as f64;
            ns = if ratio <= 1.5 {
                1
            } else if ratio <= 2.8 {
                2
            } else {
                4
            };
            if ratio <= 5.6 || level == top {
                break;
            }
            level += 1;
        }
        let p0 = eye + f * row.fwd + left * row.lat0;
        let step = left * row.dlat;
        let u0 = fix((p0.x - tex.origin.x) * inv);
        let v0 = fix((p0.y - tex.origin.y) * inv);
        let du = fix(step.x * inv);
        let dv = fix(step.y * inv);
        let mut ou = [0i64; 4];
        let mut ov = [0i64; 4];
        for k in 0..ns {
            let o = f * (((k as f64 + 0.5) / ns as f64 - 0.5) * row.depth * inv);
            ou[k] = fix(o.x);
            ov[k] = fix(o.y);
        }
        let lvl = &tex.levels[level];
        let sh = 16 + level as u32;
        let stride = lvl.w as i64;
        // Whether every sample of the row lies inside the texture (then no clamping is needed).
        let last = (w as i64 - 1).max(0);
        let (ue, ve) = (u0 + du * last, v0 + dv * last);
        let (omin_u, omax_u) = (ou[..ns].iter().min().copied(), ou[..ns].iter().max().copied());
        let (omin_v, omax_v) = (ov[..ns].iter().min().copied(), ov[..ns].iter().max().copied());
        let (omin_u, omax_u, omin_v, omax_v) = (
            omin_u.unwrap_or(0),
            omax_u.unwrap_or(0),
            omin_v.unwrap_or(0),
            omax_v.unwrap_or(0),
        );
        let inside = u0.min(ue) + omin_u >= 0
            && u0.max(ue) + omax_u < umax
            && v0.min(ve) + omin_v >= 0
            && v0.max(ve) + omax_v < vmax;
        let data = &lvl.data[..];
        let (mut u, mut v) = (u0, v0);
        if level == 0 && ns == 1 && fh < 1.0 {
            // Magnified (a texel spans more than a pixel): bilinear between texel centres.
            let (wmax, hmax) = (lvl.w as i64 - 1, lvl.h as i64 - 1);
            let (mut u, mut v) = (u0 - (1 << 15), v0 - (1 << 15));
            // The row's texel coordinates are linear in the pixel: check its two ends once, and
            // when both neighbours of every sample are inside, read without clamping (most of the
            // image: the near rows are the magnified ones).
            let (xs, xe) = (u >> 16, (u + du * last) >> 16);
            let (ys, ye) = (v >> 16, (v + dv * last) >> 16);
            if xs.min(xe) >= 0 && xs.max(xe) < wmax && ys.min(ye) >= 0 && ys.max(ye) < hmax {
                let stride = stride as usize;
                for px in line.iter_mut() {
                    let i = (v >> 16) as usize * stride + (u >> 16) as usize;
                    let (fx, fy) = (((u >> 8) & 255) as u32, ((v >> 8) & 255) as u32);
                    let (t00, t01) = (u32::from(data[i]), u32::from(data[i + 1]));
                    let (t10, t11) = (u32::from(data[i + stride]), u32::from(data[i + stride + 1]));
                    let top = t00 * (256 - fx) + t01 * fx;
                    let bot = t10 * (256 - fx) + t11 * fx;
                    *px = ((top * (256 - fy) + bot * fy + (1 << 15)) >> 16) as u8;
                    u += du;
                    v += dv;
                }
                continue;
            }
            for px in line.iter_mut() {
                let (x, y) = (u >> 16, v >> 16);
                let (fx, fy) = ((u >> 8) & 255, (v >> 8) & 255);
                let (xa, xb) = (x.clamp(0, wmax), (x + 1).clamp(0, wmax));
                let (ya, yb) = (y.clamp(0, hmax) * stride, (y + 1).clamp(0, hmax) * stride);
                let t00 = i64::from(data[(ya + xa) as usize]);
                let t01 = i64::from(data[(ya + xb) as usize]);
                let t10 = i64::from(data[(yb + xa) as usize]);
                let t11 = i64::from(data[(yb + xb) as usize]);
                let top = (t00 << 8) + (t01 - t00) * fx;
                let bot = (t10 << 8) + (t11 - t10) * fx;
                let val = (top << 8) + (bot - top) * fy;
                *px = ((val + (1 << 15)) >> 16) as u8;
                u += du;
                v += dv;
            }
        } else if inside {
            match ns {
                1 => {
                    for px in line.iter_mut() {
                        *px = data[((v >> sh) * stride + (u >> sh)) as usize];
                        u += du;
                        v += dv;
                    }
                }
                2 => {
                    for px in line.iter_mut() {
                        let a = data[(((v + ov[0]) >> sh) * stride + ((u + ou[0]) >> sh)) as usize];
                        let b = data[(((v + ov[1]) >> sh) * stride + ((u + ou[1]) >> sh)) as usize];
                        *px = ((u16::from(a) + u16::from(b) + 1) >> 1) as u8;
                        u += du;
                        v += dv;
                    }
                }
                _ => {
                    for px in line.iter_mut() {
                        let mut s = 2u16;
                        for k in 0..4 {
                            s += u16::from(data[(((v + ov[k]) >> sh) * stride + ((u + ou[k]) >> sh)) as usize]);
                        }
                        *px = (s >> 2) as u8;
                        u += du;
                        v += dv;
                    }
                }
            }
        } else {
            let (wmax, hmax) = (lvl.w as i64 - 1, lvl.h as i64 - 1);
            for px in line.iter_mut() {
                let mut s = 0u32;
                for k in 0..ns {
                    let x = ((u + ou[k]) >> sh).clamp(0, wmax);
                    let y = ((v + ov[k]) >> sh).clamp(0, hmax);
                    s += u32::from(data[(y * stride + x) as usize]);
                }
                *px = ((s + (ns as u32 >> 1)) / ns as u32) as u8;
                u += du;
                v += dv;
            }
        }
    }
}

/// A lens's frame in the world: position, forward (optical axis), right and image-down unit vectors.
#[derive(Clone, Copy, Debug)]
struct View {
    o: [f64; 3],
    a: [f64; 3],
    r: [f64; 3],
    d: [f64; 3],
    f: f64,
    cx: f64,
    cy: f64,
    w: usize,
    h: usize,
}

impl View {
    fn new(cfg: &CameraConfig, eye: Vec2, fw: Vec2, pitch: f64, height: f64) -> Self {
        let (sp, cp) = (crate::math::sin(pitch), crate::math::cos(pitch));
        Self {
            o: [eye.x, eye.y, height],
            a: [cp * fw.x, cp * fw.y, -sp],
            r: [fw.y, -fw.x, 0.0],
            d: [-sp * fw.x, -sp * fw.y, -cp],
            f: cfg.focal_px(),
            cx: 0.5 * f64::from(cfg.width),
            cy: 0.5 * f64::from(cfg.height),
            w: cfg.width as usize,
            h: cfg.height as usize,
        }
    }

    /// Camera coordinates (right, down, forward) of a world point.
    fn camera_coords(&self, p: [f64; 3]) -> [f64; 3] {
        let q = [p[0] - self.o[0], p[1] - self.o[1], p[2] - self.o[2]];
        let dot = |v: [f64; 3]| q[0] * v[0] + q[1] * v[1] + q[2] * v[2];
        [dot(self.r), dot(self.d), dot(self.a)]
    }
}

/// Fixed light direction for the boxes' sides (world, horizontal, unit).
const LIGHT: Vec2 = Vec2::new(0.6, 0.8);

/// Shade of a face: the top at full tone, sides by how much they face the light.
fn face_tone(tone: u8, normal: Option<Vec2>) -> f32 {
    let k = match normal {
        None => 1.0,
        Some(n) => 0.55 + 0.35 * n.dot(LIGHT).max(0.0),
    };
    f32::from(tone) * k as f32
}

/// Draw the objects far to near over the image.
fn draw_objects(view: &View, objects: &[SceneObject], img: &mut [u8]) {
    let mut order = [(0.0f64, 0usize); crate::params::MAX_OBJECTS];
    let mut n = 0;
    for (i, o) in objects.iter().enumerate().take(order.len()) {
        let c = view.camera_coords([o.obb.center.x, o.obb.center.y, 0.5 * o.height]);
        let reach = o.obb.half_length + o.obb.half_width;
        if c[2] < -reach || c[2] > FAR_OBJECTS {
            continue;
        }
        order[n] = (c[2], i);
        n += 1;
    }
    let order = &mut order[..n];
    order.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in order.iter() {
        draw_box(view, &objects[i], img);
    }
}

fn draw_box(view: &View, o: &SceneObject, img: &mut [u8]) {
    let c = o.obb.corners();
    let eye = Vec2::new(view.o[0], view.o[1]);
    for k in 0..4 {
        let (p, q) = (c[k], c[(k + 1) % 4]);
        let mid = (p + q) * 0.5;
        let normal = (mid - o.obb.center).normalize_or_zero();
        if normal.dot(mid - eye) >= 0.0 {
            continue;
        }
        let quad = [
            [p.x, p.y, 0.0],
            [q.x, q.y, 0.0],
            [q.x, q.y, o.height],
            [p.x, p.y, o.height],
        ];
        fill_face(view, &quad, face_tone(o.tone, Some(normal)), img);
    }
    if view.o[2] > o.height {
        let quad = c.map(|p| [p.x, p.y, o.height]);
        fill_face(view, &quad, face_tone(o.tone, None), img);
    }
}

/// Clip a face at the near plane, project it and fill it with edge coverage.
fn fill_face(view: &View, quad: &[[f64; 3]; 4], tone: f32, img: &mut [u8]) {
    let cam = quad.map(|p| view.camera_coords(p));
    // Sutherland–Hodgman against z ≥ NEAR.
    let mut poly = [[0.0f64; 2]; 8];
    let mut n = 0;
    for k in 0..4 {
        let (p, q) = (cam[k], cam[(k + 1) % 4]);
        let (pin, qin) = (p[2] >= NEAR, q[2] >= NEAR);
        if pin {
            poly[n] = [view.cx + view.f * p[0] / p[2], view.cy + view.f * p[1] / p[2]];
            n += 1;
        }
        if pin != qin {
            let t = (NEAR - p[2]) / (q[2] - p[2]);
            let x = p[0] + (q[0] - p[0]) * t;
            let y = p[1] + (q[1] - p[1]) * t;
            poly[n] = [view.cx + view.f * x / NEAR, view.cy + view.f * y / NEAR];
            n += 1;
        }
    }
    if n < 3 {
        return;
    }
    let poly = &poly[..n];
    // Orientation and edge lines (inside positive, distances in pixels).
    let mut area = 0.0;
    for k in 0..n {
        let (p, q) = (poly[k], poly[(k + 1) % n]);
        area += p[0] * q[1] - q[0] * p[1];
    }
    if area.abs() < 1e-9 {
        return;
    }
    let sign = if area > 0.0 { 1.0 } else { -1.0 };
    let mut edges = [[0.0f32; 3]; 8];
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for k in 0..n {
        let (p, q) = (poly[k], poly[(k + 1) % n]);
        let (ex, ey) = (q[0] - p[0], q[1] - p[1]);
        let len = (ex * ex + ey * ey).sqrt();
        if len < 1e-12 {
            edges[k] = [0.0, 0.0, 1e6];
        } else {
            // n = sign · (−ey, ex) / len; distance = n · (x − p).
            let (nx, ny) = (-ey * sign / len, ex * sign / len);
            edges[k] = [nx as f32, ny as f32, (-(nx * p[0] + ny * p[1])) as f32];
        }
        x0 = x0.min(p[0]);
        x1 = x1.max(p[0]);
        y0 = y0.min(p[1]);
        y1 = y1.max(p[1]);
    }
    let edges = &edges[..n];
    let cx0 = (x0 - 1.0).floor().clamp(0.0, view.w as f64) as usize;
    let cx1 = (x1 + 1.0).ceil().clamp(0.0, view.w as f64) as usize;
    let cy0 = (y0 - 1.0).floor().clamp(0.0, view.h as f64) as usize;
    let cy1 = (y1 + 1.0).ceil().clamp(0.0, view.h as f64) as usize;
    for r in cy0..cy1 {
        let py = r as f32 + 0.5;
        let line = &mut img[r * view.w..(r + 1) * view.w];
        for (cx, px) in line.iter_mut().enumerate().take(cx1).skip(cx0) {
            let pxf = cx as f32 + 0.5;
            let mut m = f32::MAX;
            for e in edges {
                m = m.min(e[0] * pxf + e[1] * py + e[2]);
            }
            let cov = (m + 0.5).clamp(0.0, 1.0);
            if cov > 0.0 {
                let v = f32::from(*px);
                *px = (v + (tone - v) * cov + 0.5) as u8;
            }
        }
    }
}

/// One point sample of the exact scene along world direction `d` from the lens.
fn reference_sample(track: &Track, view: &View, objects: &[SceneObject], d: [f64; 3]) -> f64 {
    let o = view.o;
    let mut best = f64::INFINITY;
    let mut tone = 0.0;
    for ob in objects {
        // Slab test in the box's frame: x along its axis, y across, z up.
        let ax = ob.obb.axis;
        let ay = ax.perp();
        let rel = Vec2::new(o[0], o[1]) - ob.obb.center;
        let dl = Vec2::new(d[0], d[1]);
        let lo_o = [rel.dot(ax), rel.dot(ay), o[2]];
        let lo_d = [dl.dot(ax), dl.dot(ay), d[2]];
        let lo = [-ob.obb.half_length, -ob.obb.half_width, 0.0];
        let hi = [ob.obb.half_length, ob.obb.half_width, ob.height];
        let (mut t0, mut t1, mut axis, mut neg) = (0.0f64, f64::INFINITY, 3usize, false);
        let mut hit = true;
        for k in 0..3 {
            if lo_d[k].abs() < 1e-12 {
                if lo_o[k] < lo[k] || lo_o[k] > hi[k] {
                    hit = false;
                }
                continue;
            }
            let ta = (lo[k] - lo_o[k]) / lo_d[k];
            let tb = (hi[k] - lo_o[k]) / lo_d[k];
            let (tn, tf, entering_neg) = if ta < tb { (ta, tb, true) } else { (tb, ta, false) };
            if tn > t0 {
                t0 = tn;
                axis = k;
                neg = entering_neg;
            }
            t1 = t1.min(tf);
        }
        if hit && t0 <= t1 && t0 > 0.0 && t0 < best {
            best = t0;
            let normal = match (axis, neg) {
                (0, true) => Some(-ax),
                (0, false) => Some(ax),
                (1, true) => Some(-ay),
                (1, false) => Some(ay),
                _ => None,
            };
            tone = f64::from(face_tone(ob.tone, normal));
        }
    }
    let horiz = (d[0] * d[0] + d[1] * d[1]).sqrt();
    if d[2] < 0.0 {
        let t = o[2] / -d[2];
        if t < best {
            let p = Vec2::new(o[0] + d[0] * t, o[1] + d[1] * t);
            let pr = track.project_global(p);
            let (hl, hr) = track.half_widths(pr.seg, pr.t);
            let lat = if pr.lateral >= 0.0 { pr.distance } else { -pr.distance };
            return texture::ground_tone(lat, pr.s, hl, hr, 1e-9);
        }
    } else if best == f64::INFINITY {
        return sky_tone(d[2] / horiz.max(1e-12));
    }
    tone
}
