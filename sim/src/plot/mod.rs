//! Charts and track maps as PNG files (the `plot` feature), shared by `sim plot` and `trainer plot`.
//!
//! * [`chart`]: line charts (series against steps or time) and bar charts, with titled axes.
//! * [`map`]: the top-down track map — road from the track's borders, centre line, a driven line
//!   coloured by speed, off-track markers — and the projection from metres to pixels it used.
//! * [`trace_plots`]: `sim plot`'s figures from a trace (map, lap times, action histogram).
//! * [`replay`]: animated replays of a trace (GIF, or MP4 through ffmpeg): `sim replay`,
//!   `trainer evaluate --video`, the league's stored replays.
//!
//! Drawing is plotters' bitmap backend into an RGB buffer, encoded with `png`; text is rendered with
//! `ab_glyph` from a TrueType font on the system ([`FONT_PATHS`], or the file named by
//! `SLIPSTREAM_FONT`), so nothing links against fontconfig or freetype.

pub mod chart;
pub mod map;
pub mod replay;
pub mod trace_plots;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

/// The environment variable that names a TrueType/OpenType font file for chart text.
pub const FONT_ENV: &str = "SLIPSTREAM_FONT";

/// Where chart text's font is looked for, in order, unless [`FONT_ENV`] names one: DejaVu Sans
/// (Debian's and Ubuntu's `fonts-dejavu-core`, Fedora, Arch), then Liberation Sans and macOS' Arial.
pub const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
    "/Library/Fonts/Arial.ttf",
];

/// The font family name charts use (registered with plotters by [`init_font`]).
pub const FONT: &str = "sans-serif";

/// What went wrong making a plot. Messages name the file (and line) and the cause.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PlotError {
    #[error(
        "no font for chart text: none of {tried} exists (on Debian/Ubuntu install the fonts-dejavu-core package, or set {FONT_ENV} to a .ttf file)"
    )]
    NoFont { tried: String },
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("{path}: line {line}: {message}")]
    Line {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("drawing the chart failed: {0}")]
    Draw(String),
}

impl PlotError {
    pub fn file(path: &Path, message: impl Into<String>) -> Self {
        PlotError::File {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

/// Plotters' drawing errors as [`PlotError::Draw`].
pub(crate) trait DrawResult<T> {
    fn draw(self) -> Result<T, PlotError>;
}

impl<T, E: std::error::Error + Send + Sync> DrawResult<T> for Result<T, DrawingAreaErrorKind<E>> {
    fn draw(self) -> Result<T, PlotError> {
        self.map_err(|e| PlotError::Draw(e.to_string()))
    }
}

static FONT_LOADED: OnceLock<Result<PathBuf, PlotError>> = OnceLock::new();

/// Load the chart font once per process (the first of [`FONT_PATHS`] that exists, or the file in
/// [`FONT_ENV`]) and register it with plotters. Returns the font file's path.
pub fn init_font() -> Result<PathBuf, PlotError> {
    FONT_LOADED
        .get_or_init(|| {
            let candidates: Vec<PathBuf> = match std::env::var_os(FONT_ENV) {
                Some(p) if !p.is_empty() => vec![PathBuf::from(p)],
                _ => FONT_PATHS.iter().map(PathBuf::from).collect(),
            };
            let Some(path) = candidates.iter().find(|p| p.is_file()) else {
                let tried = candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>();
                return Err(PlotError::NoFont {
                    tried: tried.join(", "),
                });
            };
            let bytes = std::fs::read(path).map_err(|e| PlotError::file(path, format!("cannot read font: {e}")))?;
            // plotters keeps registered fonts for the life of the process.
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            for style in [FontStyle::Normal, FontStyle::Bold] {
                plotters::style::register_font(FONT, style, bytes)
                    .map_err(|_| PlotError::file(path, "not a TrueType/OpenType font"))?;
            }
            Ok(path.clone())
        })
        .clone()
}

/// A drawing area of an RGB bitmap.
pub type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Draw a picture of `size` (width, height) pixels on a white background with `draw` and write it
/// to `path` as an RGB PNG. Returns what `draw` returned.
pub fn write_png<T>(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> Result<T, PlotError>,
) -> Result<T, PlotError> {
    let (rgb, out) = render(size, draw)?;
    encode_png(path, size, &rgb)?;
    Ok(out)
}

/// Draw a picture into an RGB buffer (row-major, 3 bytes a pixel) without writing it.
pub fn render<T>(
    (w, h): (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> Result<T, PlotError>,
) -> Result<(Vec<u8>, T), PlotError> {
    init_font()?;
    if w < 200 || h < 150 {
        return Err(PlotError::Invalid(format!(
            "a picture of {w}×{h} pixels is too small for a chart (at least 200×150)"
        )));
    }
    let mut rgb = vec![255u8; w as usize * h as usize * 3];
    let out = {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE).draw()?;
        let out = draw(&root)?;
        root.present().draw()?;
        out
    };
    Ok((rgb, out))
}

/// Write an RGB buffer as a PNG file.
pub fn encode_png(path: &Path, (w, h): (u32, u32), rgb: &[u8]) -> Result<(), PlotError> {
    let err = |e: &dyn std::fmt::Display| PlotError::file(path, format!("cannot write PNG: {e}"));
    let file = std::fs::File::create(path).map_err(|e| err(&e))?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(|e| err(&e))?;
    writer.write_image_data(rgb).map_err(|e| err(&e))?;
    writer.finish().map_err(|e| err(&e))
}

/// Font sizes scaled to a picture: titles, axis descriptions and tick labels stay readable in a
/// large single chart and in a panel of a grid.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sizes {
    pub title: f64,
    pub label: f64,
    pub tick: f64,
}

impl Sizes {
    pub fn for_area(area: &Area<'_>) -> Sizes {
        let (w, h) = area.dim_in_pixel();
        let k = ((f64::from(w) * f64::from(h)).sqrt() / 750.0).clamp(0.8, 1.4);
        Sizes {
            title: (26.0 * k).round(),
            label: (19.0 * k).round(),
            tick: (16.0 * k).round(),
        }
    }
}

/// A tick label for `v` on an axis whose ticks are about `step` apart: thousands as `k`, millions
/// as `M`, small numbers in scientific notation, and no more decimals than the step needs.
pub fn tick_label(v: f64, step: f64) -> String {
    let a = v.abs();
    let step = step.abs().max(f64::MIN_POSITIVE);
    if a == 0.0 {
        return "0".into();
    }
    // The fewest decimals that show multiples of the step exactly (2.5 → 1, 0.05 → 2).
    let decimals = |scaled_step: f64| {
        (0..6)
            .find(|&d| {
                let m = scaled_step * 10f64.powi(d as i32);
                (m - m.round()).abs() < 1e-6 * m.max(1.0)
            })
            .unwrap_or(6)
    };
    if a >= 1e6 && step >= 1e5 {
        let d = decimals(step / 1e6);
        return format!("{:.*}M", d, v / 1e6);
    }
    if a >= 1e4 && step >= 1e3 {
        let d = decimals(step / 1e3);
        return format!("{:.*}k", d, v / 1e3);
    }
    if a < 1e-2 {
        let e = a.log10().floor();
        let m = v / 10f64.powf(e);
        let d = decimals(step / 10f64.powf(e)).min(3);
        return format!("{m:.d$}e{e}");
    }
    format!("{:.*}", decimals(step).min(6), v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_are_short_and_exact_enough() {
        assert_eq!(tick_label(0.0, 1.0), "0");
        assert_eq!(tick_label(2_000_000.0, 500_000.0), "2.0M");
        assert_eq!(tick_label(3_000_000.0, 1_000_000.0), "3M");
        assert_eq!(tick_label(150_000.0, 50_000.0), "150k");
        assert_eq!(tick_label(12.5, 2.5), "12.5");
        assert_eq!(tick_label(40.0, 10.0), "40");
        assert_eq!(tick_label(0.25, 0.05), "0.25");
        assert_eq!(tick_label(3e-4, 1e-4), "3e-4");
        assert_eq!(tick_label(2.5e-4, 5e-5), "2.5e-4");
        assert_eq!(tick_label(-1.5, 0.5), "-1.5");
    }

    #[test]
    fn pictures_are_written_as_rgb_pngs_of_the_asked_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        write_png(&path, (320, 200), |area| {
            area.draw(&Rectangle::new([(10, 10), (20, 20)], RED.filled())).draw()?;
            Ok(())
        })
        .unwrap();
        let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(
            (info.width, info.height, info.color_type),
            (320, 200, png::ColorType::Rgb)
        );
        let px = |x: usize, y: usize| &buf[(y * 320 + x) * 3..(y * 320 + x) * 3 + 3];
        assert_eq!(px(15, 15), &[255, 0, 0]);
        assert_eq!(px(100, 100), &[255, 255, 255]);
    }

    #[test]
    fn a_picture_too_small_for_a_chart_is_refused() {
        let e = render((100, 100), |_| Ok(())).unwrap_err();
        assert!(e.to_string().contains("too small"), "{e}");
    }
}
