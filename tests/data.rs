//! The data layer end to end: generator round trips, streaming = batch, generic mode, scoring
//! selection, and every bad-input case of ingest (malformed rows, schemas, encodings, sizes)
//! with its asserted message.

use std::path::PathBuf;
use std::process::Command;

use kubelstm::data::options::{FeatureColumns, GenericSpec, SchemaMode};
use kubelstm_testkit::ingest::check as check_ingest;
use kubelstm::data::report::SkipReason;
use kubelstm::data::synthetic::{self, SyntheticConfig};
use kubelstm::data::{
    self, DataArgs, Dataset, FeatureStream, LabelAt, LabelRules, LoadOptions, MissingPolicy, RowParser,
    Scaler, ScalerKind, SplitConfig, Splits,
};

fn small_cfg(pods: usize, rows: usize, seed: u64) -> SyntheticConfig {
    SyntheticConfig { pods, rows, seed, ..SyntheticConfig::default() }
}

fn csv_text(pods: usize, rows: usize) -> String {
    String::from_utf8(synthetic::csv_bytes(&small_cfg(pods, rows, 7)).unwrap().0).unwrap()
}

fn load_str(text: &str, options: &LoadOptions) -> kubelstm::Result<Dataset> {
    data::load_reader(text.as_bytes(), "metrics.csv", options)
}

fn load_err(text: &str, options: &LoadOptions) -> String {
    let e = load_str(text, options).expect_err("the load must fail");
    let msg = kubelstm::cli::error_chain(&e);
    // Whatever the input, the csv_ingest fuzz check must not panic on it either.
    check_ingest(text.as_bytes());
    msg
}

fn defaults() -> LoadOptions {
    LoadOptions::default()
}

fn skip() -> LoadOptions {
    LoadOptions { skip_bad_rows: true, ..LoadOptions::default() }
}

/// Rewrites one cell (data row `row`, 0-based; column by name) of a CSV text.
fn set_cell(text: &str, row: usize, column: &str, value: &str) -> String {
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    let records: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let c = records[0].iter().position(|h| h == column).unwrap_or_else(|| panic!("no column {column}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    for (i, r) in records.iter().enumerate() {
        if i == row + 1 {
            let fields: Vec<&str> = r.iter().enumerate().map(|(j, f)| if j == c { value } else { f }).collect();
            w.write_record(&fields).unwrap();
        } else {
            w.write_record(r).unwrap();
        }
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

fn drop_column(text: &str, columns: &[&str]) -> String {
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    let records: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let keep: Vec<usize> = (0..records[0].len()).filter(|&j| !columns.contains(&&records[0][j])).collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in &records {
        w.write_record(keep.iter().map(|&j| &r[j])).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

fn add_column(text: &str, name: &str, value: impl Fn(usize) -> String) -> String {
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    let mut w = csv::Writer::from_writer(Vec::new());
    for (i, r) in rdr.records().enumerate() {
        let mut r = r.unwrap();
        r.push_field(&if i == 0 { name.to_string() } else { value(i - 1) });
        w.write_record(&r).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

fn bits(ds: &Dataset) -> Vec<Vec<u32>> {
    ds.series.iter().map(|s| s.features.iter().map(|v| v.to_bits()).collect()).collect()
}

// ---------------------------------------------------------------------------------------
// Synthetic cluster

#[test]
fn generator_defaults_have_realistic_anomaly_rate_and_every_rule_fires() {
    let cfg = SyntheticConfig::default();
    let (bytes, streamed) = synthetic::csv_bytes(&cfg).unwrap();
    let ds = data::load_reader(bytes.as_slice(), "gen.csv", &defaults()).unwrap();
    assert_eq!(ds.n_rows(), 100_000);
    assert_eq!(ds.series.len(), 50);
    assert_eq!(ds.n_features(), 65);
    let rate = ds.report.anomaly_rate.unwrap();
    assert!((0.02..=0.10).contains(&rate), "anomaly rate {rate}");
    for r in &ds.report.rules {
        assert!(r.rows > 0, "rule {} never fires", r.rule);
    }
    // The generator's summary comes from the streaming path; it must agree with the batch load.
    assert_eq!(streamed.rules, ds.report.rules);
    assert_eq!(streamed.anomalies, ds.report.anomalies);
    assert_eq!(streamed.rows_loaded, ds.report.rows_loaded);
    // 1-minute samples: 2000 per pod, ~33 h.
    let s = &ds.series[0];
    assert_eq!(s.len(), 2000);
    assert_eq!(s.timestamps[1] - s.timestamps[0], 60);
    assert!(ds.report.warnings.is_empty(), "{:?}", ds.report.warnings);
}

#[test]
fn generator_is_deterministic_and_seeded() {
    let a = synthetic::csv_bytes(&small_cfg(10, 5_000, 3)).unwrap().0;
    let b = synthetic::csv_bytes(&small_cfg(10, 5_000, 3)).unwrap().0;
    let c = synthetic::csv_bytes(&small_cfg(10, 5_000, 4)).unwrap().0;
    assert_eq!(a, b);
    assert_ne!(a, c);
    // Rows not divisible by pods: exactly `rows` rows anyway.
    let ds = synthetic::dataset(&small_cfg(7, 1_000, 1), &defaults()).unwrap();
    assert_eq!(ds.n_rows(), 1_000);
    assert!(synthetic::csv_bytes(&small_cfg(0, 10, 1)).unwrap_err().to_string().contains("--pods"));
}

#[test]
fn in_memory_dataset_equals_loading_the_file() {
    let cfg = small_cfg(6, 3_000, 11);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.csv");
    let report = synthetic::write_csv(&cfg, std::fs::File::create(&path).unwrap(), "m.csv").unwrap();
    let from_file = data::load(&path, &defaults()).unwrap();
    let in_memory = synthetic::dataset(&cfg, &defaults()).unwrap();
    assert_eq!(bits(&from_file), bits(&in_memory));
    assert_eq!(from_file.report.rules, report.rules);
}

#[test]
fn streaming_features_equal_batch_features_bit_for_bit() {
    let text = csv_text(8, 4_000);
    let batch = load_str(&text, &defaults()).unwrap();
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).trim(csv::Trim::All).from_reader(text.as_bytes());
    let mut records = rdr.records();
    let header = records.next().unwrap().unwrap();
    let parser = RowParser::from_header_record("metrics.csv", &header, &defaults()).unwrap();
    let mut stream = FeatureStream::new(parser);
    let mut per_series: std::collections::BTreeMap<String, (Vec<u32>, Vec<u8>)> = Default::default();
    for (i, r) in records.enumerate() {
        let r = r.unwrap();
        let row = stream.push(&r, i as u64 + 2).unwrap().expect("every row gives features");
        let e = per_series.entry(row.key.to_string()).or_default();
        e.0.extend(row.features.iter().map(|v| v.to_bits()));
        e.1.push(row.label.unwrap());
    }
    assert_eq!(per_series.len(), batch.series.len());
    for (s, (key, (features, labels))) in batch.series.iter().zip(&per_series) {
        assert_eq!(s.key.0.join("\u{1f}"), *key);
        assert_eq!(s.features.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), *features, "series {}", s.key);
        assert_eq!(s.labels.as_ref().unwrap(), labels);
    }
    assert_eq!(stream.report().rules, batch.report.rules);
}

#[test]
fn stream_skips_late_rows_and_evicts_idle_series() {
    let text = "t,g,x\n10,a,1\n20,a,2\n15,a,3\n20,b,1\n";
    let args = DataArgs {
        feature_columns: Some("x".into()),
        time_column: Some("t".into()),
        group_columns: vec!["g".into()],
        ..Default::default()
    };
    let options = args.to_options().unwrap();
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    let mut records = rdr.records();
    let parser = RowParser::from_header_record("s", &records.next().unwrap().unwrap(), &options).unwrap();
    let mut stream = FeatureStream::new(parser);
    let got: Vec<bool> =
        records.enumerate().map(|(i, r)| stream.push(&r.unwrap(), i as u64 + 2).unwrap().is_some()).collect();
    assert_eq!(got, [true, true, false, true]);
    assert_eq!(stream.report().skipped[0].reason, SkipReason::LateRow);
    assert_eq!(stream.live_series(), 2);
    assert_eq!(stream.evict_older_than(20), 0);
    assert_eq!(stream.evict_older_than(21), 2);
}

#[test]
fn cli_generate_writes_the_same_bytes_to_a_file_and_to_stdout() {
    let exe = env!("CARGO_BIN_EXE_kubelstm");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.csv");
    let run = |out: &str| {
        Command::new(exe)
            .args(["generate", "--pods", "5", "--rows", "2000", "--seed", "9", "-o", out])
            .output()
            .unwrap()
    };
    let to_file = run(file.to_str().unwrap());
    assert!(to_file.status.success(), "{}", String::from_utf8_lossy(&to_file.stderr));
    let stderr = String::from_utf8_lossy(&to_file.stderr);
    assert!(
        stderr.contains("wrote 2000 rows") && stderr.contains("rules fired") && stderr.contains("cpu_spike"),
        "{stderr}"
    );
    let to_stdout = run("-");
    assert!(to_stdout.status.success());
    assert_eq!(std::fs::read(&file).unwrap(), to_stdout.stdout);
    // Loads back with the same row count.
    assert_eq!(data::load(&file, &defaults()).unwrap().n_rows(), 2000);
    // No temporary files left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    // Bad flags and an unwritable destination exit 2 with a message, no panic.
    let bad = Command::new(exe).args(["generate", "--pods", "0", "-o", "-"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--pods must be between 1 and"));
    let nowhere =
        Command::new(exe).args(["generate", "--rows", "10", "-o", "/nonexistent-dir/x.csv"]).output().unwrap();
    assert_eq!(nowhere.status.code(), Some(2));
    let msg = String::from_utf8_lossy(&nowhere.stderr);
    assert!(msg.contains("error: could not create") && !msg.contains("panicked"), "{msg}");
}

// ---------------------------------------------------------------------------------------
// Schema, features, labels

#[test]
fn kubernetes_features_are_named_as_in_the_original() {
    let ds = load_str(&csv_text(2, 40), &defaults()).unwrap();
    let names = &ds.feature_names;
    assert_eq!(&names[..3], ["CPU Usage (%)", "Memory Usage (%)", "Pod Restarts"]);
    for want in [
        "CPU Usage (%)_rate",
        "CPU Usage (%)_rate_change",
        "Ready Containers_rolling_std_3",
        "Network Transmit Packets Dropped (p/s)_rolling_mean_3",
        "Container_Readiness_Ratio",
        "CPU_Utilization_Ratio",
        "Memory_Utilization_Ratio",
        "Network_Total_Bytes",
        "FS_Total_Operations",
        "Event Count",
        "Total Containers",
    ] {
        assert!(names.iter().any(|n| n == want), "missing feature {want}");
    }
    assert_eq!(ds.group_columns, ["Namespace", "Pod Name"]);
    assert_eq!(ds.series[0].key.0.len(), 2);
}

#[test]
fn missing_optional_columns_switch_features_off_with_a_warning() {
    let text = drop_column(&csv_text(2, 40), &["CPU Limits (%)", "Event Message", "Event Count"]);
    let ds = load_str(&text, &defaults()).unwrap();
    assert!(!ds.feature_names.iter().any(|n| n == "CPU_Utilization_Ratio" || n == "Event Count"));
    assert!(ds.feature_names.iter().any(|n| n == "Memory_Utilization_Ratio"));
    let w = ds.report.warnings.join("\n");
    assert!(
        w.contains("optional column 'CPU Limits (%)' is missing: feature 'CPU_Utilization_Ratio' is switched off"),
        "{w}"
    );
    assert!(w.contains("'Event Count' is missing"), "{w}");
    // Extra unknown columns are ignored.
    let extra = add_column(&csv_text(2, 40), "extra", |_| "zzz".into());
    assert_eq!(load_str(&extra, &defaults()).unwrap().n_rows(), 40);
}

#[test]
fn rules_file_changes_thresholds_and_counts() {
    let text = csv_text(10, 5_000);
    let base = load_str(&text, &defaults()).unwrap();
    let rules = LabelRules::from_toml("[cpu_spike]\nabove = 1000.0\n", "r.toml").unwrap();
    let strict = load_str(&text, &LoadOptions { rules: Some(rules), ..defaults() }).unwrap();
    let count = |ds: &Dataset, name: &str| ds.report.rules.iter().find(|r| r.rule == name).unwrap().rows;
    assert!(count(&base, "cpu_spike") > 0);
    assert_eq!(count(&strict, "cpu_spike"), 0);
    assert_eq!(count(&strict, "memory_high"), count(&base, "memory_high"));
    // A rule that fires on everything: the loud warning.
    let everything = LabelRules::from_toml("[memory_high]\nabove = 0\n", "r.toml").unwrap();
    let ds = load_str(&text, &LoadOptions { rules: Some(everything), ..defaults() }).unwrap();
    assert!(ds.report.warnings.iter().any(|w| w.contains("labelled anomalous: labels this common are not useful")));
}

#[test]
fn label_column_wins_over_rules() {
    let text = add_column(&csv_text(2, 20), "anomaly", |i| if i < 19 { "1" } else { "0" }.into());
    let ds = load_str(&text, &defaults()).unwrap();
    assert!(ds.report.rules.is_empty());
    assert_eq!(ds.report.anomalies, Some(19));
    assert!(!ds.feature_names.iter().any(|n| n == "anomaly"));
    let bad = set_cell(&text, 4, "anomaly", "maybe");
    let e = load_err(&bad, &defaults());
    assert!(e.contains("metrics.csv, line 6, column 'anomaly': label 'maybe' is not 0 or 1"), "{e}");
}

#[test]
fn generic_mode_with_time_groups_labels_and_derived_features() {
    let text = "ts,host,load,temp,label,note\n\
                2024-01-01 00:02:00,h1,3,20,0,x\n\
                2024-01-01 00:00:00,h1,1,21,0,y\n\
                2024-01-01 00:01:00,h1,2,22,1,z\n\
                2024-01-01 00:00:00,h2,5,30,0,w\n";
    let args = DataArgs {
        feature_columns: Some("all".into()),
        time_column: Some("ts".into()),
        group_columns: vec!["host".into()],
        derived_features: true,
        ..Default::default()
    };
    let ds = load_str(text, &args.to_options().unwrap()).unwrap();
    assert_eq!(ds.feature_names[..2], ["load", "temp"]);
    assert_eq!(ds.n_features(), 2 + 8);
    assert_eq!(ds.series.len(), 2);
    let h1 = &ds.series[0];
    assert_eq!(h1.key.to_string(), "h1");
    assert_eq!(h1.labels.as_deref(), Some(&[0u8, 1, 0][..]));
    // Sorted by time: load 1, 2, 3 -> rate 0, 1, 1.
    let f = ds.n_features();
    assert_eq!((0..3).map(|t| h1.row(t, f)[0]).collect::<Vec<_>>(), [1.0, 2.0, 3.0]);
    assert_eq!((0..3).map(|t| h1.row(t, f)[2]).collect::<Vec<_>>(), [0.0, 1.0, 1.0]);
    assert_eq!(ds.report.out_of_order_rows, 2); // 00:00 and 00:01 came after 00:02

    // No time column: row order is time; no group: one series.
    let plain = DataArgs { feature_columns: Some("load,temp".into()), ..Default::default() };
    let ds = load_str(text, &plain.to_options().unwrap()).unwrap();
    assert_eq!(ds.series.len(), 1);
    assert_eq!(ds.series[0].timestamps, [0, 1, 2, 3]);
    assert_eq!(ds.series[0].key.to_string(), "(all rows)");
    assert!(ds.time_column.is_none());
}

#[test]
fn scoring_selects_the_model_features_by_name_from_a_wider_file() {
    // Train on generic data; score a file that has the same columns plus others, reordered.
    let train = "t,a,b,c\n1,1,10,100\n2,2,20,200\n3,4,40,400\n";
    let args = DataArgs {
        feature_columns: Some("a,b".into()),
        time_column: Some("t".into()),
        derived_features: true,
        ..Default::default()
    };
    let trained = load_str(train, &args.to_options().unwrap()).unwrap();
    let spec = trained.pipeline().clone();
    let spec = serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
    let wider = "extra,c,b,t,a,label\nq,100,10,1,1,0\nq,200,20,2,2,1\nq,400,40,3,4,0\n";
    let scored = load_str(wider, &LoadOptions::for_scoring(&spec)).unwrap();
    assert_eq!(scored.feature_names, trained.feature_names);
    assert_eq!(bits(&scored), bits(&trained));
    // A subset in another order (what a model saved) is honoured.
    let subset = vec!["b_rate".to_string(), "a".to_string()];
    let opts = LoadOptions { select_features: Some(subset.clone()), ..args.to_options().unwrap() };
    let ds = load_str(train, &opts).unwrap();
    assert_eq!(ds.feature_names, subset);
    assert_eq!(ds.series[0].row(2, 2), [20.0, 4.0]);
    // Kubernetes: the model's names picked out of a full file.
    let k8s = csv_text(2, 30);
    let full = load_str(&k8s, &defaults()).unwrap();
    let pick = vec!["Memory Usage (%)_rate".to_string(), "CPU Usage (%)".to_string()];
    let sel = load_str(&k8s, &LoadOptions { select_features: Some(pick), ..defaults() }).unwrap();
    let f = full.n_features();
    let (mr, cpu) = (full.feature_names.iter().position(|n| n == "Memory Usage (%)_rate").unwrap(), 0);
    assert_eq!(sel.series[1].row(7, 2), [full.series[1].row(7, f)[mr], full.series[1].row(7, f)[cpu]]);
    assert_eq!(sel.series[1].labels, full.series[1].labels);
    // A feature the file cannot provide.
    let e =
        load_err(&k8s, &LoadOptions { select_features: Some(vec!["GPU Usage".into(), "x_rate".into()]), ..defaults() });
    assert!(e.contains("the model needs features 'GPU Usage', 'x_rate' which this file cannot provide"), "{e}");
}

#[test]
fn pipeline_to_scaler_to_windows() {
    let mut ds = synthetic::dataset(&small_cfg(12, 12_000, 5), &defaults()).unwrap();
    let cfg = SplitConfig::new(0.2, 0.2, 10, LabelAt::Next).unwrap();
    let splits = Splits::new(&ds.series, &cfg).unwrap();
    splits.require_both_classes(&ds.series).unwrap();
    let f = ds.n_features();
    let (scaler, warnings) =
        Scaler::fit(ScalerKind::MinMax, &ds.feature_names, &splits.train_rows(&ds.series, f)).unwrap();
    assert!(warnings.iter().all(|w| w.contains("constant")), "{warnings:?}");
    scaler.transform_dataset(&mut ds).unwrap();
    // Training rows land in [0, 1].
    for b in splits.train_rows(&ds.series, f) {
        assert!(b.iter().all(|&v| (0.0..=1.0).contains(&v)));
    }
    let weights = data::class_weights(splits.train.labels(&ds.series).unwrap(), "training").unwrap();
    assert!(weights[1] > weights[0]);
    let batch: Vec<usize> = (0..32).collect();
    let mut x = vec![0.0; 10 * 32 * f];
    splits.train.gather(&ds.series, f, &batch, &mut x);
    let w = splits.train.windows[5];
    assert_eq!(&x[(3 * 32 + 5) * f..(3 * 32 + 6) * f], ds.series[w.series as usize].row(w.start as usize + 3, f));
}

#[test]
fn scoring_labels_come_from_the_same_source_as_in_training() {
    let k8s = csv_text(3, 600);
    // Trained with custom rules: scoring applies the same rules (from the saved spec).
    let rules = LabelRules::from_toml("[cpu_spike]\nabove = 1000.0\n", "r.toml").unwrap();
    let trained = load_str(&k8s, &LoadOptions { rules: Some(rules), ..defaults() }).unwrap();
    let spec: data::PipelineSpec = serde_json::from_str(&serde_json::to_string(trained.pipeline()).unwrap()).unwrap();
    let scored = load_str(&k8s, &LoadOptions::for_scoring(&spec)).unwrap();
    assert_eq!(scored.report.rules, trained.report.rules);
    // Trained on a label column: a scoring file without it has no labels (not the rules').
    let labelled = add_column(&k8s, "anomaly", |i| ((i % 50 == 0) as u8).to_string());
    let trained = load_str(&labelled, &defaults()).unwrap();
    assert_eq!(trained.labels, data::LabelSource::Column { name: "anomaly".into() });
    let unlabelled = load_str(&k8s, &LoadOptions::for_scoring(trained.pipeline())).unwrap();
    assert!(!unlabelled.has_labels() && unlabelled.report.rules.is_empty());
    assert_eq!(bits(&unlabelled), bits(&trained));
    let relabelled = load_str(&labelled, &LoadOptions::for_scoring(trained.pipeline())).unwrap();
    assert_eq!(relabelled.report.anomalies, trained.report.anomalies);
}

// ---------------------------------------------------------------------------------------
// Bad input to ingest: each case's outcome and message

#[test]
fn empty_file_and_header_only() {
    let e = load_err("", &defaults());
    assert!(e.contains("metrics.csv: the file is empty"), "{e}");
    let e = load_err("\n\n", &defaults());
    assert!(e.contains("the file is empty"), "{e}");
    let header = csv_text(1, 1).lines().next().unwrap().to_string() + "\n";
    let e = load_err(&header, &defaults());
    assert!(e.contains("metrics.csv: the file has a header but no data rows"), "{e}");
}

#[test]
fn missing_required_columns_are_all_listed() {
    let text = drop_column(&csv_text(1, 5), &["Node Name", "Pod Status", "Total Containers"]);
    let e = load_err(&text, &defaults());
    assert!(e.contains("missing required columns 'Node Name', 'Pod Status', 'Total Containers'"), "{e}");
    let renamed = csv_text(1, 5).replacen("Pod Restarts", "pod restarts", 1);
    let e = load_err(&renamed, &defaults());
    assert!(e.contains("'Pod Restarts' (the file has 'pod restarts'; names are exact)"), "{e}");
}

#[test]
fn no_recognised_schema_says_which_flags_to_pass() {
    let e = load_err("a,b\n1,2\n", &defaults());
    assert!(e.contains("no recognised schema") && e.contains("--feature-columns all"), "{e}");
    let opts = DataArgs { feature_columns: Some("a,zz".into()), ..Default::default() }.to_options().unwrap();
    let e = load_err("a,b\n1,2\n", &opts);
    assert!(e.contains("column not in the file: 'zz' (--feature-columns)"), "{e}");
}

#[test]
fn duplicated_column_names() {
    let text = csv_text(1, 5).replacen("Event Count\n", "CPU Usage (%)\n", 1);
    let e = load_err(&text, &defaults());
    assert!(e.contains("duplicated column name 'CPU Usage (%)' (columns 7 and 23)"), "{e}");
    // A duplicated column the load does not use is only a warning.
    let text = add_column(&add_column(&csv_text(1, 5), "x", |_| "1".into()), "x", |_| "2".into());
    let ds = load_str(&text, &defaults()).unwrap();
    assert!(ds.report.warnings.iter().any(|w| w.contains("'x' (columns 24 and 25) appears more than once")));
}

#[test]
fn bad_cells_name_file_line_and_column() {
    let text = csv_text(2, 20);
    let cases = [
        ("CPU Usage (%)", "abc", "line 5, column 'CPU Usage (%)': 'abc' is not a number"),
        ("Memory Usage (%)", "inf", "line 5, column 'Memory Usage (%)': infinite value 'inf'"),
        ("Memory Usage (%)", "-inf", "infinite value '-inf'"),
        ("Network Receive Bytes", "1e39", "value 1e39 is beyond the f32 range"),
        ("Pod Restarts", "-1", "column 'Pod Restarts': negative value -1: this column counts or measures something"),
        ("Timestamp", "yesterday", "column 'Timestamp': cannot parse timestamp 'yesterday': expected RFC 3339"),
        ("Timestamp", "2024-02-30 10:00:00", "cannot parse timestamp '2024-02-30 10:00:00'"),
        ("Pod Name", "", "column 'Pod Name': empty series name"),
    ];
    for (column, value, want) in cases {
        let bad = set_cell(&text, 3, column, value);
        let e = load_err(&bad, &defaults());
        assert!(e.contains(want), "{column}={value}: {e}");
        assert!(e.contains("metrics.csv, line 5") && e.contains("--skip-bad-rows skips such rows"), "{e}");
        // Skipped and counted under --skip-bad-rows.
        let ds = load_str(&bad, &skip()).unwrap();
        assert_eq!(ds.n_rows(), 19, "{column}={value}");
        assert_eq!(ds.report.rows_skipped(), 1);
        assert!(ds.report.skipped[0].first.contains("line 5"), "{:?}", ds.report.skipped);
    }
    // Values near the f32 limit are accepted; derived values saturate instead of overflowing.
    let big = set_cell(&set_cell(&text, 3, "Network Receive Bytes", "3.4e38"), 3, "Network Transmit Bytes", "3.4e38");
    let ds = load_str(&big, &defaults()).unwrap();
    assert!(ds.series.iter().all(|s| s.features.iter().all(|v| v.is_finite())));
}

#[test]
fn ragged_rows() {
    let mut text = csv_text(1, 6);
    text.push_str("2024-03-04T00:06:00Z,a,b\n");
    let e = load_err(&text, &defaults());
    assert!(e.contains("metrics.csv, line 8: this row has 3 fields but the header has 23"), "{e}");
    let ds = load_str(&text, &skip()).unwrap();
    assert_eq!((ds.n_rows(), ds.report.skipped[0].reason), (6, SkipReason::RaggedRow));
}

#[test]
fn bom_and_crlf_are_accepted() {
    let text = csv_text(3, 60);
    let plain = load_str(&text, &defaults()).unwrap();
    let crlf = format!("\u{feff}{}", text.replace('\n', "\r\n"));
    let with_bom = load_str(&crlf, &defaults()).unwrap();
    assert_eq!(bits(&plain), bits(&with_bom));
    assert_eq!(plain.report.rules, with_bom.report.rules);
}

#[test]
fn invalid_utf8_is_an_error_with_its_line() {
    let mut bytes = csv_text(1, 5).into_bytes();
    // Start of line 4, after its 21-byte timestamp and comma: the first bytes of 'Pod Name'.
    let line4 = bytes.iter().enumerate().filter(|(_, &b)| b == b'\n').nth(2).unwrap().0 + 1;
    bytes.splice(line4 + 21..line4 + 21, [0xff, 0xfe]);
    let e = data::load_reader(bytes.as_slice(), "metrics.csv", &defaults()).unwrap_err().to_string();
    assert!(e.contains("metrics.csv, line 4, column 'Pod Name': invalid UTF-8"), "{e}");
    check_ingest(&bytes);
    let ds = data::load_reader(bytes.as_slice(), "metrics.csv", &skip()).unwrap();
    assert_eq!((ds.n_rows(), ds.report.skipped[0].reason), (4, SkipReason::InvalidUtf8));
}

#[test]
fn out_of_order_rows_are_sorted_and_duplicates_keep_the_last() {
    let text = csv_text(1, 30);
    let sorted = load_str(&text, &defaults()).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1..].reverse();
    let reversed = lines.join("\n") + "\n";
    let ds = load_str(&reversed, &defaults()).unwrap();
    assert_eq!(bits(&ds), bits(&sorted));
    assert_eq!(ds.report.out_of_order_rows, 29);
    // Duplicate timestamp: the later row in the file wins, the earlier is counted.
    let mut with_dup: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut changed = with_dup[10].split(',').map(str::to_owned).collect::<Vec<_>>();
    changed[6] = "77.000".into(); // CPU of a second delivery of row 9's sample
    with_dup.push(changed.join(","));
    let ds = load_str(&(with_dup.join("\n") + "\n"), &defaults()).unwrap();
    assert_eq!(ds.n_rows(), 30);
    assert_eq!(ds.series[0].row(9, ds.n_features())[0], 77.0);
    let s = &ds.report.skipped[0];
    assert_eq!((s.reason, s.rows), (SkipReason::DuplicateTimestamp, 1));
    assert!(s.first.contains("line 11") && s.first.contains("(line 32); the later row is kept"), "{}", s.first);
}

#[test]
fn missing_values_follow_the_policy() {
    let text = set_cell(&set_cell(&csv_text(1, 10), 4, "CPU Usage (%)", ""), 0, "FS Reads Total (MB)", "NaN");
    let ff = load_str(&text, &defaults()).unwrap();
    // Row 0 has nothing to carry forward: dropped. Row 4 takes row 3's CPU.
    assert_eq!(ff.n_rows(), 9);
    let f = ff.n_features();
    assert_eq!(ff.series[0].row(3, f)[0], ff.series[0].row(2, f)[0]);
    assert_eq!(ff.report.missing_filled[0].column, "CPU Usage (%)");
    assert_eq!(ff.report.missing_filled[0].count, 1);
    assert_eq!(ff.report.skipped[0].reason, SkipReason::MissingNoPriorValue);
    let zero = load_str(&text, &LoadOptions { missing: MissingPolicy::Zero, ..defaults() }).unwrap();
    assert_eq!((zero.n_rows(), zero.series[0].row(4, f)[0]), (10, 0.0));
    let drop = load_str(&text, &LoadOptions { missing: MissingPolicy::Drop, ..defaults() }).unwrap();
    assert_eq!(drop.n_rows(), 8);
    let e = load_err(&text, &LoadOptions { missing: MissingPolicy::Error, ..defaults() });
    assert!(e.contains("line 2, column 'FS Reads Total (MB)': missing value 'NaN' (--missing error"), "{e}");
}

#[test]
fn nothing_usable_is_an_error_not_an_empty_dataset() {
    let text = set_cell(&csv_text(1, 3), 0, "CPU Usage (%)", "x");
    let text = set_cell(&set_cell(&text, 1, "CPU Usage (%)", "x"), 2, "CPU Usage (%)", "x");
    let e = load_err(&text, &skip());
    assert!(e.contains("no usable rows: 3 rows read, all left out (3 bad numeric value)"), "{e}");
}

#[test]
fn flag_values_are_checked() {
    let e = DataArgs { feature_columns: Some("a,,b".into()), ..Default::default() }.to_options().unwrap_err();
    assert!(e.to_string().contains("--feature-columns has an empty name"));
    let e = DataArgs { feature_columns: Some("a,a".into()), ..Default::default() }.to_options().unwrap_err();
    assert!(e.to_string().contains("names 'a' twice"));
    let e = DataArgs { rules: Some(PathBuf::from("/nonexistent/rules.toml")), ..Default::default() }
        .to_options()
        .unwrap_err();
    assert!(kubelstm::cli::error_chain(&e).contains("could not read the rules file /nonexistent/rules.toml"));
    let generic = SchemaMode::Generic(GenericSpec {
        features: FeatureColumns::Names(vec!["t".into()]),
        time_column: Some("t".into()),
        group_columns: vec![],
        derived: false,
    });
    let e = load_err("t,x\n1,2\n", &LoadOptions { schema: generic, ..defaults() });
    assert!(e.contains("'t' is both a feature column and the time, group or label column"), "{e}");
}

// ---------------------------------------------------------------------------------------
// Fuzz corpus mutations on stable (the corpus itself is replayed by
// reliability::every_fuzz_corpus_replays)

fn corpus() -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/csv_ingest");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect()
}

mod mutations {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(150))]
        /// Byte-level mutations of the seed corpus (what the fuzzer does, bounded, on stable).
        #[test]
        fn mutated_corpus_never_panics(pick in any::<prop::sample::Index>(),
                                       edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8)) {
            let files = corpus();
            let mut bytes = files[pick.index(files.len())].1.clone();
            for (at, byte, op) in edits {
                let i = if bytes.is_empty() { 0 } else { at.index(bytes.len()) };
                match op {
                    0 if !bytes.is_empty() => bytes[i] = byte,
                    1 => bytes.insert(i, byte),
                    _ if !bytes.is_empty() => { bytes.remove(i); }
                    _ => bytes.push(byte),
                }
            }
            check_ingest(&bytes);
        }
    }
}

/// Loading 1,000,000 generated rows: run with
/// `cargo test --release --test main data::load_one_million_rows -- --ignored --nocapture`
/// (peak memory: `examples/load_csv` under `/usr/bin/time -v`).
#[test]
#[ignore]
fn load_one_million_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.csv");
    let t = std::time::Instant::now();
    synthetic::write_csv(
        &SyntheticConfig { rows: 1_000_000, ..Default::default() },
        std::io::BufWriter::new(std::fs::File::create(&path).unwrap()),
        "m.csv",
    )
    .unwrap();
    let generated = t.elapsed();
    let t = std::time::Instant::now();
    let ds = data::load(&path, &defaults()).unwrap();
    let loaded = t.elapsed();
    println!(
        "generated 1M rows ({} MB) in {:.2} s, loaded in {:.2} s; anomaly rate {:.2} %",
        std::fs::metadata(&path).unwrap().len() / 1_000_000,
        generated.as_secs_f64(),
        loaded.as_secs_f64(),
        100.0 * ds.report.anomaly_rate.unwrap()
    );
    assert_eq!(ds.n_rows(), 1_000_000);
    assert!(loaded.as_secs() < 30);
}

/// The default synthetic data's next-row labels are learnable from the previous 10 rows:
/// even a linear model on the flattened window (trained through the real split, scaler,
/// gather and class weights) ranks the test windows well. The LSTM has to do at least as well.
#[test]
fn synthetic_next_row_labels_are_learnable_by_a_linear_model() {
    use rand::{seq::SliceRandom, SeedableRng};
    let mut ds = synthetic::dataset(&SyntheticConfig::default(), &defaults()).unwrap();
    let t_len = 10;
    let splits = Splits::new(&ds.series, &SplitConfig::new(0.2, 0.2, t_len, LabelAt::Next).unwrap()).unwrap();
    splits.require_both_classes(&ds.series).unwrap();
    let f = ds.n_features();
    let (scaler, _) = Scaler::fit(ScalerKind::MinMax, &ds.feature_names, &splits.train_rows(&ds.series, f)).unwrap();
    scaler.transform_dataset(&mut ds).unwrap();
    let weights = data::class_weights(splits.train.labels(&ds.series).unwrap(), "training").unwrap();
    let d = t_len * f;
    // Every window flattened (a (T, B=1, F) gather is a (T, F) row): (N, T·F).
    let flatten = |w: &data::WindowIndex| -> (Vec<f32>, Vec<f32>) {
        let idx: Vec<usize> = (0..w.len()).collect();
        let mut x = vec![0.0; w.len() * d];
        for (chunk, i) in x.chunks_exact_mut(d).zip(&idx) {
            w.gather(&ds.series, f, &[*i], chunk);
        }
        let mut y = vec![0.0; w.len()];
        w.gather_labels(&ds.series, &idx, &mut y);
        (x, y)
    };
    let (xtr, ytr) = flatten(&splits.train);
    let (xte, yte) = flatten(&splits.test);
    let (mut wt, mut b) = (vec![0.0f32; d], 0.0f32);
    let mut order: Vec<usize> = (0..ytr.len()).collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let score = |w: &[f32], b: f32, x: &[f32]| w.iter().zip(x).map(|(a, c)| a * c).sum::<f32>() + b;
    for epoch in 0..4 {
        order.shuffle(&mut rng);
        let lr = 0.05 / (1.0 + epoch as f32);
        for &i in &order {
            let x = &xtr[i * d..(i + 1) * d];
            let p = 1.0 / (1.0 + (-score(&wt, b, x)).exp());
            let g = (p - ytr[i]) * weights[ytr[i] as usize] * lr;
            for (wj, xj) in wt.iter_mut().zip(x) {
                *wj -= g * xj + lr * 1e-5 * *wj;
            }
            b -= g;
        }
    }
    let scores: Vec<f32> = xte.chunks_exact(d).map(|x| score(&wt, b, x)).collect();
    // ROC-AUC by ranks (ties averaged).
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &c| scores[a].total_cmp(&scores[c]));
    let (mut rank_sum, mut i) = (0.0f64, 0);
    while i < idx.len() {
        let mut j = i;
        while j < idx.len() && scores[idx[j]] == scores[idx[i]] {
            j += 1;
        }
        let avg = (i + j + 1) as f64 / 2.0;
        rank_sum += avg * idx[i..j].iter().filter(|&&k| yte[k] == 1.0).count() as f64;
        i = j;
    }
    let n1 = yte.iter().filter(|&&v| v == 1.0).count() as f64;
    let n0 = yte.len() as f64 - n1;
    let auc = (rank_sum - n1 * (n1 + 1.0) / 2.0) / (n0 * n1);
    println!("linear model, test ROC-AUC {auc:.4} on {} windows ({} anomalous)", yte.len(), n1);
    assert!(auc >= 0.95, "test ROC-AUC {auc}");
}
