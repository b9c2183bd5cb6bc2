//! `kubelstm inspect RUN_DIR`: what a run folder holds, after verifying it as `detect` would —
//! the architecture layer by layer (output shapes and parameter counts, as Keras'
//! `model.summary()`), the features and scaler, the threshold, what a score means, the
//! training data's hash and the headline test metrics from `evaluation.json`.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::{json, Value};

use super::Outcome;
use crate::artifacts::bounded::{read_bounded_string, EVALUATION_LIMIT};
use crate::artifacts::names::{EVALUATION_FILE, META_FILE};
use crate::data::{LabelSource, Scaler};
use crate::detect::ScoringModel;
use crate::Result;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The run folder (output_dir/run_…).
    #[arg(value_name = "RUN_DIR")]
    pub run_dir: PathBuf,
    /// Print one JSON object instead of the text summary.
    #[arg(long)]
    pub json: bool,
}

/// `1234567` → `1,234,567`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The headline numbers of `evaluation.json` (`None` when absent or not measured).
fn headline(model: &ScoringModel) -> Option<Value> {
    let text = read_bounded_string(&model.dir().join(EVALUATION_FILE), EVALUATION_LIMIT).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    let e = v.get("evaluation").filter(|e| !e.is_null())?;
    let c = &e["chosen"];
    Some(json!({
        "split": v.get("split").cloned().unwrap_or(Value::Null),
        "windows": e["samples"],
        "anomalous": e["positives"],
        "roc_auc": e["roc_auc"],
        "pr_auc": e["pr_auc"],
        "average_precision": e["average_precision"],
        "accuracy": c["accuracy"],
        "precision": c["precision"],
        "recall": c["recall"],
        "f1": c["f1"],
    }))
}

fn scaler_columns(scaler: &Scaler) -> (&'static str, [&'static str; 2], Vec<[f64; 2]>) {
    match scaler {
        Scaler::MinMax { data_min, data_max, .. } => (
            "MinMaxScaler (x − min) / (max − min)",
            ["min", "max"],
            data_min.iter().zip(data_max).map(|(&a, &b)| [a, b]).collect(),
        ),
        Scaler::Robust { center, scale, .. } => (
            "RobustScaler (x − median) / IQR",
            ["median", "IQR"],
            center.iter().zip(scale).map(|(&a, &b)| [a, b]).collect(),
        ),
    }
}

/// The serde name of a unit-like enum value (`complete`, `classifier`, `forward-fill`, …).
fn serde_name<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => "?".into(),
    }
}

fn describe_labels(labels: &LabelSource) -> String {
    match labels {
        LabelSource::None => "none (unsupervised)".into(),
        LabelSource::Column { name } => format!("column '{name}'"),
        LabelSource::Rules { .. } => format!("the labelling rules ({META_FILE} holds them)"),
    }
}

pub fn run(args: Args) -> Result<Outcome> {
    let model = ScoringModel::open(&args.run_dir)?;
    let meta = &model.loaded.meta;
    let cfg = &model.loaded.model.config;
    let layers = model.loaded.model.summary();
    let total = model.loaded.model.layout.len();
    let spec = &model.pipeline.spec;
    let metrics = headline(&model);
    if args.json {
        let v = json!({
            "run_dir": model.dir().display().to_string(),
            "status": model.loaded.status,
            "format": meta.format,
            "format_version": meta.format_version,
            "kubelstm_version": meta.kubelstm_version,
            "model": cfg,
            "layers": layers,
            "total_params": total,
            "tensors": model.loaded.model.layout.tensors().iter()
                .map(|t| json!({"name": t.name, "shape": t.shape})).collect::<Vec<_>>(),
            "weights_sha256": meta.weights_sha256,
            "sequence_length": meta.sequence_length,
            "label_at": model.label_at(),
            "score": model.horizon().describe(),
            "features": meta.features,
            "pipeline": spec,
            "scaler": model.scaler(),
            "threshold": model.thresholds.chosen,
            "threshold_chosen_on": model.thresholds.chosen_on,
            "threshold_alternatives": model.thresholds.alternatives,
            "training_data_sha256": meta.training_data_sha256,
            "seed": meta.seed,
            "metrics": metrics,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return Ok(Outcome::Success);
    }

    let mut s = String::new();
    let _ = writeln!(s, "Run folder: {} (status: {})", model.dir().display(), serde_name(&model.loaded.status));
    if model.untrained() {
        let _ = writeln!(
            s,
            "Warning: no epoch finished before the run was interrupted: the weights are untrained \
             (detect and evaluate refuse this folder)"
        );
    }
    let _ = writeln!(
        s,
        "Model file: {} version {}, written by kubelstm {}",
        meta.format, meta.format_version, meta.kubelstm_version
    );
    let _ = writeln!(
        s,
        "Architecture: {} ({}), {} input features, sequence length T = {}",
        cfg.arch,
        serde_name(&cfg.objective),
        cfg.features,
        meta.sequence_length
    );
    let _ = writeln!(
        s,
        "Score at a window's last row: {} (label_at {})",
        model.horizon().describe(),
        serde_name(&model.label_at())
    );
    let _ = writeln!(s);
    let rule = "=".repeat(72);
    let _ = writeln!(s, "{:<36}{:<22}{:>14}", "Layer (type)", "Output shape", "Param #");
    let _ = writeln!(s, "{rule}");
    for l in &layers {
        let _ =
            writeln!(s, "{:<36}{:<22}{:>14}", format!("{} ({})", l.name, l.kind), l.output_shape, thousands(l.params));
    }
    let _ = writeln!(s, "{rule}");
    let _ = writeln!(s, "Total params: {} (f32, {} bytes)", thousands(total), thousands(total * 4));
    let _ = writeln!(s, "Weights SHA-256: {} (verified)", meta.weights_sha256);
    let _ = writeln!(s);
    let _ = write!(s, "Input: {} schema", serde_name(&spec.schema));
    if let Some(t) = &spec.time_column {
        let _ = write!(s, ", time column '{t}'");
    }
    if !spec.group_columns.is_empty() {
        let _ = write!(
            s,
            ", series per {}",
            spec.group_columns.iter().map(|g| format!("'{g}'")).collect::<Vec<_>>().join(" + ")
        );
    }
    let _ = writeln!(s, "; missing values: {}; labels: {}", serde_name(&spec.missing), describe_labels(&spec.labels));
    let (kind, cols, values) = scaler_columns(model.scaler());
    let _ = writeln!(s, "Features ({}) and the scaler, {kind}, fitted on the training split:", meta.features.len());
    let width = meta.features.iter().map(|f| f.chars().count()).max().unwrap_or(7).max(7);
    let _ = writeln!(s, "  {:>3}  {:<width$}  {:>14}  {:>14}", "#", "feature", cols[0], cols[1]);
    for (i, (name, v)) in meta.features.iter().zip(&values).enumerate() {
        let _ = writeln!(s, "  {:>3}  {:<width$}  {:>14.6}  {:>14.6}", i + 1, name, v[0], v[1]);
    }
    let _ = writeln!(s);
    let th = &model.thresholds;
    let _ = writeln!(s, "Threshold: {} ({}, chosen on the {} split)", th.chosen.value, th.chosen.rule, th.chosen_on);
    for alt in &th.alternatives {
        let _ = writeln!(s, "  alternative: {} ({})", alt.value, alt.rule);
    }
    let _ = writeln!(s, "Training data SHA-256: {}", meta.training_data_sha256);
    let _ = writeln!(s, "Seed: {}", meta.seed);
    match &metrics {
        Some(m) => {
            let f = |k: &str| m[k].as_f64().map_or("n/a".to_string(), |v| format!("{v:.4}"));
            let _ = writeln!(
                s,
                "Metrics ({}, {} windows, {} anomalous): ROC-AUC {}, PR-AUC {}, precision {}, recall {}, F1 {}, accuracy {}",
                m["split"].as_str().unwrap_or("test"),
                m["windows"],
                m["anomalous"],
                f("roc_auc"),
                f("pr_auc"),
                f("precision"),
                f("recall"),
                f("f1"),
                f("accuracy")
            );
        }
        None => {
            let _ = writeln!(s, "Metrics: not measured (no labelled test split in {EVALUATION_FILE})");
        }
    }
    print!("{s}");
    Ok(Outcome::Success)
}
