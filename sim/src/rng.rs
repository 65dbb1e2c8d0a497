//! A small, fully specified random number generator (xoshiro256++ seeded by SplitMix64).
//!
//! The simulator owns its generator instead of depending on a crate whose algorithms may change between
//! versions: the same seed must give the same track, obstacle layout and start positions forever.

/// SplitMix64 step: used to expand a 64-bit seed and to derive independent streams.
#[inline]
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// SplitMix64's finaliser as a stateless 64-bit hash.
#[inline]
pub fn hash64(x: u64) -> u64 {
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Mix several values into one seed (for per-car, per-episode streams). Every part goes through a
/// full avalanche hash, so sequences such as `[seed, attempt]` never collide for nearby values.
pub fn mix_seed(parts: &[u64]) -> u64 {
    let mut s = 0x5171_95a7_0b5e_d0c1_u64;
    for &p in parts {
        s = hash64(
            s.wrapping_add(hash64(p.wrapping_add(0x9E37_79B9_7F4A_7C15)))
                .wrapping_mul(0x2545_F491_4F6C_DD1D),
        );
    }
    s
}

/// xoshiro256++ generator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        let mut sm = seed;
        let s = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Self { s }
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = (s[0].wrapping_add(s[3])).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1) with 53 bits of precision.
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    #[inline]
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next_f64()
    }

    /// Uniform integer in [0, n) (n > 0), without modulo bias worth caring about for small n.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Standard normal sample (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.next_f64().max(f64::MIN_POSITIVE);
        let u2 = self.next_f64();
        (-2.0 * libm::log(u1)).sqrt() * crate::math::cos(std::f64::consts::TAU * u2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_known_values() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        // Pinned: a change of algorithm would silently change every seeded track and layout.
        let mut c = Rng::new(0);
        assert_eq!(c.next_u64(), 0x53175d61490b23df);
    }

    #[test]
    fn mixed_seeds_do_not_collide() {
        let mut seen = std::collections::HashSet::new();
        for a in 0..200u64 {
            for b in 0..200u64 {
                assert!(seen.insert(mix_seed(&[a, b])), "collision at [{a}, {b}]");
            }
        }
        assert_ne!(mix_seed(&[1, 2]), mix_seed(&[2, 1]));
    }

    #[test]
    fn uniform_and_normal_moments() {
        let mut r = Rng::new(7);
        let n = 100_000;
        let (mut s, mut s2, mut u) = (0.0, 0.0, 0.0);
        for _ in 0..n {
            let x = r.normal();
            s += x;
            s2 += x * x;
            let v = r.next_f64();
            assert!((0.0..1.0).contains(&v));
            u += v;
        }
        assert!((s / n as f64).abs() < 0.02);
        assert!((s2 / n as f64 - 1.0).abs() < 0.02);
        assert!((u / n as f64 - 0.5).abs() < 0.01);
        for _ in 0..1000 {
            assert!(r.below(3) < 3);
        }
    }
}
