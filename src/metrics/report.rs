//! Per-class report, scikit-learn's `classification_report` for the two classes.
//!
//! Each class in turn is treated as "positive": for class 0 (normal) precision is
//! `TN / (TN + FN)` and recall `TN / (TN + FP)`. The macro average is the plain mean of
//! the two classes, the weighted average weights each by its support (true count).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{ratio, ConfusionMatrix};

/// Precision, recall, F1 and support of one class (or an average of both).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Samples whose true class this is (for the averages: all samples).
    pub support: u64,
}

impl ClassMetrics {
    /// Metrics of one class from its true positives, false positives and false negatives.
    fn of(tp: u64, fp: u64, fn_: u64) -> Self {
        ClassMetrics {
            precision: ratio(tp, tp + fp),
            recall: ratio(tp, tp + fn_),
            f1: ratio(2 * tp, 2 * tp + fp + fn_),
            support: tp + fn_,
        }
    }
}

/// `classification_report` for normal (0) and anomaly (1). `Display` prints the familiar
/// table with 4 digits.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    pub normal: ClassMetrics,
    pub anomaly: ClassMetrics,
    pub accuracy: f64,
    pub macro_avg: ClassMetrics,
    pub weighted_avg: ClassMetrics,
}

impl ClassificationReport {
    pub fn from_confusion(cm: &ConfusionMatrix) -> Self {
        let normal = ClassMetrics::of(cm.true_negatives, cm.false_negatives, cm.false_positives);
        let anomaly = ClassMetrics::of(cm.true_positives, cm.false_positives, cm.false_negatives);
        let total = cm.total();
        let weighted = |a: f64, b: f64| {
            if total == 0 {
                0.0
            } else {
                (a * normal.support as f64 + b * anomaly.support as f64) / total as f64
            }
        };
        ClassificationReport {
            normal,
            anomaly,
            accuracy: cm.accuracy(),
            macro_avg: ClassMetrics {
                precision: (normal.precision + anomaly.precision) / 2.0,
                recall: (normal.recall + anomaly.recall) / 2.0,
                f1: (normal.f1 + anomaly.f1) / 2.0,
                support: total,
            },
            weighted_avg: ClassMetrics {
                precision: weighted(normal.precision, anomaly.precision),
                recall: weighted(normal.recall, anomaly.recall),
                f1: weighted(normal.f1, anomaly.f1),
                support: total,
            },
        }
    }
}

impl fmt::Display for ClassificationReport {
    /// scikit-learn's layout (`digits=4`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const W: usize = 12; // width of "weighted avg"
        writeln!(f, "{:>W$} {:>9} {:>9} {:>9} {:>9}", "", "precision", "recall", "f1-score", "support")?;
        writeln!(f)?;
        let row = |f: &mut fmt::Formatter<'_>, name: &str, m: &ClassMetrics| {
            writeln!(f, "{name:>W$} {:>9.4} {:>9.4} {:>9.4} {:>9}", m.precision, m.recall, m.f1, m.support)
        };
        row(f, "normal", &self.normal)?;
        row(f, "anomaly", &self.anomaly)?;
        writeln!(f)?;
        writeln!(f, "{:>W$} {:>9} {:>9} {:>9.4} {:>9}", "accuracy", "", "", self.accuracy, self.macro_avg.support)?;
        row(f, "macro avg", &self.macro_avg)?;
        row(f, "weighted avg", &self.weighted_avg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scikit_learn() {
        // sklearn: classification_report([0]*6 + [1]*4, [0,0,0,0,1,1, 1,1,1,0], output_dict=True)
        //   '0': precision 0.8, recall 0.6666666666666666, f1 0.7272727272727273, support 6
        //   '1': precision 0.6, recall 0.75, f1 0.6666666666666666, support 4
        //   accuracy 0.7; macro avg f1 0.696969696969697; weighted avg f1 0.7030303030303031
        let cm = ConfusionMatrix { true_negatives: 4, false_positives: 2, false_negatives: 1, true_positives: 3 };
        let r = ClassificationReport::from_confusion(&cm);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-15;
        assert!(close(r.normal.precision, 0.8) && close(r.normal.recall, 2.0 / 3.0));
        assert!(close(r.normal.f1, 0.7272727272727273) && r.normal.support == 6);
        assert!(close(r.anomaly.precision, 0.6) && close(r.anomaly.recall, 0.75) && r.anomaly.support == 4);
        assert!(close(r.accuracy, 0.7));
        assert!(close(r.macro_avg.f1, 0.696969696969697));
        assert!(close(r.weighted_avg.f1, 0.7030303030303031));
        let text = r.to_string();
        assert!(text.contains("      normal    0.8000    0.6667    0.7273         6"), "{text}");
        assert!(text.contains("    accuracy                        0.7000        10"), "{text}");
    }

    #[test]
    fn empty_confusion_is_all_zero() {
        let r = ClassificationReport::from_confusion(&ConfusionMatrix::default());
        assert_eq!(r.weighted_avg.f1, 0.0);
        assert_eq!(r.macro_avg.support, 0);
    }
}
