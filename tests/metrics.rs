//! Metrics against scikit-learn's numbers (`fixtures/metrics.json`) and, under proptest,
//! against naive O(n²) definitions.

use kubelstm::metrics::{
    auc, average_precision, confusion_matrix, f1_at_thresholds, f1_optimal_threshold, percentile,
    precision_recall_curve, roc_auc, roc_curve, Evaluation, Threshold, ThresholdRule,
};
use proptest::prelude::*;
use serde_json::Value;

const TOL: f64 = 1e-12;

struct Fixture(Value);

impl Fixture {
    fn load() -> Self {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/metrics.json");
        Fixture(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
    }
    fn get(&self, path: &str) -> &Value {
        path.split('.').fold(&self.0, |v, key| &v[key])
    }
    /// A number, or a list of numbers where `null` stands for +inf (the ROC's first threshold).
    fn num(&self, path: &str) -> f64 {
        self.get(path).as_f64().unwrap_or_else(|| panic!("{path} is not a number"))
    }
    fn vec(&self, path: &str) -> Vec<f64> {
        let v = self.get(path);
        let list = v.get("data").unwrap_or(v);
        list.as_array()
            .unwrap_or_else(|| panic!("{path} is not a list"))
            .iter()
            .map(|x| x.as_f64().unwrap_or(f64::INFINITY))
            .collect()
    }
    fn labels(&self) -> Vec<u8> {
        self.vec("y").iter().map(|&y| y as u8).collect()
    }
}

fn assert_close(what: &str, got: f64, want: f64) {
    let ok = got == want || (got - want).abs() <= TOL;
    assert!(ok, "{what}: got {got:.17}, want {want:.17}");
}

fn assert_all_close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert_close(&format!("{what}[{i}]"), g, w);
    }
}

#[test]
fn roc_curve_matches_scikit_learn() {
    let fx = Fixture::load();
    let curve = roc_curve(&fx.labels(), &fx.vec("score")).unwrap();
    assert_all_close("fpr", &curve.fpr, &fx.vec("roc.fpr"));
    assert_all_close("tpr", &curve.tpr, &fx.vec("roc.tpr"));
    assert_all_close("thresholds", &curve.thresholds, &fx.vec("roc.thresholds"));
    assert_eq!(curve.thresholds[0], f64::INFINITY);
    assert_close("roc_auc", roc_auc(&fx.labels(), &fx.vec("score")).unwrap().unwrap(), fx.num("roc_auc"));
    assert_close("auc(fpr, tpr)", auc(&curve.fpr, &curve.tpr).unwrap(), fx.num("roc_auc"));
}

#[test]
fn precision_recall_matches_scikit_learn() {
    let fx = Fixture::load();
    let (labels, scores) = (fx.labels(), fx.vec("score"));
    let curve = precision_recall_curve(&labels, &scores).unwrap();
    assert_all_close("precision", &curve.precision, &fx.vec("pr.precision"));
    assert_all_close("recall", &curve.recall, &fx.vec("pr.recall"));
    assert_all_close("thresholds", &curve.thresholds, &fx.vec("pr.thresholds"));
    assert_eq!((curve.precision.last(), curve.recall.last()), (Some(&1.0), Some(&0.0)));
    let want_ap = fx.num("average_precision");
    assert_close("average_precision", average_precision(&labels, &scores).unwrap().unwrap(), want_ap);
    assert_close("curve AP", curve.average_precision().unwrap(), want_ap);
    let want_pr_auc = fx.num("pr_auc_trapezoid");
    assert_close("auc(recall, precision)", auc(&curve.recall, &curve.precision).unwrap(), want_pr_auc);
    assert_close("curve trapezoid", curve.auc_trapezoid().unwrap(), want_pr_auc);
}

#[test]
fn f1_and_best_threshold_match_scikit_learn() {
    let fx = Fixture::load();
    let (labels, scores) = (fx.labels(), fx.vec("score"));
    assert_all_close("f1_at_thresholds", &f1_at_thresholds(&labels, &scores).unwrap(), &fx.vec("f1_at_thresholds"));
    let best = f1_optimal_threshold(&labels, &scores).unwrap().unwrap();
    assert_close("best_threshold", best.threshold, fx.num("best_threshold"));
    assert_close("best f1", best.f1, fx.num("at_best.f1"));

    // The fixture defines prediction as score >= threshold; at 0.59 a sample scores exactly
    // 0.59, so `>` would give a different matrix.
    assert!(scores.contains(&best.threshold));
    let cm = confusion_matrix(&labels, &scores, best.threshold).unwrap();
    let want: Vec<Vec<u64>> = serde_json::from_value(fx.get("at_best.confusion_matrix").clone()).unwrap();
    assert_eq!(cm.as_array().map(Vec::from).to_vec(), want);
    assert_close("accuracy", cm.accuracy(), fx.num("at_best.accuracy"));
    assert_close("precision", cm.precision(), fx.num("at_best.precision"));
    assert_close("recall", cm.recall(), fx.num("at_best.recall"));
    assert_close("f1", cm.f1(), fx.num("at_best.f1"));
}

#[test]
fn percentile_matches_numpy() {
    let fx = Fixture::load();
    assert_close("percentile_95", percentile(&fx.vec("score"), 95.0).unwrap(), fx.num("percentile_95"));
}

#[test]
fn evaluation_bundles_the_fixture_numbers() {
    let fx = Fixture::load();
    let (labels, scores) = (fx.labels(), fx.vec("score"));
    let chosen = Threshold::f1_optimal(&labels, &scores).unwrap();
    let alternative = Threshold::percentile(&scores, 95.0).unwrap();
    let e = Evaluation::new(&labels, &scores, chosen, &[alternative]).unwrap();
    assert_eq!((e.samples, e.positives, e.negatives), (60, 21, 39));
    assert_close("roc_auc", e.roc_auc.unwrap(), fx.num("roc_auc"));
    assert_close("average_precision", e.average_precision.unwrap(), fx.num("average_precision"));
    assert_close("pr_auc", e.pr_auc.unwrap(), fx.num("pr_auc_trapezoid"));
    assert_eq!(e.chosen.threshold.rule, ThresholdRule::F1Optimal);
    assert_close("threshold", e.chosen.threshold.value, fx.num("best_threshold"));
    assert_close("accuracy", e.chosen.accuracy, fx.num("at_best.accuracy"));
    assert_close("f1", e.chosen.f1, fx.num("at_best.f1"));
    assert_close("report anomaly f1", e.chosen.report.anomaly.f1, fx.num("at_best.f1"));
    assert_eq!(e.chosen.report.anomaly.support + e.chosen.report.normal.support, 60);
    assert_close("percentile threshold", e.alternatives[0].threshold.value, fx.num("percentile_95"));
    assert_all_close("roc fpr", &e.roc.fpr, &fx.vec("roc.fpr"));
    assert_all_close("pr precision", &e.precision_recall.precision, &fx.vec("pr.precision"));

    let json: Value = serde_json::to_value(&e).unwrap();
    assert_eq!(json["roc"]["thresholds"][0], Value::Null, "+inf is written as null, as in the fixture");
    assert_eq!(json["chosen"]["threshold"]["rule"], "f1_optimal");
    assert_eq!(json["chosen"]["confusion_matrix"]["false_positives"], 8);
}

#[test]
fn f32_scores_give_the_same_ranking_metrics() {
    // The models emit f32: widening is exact, and these scores stay distinct in f32, so
    // the rank-based metrics are unchanged.
    let fx = Fixture::load();
    let labels = fx.labels();
    let scores: Vec<f32> = fx.vec("score").iter().map(|&s| s as f32).collect();
    assert_close("roc_auc", roc_auc(&labels, &scores).unwrap().unwrap(), fx.num("roc_auc"));
    assert_close("AP", average_precision(&labels, &scores).unwrap().unwrap(), fx.num("average_precision"));
    let best = f1_optimal_threshold(&labels, &scores).unwrap().unwrap();
    assert_eq!(best.threshold, 0.59f32 as f64);
}

#[test]
fn degenerate_inputs_do_not_panic() {
    let none: [f32; 0] = [];
    assert_eq!(roc_auc(&[], &none).unwrap(), None);
    assert_eq!(average_precision(&[], &none).unwrap(), None);
    assert_eq!(f1_optimal_threshold(&[], &none).unwrap(), None);
    assert!(percentile(&none, 95.0).is_err());
    assert_eq!(roc_auc(&[1, 1, 1], &[0.5f32, 0.5, 0.5]).unwrap(), None);
    // All-equal scores: one threshold, the chance diagonal.
    let curve = roc_curve(&[1, 0, 1, 0], &[0.5f32; 4]).unwrap();
    assert_eq!((curve.fpr.clone(), curve.tpr.clone()), (vec![0.0, 1.0], vec![0.0, 1.0]));
    assert_eq!(curve.auc(), Some(0.5));
    let nan = roc_curve(&[1, 0], &[0.5, f64::NAN]).unwrap_err().to_string();
    assert!(nan.contains("scores[1] is NaN"), "{nan}");
    assert!(Evaluation::new(&[1, 0], &[0.5f32, 0.2], Threshold { value: f64::NAN, rule: ThresholdRule::Fixed }, &[])
        .is_err());
}

#[test]
fn a_million_scores_in_n_log_n() {
    // Scores on a grid of 1000 values (ties everywhere); the exact AUC from per-value
    // histograms in O(n): Σ_v pos(v) · (neg below v + neg(v) / 2) / (P N).
    let n = 1_000_000usize;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut labels, mut scores) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let label = (next() % 10 == 0) as u8;
        let bucket = (next() % 700) as u32 + 300 * label as u32;
        labels.push(label);
        scores.push(bucket as f32 / 1000.0);
    }
    let start = std::time::Instant::now();
    let curve = roc_curve(&labels, &scores).unwrap();
    let pr = precision_recall_curve(&labels, &scores).unwrap();
    let elapsed = start.elapsed();

    let (mut pos, mut neg) = (vec![0u64; 1000], vec![0u64; 1000]);
    for (&y, &s) in labels.iter().zip(&scores) {
        let v = (s * 1000.0).round() as usize;
        if y == 1 {
            pos[v] += 1
        } else {
            neg[v] += 1
        }
    }
    let (p, q) = (pos.iter().sum::<u64>() as f64, neg.iter().sum::<u64>() as f64);
    let mut below = 0u64;
    let mut wins = 0.0;
    for v in 0..1000 {
        wins += pos[v] as f64 * (below as f64 + neg[v] as f64 / 2.0);
        below += neg[v];
    }
    assert!((curve.auc().unwrap() - wins / (p * q)).abs() < 1e-9);
    assert_eq!(pr.thresholds.len(), pos.iter().zip(&neg).filter(|(a, b)| **a + **b > 0).count());
    assert!(elapsed.as_secs_f64() < 5.0, "two curves on 10^6 scores took {elapsed:?}");
}

// ---- naive definitions ---------------------------------------------------------------

/// P(score of a random positive > score of a random negative) + P(tie) / 2, O(P·N).
fn naive_auc(labels: &[u8], scores: &[f64]) -> f64 {
    let mut wins = 0.0;
    let mut pairs = 0.0;
    for (&yi, &si) in labels.iter().zip(scores) {
        for (&yj, &sj) in labels.iter().zip(scores) {
            if yi == 1 && yj == 0 {
                pairs += 1.0;
                wins += if si > sj {
                    1.0
                } else if si == sj {
                    0.5
                } else {
                    0.0
                };
            }
        }
    }
    wins / pairs
}

/// (tp, fp) of `score >= t`, one scan.
fn naive_counts(labels: &[u8], scores: &[f64], t: f64) -> (u64, u64) {
    let flagged = |want: u8| labels.iter().zip(scores).filter(|&(&y, &s)| y == want && s >= t).count() as u64;
    (flagged(1), flagged(0))
}

fn distinct_ascending(scores: &[f64]) -> Vec<f64> {
    let mut v = scores.to_vec();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

/// Labels and scores on a coarse grid, so ties are common; both classes present.
fn labelled_scores() -> impl Strategy<Value = (Vec<u8>, Vec<f64>)> {
    (2usize..60).prop_flat_map(|n| (prop::collection::vec(0u8..2, n), prop::collection::vec(0u32..12, n))).prop_map(
        |(mut labels, grid)| {
            labels[0] = 1;
            labels[1] = 0;
            (labels, grid.into_iter().map(|g| g as f64 / 8.0).collect())
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn roc_auc_is_the_probability_a_positive_outranks_a_negative((labels, scores) in labelled_scores()) {
        let got = roc_auc(&labels, &scores).unwrap().unwrap();
        prop_assert!((got - naive_auc(&labels, &scores)).abs() < TOL);
    }

    #[test]
    fn roc_points_are_exact_counts_and_dropping_loses_nothing((labels, scores) in labelled_scores()) {
        let curve = roc_curve(&labels, &scores).unwrap();
        let p = labels.iter().filter(|&&y| y == 1).count() as f64;
        let n = labels.len() as f64 - p;
        prop_assert_eq!((curve.fpr[0], curve.tpr[0]), (0.0, 0.0));
        prop_assert_eq!((*curve.fpr.last().unwrap(), *curve.tpr.last().unwrap()), (1.0, 1.0));
        for k in 1..curve.len() {
            let (tp, fp) = naive_counts(&labels, &scores, curve.thresholds[k]);
            prop_assert_eq!(curve.tpr[k], tp as f64 / p);
            prop_assert_eq!(curve.fpr[k], fp as f64 / n);
            prop_assert!(curve.thresholds[k] < curve.thresholds[k - 1]);
        }
        // Dropping loses nothing: every distinct threshold's point lies on the kept segment
        // around it (exact integer cross product of the counts).
        let kept: Vec<(f64, (u64, u64))> = curve.thresholds[1..].iter()
            .map(|&t| (t, naive_counts(&labels, &scores, t))).collect();
        for t in distinct_ascending(&scores) {
            let (tp, fp) = naive_counts(&labels, &scores, t);
            let a = kept.iter().rev().find(|(s, _)| *s >= t).unwrap().1;
            let b = kept.iter().find(|(s, _)| *s <= t).unwrap().1;
            let cross = (fp as i64 - a.1 as i64) * (b.0 as i64 - a.0 as i64)
                - (tp as i64 - a.0 as i64) * (b.1 as i64 - a.1 as i64);
            prop_assert_eq!(cross, 0, "threshold {} is off the kept curve", t);
        }
    }

    #[test]
    fn precision_recall_points_are_exact_counts((labels, scores) in labelled_scores()) {
        let curve = precision_recall_curve(&labels, &scores).unwrap();
        let p = labels.iter().filter(|&&y| y == 1).count() as u64;
        prop_assert_eq!(&curve.thresholds, &distinct_ascending(&scores));
        prop_assert_eq!(curve.precision.len(), curve.thresholds.len() + 1);
        for (k, &t) in curve.thresholds.iter().enumerate() {
            let (tp, fp) = naive_counts(&labels, &scores, t);
            prop_assert_eq!(curve.precision[k], tp as f64 / (tp + fp) as f64);
            prop_assert_eq!(curve.recall[k], tp as f64 / p as f64);
        }
    }

    #[test]
    fn average_precision_is_the_mean_precision_at_each_anomaly((labels, scores) in labelled_scores()) {
        // AP = (1/P) Σ_{anomalies i} precision(score >= score_i): each anomaly's own rank.
        let p = labels.iter().filter(|&&y| y == 1).count() as f64;
        let naive: f64 = labels.iter().zip(&scores).filter(|(&y, _)| y == 1).map(|(_, &s)| {
            let (tp, fp) = naive_counts(&labels, &scores, s);
            tp as f64 / (tp + fp) as f64
        }).sum::<f64>() / p;
        prop_assert!((average_precision(&labels, &scores).unwrap().unwrap() - naive).abs() < TOL);
    }

    #[test]
    fn f1_optimum_is_the_best_of_every_threshold((labels, scores) in labelled_scores()) {
        let f1 = f1_at_thresholds(&labels, &scores).unwrap();
        let thresholds = distinct_ascending(&scores);
        let mut best = (f64::NAN, -1.0);
        for (k, &t) in thresholds.iter().enumerate() {
            let naive = confusion_matrix(&labels, &scores, t).unwrap().f1();
            prop_assert!((f1[k] - naive).abs() < TOL);
            if naive > best.1 {
                best = (t, naive);
            }
        }
        let got = f1_optimal_threshold(&labels, &scores).unwrap().unwrap();
        prop_assert_eq!(got.threshold, best.0);
        prop_assert!((got.f1 - best.1).abs() < TOL);
    }

    #[test]
    fn evaluation_agrees_with_direct_confusion_matrices(
        (labels, scores) in labelled_scores(),
        t in -0.1f64..1.6,
    ) {
        let e = Evaluation::new(&labels, &scores, Threshold::fixed(t).unwrap(), &[]).unwrap();
        prop_assert_eq!(e.chosen.confusion_matrix, confusion_matrix(&labels, &scores, t).unwrap());
    }

    #[test]
    fn percentile_matches_a_full_sort(values in prop::collection::vec(-1e3f64..1e3, 1..50), p in 0.0f64..=100.0) {
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let h = (sorted.len() - 1) as f64 * (p / 100.0);
        let j = (h.floor() as usize).min(sorted.len() - 1);
        let upper = sorted[(j + 1).min(sorted.len() - 1)];
        let want = sorted[j] + (upper - sorted[j]) * (h - j as f64);
        let got = percentile(&values, p).unwrap();
        prop_assert!((got - want).abs() <= 1e-9 * (1.0 + want.abs()), "{} vs {}", got, want);
    }
}
