//! Seeded per-episode domain randomisation: brightness, contrast, gamma, the tones of the surfaces and
//! lines, sensor noise and a small jitter of the mount. Off by default (races must repeat bit for bit);
//! when on, every episode draws its own settings from its `(seed, car, episode)` stream.
//!
//! Tones, brightness, contrast and gamma fold into one 256-entry lookup table per episode, applied to
//! the rendered luma: the renderer's canonical tones ([`super::tones::TONES`]) are the table's
//! anchors, each moved by its own jitter, with straight lines between them (so a pixel half road and
//! half line maps to half the new road tone and half the new line tone).

use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::rng::Rng;

/// Ranges of the per-episode randomisation (all symmetric about "no change").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RandomizeConfig {
    /// Draw settings per episode (false: the image is exactly the canonical rendering).
    pub enabled: bool,
    /// Added to every pixel: ± this fraction of full scale.
    pub brightness: f64,
    /// Contrast factor about mid-grey in [1 − c, 1 + c].
    pub contrast: f64,
    /// Gamma exponent in [1 / (1 + g), 1 + g].
    pub gamma: f64,
    /// Each surface's and line's tone moves by ± this fraction of full scale.
    pub tone: f64,
    /// Per-pixel sensor noise: its amplitude is drawn in [0, noise] of full scale per episode.
    pub noise: f64,
    /// Mount jitter: pitch ± degrees, height ± metres.
    pub pitch_deg: f64,
    pub height: f64,
}

impl Default for RandomizeConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            brightness: 0.1,
            contrast: 0.2,
            gamma: 0.25,
            tone: 0.06,
            noise: 0.03,
            pitch_deg: 1.0,
            height: 0.005,
        }
    }
}

impl RandomizeConfig {
    pub fn validate(&self) -> Result<(), SimError> {
        for (field, v, max) in [
            ("camera.randomize.brightness", self.brightness, 0.5),
            ("camera.randomize.contrast", self.contrast, 0.9),
            ("camera.randomize.gamma", self.gamma, 2.0),
            ("camera.randomize.tone", self.tone, 0.5),
            ("camera.randomize.noise", self.noise, 0.5),
            ("camera.randomize.pitch_deg", self.pitch_deg, 10.0),
            ("camera.randomize.height", self.height, 0.05),
        ] {
            if !(v.is_finite() && (0.0..=max).contains(&v)) {
                return Err(SimError::config(field, format!("expected [0, {max}], got {v}")));
            }
        }
        Ok(())
    }

    /// Draw one episode's settings. `anchors` are the renderer's canonical tones (0–255).
    pub fn draw(&self, rng: &mut Rng, anchors: &[u8]) -> Randomization {
        let mut r = Randomization::IDENTITY;
        if !self.enabled {
            return r;
        }
        r.enabled = true;
        // Piecewise-linear tone map through the (jittered) anchors, 0 and 255 fixed.
        let mut pts: [(f64, f64); 18] = [(0.0, 0.0); 18];
        let mut n = 0;
        pts[n] = (0.0, 0.0);
        n += 1;
        let mut sorted = [0u8; 16];
        let k = anchors.len().min(16);
        sorted[..k].copy_from_slice(&anchors[..k]);
        sorted[..k].sort_unstable();
        for &a in &sorted[..k] {
            let jitter = rng.range(-self.tone, self.tone) * 255.0;
            if f64::from(a) > pts[n - 1].0 && a < 255 {
                pts[n] = (f64::from(a), (f64::from(a) + jitter).clamp(0.0, 255.0));
                n += 1;
            }
        }
        pts[n] = (255.0, 255.0);
        n += 1;
        let brightness = rng.range(-self.brightness, self.brightness);
        let contrast = rng.range(1.0 - self.contrast, 1.0 + self.contrast);
        let g = rng.range(-1.0, 1.0);
        let gamma = if g >= 0.0 {
            1.0 + g * self.gamma
        } else {
            1.0 / (1.0 - g * self.gamma)
        };
        let mut seg = 0;
        for (i, out) in r.lut.iter_mut().enumerate() {
            let x = i as f64;
            while seg + 2 < n && x > pts[seg + 1].0 {
                seg += 1;
            }
            let (x0, y0) = pts[seg];
            let (x1, y1) = pts[seg + 1];
            let t = if x1 > x0 { (x - x0) / (x1 - x0) } else { 0.0 };
            let toned = (y0 + (y1 - y0) * t) / 255.0;
            let v = libm::pow(toned.clamp(0.0, 1.0), gamma);
            let v = (v - 0.5) * contrast + 0.5 + brightness;
            *out = (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
        }
        r.noise = (rng.range(0.0, self.noise) * 255.0 * 256.0) as i32;
        r.noise_seed = rng.next_u64() as u32;
        r.pitch_rad = rng.range(-self.pitch_deg, self.pitch_deg).to_radians();
        r.height = rng.range(-self.height, self.height);
        r
    }
}

/// One episode's drawn randomisation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Randomization {
    pub enabled: bool,
    /// Tone, gamma, contrast and brightness as one table.
    pub lut: [u8; 256],
    /// Noise amplitude in 1/256 grey levels (0: none).
    pub noise: i32,
    pub noise_seed: u32,
    /// Mount jitter added to the configured pitch (radians, down) and height (metres).
    pub pitch_rad: f64,
    pub height: f64,
}

impl Randomization {
    /// No change at all.
    pub const IDENTITY: Self = {
        let mut lut = [0u8; 256];
        let mut i = 0;
        while i < 256 {
            lut[i] = i as u8;
            i += 1;
        }
        Self {
            enabled: false,
            lut,
            noise: 0,
            noise_seed: 0,
            pitch_rad: 0.0,
            height: 0.0,
        }
    };

    /// Apply the table and the noise to a rendered image (`frame` varies the noise per step).
    pub fn apply(&self, frame: u32, img: &mut [u8]) {
        if !self.enabled {
            return;
        }
        for p in img.iter_mut() {
            *p = self.lut[*p as usize];
        }
        if self.noise > 0 {
            let seed = self.noise_seed ^ frame.wrapping_mul(0x9E37_79B9);
            for (i, p) in img.iter_mut().enumerate() {
                let mut x = seed.wrapping_add((i as u32).wrapping_mul(0x85EB_CA6B));
                x ^= x >> 15;
                x = x.wrapping_mul(0x2C1B_3C6D);
                x ^= x >> 12;
                x = x.wrapping_mul(0x297A_2D39);
                x ^= x >> 15;
                // Triangular noise in (−1, 1) from two bytes, scaled by the amplitude.
                let tri = (x & 0xff) as i32 + ((x >> 8) & 0xff) as i32 - 255;
                let d = (tri * self.noise) >> 16;
                *p = (i32::from(*p) + d).clamp(0, 255) as u8;
            }
        }
    }
}

impl Default for Randomization {
    fn default() -> Self {
        Self::IDENTITY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_is_the_identity_and_on_is_seeded() {
        let anchors = [40u8, 120, 200];
        let off = RandomizeConfig::default().draw(&mut Rng::new(1), &anchors);
        assert_eq!(off, Randomization::IDENTITY);
        let mut img = [7u8, 40, 120, 250];
        off.apply(3, &mut img);
        assert_eq!(img, [7, 40, 120, 250]);
        let cfg = RandomizeConfig {
            enabled: true,
            ..Default::default()
        };
        let a = cfg.draw(&mut Rng::new(1), &anchors);
        assert_eq!(a, cfg.draw(&mut Rng::new(1), &anchors));
        assert_ne!(a, cfg.draw(&mut Rng::new(2), &anchors));
        assert_ne!(a.lut, Randomization::IDENTITY.lut);
        // The table keeps tones in order (no anchor jumps past its neighbour at these ranges).
        assert!(a.lut[40] < a.lut[120] && a.lut[120] < a.lut[200], "{:?}", &a.lut[..]);
    }

    #[test]
    fn ranges_are_validated() {
        let e = RandomizeConfig {
            gamma: -1.0,
            ..Default::default()
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(e.contains("camera.randomize.gamma"), "{e}");
    }
}
