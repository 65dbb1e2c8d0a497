//! Encoding a replay's frames: an animated GIF (one global palette, each frame only the rectangle
//! that changed), or MP4 through `ffmpeg`.

use std::borrow::Cow;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use plotters::prelude::*;

use super::super::PlotError;
use super::super::map::{BORDER, CENTRE, GRASS, OFF_TRACK, ROAD, speed_colour};
use super::{RIVAL_COLOURS, ReplayRenderer, ReplayReport};

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
