//! `kubelstm train` end to end: the real binary on small generated data, for every
//! architecture and both autoencoder modes, with every artifact of the run folder checked —
//! files present and nothing else, PNGs decode at their size, JSON parses and its fields fit
//! the command, `summary_report.txt` agrees with `evaluation.json` number for number, one
//! history row per epoch, the status file says complete, and the model reloads. Plus
//! reproducibility (byte-identical weights) and the original project's underscore flags.
//!
//! Models are tiny (`--lstm-units 8,4 --dense-units 8,4`, two epochs, one thread): each run
//! takes well under a second. Metric values themselves are checked against scikit-learn in
//! `tests/metrics.rs`; here only their consistency across files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kubelstm::artifacts::{load_model, RunStatus, FORMAT_VERSION};
use kubelstm::data::Scaler;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub(crate) const EXE: &str = env!("CARGO_BIN_EXE_kubelstm");
/// Tiny widths, one thread: a run takes a fraction of a second.
pub(crate) const TINY: [&str; 6] = ["--lstm-units", "8,4", "--dense-units", "8,4", "--threads", "1"];

/// Runs `kubelstm` with `args`.
pub(crate) fn kubelstm<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(EXE).args(args).output().expect("run the kubelstm binary")
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts a successful exit without a panic; returns stderr.
pub(crate) fn assert_success(out: &Output) -> String {
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "exit {:?}\nstdout:\n{}\nstderr:\n{stderr}", out.status, text(&out.stdout));
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// The generated Kubernetes cluster the tests train on: 6 pods × 500 one-minute samples. Seed 5
/// puts anomalies in all three time splits (not every seed does at this size: incidents are
/// rare), which supervised training needs.
pub(crate) fn generate_k8s(dir: &Path) -> PathBuf {
    let path = dir.join("cluster.csv");
    let out =
        kubelstm(["generate", "--pods", "6", "--rows", "3000", "--seed", "5", "-q", "-o", path.to_str().unwrap()]);
    assert_success(&out);
    path
}

/// A generic-mode CSV: `ts` (epoch seconds), `host`, two numeric columns and, if `labelled`, a
/// 0/1 `label` column. 3 hosts × 240 one-minute rows; every 12th row and the one after it are
/// anomalous (`cpu` jumps), so every split holds both classes.
pub(crate) fn write_generic(path: &Path, labelled: bool) {
    std::fs::write(path, generic_text(labelled)).unwrap();
}

/// The text of [`write_generic`]: row `r` (0-based) of host `h` is on line `2 + 240·h + r`.
pub(crate) fn generic_text(labelled: bool) -> String {
    let mut s = String::from(if labelled { "ts,host,cpu,latency_ms,label\n" } else { "ts,host,cpu,latency_ms\n" });
    for host in 0..3 {
        for i in 0..240u32 {
            let anomaly = i % 12 == 5 || i % 12 == 6;
            let cpu = 20.0 + 5.0 * (f64::from(i) / 7.0 + f64::from(host)).sin() + if anomaly { 45.0 } else { 0.0 };
            let latency = 80.0 + f64::from((i * 7 + host) % 11);
            s.push_str(&format!("{},h{host},{cpu:.3},{latency:.1}", 1_709_510_400 + 60 * i64::from(i)));
            if labelled {
                s.push_str(if anomaly { ",1" } else { ",0" });
            }
            s.push('\n');
        }
    }
    s
}

pub(crate) const GENERIC_FLAGS: [&str; 6] =
    ["--feature-columns", "all", "--time-column", "ts", "--group-columns", "host"];

/// The run folder printed on stdout (`run folder: PATH`).
pub(crate) fn run_folder_of(out: &Output) -> PathBuf {
    let stdout = text(&out.stdout);
    let line = stdout.lines().find_map(|l| l.strip_prefix("run folder: ")).unwrap_or_else(|| panic!("{stdout}"));
    PathBuf::from(line.trim())
}

pub(crate) fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn sha256_hex(path: &Path) -> String {
    Sha256::digest(std::fs::read(path).unwrap()).iter().map(|b| format!("{b:02x}")).collect()
}

/// What a run was asked to do.
struct Expect<'a> {
    arch: &'a str,
    /// `classifier` or `reconstruction`.
    objective: &'a str,
    /// The data has labels, so the test split is evaluated.
    labelled: bool,
    epochs: usize,
    sequence_length: usize,
    data: &'a Path,
    scaler: &'a str,
}

/// The number after `prefix` on the summary line that starts with it.
fn summary_number(summary: &str, prefix: &str) -> f64 {
    let line = summary.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no '{prefix}' in\n{summary}"));
    let rest = line[prefix.len()..].trim_start();
    let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e')).unwrap_or(rest.len());
    rest[..end].parse().unwrap_or_else(|e| panic!("'{line}': {e}"))
}

/// `value` printed with `decimals` decimals equals `json`.
fn agrees(summary: &str, prefix: &str, json: &Value, decimals: i32) {
    let printed = summary_number(summary, prefix);
    let want = json.as_f64().unwrap_or_else(|| panic!("{prefix}: {json} is not a number"));
    assert!(
        (printed - want).abs() <= 0.5 * 10f64.powi(-decimals) + 1e-12,
        "summary '{prefix}' {printed} but evaluation.json {want}"
    );
}

/// Checks every artifact of a finished run folder against `e`.
fn check_run_folder(dir: &Path, e: &Expect<'_>) {
    // Exactly these files: nothing missing, no temporary file left behind.
    let mut want: BTreeSet<&str> = [
        "model.safetensors",
        "model.json",
        "scaler.json",
        "threshold.json",
        "parameters.json",
        "history.csv",
        "evaluation.json",
        "summary_report.txt",
        "training.log",
        "training_history.png",
        "scores.png",
        "run_status.json",
    ]
    .into();
    if e.labelled {
        want.extend(["roc_curve.png", "precision_recall_curve.png", "confusion_matrix.png"]);
    }
    let have: BTreeSet<String> =
        std::fs::read_dir(dir).unwrap().map(|f| f.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(have.iter().map(String::as_str).collect::<BTreeSet<_>>(), want, "files of {}", dir.display());

    for name in have.iter().filter(|n| n.ends_with(".png")) {
        let img = image::open(dir.join(name)).unwrap_or_else(|err| panic!("{name} does not decode: {err}"));
        let size = if name == "training_history.png" { (1400, 1000) } else { (1000, 700) };
        assert_eq!((img.width(), img.height()), size, "{name}");
    }
    let status = read_json(&dir.join("run_status.json"));
    assert_eq!(status["status"], "complete");

    // model.json: the architecture and widths asked for, the data it saw, the threshold chosen.
    let model = read_json(&dir.join("model.json"));
    let threshold = read_json(&dir.join("threshold.json"));
    assert_eq!(model["format"], "kubelstm-model");
    assert_eq!(model["format_version"], FORMAT_VERSION);
    assert_eq!(model["model"]["arch"], e.arch);
    assert_eq!(model["model"]["objective"], e.objective);
    assert_eq!(model["model"]["lstm"], serde_json::json!([8, 4]));
    assert_eq!(model["model"]["dense"], serde_json::json!([8, 4]));
    assert_eq!(model["sequence_length"], e.sequence_length);
    assert_eq!(model["seed"], 42);
    let features: Vec<String> = serde_json::from_value(model["features"].clone()).unwrap();
    assert!(!features.is_empty());
    assert_eq!(model["model"]["features"], features.len());
    assert_eq!(model["training_data_sha256"], sha256_hex(e.data));
    assert_eq!(model["weights_sha256"].as_str().unwrap().len(), 64);
    let t = threshold["value"].as_f64().unwrap();
    assert!(t.is_finite());
    assert_eq!(model["threshold"].as_f64(), Some(t));
    assert_eq!(threshold["chosen_on"], "validation");
    match e.objective {
        "classifier" => assert_eq!(threshold["rule"], "f1_optimal"),
        // Unsupervised: peaks over threshold at the default risk, or, where the validation tail
        // is too short to fit (these small test sets), the percentile with a warning that says so.
        _ if threshold["rule"] == "pot" => {
            assert_eq!(threshold["risk"], 1e-4);
            assert!(threshold["excesses"].as_u64().unwrap() >= 10, "{threshold}");
        }
        _ => {
            assert_eq!(threshold["rule"], "percentile");
            assert_eq!(threshold["percentile"], 95.0);
            let log = std::fs::read_to_string(dir.join("training.log")).unwrap();
            assert!(log.contains("using the percentile threshold instead"), "{log}");
        }
    }

    let params = read_json(&dir.join("parameters.json"));
    assert_eq!(params["architecture"], e.arch);
    assert_eq!(params["objective"], e.objective);
    assert_eq!(params["sequence_length"], e.sequence_length);
    assert_eq!(params["epochs"], e.epochs);
    assert_eq!(params["threads"], 1);
    assert_eq!(params["seed"], 42);
    assert_eq!(params["scaler"], e.scaler);
    assert_eq!(params["data_path"], e.data.display().to_string());

    let scaler_text = std::fs::read_to_string(dir.join("scaler.json")).unwrap();
    let scaler = Scaler::from_json(&scaler_text, "scaler.json").unwrap();
    assert_eq!(read_json(&dir.join("scaler.json"))["feature_names"], model["features"]);
    assert_eq!(scaler.n_features(), features.len());
    assert_eq!(read_json(&dir.join("scaler.json"))["kind"], e.scaler);

    // history.csv: one row per epoch run, numbered from 1, finite losses.
    let history = std::fs::read_to_string(dir.join("history.csv")).unwrap();
    let mut lines = history.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(&header[..3], ["epoch", "loss", "accuracy"]);
    assert!(header.contains(&"val_loss") && header.contains(&"val_auc"), "{header:?}");
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let summary = std::fs::read_to_string(dir.join("summary_report.txt")).unwrap();
    let epochs_run = summary_number(&summary, "Epochs run:") as usize;
    assert!((1..=e.epochs).contains(&epochs_run));
    assert_eq!(rows.len(), epochs_run, "{history}");
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), header.len());
        assert_eq!(row[0], (i + 1).to_string());
        assert!(row[1].parse::<f64>().unwrap().is_finite());
    }

    // summary_report.txt names everything and agrees with evaluation.json.
    for needle in [
        "Dataset:",
        "Total records:",
        "Anomaly rate:",
        "Model architecture:",
        "Scaler:",
        "Training time:",
        "Epochs run:",
        "Best epoch:",
        "Samples per second:",
        "Threshold:",
    ] {
        assert!(summary.contains(needle), "summary lacks '{needle}':\n{summary}");
    }
    assert!(!summary.contains("INTERRUPTED"));
    let evaluation = read_json(&dir.join("evaluation.json"));
    assert_eq!(evaluation["split"], "test");
    assert_eq!(evaluation["threshold_chosen_on"], "validation");
    assert_eq!(summary_number(&summary, "Total records:"), evaluation["ingest"]["rows_loaded"].as_f64().unwrap());
    agrees(&summary, "Threshold:", &threshold["value"], 6);
    let ev = &evaluation["evaluation"];
    if e.labelled {
        let chosen = &ev["chosen"];
        assert_eq!(chosen["threshold"]["value"], threshold["value"]);
        for (prefix, value) in [
            ("Accuracy:", &chosen["accuracy"]),
            ("ROC-AUC:", &ev["roc_auc"]),
            ("PR-AUC:", &ev["pr_auc"]),
            ("Precision:", &chosen["precision"]),
            ("Recall:", &chosen["recall"]),
            ("F1:", &chosen["f1"]),
        ] {
            agrees(&summary, prefix, value, 4);
        }
        let ap_line = summary.lines().find(|l| l.starts_with("PR-AUC:")).unwrap();
        let ap: f64 = ap_line.split("average precision ").nth(1).unwrap().trim_end_matches(')').parse().unwrap();
        assert!((ap - ev["average_precision"].as_f64().unwrap()).abs() <= 5e-5, "{ap_line}");
        let cm = &chosen["confusion_matrix"];
        let expected = format!(
            "Confusion matrix [[TN FP] [FN TP]]: [[{} {}] [{} {}]]",
            cm["true_negatives"], cm["false_positives"], cm["false_negatives"], cm["true_positives"]
        );
        assert!(summary.contains(&expected), "summary lacks '{expected}':\n{summary}");
        let samples = format!("Test set performance ({} windows, {} anomalous)", ev["samples"], ev["positives"]);
        assert!(summary.contains(&samples), "summary lacks '{samples}'");
        assert_eq!(
            ev["samples"].as_u64().unwrap(),
            ["true_negatives", "false_positives", "false_negatives", "true_positives"]
                .iter()
                .map(|k| cm[k].as_u64().unwrap())
                .sum::<u64>()
        );
    } else {
        assert!(ev.is_null(), "no labels, no evaluation: {ev}");
        assert!(summary.contains("not measured (the data has no labels)"), "{summary}");
    }
    let log = std::fs::read_to_string(dir.join("training.log")).unwrap();
    assert!(log.contains("run folder complete"), "{log}");

    // The model reloads, verified, with the features and threshold of model.json.
    let loaded = load_model(dir).unwrap_or_else(|err| panic!("load_model: {err}"));
    assert_eq!(loaded.status, RunStatus::Complete);
    assert_eq!(loaded.params.len(), loaded.model.layout.len());
    assert_eq!(loaded.meta.features, features);
    assert_eq!(loaded.meta.threshold, t);
}

/// Trains on `data` with `extra` flags (tiny model, 2 epochs) and checks the folder.
fn train_and_check(data: &Path, out_dir: &Path, extra: &[&str], e: Expect<'_>) -> PathBuf {
    let mut args: Vec<String> = ["train", "--data-path"].map(String::from).to_vec();
    args.push(data.display().to_string());
    args.extend(["--output-dir".to_string(), out_dir.display().to_string(), "--epochs".into(), e.epochs.to_string()]);
    args.extend(TINY.map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = kubelstm(&args);
    assert_success(&out);
    let dir = run_folder_of(&out);
    assert_eq!(dir.parent(), Some(out_dir));
    check_run_folder(&dir, &e);
    dir
}

fn k8s<'a>(arch: &'static str, objective: &'static str, data: &'a Path) -> Expect<'a> {
    Expect { arch, objective, labelled: true, epochs: 2, sequence_length: 10, data, scaler: "minmax" }
}

#[test]
fn standard_model_on_kubernetes_data() {
    let tmp = tempfile::tempdir().unwrap();
    let data = generate_k8s(tmp.path());
    train_and_check(&data, &tmp.path().join("out"), &[], k8s("standard", "classifier", &data));
}

#[test]
fn bidirectional_model_on_kubernetes_data() {
    let tmp = tempfile::tempdir().unwrap();
    let data = generate_k8s(tmp.path());
    let e = k8s("bidirectional", "classifier", &data);
    train_and_check(&data, &tmp.path().join("out"), &["--use-bidirectional"], e);
}

#[test]
fn attention_model_on_kubernetes_data() {
    let tmp = tempfile::tempdir().unwrap();
    let data = generate_k8s(tmp.path());
    train_and_check(&data, &tmp.path().join("out"), &["--use-attention"], k8s("attention", "classifier", &data));
}

/// Labelled data: the autoencoder trains supervised by default. The original's precedence puts
/// the autoencoder before attention, and its underscore flags are accepted.
#[test]
fn supervised_autoencoder_takes_precedence_over_attention() {
    let tmp = tempfile::tempdir().unwrap();
    let data = generate_k8s(tmp.path());
    let e = k8s("autoencoder", "classifier", &data);
    train_and_check(&data, &tmp.path().join("out"), &["--use_autoencoder", "--use_attention"], e);
}

/// `--mode unsupervised` on labelled data: trained on normal windows only, thresholded by POT
/// on the validation errors, and still evaluated on the labelled test split.
#[test]
fn unsupervised_autoencoder_on_kubernetes_data() {
    let tmp = tempfile::tempdir().unwrap();
    let data = generate_k8s(tmp.path());
    let e = k8s("autoencoder", "reconstruction", &data);
    let dir = train_and_check(&data, &tmp.path().join("out"), &["--use-autoencoder", "--mode", "unsupervised"], e);
    let summary = std::fs::read_to_string(dir.join("summary_report.txt")).unwrap();
    assert!(summary.contains("LSTM autoencoder (unsupervised)"), "{summary}");
}

#[test]
fn generic_csv_with_a_label_column() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("metrics.csv");
    write_generic(&data, true);
    let e = Expect { sequence_length: 6, ..k8s("standard", "classifier", &data) };
    let dir =
        train_and_check(&data, &tmp.path().join("out"), &[&GENERIC_FLAGS[..], &["--sequence-length", "6"]].concat(), e);
    let model = read_json(&dir.join("model.json"));
    assert_eq!(model["features"], serde_json::json!(["cpu", "latency_ms"]));
}

/// Without labels the autoencoder defaults to unsupervised; nothing can be evaluated, and the
/// report says so instead of inventing numbers.
#[test]
fn generic_csv_without_labels_trains_the_autoencoder_unsupervised() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("metrics.csv");
    write_generic(&data, false);
    let e = Expect { labelled: false, sequence_length: 6, ..k8s("autoencoder", "reconstruction", &data) };
    let flags = [&GENERIC_FLAGS[..], &["--sequence-length", "6", "--use-autoencoder"]].concat();
    let dir = train_and_check(&data, &tmp.path().join("out"), &flags, e);
    check_unsupervised_run(&dir);
}

/// Without labels the other architectures become forecasters of the next row, with no flag:
/// same layers, the head ending in Dense(F); no test split; the score weighs each feature.
#[test]
fn generic_csv_without_labels_trains_every_architecture_as_a_forecaster() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("metrics.csv");
    write_generic(&data, false);
    for (arch, flag) in [("standard", None), ("bidirectional", Some("--use-bidirectional")), ("attention", Some("--use-attention"))] {
        let e = Expect { labelled: false, sequence_length: 6, ..k8s(arch, "forecast", &data) };
        let flags = [&GENERIC_FLAGS[..], &["--sequence-length", "6"], flag.as_slice()].concat();
        let dir = train_and_check(&data, &tmp.path().join(arch), &flags, e);
        check_unsupervised_run(&dir);
        let model = read_json(&dir.join("model.json"));
        // The forecast head: head.out maps the last dense width (4) to the 2 features.
        let layout = kubelstm::models::Model::new(serde_json::from_value(model["model"].clone()).unwrap()).unwrap();
        assert_eq!(layout.layout.find("head.out.weight").unwrap().span.len, 2 * 4, "{arch}");
        let summary = std::fs::read_to_string(dir.join("summary_report.txt")).unwrap();
        assert!(summary.contains("unsupervised forecaster of the next row"), "{summary}");
        assert!(summary.contains("Score: the squared error of the forecast of each window's last row"), "{summary}");
    }
}

/// What an unlabelled run has: train and validation windows only, losses in the log (not
/// accuracies against stand-in labels), and per-feature error weights in model.json.
fn check_unsupervised_run(dir: &Path) {
    let summary = std::fs::read_to_string(dir.join("summary_report.txt")).unwrap();
    let windows = summary.lines().find(|l| l.starts_with("Windows (train / validation / test):")).unwrap();
    assert!(windows.ends_with(" / 0"), "no test split without labels: {windows}");
    let log = std::fs::read_to_string(dir.join("training.log")).unwrap();
    let epochs: Vec<&str> = log.lines().filter(|l| l.starts_with("epoch ")).collect();
    assert!(!epochs.is_empty(), "{log}");
    for line in epochs {
        assert!(line.contains("val_loss") && !line.contains("acc") && !line.contains("precision"), "{line}");
    }
    let model = read_json(&dir.join("model.json"));
    let weights = model["model"]["error_weights"].as_array().expect("error weights in model.json");
    assert_eq!(weights.len(), model["features"].as_array().unwrap().len());
    assert!(weights.iter().all(|w| w.as_f64().unwrap() > 0.0), "{weights:?}");
}

/// Same command, same seed, same thread count (two, so the parallel gradient reduction is part
/// of it): byte-identical weights and model description.
#[test]
fn the_same_command_twice_gives_identical_model_files() {
    let tmp = tempfile::tempdir().unwrap();
    let data = generate_k8s(tmp.path());
    let run = |out: &str| {
        let dir = tmp.path().join(out);
        let o = kubelstm([
            "train",
            "--data-path",
            data.to_str().unwrap(),
            "--output-dir",
            dir.to_str().unwrap(),
            "--epochs",
            "2",
            "--use-bidirectional",
            "--lstm-units",
            "8,4",
            "--dense-units",
            "8,4",
            "--threads",
            "2",
        ]);
        assert_success(&o);
        run_folder_of(&o)
    };
    let (a, b) = (run("a"), run("b"));
    for file in ["model.safetensors", "model.json", "scaler.json", "threshold.json", "history.csv"] {
        let (x, y) = (std::fs::read(a.join(file)).unwrap(), std::fs::read(b.join(file)).unwrap());
        if file == "history.csv" {
            // Timings differ; everything else must not.
            let strip = |t: &[u8]| -> Vec<String> {
                text(t).lines().map(|l| l.rsplitn(3, ',').nth(2).unwrap_or(l).to_string()).collect()
            };
            assert_eq!(strip(&x), strip(&y), "{file}");
        } else {
            assert!(x == y, "{file} differs between two identical runs");
        }
    }
}

/// Scripts written for the original keep working: its underscore spellings, and its
/// precedence (attention before bidirectional).
#[test]
fn the_original_underscore_flags_work() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("metrics.csv");
    write_generic(&data, true);
    let out_dir = tmp.path().join("out");
    let mut args: Vec<String> = vec!["train".into(), "--data_path".into(), data.display().to_string()];
    args.extend(["--output_dir".into(), out_dir.display().to_string()]);
    args.extend(
        [
            "--use_attention",
            "--use_bidirectional",
            "--use_robust_scaler",
            "--sequence_length",
            "5",
            "--batch_size",
            "16",
            "--threshold_percentile",
            "90",
            "--test_size",
            "0.25",
            "--learning_rate",
            "0.002",
            "--epochs",
            "1",
            "--feature_columns",
            "cpu,latency_ms",
            "--time_column",
            "ts",
            "--group_columns",
            "host",
            "--label_column",
            "label",
        ]
        .map(String::from),
    );
    args.extend(TINY.map(String::from));
    let out = kubelstm(&args);
    assert_success(&out);
    let dir = run_folder_of(&out);
    assert_eq!(dir.parent(), Some(out_dir.as_path()));
    let p = read_json(&dir.join("parameters.json"));
    assert_eq!(p["architecture"], "attention");
    assert_eq!(p["sequence_length"], 5);
    assert_eq!(p["batch_size"], 16);
    assert_eq!(p["threshold_percentile"], 90.0);
    assert_eq!(p["test_size"], 0.25);
    assert_eq!(p["learning_rate"], 0.002);
    assert_eq!(p["scaler"], "robust");
    let e = Expect {
        arch: "attention",
        objective: "classifier",
        labelled: true,
        epochs: 1,
        sequence_length: 5,
        data: &data,
        scaler: "robust",
    };
    check_run_folder(&dir, &e);
    let threshold = read_json(&dir.join("threshold.json"));
    assert_eq!(threshold["alternatives"][0]["percentile"], 90.0);
}
