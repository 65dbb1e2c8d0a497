//! The track pre-rasterised once into a mip-mapped luma texture: road, border lines, the dashed
//! centre line and the off-road surface, each texel's value the exact area-weighted mix of what lies
//! under it (analytic coverage across the lines and along the dashes), then halved level by level with
//! a 2 × 2 box filter.

use crate::math::Vec2;
use crate::track::Track;

use super::tones::{TONE_CENTER, TONE_LINE, TONE_OFFROAD, TONE_ROAD};

/// Width of the white border lines, centred on each border, metres.
pub const BORDER_LINE_WIDTH: f64 = 0.05;
/// Width of the dashed centre line, metres.
pub const CENTER_LINE_WIDTH: f64 = 0.025;
/// Dash and period of the centre line along the track, metres.
pub const DASH: f64 = 0.15;
pub const DASH_PERIOD: f64 = 0.3;
/// Finest texel, metres.
pub const TEXEL: f64 = 0.01;
/// Largest level-0 side, texels (a larger track gets coarser texels).
pub const MAX_TEXELS: usize = 2048;
/// Off-road margin round the track's bounding box, metres.
const MARGIN: f64 = 1.0;

/// One mip level.
#[derive(Clone, Debug)]
pub struct Level {
    pub w: usize,
    pub h: usize,
    pub data: Vec<u8>,
}

/// A track's texture pyramid.
#[derive(Clone, Debug)]
pub struct TrackTexture {
    /// World position of level 0's corner (texel (0, 0) spans origin .. origin + texel).
    pub origin: Vec2,
    /// Level-0 texel size, metres.
    pub texel: f64,
    pub levels: Vec<Level>,
}

/// Length of `[lo, hi] ∩ [c − w/2, c + w/2]` over `w`: a box filter's coverage.
#[inline]
fn cover(c: f64, w: f64, lo: f64, hi: f64) -> f64 {
    let a = (c - 0.5 * w).max(lo);
    let b = (c + 0.5 * w).min(hi);
    if b > a { (b - a) / w } else { 0.0 }
}

/// The scene's ground tone (0–255, unrounded) at signed lateral offset `lat` (+ left) and arc length
/// `s`, where the road's half-widths are `hl`, `hr`, averaged over a box of width `w` metres (a tiny `w`
/// gives a point sample). The one definition of the ground both the texture and the reference use.
pub fn ground_tone(lat: f64, s: f64, hl: f64, hr: f64, w: f64) -> f64 {
    let edge = if lat >= 0.0 { hl } else { hr };
    let a = lat.abs();
    let road = cover(a, w, -1.0, edge);
    let mut v = f64::from(TONE_OFFROAD) + (f64::from(TONE_ROAD) - f64::from(TONE_OFFROAD)) * road;
    let line = cover(a, w, edge - 0.5 * BORDER_LINE_WIDTH, edge + 0.5 * BORDER_LINE_WIDTH);
    v += (f64::from(TONE_LINE) - v) * line;
    let across = cover(lat, w, -0.5 * CENTER_LINE_WIDTH, 0.5 * CENTER_LINE_WIDTH);
    if across > 0.0 {
        let phase = s.rem_euclid(DASH_PERIOD);
        let along = cover(phase, w, 0.0, DASH)
            + cover(phase, w, DASH_PERIOD, DASH_PERIOD + DASH)
            + cover(phase, w, -DASH_PERIOD, DASH - DASH_PERIOD);
        v += (f64::from(TONE_CENTER) - v) * across * along.min(1.0);
    }
    v
}

impl TrackTexture {
    /// Rasterise `track` (each texel takes its nearest centre-line segment, found by scanning every
    /// segment's neighbourhood once).
    pub fn new(track: &Track) -> Self {
        let wps = track.waypoints();
        let (mut lo, mut hi) = (Vec2::new(f64::MAX, f64::MAX), Vec2::new(f64::MIN, f64::MIN));
        for w in wps {
            for p in [w.center, w.inner, w.outer] {
                lo = Vec2::new(lo.x.min(p.x), lo.y.min(p.y));
                hi = Vec2::new(hi.x.max(p.x), hi.y.max(p.y));
            }
        }
        let origin = lo - Vec2::new(MARGIN, MARGIN);
        let ext = (hi - lo) + Vec2::new(2.0 * MARGIN, 2.0 * MARGIN);
        let texel = TEXEL.max(ext.x.max(ext.y) / MAX_TEXELS as f64);
        let w = ((ext.x / texel).ceil() as usize).max(1);
        let h = ((ext.y / texel).ceil() as usize).max(1);
        let mut best = vec![f32::INFINITY; w * h];
        let mut data = vec![TONE_OFFROAD; w * h];
        let center: Vec<Vec2> = wps.iter().map(|w| w.center).collect();
        let mut s0 = 0.0;
        for seg in 0..track.num_segments() {
            let (a, b) = (center[seg], center[seg + 1]);
            let d = b - a;
            let len = track.seg_len(seg);
            let inv = if len > 0.0 { 1.0 / (len * len) } else { 0.0 };
            let dir = track.seg_dir(seg);
            let (hl0, hr0) = track.half_widths(seg, 0.0);
            let (hl1, hr1) = track.half_widths(seg, 1.0);
            let reach = hl0.max(hr0).max(hl1).max(hr1) + BORDER_LINE_WIDTH + 3.0 * texel;
            let x0 = (((a.x.min(b.x) - reach - origin.x) / texel).floor().max(0.0)) as usize;
            let x1 = (((a.x.max(b.x) + reach - origin.x) / texel).ceil().max(0.0) as usize).min(w);
            let y0 = (((a.y.min(b.y) - reach - origin.y) / texel).floor().max(0.0)) as usize;
            let y1 = (((a.y.max(b.y) + reach - origin.y) / texel).ceil().max(0.0) as usize).min(h);
            for ty in y0..y1 {
                for tx in x0..x1 {
                    let p = origin + Vec2::new((tx as f64 + 0.5) * texel, (ty as f64 + 0.5) * texel);
                    let t = ((p - a).dot(d) * inv).clamp(0.0, 1.0);
                    let q = a + d * t;
                    let dist = p.distance(q);
                    let k = ty * w + tx;
                    if dist as f32 >= best[k] || dist > reach {
                        continue;
                    }
                    best[k] = dist as f32;
                    let side = dir.cross(p - q);
                    let lat = if side >= 0.0 { dist } else { -dist };
                    let (hl, hr) = track.half_widths(seg, t);
                    let v = ground_tone(lat, s0 + t * len, hl, hr, texel);
                    data[k] = (v + 0.5).clamp(0.0, 255.0) as u8;
                }
            }
            s0 += len;
        }
        let mut levels = vec![Level { w, h, data }];
        while {
            let l = &levels[levels.len() - 1];
            l.w > 1 || l.h > 1
        } {
            let l = &levels[levels.len() - 1];
            let (nw, nh) = (l.w.div_ceil(2), l.h.div_ceil(2));
            let mut nd = vec![0u8; nw * nh];
            for y in 0..nh {
                for x in 0..nw {
                    let (xa, xb) = (2 * x, (2 * x + 1).min(l.w - 1));
                    let (ya, yb) = (2 * y, (2 * y + 1).min(l.h - 1));
                    let s = u32::from(l.data[ya * l.w + xa])
                        + u32::from(l.data[ya * l.w + xb])
                        + u32::from(l.data[yb * l.w + xa])
                        + u32::from(l.data[yb * l.w + xb]);
                    nd[y * nw + x] = ((s + 2) >> 2) as u8;
                }
            }
            levels.push(Level { w: nw, h: nh, data: nd });
        }
        Self { origin, texel, levels }
    }

    /// The mean tone (the 1 × 1 level).
    pub fn mean(&self) -> u8 {
        self.levels[self.levels.len() - 1].data[0]
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.levels.iter().map(|l| l.data.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::{ValidateOptions, builtin};

    #[test]
    fn texture_shows_road_lines_and_off_road() {
        let t = builtin::load("drag_strip", &ValidateOptions::default()).unwrap();
        let tex = TrackTexture::new(&t);
        let l0 = &tex.levels[0];
        let at = |p: Vec2| {
            let x = ((p.x - tex.origin.x) / tex.texel) as usize;
            let y = ((p.y - tex.origin.y) / tex.texel) as usize;
            l0.data[y * l0.w + x]
        };
        // drag_strip runs along +x, 0.8 m wide, centred on y = 0 (see the lidar test).
        assert_eq!(at(Vec2::new(2.0, 0.2)), TONE_ROAD);
        assert_eq!(at(Vec2::new(2.0, 0.7)), TONE_OFFROAD);
        assert_eq!(at(Vec2::new(2.0, 0.4)), TONE_LINE);
        assert_eq!(at(Vec2::new(2.0, -0.4)), TONE_LINE);
        let on_line = (0..60).filter(|k| at(Vec2::new(1.0 + 0.01 * f64::from(*k), 0.004)) == TONE_CENTER);
        assert!((25..=35).contains(&on_line.count()), "half the centre line is dashes");
        assert_eq!(tex.levels.last().unwrap().w, 1);
        assert!(tex.mean() > TONE_ROAD && tex.mean() < TONE_LINE);
    }
}
