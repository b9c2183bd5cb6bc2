//! Charts: each PNG decodes, has its size, is not blank (several colours, the series colour
//! present), has text in the title band; degenerate data still draws. Set
//! `KUBELSTM_PLOT_DIR=/some/dir` to keep the PNGs for a look.

use std::collections::HashSet;
use std::time::Instant;

use image::RgbImage;
use kubelstm::metrics::{confusion_matrix, precision_recall_curve, roc_curve, ConfusionMatrix, Threshold};
use kubelstm::plot::{self, HistoryCurves, ScoreTrace, TimeKind, TrainValidation, ValidationScores, HISTORY_SIZE, SIZE};

const BLUE: [u8; 3] = [31, 119, 180];
const ORANGE: [u8; 3] = [255, 127, 14];
const GREEN: [u8; 3] = [44, 160, 44];
const RED: [u8; 3] = [214, 39, 40];

fn fixture() -> (Vec<u8>, Vec<f64>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/metrics.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let nums = |k: &str| -> Vec<f64> { v[k]["data"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect() };
    (nums("y").iter().map(|&y| y as u8).collect(), nums("score"))
}

/// Decodes `png` and checks what every chart must have; returns the image for more checks.
fn check(name: &str, png: &[u8], size: (u32, u32)) -> RgbImage {
    if let Ok(dir) = std::env::var("KUBELSTM_PLOT_DIR") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(std::path::Path::new(&dir).join(name), png).unwrap();
    }
    let img = image::load_from_memory_with_format(png, image::ImageFormat::Png).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), size, "{name}: size");
    let colours: HashSet<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    assert!(colours.len() >= 8, "{name}: only {} distinct colours", colours.len());
    // Title text: dark pixels in the top 60 rows around the centre.
    let (w, _) = size;
    let dark = (0..60)
        .flat_map(|y| (w / 4..3 * w / 4).map(move |x| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0.iter().map(|&c| c as u32).sum::<u32>() < 3 * 100)
        .count();
    assert!(dark > 150, "{name}: {dark} dark pixels in the title band");
    // Axis text: dark pixels in the bottom band (x-axis description and ticks).
    let h = size.1;
    let bottom = (h - 80..h).flat_map(|y| (0..w).map(move |x| (x, y)));
    let dark = bottom.filter(|&(x, y)| img.get_pixel(x, y).0.iter().map(|&c| c as u32).sum::<u32>() < 300).count();
    assert!(dark > 150, "{name}: {dark} dark pixels in the axis band");
    img
}

fn count_colour(img: &RgbImage, colour: [u8; 3]) -> usize {
    img.pixels().filter(|p| p.0 == colour).count()
}

#[test]
fn roc_chart() {
    let (labels, scores) = fixture();
    let png = plot::roc_curve_png(&roc_curve(&labels, &scores).unwrap(), "ROC curve (test split)").unwrap();
    let img = check("roc_curve.png", &png, SIZE);
    assert!(count_colour(&img, BLUE) > 500, "the curve is drawn");
}

#[test]
fn roc_chart_degenerate() {
    let empty = roc_curve::<f64>(&[], &[]).unwrap();
    check("roc_curve_empty.png", &plot::roc_curve_png(&empty, "ROC curve").unwrap(), SIZE);
    let one_class = roc_curve(&[1, 1, 1], &[0.2f32, 0.5, 0.9]).unwrap();
    let img = check("roc_curve_one_class.png", &plot::roc_curve_png(&one_class, "ROC curve").unwrap(), SIZE);
    assert!(count_colour(&img, BLUE) < 200, "only the legend mark, no curve");
    let equal = roc_curve(&[1, 0, 1, 0], &[0.5f32; 4]).unwrap();
    check("roc_curve_all_equal.png", &plot::roc_curve_png(&equal, "ROC curve").unwrap(), SIZE);
}

#[test]
fn precision_recall_chart() {
    let (labels, scores) = fixture();
    let curve = precision_recall_curve(&labels, &scores).unwrap();
    let png = plot::precision_recall_png(&curve, "Precision-recall (test split)").unwrap();
    let img = check("precision_recall_curve.png", &png, SIZE);
    assert!(count_colour(&img, GREEN) > 500, "the curve is drawn");
}

#[test]
fn precision_recall_chart_degenerate() {
    let empty = precision_recall_curve::<f64>(&[], &[]).unwrap();
    check("precision_recall_empty.png", &plot::precision_recall_png(&empty, "Precision-recall").unwrap(), SIZE);
    let no_anomaly = precision_recall_curve(&[0, 0, 0], &[0.2f32, 0.5, 0.9]).unwrap();
    let png = plot::precision_recall_png(&no_anomaly, "Precision-recall").unwrap();
    check("precision_recall_no_anomaly.png", &png, SIZE);
}

#[test]
fn confusion_chart() {
    let (labels, scores) = fixture();
    let t = Threshold::f1_optimal(&labels, &scores).unwrap();
    let cm = confusion_matrix(&labels, &scores, t.value).unwrap();
    let png = plot::confusion_matrix_png(&cm, &format!("Confusion matrix at threshold {:.2}", t.value)).unwrap();
    let img = check("confusion_matrix.png", &png, SIZE);
    // The largest cell (31 true negatives) has the darkest blue, and white digits on it.
    assert!(count_colour(&img, [8, 48, 107]) > 10_000);
}

#[test]
fn confusion_chart_degenerate() {
    let png = plot::confusion_matrix_png(&ConfusionMatrix::default(), "Confusion matrix").unwrap();
    check("confusion_matrix_empty.png", &png, SIZE);
}

/// A long score trace with rare anomaly bursts, like a test split of many pods.
fn long_trace(n: usize) -> (Vec<f32>, Vec<u8>) {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut scores = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let anomaly = (i / 1000) % 97 == 13;
        let base = 0.15 + 0.05 * (i as f64 / 5000.0).sin() + 0.05 * uniform();
        scores.push((if anomaly { base + 0.4 + 0.2 * uniform() } else { base }) as f32);
        labels.push(anomaly as u8);
    }
    (scores, labels)
}

/// `scores` as one series sampled every minute, with `labels` and `threshold`.
fn one_series_png(scores: &[f64], labels: Option<&[u8]>, threshold: Option<f64>, title: &str) -> kubelstm::Result<Vec<u8>> {
    let times: Vec<i64> = (0..scores.len() as i64).map(|i| 1_709_546_820 + 60 * i).collect();
    let series = vec![0u32; scores.len()];
    let incidents = [(times.first().copied().unwrap_or(0), times.get(10).copied().unwrap_or(0))];
    let trace = ScoreTrace {
        times: &times,
        series: &series,
        scores,
        labels,
        time: TimeKind::EpochSeconds,
        threshold,
        threshold_rule: "percentile 95",
        incidents: &incidents,
    };
    plot::scores_png(&trace, title)
}

#[test]
fn scores_chart() {
    let (scores, labels) = long_trace(20_000);
    let scores: Vec<f64> = scores.iter().map(|&s| f64::from(s)).collect();
    let png = one_series_png(&scores, Some(&labels), Some(0.45), "Anomaly score, test split").unwrap();
    let img = check("scores.png", &png, SIZE);
    assert!(count_colour(&img, BLUE) > 500, "score line");
    assert!(count_colour(&img, [255, 221, 178]) > 1000, "labelled anomalies shaded");
    assert!(count_colour(&img, [148, 103, 189]) > 50, "the incident bar");
    assert!(count_colour(&img, RED) > 200, "threshold line");
}

#[test]
fn scores_chart_draws_a_million_points_quickly() {
    let (scores, labels) = long_trace(1_000_000);
    let scores: Vec<f64> = scores.iter().map(|&s| f64::from(s)).collect();
    let start = Instant::now();
    let png = one_series_png(&scores, Some(&labels), Some(0.45), "Anomaly score, 10^6 samples").unwrap();
    let elapsed = start.elapsed();
    let img = check("scores_million.png", &png, SIZE);
    assert!(count_colour(&img, BLUE) > 500, "score line");
    assert!(elapsed.as_secs_f64() < 10.0, "10^6 scores took {elapsed:?}");
}

#[test]
fn scores_chart_degenerate() {
    check("scores_empty.png", &one_series_png(&[], None, None, "Anomaly score").unwrap(), SIZE);
    let png = one_series_png(&[f64::NAN; 10], Some(&[0; 10]), Some(0.5), "Anomaly score").unwrap();
    check("scores_nan.png", &png, SIZE);
    check("scores_all_equal.png", &one_series_png(&[0.3; 500], None, Some(0.3), "Anomaly score").unwrap(), SIZE);
    check("scores_zeros.png", &one_series_png(&[0.0; 500], None, Some(0.0), "Anomaly score").unwrap(), SIZE);
    let png = one_series_png(&[0.7], Some(&[1]), Some(f64::NAN), "Anomaly score").unwrap();
    check("scores_single.png", &png, SIZE);
    assert!(one_series_png(&[0.1, 0.2], Some(&[1]), None, "Anomaly score").is_err());
}

fn history(epochs: usize) -> HistoryCurves {
    let curve = |start: f64, end: f64, noise: f64| -> Vec<f64> {
        (0..epochs).map(|e| end + (start - end) * (-(e as f64) / 6.0).exp() + noise * ((e * 7) as f64).sin()).collect()
    };
    let pair =
        |s: f64, e: f64, gap: f64| TrainValidation { train: curve(s, e, 0.005), validation: curve(s, e - gap, 0.02) };
    HistoryCurves {
        loss: pair(0.69, 0.12, -0.05),
        accuracy: pair(0.6, 0.97, 0.03),
        auc: pair(0.5, 0.995, 0.02),
        precision: pair(0.3, 0.93, 0.06),
        best_epoch: Some(epochs.saturating_sub(4).max(1)),
        learning_rate: (0..epochs).map(|e| if e < 15 { 1e-3 } else { 5e-4 }).collect(),
    }
}

#[test]
fn history_chart() {
    let png = plot::training_history_png(&history(30), "Training history, standard model").unwrap();
    let img = check("training_history.png", &png, HISTORY_SIZE);
    assert!(count_colour(&img, BLUE) > 1000 && count_colour(&img, ORANGE) > 1000, "train and validation lines");
}

#[test]
fn history_chart_degenerate() {
    let png = plot::training_history_png(&HistoryCurves::default(), "Training history").unwrap();
    check("training_history_empty.png", &png, HISTORY_SIZE);
    let png = plot::training_history_png(&history(1), "Training history").unwrap();
    let img = check("training_history_one_epoch.png", &png, HISTORY_SIZE);
    assert!(count_colour(&img, BLUE) > 100, "one epoch is a visible point");
    let mut nan = history(5);
    nan.auc.train[2] = f64::NAN;
    nan.loss.validation = vec![f64::NAN; 5];
    nan.best_epoch = Some(99);
    check("training_history_nan.png", &plot::training_history_png(&nan, "Training history").unwrap(), HISTORY_SIZE);
}

#[test]
fn unsupervised_history_chart() {
    let scores: Vec<f64> = (0..3_000).map(|i| if i % 300 == 0 { 20.0 } else { 0.001 + 0.01 * ((i * 37 % 101) as f64 / 101.0) }).collect();
    let validation = ValidationScores { scores: &scores, threshold: 0.03, rule: "POT risk 1e-4" };
    let png = plot::unsupervised_history_png(&history(30), &validation, "Training history, autoencoder").unwrap();
    let img = check("training_history_unsupervised.png", &png, HISTORY_SIZE);
    assert!(count_colour(&img, BLUE) > 1000 && count_colour(&img, ORANGE) > 500, "losses and histogram");
    assert!(count_colour(&img, GREEN) > 300, "the learning rate, which changed");
    assert!(count_colour(&img, RED) > 200, "the threshold");
    let empty = ValidationScores { scores: &[], threshold: f64::NAN, rule: "" };
    let png = plot::unsupervised_history_png(&HistoryCurves::default(), &empty, "Training history").unwrap();
    check("training_history_unsupervised_empty.png", &png, HISTORY_SIZE);
}
