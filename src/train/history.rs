//! Per-epoch metrics and their CSV form (`history.csv`).

use serde::{Deserialize, Serialize};

/// Metrics of one split in one epoch. Classification metrics use threshold 0.5 on σ(logit)
/// (the autoencoder's unsupervised mode: the epoch's threshold on the error); `None` where
/// undefined (one class only).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SplitMetrics {
    pub loss: f64,
    pub accuracy: Option<f64>,
    pub auc: Option<f64>,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based.
    pub epoch: usize,
    pub train: SplitMetrics,
    pub validation: SplitMetrics,
    pub learning_rate: f64,
    pub seconds: f64,
    pub samples_per_second: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub epochs: Vec<EpochRecord>,
}

fn cell(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| format!("{v:.6}"))
}

impl History {
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "epoch,loss,accuracy,auc,precision,recall,val_loss,val_accuracy,val_auc,val_precision,val_recall,learning_rate,seconds,samples_per_second\n",
        );
        for e in &self.epochs {
            let (t, v) = (&e.train, &e.validation);
            out.push_str(&format!(
                "{},{:.6},{},{},{},{},{:.6},{},{},{},{},{:e},{:.3},{:.1}\n",
                e.epoch,
                t.loss,
                cell(t.accuracy),
                cell(t.auc),
                cell(t.precision),
                cell(t.recall),
                v.loss,
                cell(v.accuracy),
                cell(v.auc),
                cell(v.precision),
                cell(v.recall),
                e.learning_rate,
                e.seconds,
                e.samples_per_second
            ));
        }
        out
    }
}
