//! The top-down track map: the road filled between the track's borders, its border lines, the
//! dashed centre line and the start line, with a driven line coloured by speed (and a colour bar
//! for it) and off-track markers on top. Metres are to scale: one metre is as many pixels across as
//! up, whatever the picture's shape.

use plotters::coord::ReverseCoordTranslate;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Area, DrawResult, FONT, PlotError, Sizes, tick_label};
use crate::math::Vec2;
use crate::track::Track;

/// The road's fill.
pub const ROAD: RGBColor = RGBColor(92, 92, 92);
/// Off the road (the plot area's background).
pub const GRASS: RGBColor = RGBColor(229, 240, 222);
/// Grid lines every few metres.
pub const GRID: RGBColor = RGBColor(210, 222, 204);
/// Border lines.
pub const BORDER: RGBColor = RGBColor(255, 255, 255);
/// The dashed centre line.
pub const CENTRE: RGBColor = RGBColor(200, 200, 200);
/// The halo where wheels were off the track (a colour the speed scale never uses).
pub const OFF_TRACK: RGBColor = RGBColor(235, 0, 235);
/// The crosses where the car left the road (near-black, outlined in white).
pub const OFF_TRACK_CROSS: RGBColor = RGBColor(30, 0, 30);

/// Width of the driven line, pixels.
pub const TRAIL_WIDTH: u32 = 3;

/// The speed colour scale, slow to fast (blue, cyan, green, yellow, orange, red).
const SCALE: [(f64, (f64, f64, f64)); 6] = [
    (0.0, (48.0, 18.0, 220.0)),
    (0.2, (30.0, 160.0, 235.0)),
    (0.4, (40.0, 200.0, 80.0)),
    (0.6, (230.0, 220.0, 30.0)),
    (0.8, (250.0, 140.0, 20.0)),
    (1.0, (215.0, 20.0, 20.0)),
];

/// The colour of `v` on a scale from `lo` to `hi`.
pub fn speed_colour(v: f64, (lo, hi): (f64, f64)) -> RGBColor {
    let t = if hi > lo {
        ((v - lo) / (hi - lo)).clamp(0.0, 1.0)
    } else {
        0.5
    };
    let k = SCALE.iter().position(|s| s.0 >= t).unwrap_or(SCALE.len() - 1).max(1);
    let ((t0, a), (t1, b)) = (SCALE[k - 1], SCALE[k]);
    let f = (t - t0) / (t1 - t0);
    let mix = |a: f64, b: f64| (a + (b - a) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Whether `c` is (close to) a colour of the speed scale.
pub fn is_speed_colour(c: [u8; 3]) -> bool {
    (0..=200).any(|i| {
        let s = speed_colour(f64::from(i) / 200.0, (0.0, 1.0));
        let d = |a: u8, b: u8| (i32::from(a) - i32::from(b)).abs();
        d(s.0, c[0]) + d(s.1, c[1]) + d(s.2, c[2]) <= 12
    })
}

/// A point of the driven line. A non-finite `speed` starts a new piece of line (nothing is drawn
/// from the previous point: an episode's start, or a reset after an off-track).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrailPoint {
    pub pos: Vec2,
    /// m/s.
    pub speed: f64,
}

/// What to draw on the map besides the track.
#[derive(Clone, Debug, Default)]
pub struct MapLayers {
    pub trail: Vec<TrailPoint>,
    /// The speed scale's range, m/s (the trail's speeds when `None`).
    pub speed_range: Option<(f64, f64)>,
    /// The colour bar's description.
    pub speed_label: String,
    /// Where the car left the road (DeepRacer's `off_track` status): crosses.
    pub off_track: Vec<Vec2>,
    /// Where some wheels were off the track: a halo around the driven line.
    pub wheels_off: Vec<Vec2>,
}

impl MapLayers {
    fn speed_range(&self) -> Option<(f64, f64)> {
        if let Some(r) = self.speed_range {
            return Some(r);
        }
        let (lo, hi) = self
            .trail
            .iter()
            .map(|p| p.speed)
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let widen = if hi - lo < 0.05 { 0.05 } else { 0.0 };
        (lo <= hi).then_some((lo - widen, hi + widen))
    }
}

/// How metres map to the picture's pixels (plotters' own mapping of the map's plot area).
#[derive(Clone)]
pub struct MapProjection {
    coord: Cartesian2d<RangedCoordf64, RangedCoordf64>,
}

impl std::fmt::Debug for MapProjection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MapProjection")
            .field("x_m", &self.coord.get_x_range())
            .field("y_m", &self.coord.get_y_range())
            .field("pixels", &self.pixel_range())
            .finish()
    }
}

impl MapProjection {
    /// The pixel (column, row) of a point in metres.
    pub fn to_pixel(&self, p: Vec2) -> (i32, i32) {
        self.coord.translate(&(p.x, p.y))
    }

    /// The point in metres a pixel shows.
    pub fn to_metres(&self, px: (i32, i32)) -> Vec2 {
        let (x, y) = self.coord.reverse_translate(px).expect("linear axes reverse");
        Vec2::new(x, y)
    }

    /// The plot area's pixels: columns, rows (half-open).
    pub fn pixel_range(&self) -> (std::ops::Range<i32>, std::ops::Range<i32>) {
        let (x, y) = (self.coord.get_x_axis_pixel_range(), self.coord.get_y_axis_pixel_range());
        (
            x.start.min(x.end)..x.start.max(x.end),
            y.start.min(y.end)..y.start.max(y.end),
        )
    }

    /// Pixels per metre across and up (equal: the map is to scale).
    pub fn pixels_per_metre(&self) -> (f64, f64) {
        let (px, py) = self.pixel_range();
        let (xr, yr) = (self.coord.get_x_range(), self.coord.get_y_range());
        (
            f64::from(px.end - px.start) / (xr.end - xr.start),
            f64::from(py.end - py.start) / (yr.end - yr.start),
        )
    }
}

/// The region the map must show: the road and everything drawn on it, padded.
fn bounds(track: &Track, layers: &MapLayers) -> (Vec2, Vec2) {
    let pts = track
        .left_border()
        .iter()
        .chain(track.right_border())
        .copied()
        .chain(layers.trail.iter().map(|p| p.pos))
        .chain(layers.off_track.iter().copied());
    let (mut lo, mut hi) = (
        Vec2::new(f64::INFINITY, f64::INFINITY),
        Vec2::new(f64::NEG_INFINITY, f64::NEG_INFINITY),
    );
    for p in pts {
        lo = Vec2::new(lo.x.min(p.x), lo.y.min(p.y));
        hi = Vec2::new(hi.x.max(p.x), hi.y.max(p.y));
    }
    let pad = 0.03 * (hi.x - lo.x).max(hi.y - lo.y) + 0.1;
    (Vec2::new(lo.x - pad, lo.y - pad), Vec2::new(hi.x + pad, hi.y + pad))
}

/// A picture size `width` pixels wide whose height fits the track's shape (between 0.45 and 1.3 of
/// the width), for a map drawn on its own.
pub fn map_size(track: &Track, layers: &MapLayers, width: u32) -> (u32, u32) {
    let (lo, hi) = bounds(track, layers);
    let aspect = (hi.y - lo.y) / (hi.x - lo.x);
    // Room the title, axes and colour bar take (see draw_track_map's layout).
    let plot_w = f64::from(width) - 360.0;
    let h = plot_w * aspect + 150.0;
    let h = h.clamp(f64::from(width) * 0.45, f64::from(width) * 1.3);
    (width, h.round() as u32)
}

/// Draw the track map into `area` and return the projection it used.
pub fn draw_track_map(
    area: &Area<'_>,
    track: &Track,
    title: &str,
    layers: &MapLayers,
) -> Result<MapProjection, PlotError> {
    let sz = Sizes::for_area(area);
    let mut area = area
        .margin(sz.tick * 0.6, 0, 0, 0)
        .titled(title, (FONT, sz.title))
        .draw()?;
    let mut key = Vec::new();
    if !layers.trail.is_empty() {
        key.push("line: the car's path, coloured by speed");
    }
    if !layers.wheels_off.is_empty() {
        key.push("magenta halo: wheels off the track");
    }
    if !layers.off_track.is_empty() {
        key.push("×: off track");
    }
    key.push("black bar: start line");
    area = area
        .titled(
            &key.join("   ·   "),
            (FONT, sz.tick).into_font().color(&RGBColor(90, 90, 90)),
        )
        .draw()?;
    let speed_range = layers.speed_range();
    let (w, _) = area.dim_in_pixel();
    let (map_area, bar_area) = if speed_range.is_some() {
        let (m, b) = area.split_horizontally(w - colour_bar_width(sz));
        (m, Some(b))
    } else {
        (area.clone(), None)
    };
    let (lo, hi) = bounds(track, layers);
    let build = |x: std::ops::Range<f64>, y: std::ops::Range<f64>| {
        ChartBuilder::on(&map_area)
            .margin(sz.tick)
            .margin_top(sz.tick * 0.5)
            .x_label_area_size(sz.label * 2.6)
            .y_label_area_size(sz.label * 3.4)
            .build_cartesian_2d(x, y)
            .draw()
    };
    // The plot area's size does not depend on the ranges: fit the ranges to it at one scale.
    let (pw, ph) = build(lo.x..hi.x, lo.y..hi.y)?.plotting_area().dim_in_pixel();
    let scale = (f64::from(pw) / (hi.x - lo.x)).min(f64::from(ph) / (hi.y - lo.y));
    let (cx, cy) = ((lo.x + hi.x) / 2.0, (lo.y + hi.y) / 2.0);
    let (half_w, half_h) = (f64::from(pw) / scale / 2.0, f64::from(ph) / scale / 2.0);
    let mut chart = build(cx - half_w..cx + half_w, cy - half_h..cy + half_h)?;
    chart.plotting_area().fill(&GRASS).draw()?;
    let step_m = nice_step(2.0 * half_w.max(half_h), 12);
    let fmt = |v: &f64| tick_label(*v, step_m);
    chart
        .configure_mesh()
        .x_desc("x (m)")
        .y_desc("y (m)")
        .x_labels((2.0 * half_w / step_m) as usize + 2)
        .y_labels((2.0 * half_h / step_m) as usize + 2)
        .x_label_formatter(&fmt)
        .y_label_formatter(&fmt)
        .axis_desc_style((FONT, sz.label))
        .label_style((FONT, sz.tick))
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .draw()
        .draw()?;

    // The road: one quad per segment between the borders.
    let (left, right) = (track.left_border(), track.right_border());
    let xy = |p: Vec2| (p.x, p.y);
    chart
        .draw_series((0..track.num_segments()).map(|i| {
            Polygon::new(
                vec![xy(left[i]), xy(left[i + 1]), xy(right[i + 1]), xy(right[i])],
                ROAD.filled(),
            )
        }))
        .draw()?;
    for border in [left, right] {
        chart
            .draw_series(LineSeries::new(border.iter().map(|p| xy(*p)), BORDER.stroke_width(2)))
            .draw()?;
    }
    let centre: Vec<(f64, f64)> = track.waypoints().iter().map(|w| xy(w.center)).collect();
    let dash = (0.25 * scale).clamp(4.0, 14.0) as u32;
    chart
        .draw_series(DashedLineSeries::new(centre, dash, dash, CENTRE.stroke_width(1)))
        .draw()?;
    // The start line, black across the road.
    chart
        .draw_series([PathElement::new(vec![xy(left[0]), xy(right[0])], BLACK.stroke_width(4))])
        .draw()?;

    let halo = (TRAIL_WIDTH + 4) as i32;
    chart
        .draw_series(
            layers
                .wheels_off
                .iter()
                .map(|p| Circle::new(xy(*p), halo, OFF_TRACK.filled())),
        )
        .draw()?;
    // The driven line, each piece in the colour of the speed at its end.
    if let Some(range) = speed_range {
        let t = &layers.trail;
        chart
            .draw_series((1..t.len()).filter(|&i| t[i].speed.is_finite()).map(|i| {
                PathElement::new(
                    vec![xy(t[i - 1].pos), xy(t[i].pos)],
                    speed_colour(t[i].speed, range).stroke_width(TRAIL_WIDTH),
                )
            }))
            .draw()?;
    }
    let r = (sz.tick * 0.4).max(4.0) as i32;
    chart
        .draw_series(layers.off_track.iter().map(|p| {
            EmptyElement::at(xy(*p))
                + PathElement::new(vec![(-r, -r), (r, r)], WHITE.stroke_width(7))
                + PathElement::new(vec![(-r, r), (r, -r)], WHITE.stroke_width(7))
                + PathElement::new(vec![(-r, -r), (r, r)], OFF_TRACK_CROSS.stroke_width(3))
                + PathElement::new(vec![(-r, r), (r, -r)], OFF_TRACK_CROSS.stroke_width(3))
        }))
        .draw()?;
    let projection = MapProjection {
        coord: chart.as_coord_spec().clone(),
    };
    if let (Some(bar), Some(range)) = (bar_area, speed_range) {
        draw_colour_bar(&bar, range, &layers.speed_label, sz)?;
    }
    Ok(projection)
}

/// The colour bar's width: its margins, labels and a 36-pixel bar.
fn colour_bar_width(sz: Sizes) -> u32 {
    (sz.tick * 2.5 + sz.tick * 2.6 + sz.label * 1.8 + 36.0).round() as u32
}

fn draw_colour_bar(area: &Area<'_>, (lo, hi): (f64, f64), label: &str, sz: Sizes) -> Result<(), PlotError> {
    let (_, h) = area.dim_in_pixel();
    let mut chart = ChartBuilder::on(area)
        .margin(sz.tick)
        .margin_top(f64::from(h) * 0.12)
        .margin_bottom(f64::from(h) * 0.12)
        .margin_right(sz.tick * 1.5)
        .y_label_area_size(sz.tick * 2.6 + sz.label * 1.8)
        .build_cartesian_2d(0.0..1.0, lo..hi)
        .draw()?;
    let step = nice_step(hi - lo, 8);
    let fmt = |v: &f64| tick_label(*v, step);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .disable_y_mesh()
        .disable_x_axis()
        .y_desc(label)
        .y_labels(8)
        .y_label_formatter(&fmt)
        .axis_desc_style((FONT, sz.label))
        .label_style((FONT, sz.tick))
        .draw()
        .draw()?;
    let n = 120;
    chart
        .draw_series((0..n).map(|i| {
            let (a, b) = (
                lo + (hi - lo) * i as f64 / n as f64,
                lo + (hi - lo) * (i + 1) as f64 / n as f64,
            );
            Rectangle::new([(0.0, a), (1.0, b)], speed_colour((a + b) / 2.0, (lo, hi)).filled())
        }))
        .draw()?;
    let style = (FONT, sz.tick)
        .into_font()
        .color(&RGBColor(70, 70, 70))
        .pos(Pos::new(HPos::Center, VPos::Bottom));
    let (px, py) = chart.backend_coord(&(0.5, hi));
    area.draw(&Text::new(
        "fast",
        (px - area.get_base_pixel().0, py - area.get_base_pixel().1 - 4),
        style.clone(),
    ))
    .draw()?;
    let style = style.pos(Pos::new(HPos::Center, VPos::Top));
    let (px, py) = chart.backend_coord(&(0.5, lo));
    area.draw(&Text::new(
        "slow",
        (px - area.get_base_pixel().0, py - area.get_base_pixel().1 + 4),
        style,
    ))
    .draw()?;
    Ok(())
}

/// A 1, 2 or 5 × 10^k step giving about `n` ticks over `span`.
fn nice_step(span: f64, n: usize) -> f64 {
    let raw = span.abs() / n.max(1) as f64;
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
    use crate::track::ValidateOptions;

    fn pixel(rgb: &[u8], w: u32, (x, y): (i32, i32)) -> [u8; 3] {
        let i = (y as usize * w as usize + x as usize) * 3;
        [rgb[i], rgb[i + 1], rgb[i + 2]]
    }

    #[test]
    fn the_speed_scale_runs_from_blue_to_red_and_never_uses_the_marker_colours() {
        assert_eq!(speed_colour(0.0, (0.0, 4.0)), RGBColor(48, 18, 220));
        assert_eq!(speed_colour(4.0, (0.0, 4.0)), RGBColor(215, 20, 20));
        assert_eq!(speed_colour(9.0, (0.0, 4.0)), speed_colour(4.0, (0.0, 4.0)));
        for c in [
            OFF_TRACK,
            OFF_TRACK_CROSS,
            ROAD,
            GRASS,
            GRID,
            BORDER,
            CENTRE,
            BLACK,
            WHITE,
        ] {
            assert!(!is_speed_colour([c.0, c.1, c.2]), "{c:?}");
        }
        assert!(is_speed_colour([40, 200, 80]));
    }

    #[test]
    fn the_road_is_drawn_where_the_track_projects_and_the_map_is_to_scale() {
        let track = Track::resolve("hairpins", &ValidateOptions::default()).unwrap();
        let (w, h) = (900, 700);
        let (rgb, proj) = render((w, h), |a| draw_track_map(a, &track, "hairpins", &MapLayers::default())).unwrap();
        let (sx, sy) = proj.pixels_per_metre();
        assert!((sx / sy - 1.0).abs() < 0.01, "pixels per metre {sx} across, {sy} up");
        // Metres → pixels → metres.
        let p = track.waypoints()[10].center;
        let back = proj.to_metres(proj.to_pixel(p));
        assert!(back.distance(p) < 2.0 / sx, "{p:?} came back as {back:?}");
        // A point halfway between the centre line and a border is road; 0.3 m beyond the outer
        // border (away from the road) is grass (or a grid line).
        let (mut road, mut grass, mut far) = (0, 0, 0);
        let n = track.num_waypoints();
        for i in (0..n).step_by(5) {
            let wp = track.waypoints()[i];
            let on = Vec2::new((wp.center.x + wp.outer.x) / 2.0, (wp.center.y + wp.outer.y) / 2.0);
            road += usize::from(pixel(&rgb, w, proj.to_pixel(on)) == [ROAD.0, ROAD.1, ROAD.2]);
            let away = wp.outer + (wp.outer - wp.center).normalize_or_zero() * 0.3;
            if track.project_global(away).distance > track.width_at(i) / 2.0 + 0.25 {
                far += 1;
                let c = pixel(&rgb, w, proj.to_pixel(away));
                grass += usize::from(c == [GRASS.0, GRASS.1, GRASS.2] || c == [GRID.0, GRID.1, GRID.2]);
            }
        }
        assert!(
            road as f64 >= 0.9 * n.div_ceil(5) as f64,
            "{road} of {} road samples",
            n.div_ceil(5)
        );
        assert!(far > 10 && grass == far, "{grass} of {far} grass samples");
    }

    #[test]
    fn the_driven_line_lies_on_the_road_and_off_track_points_are_marked() {
        let track = Track::resolve("oval", &ValidateOptions::default()).unwrap();
        // The centre line at a speed rising along the lap, and one point 1.5 m off the road.
        let n = track.num_waypoints();
        let trail: Vec<TrailPoint> = track
            .waypoints()
            .iter()
            .enumerate()
            .map(|(i, wp)| TrailPoint {
                pos: wp.center,
                speed: if i == 0 {
                    f64::NAN
                } else {
                    1.0 + 3.0 * i as f64 / n as f64
                },
            })
            .collect();
        let wp = track.waypoints()[n / 3];
        let off = wp.outer + (wp.outer - wp.center).normalize_or_zero() * 1.5;
        let layers = MapLayers {
            trail: trail.clone(),
            speed_label: "speed (m/s)".into(),
            off_track: vec![off],
            ..Default::default()
        };
        let (w, h) = (1000, 700);
        let (rgb, proj) = render((w, h), |a| draw_track_map(a, &track, "oval", &layers)).unwrap();
        // Every trail point's pixel is drawn in a speed colour.
        for p in &trail[1..] {
            let c = pixel(&rgb, w, proj.to_pixel(p.pos));
            assert!(is_speed_colour(c), "{:?} at {:?} is {c:?}", p.pos, proj.to_pixel(p.pos));
        }
        // Colours follow the speed: the last piece is red (fast), an early one blue (slow).
        let last = pixel(&rgb, w, proj.to_pixel(trail[n - 2].pos));
        assert!(last[0] > 180 && last[2] < 80, "{last:?}");
        // Every speed-coloured pixel of the map lies on the road (within the line's width).
        let (xs, ys) = proj.pixel_range();
        let (ppm, _) = proj.pixels_per_metre();
        let mut coloured = 0;
        for y in ys.clone() {
            for x in xs.clone() {
                if is_speed_colour(pixel(&rgb, w, (x, y))) {
                    coloured += 1;
                    let m = proj.to_metres((x, y));
                    let pr = track.project_global(m);
                    let half = track.width_at(pr.seg) / 2.0;
                    assert!(
                        pr.distance <= half + 2.0 / ppm,
                        "trail pixel ({x}, {y}) = {m:?} is {} m off centre",
                        pr.distance
                    );
                }
            }
        }
        assert!(coloured > 500, "{coloured} trail pixels");
        // The off-track marker is drawn around the off-track point (and not on the road).
        let (ox, oy) = proj.to_pixel(off);
        let marker = (-12..=12)
            .flat_map(|dy| (-12..=12).map(move |dx| (ox + dx, oy + dy)))
            .filter(|&q| pixel(&rgb, w, q) == [OFF_TRACK_CROSS.0, OFF_TRACK_CROSS.1, OFF_TRACK_CROSS.2])
            .count();
        assert!(marker >= 15, "{marker} marker pixels");
        let total = rgb
            .chunks(3)
            .filter(|c| *c == [OFF_TRACK_CROSS.0, OFF_TRACK_CROSS.1, OFF_TRACK_CROSS.2])
            .count();
        assert!(total <= marker + 10, "marker colour elsewhere: {total} pixels");
    }
}
