//! The scene's geometry, computed from the track without any renderer: the road surface from the
//! track's borders, border and centre lines as ribbons, boxes for cars and objects, the track's
//! bounds and the top-down view that fits them. Everything is in the simulator's ground frame
//! (metres, x east, y north); [`to_scene`] maps a ground point to the 3-D scene (y up).

use slipstream_sim::math::Vec2;
use slipstream_sim::track::Track;

/// Heights above the ground plane, metres: layers drawn over each other without depth fighting.
pub const ROAD_HEIGHT: f32 = 0.002;
pub const LINE_HEIGHT: f32 = 0.004;
/// Width of the white border lines and of the centre line, metres.
pub const BORDER_LINE_WIDTH: f64 = 0.05;
pub const CENTER_LINE_WIDTH: f64 = 0.03;
/// Margin round the track's bounds in the top-down view, metres.
pub const TOP_DOWN_MARGIN: f64 = 0.5;

/// A ground point (x, y) at height `h` in the scene: x stays x, the ground's y becomes −z, up is +y
/// (a right-handed frame in which a camera above, its top towards −z, sees north up).
pub fn to_scene(p: Vec2, h: f32) -> [f32; 3] {
    [p.x as f32, h, -(p.y as f32)]
}

/// A heading in the ground frame (radians, counter-clockwise from +x) as a rotation about the
/// scene's up axis: the same angle (a rotation by `h` about +y takes +x to (cos h, 0, −sin h), the
/// scene point of the ground direction (cos h, sin h)).
pub fn yaw_to_scene(heading: f64) -> f32 {
    heading as f32
}

/// Triangles (three scene positions each, listed flat) with one colour per vertex.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Triangles {
    pub positions: Vec<[f32; 3]>,
    pub colors: Vec<[f32; 4]>,
}

impl Triangles {
    fn push_tri(&mut self, a: [f32; 3], b: [f32; 3], c: [f32; 3], color: [f32; 4]) {
        self.positions.extend([a, b, c]);
        self.colors.extend([color; 3]);
    }

    /// A quad a-b-c-d (counter-clockwise seen from its front) as two triangles.
    fn push_quad(&mut self, a: [f32; 3], b: [f32; 3], c: [f32; 3], d: [f32; 3], color: [f32; 4]) {
        self.push_tri(a, b, c, color);
        self.push_tri(a, c, d, color);
    }

    pub fn len(&self) -> usize {
        self.positions.len() / 3
    }

    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }
}

/// The axis-aligned bounds of the track's borders (min, max), metres.
pub fn bounds(track: &Track) -> (Vec2, Vec2) {
    let mut lo = Vec2::new(f64::INFINITY, f64::INFINITY);
    let mut hi = Vec2::new(f64::NEG_INFINITY, f64::NEG_INFINITY);
    for p in track.left_border().iter().chain(track.right_border()) {
        lo = Vec2::new(lo.x.min(p.x), lo.y.min(p.y));
        hi = Vec2::new(hi.x.max(p.x), hi.y.max(p.y));
    }
    (lo, hi)
}

/// The top-down view of the track in a `width` × `height` pixel window: an orthographic camera
/// straight above the centre of the track's bounds, north up, showing at least the bounds plus
/// [`TOP_DOWN_MARGIN`] on every side (the larger ratio wins, the other axis shows more).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TopDownView {
    /// The ground point at the window's centre.
    pub center: Vec2,
    /// The ground extent the view must show (bounds plus margins), metres.
    pub min_size: Vec2,
}

impl TopDownView {
    pub fn of(track: &Track) -> Self {
        let (lo, hi) = bounds(track);
        TopDownView {
            center: (lo + hi) * 0.5,
            min_size: Vec2::new(hi.x - lo.x + 2.0 * TOP_DOWN_MARGIN, hi.y - lo.y + 2.0 * TOP_DOWN_MARGIN),
        }
    }

    /// Pixels per metre in a `width` × `height` window.
    pub fn scale(&self, width: f64, height: f64) -> f64 {
        (width / self.min_size.x).min(height / self.min_size.y)
    }

    /// Where ground point `p` lands in a `width` × `height` window (pixels from the top-left corner).
    pub fn project(&self, p: Vec2, width: f64, height: f64) -> (f64, f64) {
        let k = self.scale(width, height);
        (
            0.5 * width + (p.x - self.center.x) * k,
            0.5 * height - (p.y - self.center.y) * k,
        )
    }
}

/// The road surface: one quad per segment between the left and right border points.
pub fn road(track: &Track, color: [f32; 4]) -> Triangles {
    let (l, r) = (track.left_border(), track.right_border());
    let mut t = Triangles::default();
    for i in 0..track.num_segments() {
        let j = i + 1;
        // Driving direction i → j: right border, then left, is counter-clockwise seen from above.
        t.push_quad(
            to_scene(r[i], ROAD_HEIGHT),
            to_scene(r[j], ROAD_HEIGHT),
            to_scene(l[j], ROAD_HEIGHT),
            to_scene(l[i], ROAD_HEIGHT),
            color,
        );
    }
    t
}

/// A ribbon `width` wide centred on the polyline `pts` (closed when its ends meet), at `h`. Its
/// sides are offset along the mitred normals, so consecutive quads join without gaps.
pub fn ribbon(pts: &[Vec2], width: f64, h: f32, color: [f32; 4]) -> Triangles {
    let mut t = Triangles::default();
    let n = pts.len();
    if n < 2 {
        return t;
    }
    let closed = (pts[0] - pts[n - 1]).length() < 1e-6;
    let seg_normal = |i: usize| -> Vec2 {
        let d = pts[i + 1] - pts[i];
        let len = d.length();
        if len < 1e-12 {
            Vec2::new(0.0, 0.0)
        } else {
            Vec2::new(-d.y / len, d.x / len)
        }
    };
    let half = 0.5 * width;
    let offset = |i: usize| -> Vec2 {
        // Normals of the segments before and after point i (the loop's wrap for a closed line).
        let before = if i > 0 {
            Some(seg_normal(i - 1))
        } else if closed {
            Some(seg_normal(n - 2))
        } else {
            None
        };
        let after = if i + 1 < n {
            Some(seg_normal(i))
        } else if closed {
            Some(seg_normal(0))
        } else {
            None
        };
        let m = match (before, after) {
            (Some(a), Some(b)) => a + b,
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => Vec2::new(0.0, 0.0),
        };
        let len = m.length();
        if len < 1e-9 {
            return Vec2::new(0.0, 0.0);
        }
        let m = m * (1.0 / len);
        // Mitre length 1/cos(half the turn), capped for sharp corners.
        let cos = match after.or(before) {
            Some(a) => (m.x * a.x + m.y * a.y).max(0.5),
            None => 1.0,
        };
        m * (half / cos)
    };
    for i in 0..n - 1 {
        let (o0, o1) = (offset(i), offset(i + 1));
        t.push_quad(
            to_scene(pts[i] - o0, h),
            to_scene(pts[i + 1] - o1, h),
            to_scene(pts[i + 1] + o1, h),
            to_scene(pts[i] + o0, h),
            color,
        );
    }
    t
}

/// The track's lines: both borders in `border` colour, the centre line in `center` colour.
pub fn lines(track: &Track, border: [f32; 4], center: [f32; 4]) -> Triangles {
    let mut t = ribbon(track.left_border(), BORDER_LINE_WIDTH, LINE_HEIGHT, border);
    let r = ribbon(track.right_border(), BORDER_LINE_WIDTH, LINE_HEIGHT, border);
    let centre: Vec<Vec2> = track.waypoints().iter().map(|w| w.center).collect();
    let c = ribbon(&centre, CENTER_LINE_WIDTH, LINE_HEIGHT, center);
    t.positions.extend(r.positions);
    t.colors.extend(r.colors);
    t.positions.extend(c.positions);
    t.colors.extend(c.colors);
    t
}

/// A flat square of ground `size` metres across centred on `center`, just under the road.
pub fn ground(center: Vec2, size: f64, color: [f32; 4]) -> Triangles {
    let h = 0.5 * size;
    let c = |dx: f64, dy: f64| to_scene(center + Vec2::new(dx, dy), 0.0);
    let mut t = Triangles::default();
    t.push_quad(c(-h, -h), c(h, -h), c(h, h), c(-h, h), color);
    t
}

fn shade(c: [f32; 4], f: f32) -> [f32; 4] {
    [c[0] * f, c[1] * f, c[2] * f, c[3]]
}

/// A box in its own frame: `length` along +x, `width` along z, from height `bottom` to `top`,
/// centred on the origin. There is no lighting: faces are shaded by their direction (the top
/// brightest, the front and back darker than the sides), so the shape reads from any camera.
pub fn cuboid(length: f32, width: f32, bottom: f32, top: f32, color: [f32; 4]) -> Triangles {
    let (x, z) = (0.5 * length, 0.5 * width);
    let p = |sx: f32, y: f32, sz: f32| [sx * x, y, sz * z];
    let (b, t) = (bottom, top);
    let mut m = Triangles::default();
    // top (+y), seen from above: counter-clockwise in x, −z
    m.push_quad(
        p(-1.0, t, 1.0),
        p(1.0, t, 1.0),
        p(1.0, t, -1.0),
        p(-1.0, t, -1.0),
        color,
    );
    // front (+x), back (−x)
    m.push_quad(
        p(1.0, b, 1.0),
        p(1.0, b, -1.0),
        p(1.0, t, -1.0),
        p(1.0, t, 1.0),
        shade(color, 0.62),
    );
    m.push_quad(
        p(-1.0, b, -1.0),
        p(-1.0, b, 1.0),
        p(-1.0, t, 1.0),
        p(-1.0, t, -1.0),
        shade(color, 0.55),
    );
    // sides (+z is the car's right: the ground's −y)
    m.push_quad(
        p(-1.0, b, 1.0),
        p(1.0, b, 1.0),
        p(1.0, t, 1.0),
        p(-1.0, t, 1.0),
        shade(color, 0.78),
    );
    m.push_quad(
        p(1.0, b, -1.0),
        p(-1.0, b, -1.0),
        p(-1.0, t, -1.0),
        p(1.0, t, -1.0),
        shade(color, 0.72),
    );
    m
}

/// Colours of the scene (linear RGBA is what the renderer takes; these are sRGB 0–255 triples,
/// converted by the caller), shared with the screenshot test's pixel checks.
pub mod colors {
    pub const GROUND: [u8; 3] = [58, 110, 52];
    pub const ROAD: [u8; 3] = [64, 64, 70];
    pub const BORDER: [u8; 3] = [245, 245, 245];
    pub const CENTER: [u8; 3] = [240, 190, 30];
    pub const CAR: [u8; 3] = [225, 30, 40];
    pub const CAR_ROOF: [u8; 3] = [30, 30, 34];
    pub const BOT: [u8; 3] = [40, 110, 230];
    pub const OBSTACLE: [u8; 3] = [215, 150, 80];
    pub const SKY: [u8; 3] = [150, 190, 230];
}

#[cfg(test)]
mod tests {
    use super::*;
    use slipstream_sim::track::ValidateOptions;

    fn oval() -> Track {
        Track::resolve("oval", &ValidateOptions::default()).expect("built-in track")
    }

    /// Twice the signed area of a triangle seen from above (positive: counter-clockwise).
    fn ccw_from_above(a: [f32; 3], b: [f32; 3], c: [f32; 3]) -> f32 {
        // Seen from above with −z up the screen: screen (x, −z).
        let (ax, ay, bx, by, cx, cy) = (a[0], -a[2], b[0], -b[2], c[0], -c[2]);
        (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
    }

    #[test]
    fn road_covers_the_track_and_faces_up() {
        let t = oval();
        let road = road(&t, [1.0; 4]);
        assert_eq!(road.len(), 2 * t.num_segments());
        assert!(road.positions.iter().all(|p| p[1] == ROAD_HEIGHT));
        let area: f64 = road
            .positions
            .chunks(3)
            .map(|tri| {
                let s = ccw_from_above(tri[0], tri[1], tri[2]);
                assert!(s > 0.0, "every road triangle is counter-clockwise from above");
                0.5 * f64::from(s)
            })
            .sum();
        let expected = t.length() * t.width_mean();
        assert!(
            (area - expected).abs() < 0.05 * expected,
            "road area {area} vs length × mean width {expected}"
        );
    }

    #[test]
    fn ribbon_has_the_requested_width() {
        let pts = [Vec2::new(0.0, 0.0), Vec2::new(1.0, 0.0), Vec2::new(1.0, 1.0)];
        let r = ribbon(&pts, 0.1, 0.0, [1.0; 4]);
        assert_eq!(r.len(), 4);
        // The first quad's start: ±0.05 across the first segment (scene z = −y).
        let zs: Vec<f32> = r.positions[..3].iter().map(|p| p[2]).collect();
        assert!(zs.iter().any(|z| (z - 0.05).abs() < 1e-6) && zs.iter().any(|z| (z + 0.05).abs() < 1e-6));
        // At the corner the mitre reaches (1.05, -0.05)/(0.95, 0.05): the outer and inner corner points.
        let corner_outer = r
            .positions
            .iter()
            .any(|p| (p[0] - 1.05).abs() < 1e-6 && (p[2] - 0.05).abs() < 1e-6);
        assert!(corner_outer, "{:?}", r.positions);
    }

    #[test]
    fn top_down_projection_fits_and_centres_the_track() {
        let t = oval();
        let v = TopDownView::of(&t);
        let (lo, hi) = bounds(&t);
        let (w, h) = (1280.0, 720.0);
        let (x0, y0) = v.project(lo, w, h);
        let (x1, y1) = v.project(hi, w, h);
        assert!(x0 > 0.0 && x1 < w && y1 > 0.0 && y0 < h, "bounds inside the window");
        // Centred: equal space left/right and top/bottom; north up (larger y higher on screen).
        assert!((x0 - (w - x1)).abs() < 1e-6 && (y1 - (h - y0)).abs() < 1e-6);
        assert!(y1 < y0);
        // The tighter axis leaves exactly the margin.
        let k = v.scale(w, h);
        let tight = (x0 - TOP_DOWN_MARGIN * k).abs() < 1e-6 || (y1 - TOP_DOWN_MARGIN * k).abs() < 1e-6;
        assert!(tight);
    }

    #[test]
    fn cuboid_faces_point_outwards() {
        let b = cuboid(2.0, 1.0, 0.0, 1.0, [1.0; 4]);
        assert_eq!(b.len(), 10);
        // Every triangle's normal points away from the box's centre.
        let c = [0.0f32, 0.5, 0.0];
        for tri in b.positions.chunks(3) {
            let (a, p, q) = (tri[0], tri[1], tri[2]);
            let u = [p[0] - a[0], p[1] - a[1], p[2] - a[2]];
            let v = [q[0] - a[0], q[1] - a[1], q[2] - a[2]];
            let n = [
                u[1] * v[2] - u[2] * v[1],
                u[2] * v[0] - u[0] * v[2],
                u[0] * v[1] - u[1] * v[0],
            ];
            let out = [a[0] - c[0], a[1] - c[1], a[2] - c[2]];
            assert!(n[0] * out[0] + n[1] * out[1] + n[2] * out[2] > 0.0, "{tri:?}");
        }
    }

    #[test]
    fn heading_maps_to_the_scene_direction() {
        // A ground heading h points at (cos h, sin h); rotating the scene's +x by h about +y gives
        // (cos h, 0, −sin h) = to_scene((cos h, sin h)).
        let h = 0.7f64;
        let r = yaw_to_scene(h);
        let rotated = [r.cos(), 0.0, -r.sin()];
        let expected = to_scene(Vec2::new(h.cos(), h.sin()), 0.0);
        for k in 0..3 {
            assert!((rotated[k] - expected[k]).abs() < 1e-6);
        }
    }
}
