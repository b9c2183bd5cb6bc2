//! The `detect --follow` fuzz check: any bytes as a CSV line stream into fixed tiny models,
//! through every output format. Errors are fine; a panic is a bug, and so is a broken
//! invariant (the `assert!`s):
//! - every score's shares sum to 1 (or are all 0), and each output line parses back
//!   (JSONL with serde_json, CSV with the header's field count);
//! - when the rows are in time order per series (the stream skipped no late row and the batch
//!   loader sorted and de-duplicated none), the batch driver on the same bytes scores the same
//!   windows with the same bits (the streaming = batch guarantee).
//!
//! `fuzz/fuzz_targets/detect_stream.rs` calls [`check`]; [`crate::corpus`] replays the
//! seed corpus `fuzz/corpus/detect_stream/` through it on stable Rust.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use kubelstm::artifacts::{LoadedModel, ModelMeta, ModelPipeline, RunStatus};
use kubelstm::data::report::SkipReason;
use kubelstm::data::schema::{NAMESPACE, NUMERIC, POD_NAME, TIMESTAMP};
use kubelstm::data::time::format_rfc3339;
use kubelstm::data::{load_reader, FeaturePlan, LabelAt, LabelRules, LabelSource, LoadOptions, MissingPolicy};
use kubelstm::data::{PipelineSpec, Scaler, ScalerKind, SchemaKind};
use kubelstm::detect::batch::{score_dataset, BatchScorer};
use kubelstm::detect::model::{key_parts, Horizon, ScoringModel, ThresholdFile};
use kubelstm::detect::output::{Format, Output, OutputOptions, Target};
use kubelstm::detect::stream::{run_stream, ScoreBatcher, StreamSettings, StreamSink};
use kubelstm::detect::DEFAULT_MERGE_GAP;
use kubelstm::metrics::Threshold;
use kubelstm::models::{Arch, Model, ModelConfig};

/// A model in memory (no run folder) over `spec`, with small widths and a fixed seed.
pub fn tiny_model(arch: Arch, spec: PipelineSpec, steps: usize, label_at: LabelAt, unsupervised: bool) -> ScoringModel {
    let f = spec.feature_names.len();
    let mut cfg = ModelConfig::new(arch, f);
    cfg.lstm = [5, 3];
    cfg.dense = [4, 3];
    if unsupervised {
        cfg = cfg.unsupervised();
    }
    let model = Model::new(cfg).expect("a valid tiny model");
    let params = model.init_params::<f32>(17);
    // A scaler over a made-up range, so scaled values are of order 1 for inputs of order 10.
    let rows: Vec<f32> = (0..4 * f).map(|i| if i < 2 * f { 0.0 } else { 10.0 + (i % 7) as f32 }).collect();
    let (scaler, _) = Scaler::fit(ScalerKind::MinMax, &spec.feature_names, &[&rows]).expect("a scaler");
    let mut meta = ModelMeta::new(&model.config, steps, spec.feature_names.clone());
    meta.threshold = 0.5;
    let pipeline = ModelPipeline { spec, label_at, scaler };
    meta.pipeline = Some(pipeline.clone());
    let loaded = LoadedModel {
        dir: PathBuf::from("<in memory>"),
        model,
        params,
        meta,
        status: RunStatus::Complete,
        epochs_run: None,
    };
    let thresholds = ThresholdFile {
        chosen: Threshold::fixed(0.5).expect("finite"),
        chosen_on: "validation".into(),
        alternatives: Vec::new(),
        smooth_windows: 1,
    };
    ScoringModel::from_parts(loaded, pipeline, thresholds)
}

/// Generic data: time column `t`, group column `g`, features `x`, `y` and their derived ones.
pub fn generic_spec() -> PipelineSpec {
    let raw = vec!["x".to_string(), "y".to_string()];
    let plan = FeaturePlan::generic(&raw, true, MissingPolicy::ForwardFill).expect("a plan");
    PipelineSpec {
        schema: SchemaKind::Generic,
        raw_columns: raw,
        time_column: Some("t".into()),
        group_columns: vec!["g".into()],
        derived_features: true,
        missing: MissingPolicy::ForwardFill,
        labels: LabelSource::None,
        feature_names: plan.names().to_vec(),
    }
}

/// Kubernetes data with every numeric column, labelled by the default rules.
pub fn kubernetes_spec() -> PipelineSpec {
    let raw: Vec<String> = NUMERIC.iter().map(|s| s.to_string()).collect();
    let plan = FeaturePlan::kubernetes(&raw, MissingPolicy::ForwardFill);
    PipelineSpec {
        schema: SchemaKind::Kubernetes,
        raw_columns: raw,
        time_column: Some(TIMESTAMP.into()),
        group_columns: vec![NAMESPACE.into(), POD_NAME.into()],
        derived_features: true,
        missing: MissingPolicy::ForwardFill,
        labels: LabelSource::Rules { rules: LabelRules::default() },
        feature_names: plan.names().to_vec(),
    }
}

fn models() -> &'static [ScoringModel] {
    static MODELS: OnceLock<Vec<ScoringModel>> = OnceLock::new();
    MODELS.get_or_init(|| {
        vec![
            tiny_model(Arch::Standard, generic_spec(), 3, LabelAt::Next, false),
            tiny_model(Arch::Autoencoder, kubernetes_spec(), 2, LabelAt::Last, true),
        ]
    })
}

fn output(model: &ScoringModel, format: Format, evict_after: Option<i64>) -> Output {
    let opts = OutputOptions {
        format,
        threshold: model.threshold(),
        merge_gap: DEFAULT_MERGE_GAP,
        top_features: 2,
        feature_names: model.feature_names().to_vec(),
        key_names: model.key_names(),
        has_time: model.has_time(),
        horizon: Horizon::NextSample,
        evict_after,
    };
    Output::new(opts, Target::Memory).expect("an in-memory output")
}

/// (key, timestamp as written) → score bits.
type Scores = BTreeMap<(String, String), u32>;

/// Runs `bytes` through the streaming driver of each tiny model under two settings and checks
/// the invariants. Never panics on any input unless an invariant is broken.
pub fn check(bytes: &[u8]) {
    for model in models() {
        for (skip_bad_rows, evict_after) in [(true, None), (false, Some(120))] {
            let settings = StreamSettings { skip_bad_rows, explain: true, evict_after };
            let mut formats = Vec::new();
            let mut streamed: Option<Scores> = None;
            for format in [Format::Csv, Format::Jsonl, Format::Prometheus] {
                // A batch of 3 windows at most, so batches fill and flush mid-stream.
                let batcher = ScoreBatcher::new(model, 1, 3, true).expect("a batcher");
                let sink = RefCell::new(StreamSink { batcher, out: output(model, format, evict_after) });
                let result = run_stream(bytes, "fuzz.csv", model, settings, &sink);
                let out = match sink.into_inner().finish() {
                    Ok(out) => out,
                    Err(_) => continue,
                };
                let text = out.finish().expect("memory output finishes");
                let text = String::from_utf8(text).expect("output is UTF-8");
                match format {
                    Format::Jsonl => check_jsonl(&text),
                    Format::Csv => {
                        let scores = csv_scores(&text);
                        if let Ok(summary) = &result {
                            let late = summary.report.skipped.iter().any(|s| s.reason == SkipReason::LateRow);
                            if skip_bad_rows && !late {
                                streamed = Some(scores);
                            }
                        }
                    }
                    Format::Prometheus => check_prometheus(&text),
                }
                formats.push(result.is_ok());
            }
            assert!(formats.iter().all(|&ok| ok == formats[0]), "formats disagree on success: {formats:?}");
            if let Some(streamed) = streamed {
                compare_with_batch(model, bytes, &streamed);
            }
        }
    }
}

fn check_jsonl(text: &str) {
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("bad JSONL {line:?}: {e}"));
        if let Some(top) = v.get("top_features").and_then(|t| t.as_array()) {
            let total: f64 = top.iter().filter_map(|t| t["share"].as_f64()).sum();
            assert!(total <= 1.0 + 1e-4, "shares above 1: {line}");
        }
    }
}

/// Parses the CSV output (every record as wide as the header) into (key, timestamp) → score
/// bits, reading each score as f32 from its text.
fn csv_scores(text: &str) -> Scores {
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let header = rdr.headers().cloned().unwrap_or_default();
    let col = |name: &str| header.iter().position(|h| h == name);
    let score = col("score").expect("a score column");
    let keys: Vec<usize> = ["g", "namespace", "pod"].iter().filter_map(|k| col(k)).collect();
    let mut scores = Scores::new();
    for r in rdr.records() {
        let r = r.unwrap_or_else(|e| panic!("bad CSV output: {e}\n{text}"));
        assert_eq!(r.len(), header.len(), "ragged CSV output");
        let key = keys.iter().map(|&k| &r[k]).collect::<Vec<_>>().join("/");
        // Compared as written: a far-future timestamp prints with a 5+ digit year that no
        // input form reads back.
        let bits = r[score].parse::<f32>().expect("a score").to_bits();
        scores.insert((key, r[0].to_string()), bits);
    }
    scores
}

/// Every sample line is `name{labels} value` with a parseable value.
fn check_prometheus(text: &str) {
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let value = line.rsplit(' ').next().expect("a value");
        assert!(value.parse::<f64>().is_ok() || ["NaN", "+Inf", "-Inf"].contains(&value), "bad sample: {line}");
        assert!(line.starts_with("kubelstm_"), "bad sample: {line}");
    }
}

fn compare_with_batch(model: &ScoringModel, bytes: &[u8], streamed: &Scores) {
    let options: LoadOptions = model.load_options(true);
    let Ok(mut dataset) = load_reader(bytes, "fuzz.csv", &options) else {
        assert!(streamed.is_empty(), "the stream scored windows of a file the batch loader refuses");
        return;
    };
    // The guarantee is for rows in time order: the batch loader sorts and de-duplicates, a
    // stream cannot (a row that arrives after a later one of its pod is skipped, unless that
    // later one was itself dropped, e.g. for a missing value with nothing to fill it from).
    let reordered = dataset.report.out_of_order_rows > 0
        || dataset.report.skipped.iter().any(|s| s.reason == SkipReason::DuplicateTimestamp);
    if reordered {
        return;
    }
    model.scaler().transform_dataset(&mut dataset).expect("the model's features");
    let mut scorer = BatchScorer::new(model, 1).expect("one worker");
    scorer.per_worker = 3;
    let mut batch = Scores::new();
    score_dataset(&mut scorer, &dataset, model, false, |s| {
        let key = key_parts(s.key).collect::<Vec<_>>().join("/");
        batch.insert((key, format_rfc3339(s.timestamp)), s.score.to_bits());
        Ok(())
    })
    .expect("scoring a loaded dataset");
    assert_eq!(&batch, streamed, "streaming and batch scores differ");
}
