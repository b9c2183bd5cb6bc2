//! Training: data-parallel mini-batch steps, the epoch loop with the original project's
//! callbacks (early stopping with best-weight restore, reduce-on-plateau), and history.
//!
//! The trainer sees data only through [`Windows`], so it does not care whether windows come
//! from a CSV, the synthetic cluster or a benchmark pool.

pub mod calibration;
pub mod engine;
pub mod evaluation;
pub mod history;
pub mod job;
pub mod progress;
pub mod report;
pub mod split_windows;
pub mod trainer;

pub use engine::Engine;
pub use history::{EpochRecord, History, SplitMetrics};
pub use trainer::{fit, Observer, Silent, TrainOutcome, TrainSettings};

/// A set of labelled windows the trainer can gather into batches.
pub trait Windows: Sync {
    /// Number of windows.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// T, steps per window.
    fn steps(&self) -> usize;
    /// F, features per step.
    fn features(&self) -> usize;
    /// Label of window `i` (0 normal, 1 anomaly; 0 when the windows have no labels).
    fn label(&self, i: usize) -> u8;
    /// False when the windows carry no labels: then only losses can be measured.
    fn has_labels(&self) -> bool {
        true
    }
    /// Writes windows `ids` into `x (T, B, F)` time-major, B = `ids.len()`.
    fn gather(&self, ids: &[usize], x: &mut [f32]);
}

/// Windows stored as one dense `(N, T, F)` array; for tests and the benchmark.
pub struct DenseWindows {
    pub x: Vec<f32>, // (N, T, F)
    pub labels: Vec<u8>,
    pub steps: usize,
    pub features: usize,
}

impl DenseWindows {
    /// The first `n` windows and the rest.
    pub fn split_at(&self, n: usize) -> (DenseWindows, DenseWindows) {
        let cut = n * self.steps * self.features;
        let part = |x: &[f32], labels: &[u8]| DenseWindows {
            x: x.to_vec(),
            labels: labels.to_vec(),
            steps: self.steps,
            features: self.features,
        };
        (part(&self.x[..cut], &self.labels[..n]), part(&self.x[cut..], &self.labels[n..]))
    }
}

impl Windows for DenseWindows {
    fn len(&self) -> usize {
        self.labels.len()
    }
    fn steps(&self) -> usize {
        self.steps
    }
    fn features(&self) -> usize {
        self.features
    }
    fn label(&self, i: usize) -> u8 {
        self.labels[i]
    }
    fn gather(&self, ids: &[usize], x: &mut [f32]) {
        let (t_len, f) = (self.steps, self.features);
        let b_len = ids.len();
        assert_eq!(x.len(), t_len * b_len * f, "gather: x is not (T, B, F)");
        for (b, &id) in ids.iter().enumerate() {
            for t in 0..t_len {
                let src = &self.x[(id * t_len + t) * f..(id * t_len + t + 1) * f];
                x[(t * b_len + b) * f..(t * b_len + b + 1) * f].copy_from_slice(src);
            }
        }
    }
}
