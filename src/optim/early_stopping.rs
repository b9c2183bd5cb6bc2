//! Keras `EarlyStopping(monitor='val_loss', patience=10, restore_best_weights=True)`: stop
//! when the loss has not improved for `patience` epochs; the caller keeps the best weights.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EarlyStopping {
    pub patience: usize,
    pub min_delta: f64,
    best: f64,
    best_epoch: Option<usize>,
    wait: usize,
}

/// What to do after an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// This epoch is the best so far: keep its weights.
    Improved,
    Continue,
    Stop,
}

impl EarlyStopping {
    pub fn new(patience: usize) -> Self {
        EarlyStopping { patience, min_delta: 0.0, best: f64::INFINITY, best_epoch: None, wait: 0 }
    }

    pub fn step(&mut self, epoch: usize, loss: f64) -> Verdict {
        if loss < self.best - self.min_delta {
            self.best = loss;
            self.best_epoch = Some(epoch);
            self.wait = 0;
            return Verdict::Improved;
        }
        self.wait += 1;
        if self.wait >= self.patience {
            Verdict::Stop
        } else {
            Verdict::Continue
        }
    }

    pub fn best_epoch(&self) -> Option<usize> {
        self.best_epoch
    }
    pub fn best_loss(&self) -> f64 {
        self.best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_after_patience_epochs_and_remembers_the_best() {
        let mut es = EarlyStopping::new(2);
        assert_eq!(es.step(1, 1.0), Verdict::Improved);
        assert_eq!(es.step(2, 0.8), Verdict::Improved);
        assert_eq!(es.step(3, 0.9), Verdict::Continue);
        assert_eq!(es.step(4, 0.85), Verdict::Stop);
        assert_eq!(es.best_epoch(), Some(2));
        assert_eq!(es.best_loss(), 0.8);
    }

    #[test]
    fn nan_loss_never_counts_as_improvement() {
        let mut es = EarlyStopping::new(1);
        es.step(1, 1.0);
        assert_eq!(es.step(2, f64::NAN), Verdict::Stop);
        assert_eq!(es.best_epoch(), Some(1));
    }
}
