//! Running mean and variance of observations (Chan et al.'s parallel update), used to normalise
//! the policy's inputs. Saved with the model and frozen at evaluation.

/// Per-feature running statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct RunningMeanStd {
    pub mean: Vec<f64>,
    pub var: Vec<f64>,
    pub count: f64,
}

/// Normalised values are clipped to ±this many standard deviations.
pub const CLIP: f32 = 10.0;
const EPS: f64 = 1e-8;

impl RunningMeanStd {
    pub fn new(dim: usize) -> Self {
        Self {
            mean: vec![0.0; dim],
            var: vec![1.0; dim],
            count: 1e-4,
        }
    }

    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Fold in a batch of rows (`data.len()` a multiple of the dimension).
    pub fn update(&mut self, data: &[f32]) {
        let d = self.dim();
        let n = (data.len() / d) as f64;
        if n == 0.0 {
            return;
        }
        for j in 0..d {
            let mut m = 0.0;
            for row in data.chunks_exact(d) {
                m += f64::from(row[j]);
            }
            m /= n;
            let mut v = 0.0;
            for row in data.chunks_exact(d) {
                let x = f64::from(row[j]) - m;
                v += x * x;
            }
            v /= n;
            let delta = m - self.mean[j];
            let total = self.count + n;
            let new_mean = self.mean[j] + delta * n / total;
            let m2 = self.var[j] * self.count + v * n + delta * delta * self.count * n / total;
            self.mean[j] = new_mean;
            self.var[j] = m2 / total;
        }
        self.count += n;
    }

    /// Normalise rows in place: `(x − mean) / √(var + ε)`, clipped to ±[`CLIP`].
    pub fn normalize(&self, data: &mut [f32]) {
        let d = self.dim();
        let inv: Vec<f64> = self.var.iter().map(|v| 1.0 / (v + EPS).sqrt()).collect();
        for row in data.chunks_exact_mut(d) {
            for j in 0..d {
                row[j] = (((f64::from(row[j]) - self.mean[j]) * inv[j]) as f32).clamp(-CLIP, CLIP);
            }
        }
    }

    /// Normalise with precomputed inverse standard deviations (the hot path; no allocation).
    pub fn normalize_with(&self, inv_std: &[f64], data: &mut [f32]) {
        let d = self.dim();
        for row in data.chunks_exact_mut(d) {
            for j in 0..d {
                row[j] = (((f64::from(row[j]) - self.mean[j]) * inv_std[j]) as f32).clamp(-CLIP, CLIP);
            }
        }
    }

    /// `1 / √(var + ε)` per feature.
    pub fn inv_std(&self) -> Vec<f64> {
        self.var.iter().map(|v| 1.0 / (v + EPS).sqrt()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_batch_statistics() {
        let mut r = RunningMeanStd::new(2);
        let data: Vec<f32> = (0..1000).flat_map(|i| [i as f32, 5.0 - (i % 7) as f32]).collect();
        for chunk in data.chunks(200) {
            r.update(chunk);
        }
        let xs: Vec<f64> = (0..1000).map(|i| i as f64).collect();
        let mean = xs.iter().sum::<f64>() / 1000.0;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 1000.0;
        assert!((r.mean[0] - mean).abs() < 1e-3, "{} vs {mean}", r.mean[0]);
        assert!((r.var[0] - var).abs() / var < 1e-3);
        let mut row = vec![mean as f32, 2.0];
        r.normalize(&mut row);
        assert!(row[0].abs() < 1e-3);
    }
}
