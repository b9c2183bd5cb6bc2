//! Keras `ReduceLROnPlateau(monitor='val_loss', factor=0.5, patience=5, min_lr=1e-4)`:
//! when the monitored loss has not improved by more than `min_delta` for `patience` epochs,
//! multiply the learning rate by `factor`, not below `min_lr`, then wait `patience` again.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReduceOnPlateau {
    pub factor: f64,
    pub patience: usize,
    pub min_lr: f64,
    pub min_delta: f64,
    best: f64,
    wait: usize,
}

impl ReduceOnPlateau {
    pub fn new(factor: f64, patience: usize, min_lr: f64) -> Self {
        ReduceOnPlateau { factor, patience, min_lr, min_delta: 1e-4, best: f64::INFINITY, wait: 0 }
    }

    /// Records an epoch's loss; returns the learning rate to use next.
    pub fn step(&mut self, loss: f64, lr: f64) -> f64 {
        if loss < self.best - self.min_delta {
            self.best = loss;
            self.wait = 0;
            return lr;
        }
        self.wait += 1;
        if self.wait >= self.patience && lr > self.min_lr {
            self.wait = 0;
            return (lr * self.factor).max(self.min_lr);
        }
        lr
    }
}

impl Default for ReduceOnPlateau {
    fn default() -> Self {
        ReduceOnPlateau::new(0.5, 5, 1e-4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_after_patience_epochs_without_improvement_and_respects_the_floor() {
        let mut s = ReduceOnPlateau::new(0.5, 2, 2e-4);
        let mut lr = 1e-3;
        lr = s.step(1.0, lr);
        assert_eq!(lr, 1e-3);
        lr = s.step(1.0, lr);
        assert_eq!(lr, 1e-3);
        lr = s.step(1.0, lr);
        assert_eq!(lr, 5e-4);
        lr = s.step(0.5, lr); // improvement resets the wait
        assert_eq!(lr, 5e-4);
        for _ in 0..6 {
            lr = s.step(0.9, lr);
        }
        assert_eq!(lr, 2e-4);
    }
}
