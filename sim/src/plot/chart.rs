//! Line charts (series of points against steps or time) and bar charts, with a title, axis
//! descriptions with units, a light grid, readable tick labels and a legend when there are several
//! series. An empty chart says "no data yet" instead of failing.

use std::ops::Range;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Area, DrawResult, FONT, PlotError, Sizes, tick_label};

/// Colours for series, in order (distinguishable, and readable on white).
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    Line,
    Points,
    LineAndPoints,
}

/// One series of a line chart. A point with a non-finite `y` is a gap: the line breaks there.
#[derive(Clone, Debug)]
pub struct Series {
    pub label: String,
    pub color: RGBColor,
    pub mark: Mark,
    pub points: Vec<(f64, f64)>,
}

impl Series {
    pub fn new(label: impl Into<String>, color: RGBColor, mark: Mark, points: Vec<(f64, f64)>) -> Self {
        Series {
            label: label.into(),
            color,
            mark,
            points,
        }
    }

    fn finite(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    }

    /// Runs of consecutive finite points (the pieces of the line between gaps).
    fn runs(&self) -> Vec<Vec<(f64, f64)>> {
        let mut runs = vec![Vec::new()];
        for &(x, y) in &self.points {
            if x.is_finite() && y.is_finite() {
                runs.last_mut().expect("one run").push((x, y));
            } else if !runs.last().expect("one run").is_empty() {
                runs.push(Vec::new());
            }
        }
        runs.retain(|r| !r.is_empty());
        runs
    }
}

/// A chart of series against a common x axis.
#[derive(Clone, Debug)]
pub struct LineChart {
    pub title: String,
    /// The x axis' description, with its unit ("environment steps", "wall time (min)").
    pub x_label: String,
    /// The y axis' description, with its unit.
    pub y_label: String,
    pub series: Vec<Series>,
    /// A fixed y range (e.g. 0–100 for percentages); otherwise the data's, padded.
    pub y_range: Option<(f64, f64)>,
    /// Include 0 in the y range (quantities whose size matters: returns, steps/s).
    pub y_from_zero: bool,
}

impl LineChart {
    pub fn new(title: impl Into<String>, x_label: impl Into<String>, y_label: impl Into<String>) -> Self {
        LineChart {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            series: Vec::new(),
            y_range: None,
            y_from_zero: false,
        }
    }

    pub fn with(mut self, s: Series) -> Self {
        self.series.push(s);
        self
    }

    /// Whether any series has a point to draw.
    pub fn has_data(&self) -> bool {
        self.series.iter().any(|s| s.finite().next().is_some())
    }

    /// The corner of the plot area with the fewest points, for the legend.
    fn legend_corner(&self, x: &Range<f64>, y: &Range<f64>) -> SeriesLabelPosition {
        let corners = [
            (SeriesLabelPosition::UpperLeft, false, true),
            (SeriesLabelPosition::UpperRight, true, true),
            (SeriesLabelPosition::LowerRight, true, false),
            (SeriesLabelPosition::LowerLeft, false, false),
        ];
        let count = |right: bool, upper: bool| {
            self.series
                .iter()
                .flat_map(|s| s.finite())
                .filter(|(px, py)| {
                    let fx = (px - x.start) / (x.end - x.start);
                    let fy = (py - y.start) / (y.end - y.start);
                    (if right { fx > 0.6 } else { fx < 0.4 }) && (if upper { fy > 0.7 } else { fy < 0.3 })
                })
                .count()
        };
        corners
            .into_iter()
            .min_by_key(|&(_, right, upper)| count(right, upper))
            .map(|c| c.0)
            .expect("four corners")
    }

    /// Draw the chart into `area`.
    pub fn draw(&self, area: &Area<'_>) -> Result<(), PlotError> {
        let sz = Sizes::for_area(area);
        let xs = self.series.iter().flat_map(|s| s.finite().map(|p| p.0));
        let ys = self.series.iter().flat_map(|s| s.finite().map(|p| p.1));
        let x = padded(xs, 0.0, false).unwrap_or(0.0..1.0);
        let y = match self.y_range {
            Some((lo, hi)) => lo..hi,
            None => padded(ys, 0.06, self.y_from_zero).unwrap_or(0.0..1.0),
        };
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, (FONT, sz.title))
            .margin(sz.tick * 0.8)
            .margin_right(sz.tick * 1.8)
            .x_label_area_size(sz.label * 2.8)
            .y_label_area_size(sz.label * 4.6)
            .build_cartesian_2d(x.clone(), y.clone())
            .draw()?;
        let (x_step, y_step) = (step(&x, 8), step(&y, 8));
        let x_fmt = |v: &f64| tick_label(*v, x_step);
        let y_fmt = |v: &f64| tick_label(*v, y_step);
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .x_labels(8)
            .y_labels(8)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .axis_desc_style((FONT, sz.label))
            .label_style((FONT, sz.tick))
            .light_line_style(RGBColor(244, 244, 244))
            .bold_line_style(RGBColor(215, 215, 215))
            .draw()
            .draw()?;
        if !self.has_data() {
            centred_note(&chart, "no data yet", sz)?;
            return Ok(());
        }
        let dot = (sz.tick / 4.0).max(2.0) as i32;
        for s in self.series.iter().filter(|s| s.finite().next().is_some()) {
            let line = s.color.stroke_width(2);
            let mut first = true;
            if s.mark != Mark::Points {
                for run in s.runs() {
                    let a = chart.draw_series(LineSeries::new(run, line)).draw()?;
                    if first && !s.label.is_empty() {
                        let c = s.color;
                        a.label(&s.label)
                            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], c.stroke_width(3)));
                    }
                    first = false;
                }
            }
            if s.mark != Mark::Line {
                let c = s.color;
                let a = chart
                    .draw_series(s.finite().map(|p| Circle::new(p, dot, c.filled())))
                    .draw()?;
                if first && !s.label.is_empty() {
                    a.label(&s.label)
                        .legend(move |(x, y)| Circle::new((x + 10, y), dot, c.filled()));
                }
            }
        }
        if self
            .series
            .iter()
            .any(|s| !s.label.is_empty() && s.finite().next().is_some())
        {
            chart
                .configure_series_labels()
                .position(self.legend_corner(&x, &y))
                .label_font((FONT, sz.tick))
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(190, 190, 190))
                .draw()
                .draw()?;
        }
        Ok(())
    }
}

/// One bar of a [`BarChart`]: from `x.start` to `x.end`, stacked segments from 0 upwards.
#[derive(Clone, Debug)]
pub struct Bar {
    pub x: Range<f64>,
    pub segments: Vec<(f64, RGBColor)>,
    /// A short note drawn above the bar ("62 %").
    pub note: Option<String>,
}

/// Bars (histograms, per-lap times) with a legend of what the colours mean.
#[derive(Clone, Debug)]
pub struct BarChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub bars: Vec<Bar>,
    /// Colour → meaning, shown as a legend when not empty.
    pub legend: Vec<(String, RGBColor)>,
    /// Label only whole-number x ticks (lap numbers, action indices).
    pub integer_x: bool,
    /// Tick labels on the x axis in place of numbers (index → text), for categories.
    pub x_names: Vec<String>,
}

impl BarChart {
    pub fn new(title: impl Into<String>, x_label: impl Into<String>, y_label: impl Into<String>) -> Self {
        BarChart {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            bars: Vec::new(),
            legend: Vec::new(),
            integer_x: false,
            x_names: Vec::new(),
        }
    }

    pub fn draw(&self, area: &Area<'_>) -> Result<(), PlotError> {
        let sz = Sizes::for_area(area);
        let x = padded(self.bars.iter().flat_map(|b| [b.x.start, b.x.end]), 0.02, false).unwrap_or(0.0..1.0);
        let top = self
            .bars
            .iter()
            .map(|b| b.segments.iter().map(|s| s.0.max(0.0)).sum::<f64>())
            .fold(0.0, f64::max);
        // Room above the tallest bar for its note and the legend.
        let room = if self.legend.is_empty() { 1.1 } else { 1.3 };
        let y = 0.0..if top > 0.0 { top * room } else { 1.0 };
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, (FONT, sz.title))
            .margin(sz.tick * 0.8)
            .margin_right(sz.tick * 1.8)
            .x_label_area_size(sz.label * 2.8)
            .y_label_area_size(sz.label * 4.6)
            .build_cartesian_2d(x.clone(), y.clone())
            .draw()?;
        let (x_step, y_step) = (step(&x, 10), step(&y, 8));
        let integer_x = self.integer_x || !self.x_names.is_empty();
        let names = &self.x_names;
        let x_fmt = |v: &f64| {
            if integer_x {
                let r = v.round();
                if (v - r).abs() > 1e-6 || r < 0.0 {
                    return String::new();
                }
                match names.get(r as usize) {
                    Some(n) => n.clone(),
                    None if names.is_empty() => format!("{r}"),
                    None => String::new(),
                }
            } else {
                tick_label(*v, x_step)
            }
        };
        let y_fmt = |v: &f64| tick_label(*v, y_step);
        let span = x.end - x.start;
        let x_labels = if integer_x {
            (span.ceil() as usize + 1).min(25)
        } else {
            10
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .x_labels(x_labels)
            .y_labels(8)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .axis_desc_style((FONT, sz.label))
            .label_style((FONT, sz.tick))
            .light_line_style(TRANSPARENT)
            .bold_line_style(RGBColor(215, 215, 215))
            .draw()
            .draw()?;
        for b in &self.bars {
            let mut base = 0.0;
            for &(v, c) in &b.segments {
                if v > 0.0 {
                    chart
                        .draw_series([Rectangle::new([(b.x.start, base), (b.x.end, base + v)], c.filled())])
                        .draw()?;
                    base += v;
                }
            }
            if let Some(note) = &b.note {
                let style = (FONT, sz.tick * 0.85)
                    .into_font()
                    .color(&RGBColor(70, 70, 70))
                    .pos(Pos::new(HPos::Center, VPos::Bottom));
                let (px, py) = chart.backend_coord(&((b.x.start + b.x.end) / 2.0, base));
                let (ox, oy) = area.get_base_pixel();
                area.draw(&Text::new(note.clone(), (px - ox, py - oy - 3), style))
                    .draw()?;
            }
        }
        for (label, c) in &self.legend {
            let c = *c;
            chart
                .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())
                .draw()?
                .label(label)
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], c.filled()));
        }
        if !self.legend.is_empty() {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .label_font((FONT, sz.tick))
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(190, 190, 190))
                .draw()
                .draw()?;
        }
        if self.bars.is_empty() {
            centred_note(&chart, "no data", sz)?;
        }
        Ok(())
    }
}

/// Grey text in the middle of a chart's plot area.
fn centred_note<'a>(
    chart: &ChartContext<'a, BitMapBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    text: &str,
    sz: Sizes,
) -> Result<(), PlotError> {
    let area = chart.plotting_area();
    let (xr, yr) = area.get_pixel_range();
    let style = (FONT, sz.label)
        .into_font()
        .color(&RGBColor(120, 120, 120))
        .pos(Pos::new(HPos::Center, VPos::Center));
    area.strip_coord_spec()
        .draw(&Text::new(
            text.to_string(),
            ((xr.end - xr.start) / 2, (yr.end - yr.start) / 2),
            style,
        ))
        .draw()
}

/// The range of `values`, padded by `pad` of its span on each side (and to include 0 when asked);
/// `None` when there is no finite value.
fn padded(values: impl Iterator<Item = f64>, pad: f64, from_zero: bool) -> Option<Range<f64>> {
    let (mut lo, mut hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return None;
    }
    if from_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    if hi - lo < 1e-12 {
        let d = if lo.abs() > 1e-12 { lo.abs() * 0.1 } else { 1.0 };
        // All zero on a from-zero axis: 0 to 1, not into negative numbers.
        return Some(if from_zero && lo >= 0.0 {
            lo..hi + d
        } else {
            lo - d..hi + d
        });
    }
    let p = (hi - lo) * pad;
    let lo2 = if from_zero && lo >= 0.0 { lo } else { lo - p };
    let hi2 = if from_zero && hi <= 0.0 { hi } else { hi + p };
    Some(lo2..hi2)
}

/// The distance between plotters' "nice" ticks for about `n` labels on `r` (1, 2 or 5 × 10^k).
fn step(r: &Range<f64>, n: usize) -> f64 {
    let raw = (r.end - r.start).abs() / n.max(1) as f64;
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let e = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * e)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::render;

    fn non_white_in(rgb: &[u8], w: usize, xs: Range<usize>, ys: Range<usize>) -> usize {
        let mut n = 0;
        for y in ys {
            for x in xs.clone() {
                let p = &rgb[(y * w + x) * 3..(y * w + x) * 3 + 3];
                if p != [255, 255, 255] {
                    n += 1;
                }
            }
        }
        n
    }

    #[test]
    fn ranges_are_padded_and_include_zero_when_asked() {
        assert_eq!(padded([1.0, 3.0].into_iter(), 0.0, false), Some(1.0..3.0));
        let r = padded([1.0, 3.0].into_iter(), 0.5, true).unwrap();
        assert_eq!(r, 0.0..4.5);
        assert_eq!(padded([f64::NAN].into_iter(), 0.1, false), None);
        let flat = padded([2.0, 2.0].into_iter(), 0.1, false).unwrap();
        assert!(flat.start < 2.0 && flat.end > 2.0);
        assert_eq!(padded([0.0, 0.0].into_iter(), 0.1, true), Some(0.0..1.0));
        assert_eq!(step(&(0.0..100.0), 8), 20.0);
        assert_eq!(step(&(0.0..1e-3), 8), 2e-4);
    }

    #[test]
    fn a_series_breaks_at_gaps() {
        let s = Series::new(
            "",
            PALETTE[0],
            Mark::Line,
            vec![(0.0, 1.0), (1.0, f64::NAN), (2.0, 2.0), (3.0, 3.0)],
        );
        assert_eq!(s.runs(), vec![vec![(0.0, 1.0)], vec![(2.0, 2.0), (3.0, 3.0)]]);
    }

    #[test]
    fn a_line_chart_draws_its_line_in_the_plot_area() {
        let chart = LineChart::new("t", "x (s)", "y (m)").with(Series::new(
            "a",
            RGBColor(200, 0, 0),
            Mark::Line,
            (0..50).map(|i| (f64::from(i), f64::from(i % 7))).collect(),
        ));
        let (rgb, ()) = render((600, 400), |a| chart.draw(a)).unwrap();
        let red = rgb.chunks(3).filter(|p| p[0] > 150 && p[1] < 80 && p[2] < 80).count();
        assert!(red > 500, "{red} red pixels");
        // The right half of the plot area has ink (the line spans the whole x range).
        assert!(non_white_in(&rgb, 600, 350..560, 60..330) > 100);
    }

    #[test]
    fn bars_are_as_tall_as_their_values() {
        let mut chart = BarChart::new("laps", "lap", "time (s)");
        chart.integer_x = true;
        for (i, v) in [10.0, 20.0].into_iter().enumerate() {
            chart.bars.push(Bar {
                x: i as f64 + 0.6..i as f64 + 1.4,
                segments: vec![(v, RGBColor(0, 0, 200))],
                note: None,
            });
        }
        let (rgb, ()) = render((600, 400), |a| chart.draw(a)).unwrap();
        let blue_rows = |x_lo: usize, x_hi: usize| {
            (0..400)
                .filter(|&y| {
                    (x_lo..x_hi).any(|x| {
                        let p = &rgb[(y * 600 + x) * 3..(y * 600 + x) * 3 + 3];
                        p == [0, 0, 200]
                    })
                })
                .count()
        };
        let (first, second) = (blue_rows(0, 300), blue_rows(300, 600));
        assert!(first > 20 && second > 20, "{first} {second}");
        let ratio = second as f64 / first as f64;
        assert!((ratio - 2.0).abs() < 0.1, "bar heights {first} and {second}");
    }
}
