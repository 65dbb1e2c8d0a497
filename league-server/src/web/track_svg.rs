//! A track drawn to scale as SVG for the race pages: the road between the borders, the centre
//! line, the start line and an arrow in the driving direction. One SVG unit is one metre (y points
//! up on the track, down in SVG, hence the flip); the geometry is the simulator's.

use maud::{Markup, html};
use slipstream_sim::Track;
use slipstream_sim::math::Vec2;

/// Margin around the track, metres.
const MARGIN: f64 = 0.4;

/// `x,y` of a point in SVG coordinates (y flipped), to the centimetre.
fn pt(p: Vec2) -> String {
    format!("{:.2},{:.2}", p.x, -p.y)
}

/// A polyline's path data (`M x,y L x,y …`), closed with `Z` when `close`.
fn path(points: impl IntoIterator<Item = Vec2>, close: bool) -> String {
    let mut d = String::new();
    for (i, p) in points.into_iter().enumerate() {
        d.push_str(if i == 0 { "M" } else { " L" });
        d.push_str(&pt(p));
    }
    if close && !d.is_empty() {
        d.push_str(" Z");
    }
    d
}

/// The road: a loop's two borders as two rings filled even-odd (the infield stays empty), or an
/// open track's outline (the left border out, the right border back).
fn road(track: &Track) -> String {
    let (left, right) = (track.left_border(), track.right_border());
    if track.is_closed() {
        format!(
            "{} {}",
            path(left.iter().copied(), true),
            path(right.iter().copied(), true)
        )
    } else {
        path(left.iter().chain(right.iter().rev()).copied(), true)
    }
}

/// The track as an `<svg>` element (scales to its container; `role="img"` with a label naming
/// it `name`).
pub fn draw(track: &Track, name: &str) -> Markup {
    let (left, right) = (track.left_border(), track.right_border());
    let (mut lo, mut hi) = (
        Vec2::new(f64::INFINITY, f64::INFINITY),
        Vec2::new(f64::NEG_INFINITY, f64::NEG_INFINITY),
    );
    for p in left.iter().chain(right) {
        lo = Vec2::new(lo.x.min(p.x), lo.y.min(p.y));
        hi = Vec2::new(hi.x.max(p.x), hi.y.max(p.y));
    }
    // In SVG coordinates (y flipped): x from lo.x, y from -hi.y.
    let view_box = format!(
        "{:.2} {:.2} {:.2} {:.2}",
        lo.x - MARGIN,
        -hi.y - MARGIN,
        hi.x - lo.x + 2.0 * MARGIN,
        hi.y - lo.y + 2.0 * MARGIN
    );
    let centre: Vec<Vec2> = track.waypoints().iter().map(|w| w.center).collect();
    // The direction arrow: a triangle 1 m ahead of the start, pointing along the first segment.
    let dir = track.seg_dir(0);
    let normal = Vec2::new(-dir.y, dir.x);
    let tip = centre[0] + dir * 1.0;
    let arrow = path(
        [tip, tip - dir * 0.35 + normal * 0.18, tip - dir * 0.35 - normal * 0.18],
        true,
    );
    let label = format!(
        "Map of the track {}: {:.1} m long{}",
        name,
        track.length(),
        if track.is_closed() { ", a loop" } else { "" }
    );
    html! {
        svg.track-map xmlns="http://www.w3.org/2000/svg" viewBox=(view_box) role="img" aria-label=(label) {
            path.road d=(road(track)) fill-rule="evenodd" {}
            path.centre d=(path(centre.iter().copied(), track.is_closed())) {}
            path.start d=(path([left[0], right[0]], false)) {}
            path.arrow d=(arrow) {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slipstream_sim::track::{ValidateOptions, builtin};

    #[test]
    fn the_map_spans_the_track_with_one_unit_per_metre() {
        let t = builtin::find("oval")
            .unwrap()
            .build(&ValidateOptions::default())
            .unwrap();
        let svg = draw(&t, "oval").into_string();
        let vb: Vec<f64> = svg
            .split("viewBox=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .split(' ')
            .map(|v| v.parse().unwrap())
            .collect();
        let xs = t.left_border().iter().chain(t.right_border()).map(|p| p.x);
        let width = xs.clone().fold(f64::NEG_INFINITY, f64::max) - xs.fold(f64::INFINITY, f64::min);
        assert!((vb[2] - (width + 2.0 * MARGIN)).abs() < 0.02, "{vb:?} vs {width}");
        // A loop's road is two rings: two `M`s, both closed; every border point is in the path.
        let road = road(&t);
        assert_eq!(road.matches('M').count(), 2);
        assert_eq!(road.matches('Z').count(), 2);
        assert_eq!(
            road.matches(['M', 'L']).count(),
            t.left_border().len() + t.right_border().len()
        );
        assert!(road.contains(&pt(t.left_border()[3])), "y is flipped into SVG's frame");
        assert!(svg.contains("aria-label=\"Map of the track oval"), "{svg}");
    }

    #[test]
    fn an_open_track_is_one_outline() {
        let rows: Vec<[f64; 6]> = (0..20)
            .map(|i| {
                let x = i as f64 * 0.5;
                [x, 0.0, x, 0.5, x, -0.5]
            })
            .collect();
        let t = Track::from_rows("line", &rows, &ValidateOptions::default()).unwrap();
        assert!(!t.is_closed());
        let road = road(&t);
        assert_eq!(road.matches('M').count(), 1);
        assert!(road.starts_with(&format!("M{}", pt(t.left_border()[0]))));
        assert_eq!(road.matches(['M', 'L']).count(), 40);
    }
}
