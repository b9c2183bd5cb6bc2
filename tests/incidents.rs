//! Incidents end to end: `detect --events` against incidents rebuilt from detect's
//! own per-window rows, batch = `--follow`, both formats, the flag errors, and `evaluate`'s
//! event metrics on a file whose faults are known.
//!
//! One tiny unsupervised autoencoder (widths 8/4, one epoch) is trained on a normal generic
//! file `t,host,x,y` (two hosts, 30 s steps); the scored file adds spikes of 10⁶ (the scaled
//! error is ~10⁹ where normal windows score below 1, so `--threshold 100` separates them
//! whatever the one epoch learnt) and a `label` column.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use clap::Parser;
use kubelstm::cli::{Cli, Command as Sub};
use serde_json::Value;

use crate::support::{assert_error, kubelstm, path, stderr, EXE};

const T: usize = 5;
const ROWS: usize = 400;
const STEP: i64 = 30;
const T0: i64 = 1_700_000_000;

struct Fixture {
    dir: PathBuf,
    model: PathBuf,
    /// Host `a`: spike and label on rows 200..=204. Host `b`: spike on rows 100..=101 with no
    /// label (a false incident), label on rows 300..=304 with no spike (a missed segment).
    scored: PathBuf,
}

fn value(host: usize, row: usize) -> (f64, f64) {
    let x = (row as f64 * 0.1 + host as f64).sin() * 10.0 + 20.0;
    (x, 5.0 + (row % 7) as f64)
}

fn write_file(path: &PathBuf, faults: bool) {
    let mut s = String::from(if faults { "t,host,x,y,label\n" } else { "t,host,x,y\n" });
    for row in 0..ROWS {
        for (h, host) in ["a", "b"].iter().enumerate() {
            let (mut x, y) = value(h, row);
            let spike = faults && ((h == 0 && (200..=204).contains(&row)) || (h == 1 && (100..=101).contains(&row)));
            let label = faults && ((h == 0 && (200..=204).contains(&row)) || (h == 1 && (300..=304).contains(&row)));
            if spike {
                x = 1e6;
            }
            let t = T0 + row as i64 * STEP;
            if faults {
                s += &format!("{t},{host},{x},{y},{}\n", u8::from(label));
            } else {
                s += &format!("{t},{host},{x},{y}\n");
            }
        }
    }
    std::fs::write(path, s).unwrap();
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("incidents_fixture");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (train_csv, scored) = (dir.join("normal.csv"), dir.join("faults.csv"));
        write_file(&train_csv, false);
        write_file(&scored, true);
        let argv: Vec<String> = [
            "kubelstm",
            "train",
            "--epochs",
            "1",
            "--threads",
            "1",
            "--lstm-units",
            "8",
            "4",
            "--dense-units",
            "8",
            "4",
            "--output-dir",
            path(&dir.join("runs")),
            "--data-path",
            path(&train_csv),
            "--use-autoencoder",
            "--mode",
            "unsupervised",
            "--feature-columns",
            "x,y",
            "--time-column",
            "t",
            "--group-columns",
            "host",
            "--sequence-length",
            "5",
            "--label-at",
            "last",
        ]
        .map(String::from)
        .to_vec();
        let Sub::Train(args) = Cli::try_parse_from(&argv).expect("train flags").command else { unreachable!() };
        let settings = args.settings().expect("valid settings");
        let result = kubelstm::train::job::run(&settings, Arc::new(AtomicBool::new(false))).expect("training");
        Fixture { dir, model: result.run_dir, scored }
    })
}

fn csv_rows(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header = rdr.headers().unwrap().iter().map(String::from).collect();
    (header, rdr.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect())
}

fn detect(extra: &[&str]) -> String {
    let fx = fixture();
    let mut args = vec!["detect", "--model", path(&fx.model), "--data", path(&fx.scored), "--threshold", "100", "-q"];
    args.extend_from_slice(extra);
    let o = kubelstm(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    String::from_utf8(o.stdout).unwrap()
}

/// (host, start, end, windows, anomalous, peak score) rebuilt from per-window rows.
type Rebuilt = Vec<(String, String, String, u64, u64, String)>;

/// The merge rule written out independently over detect's window rows (grouped by host, in
/// time order): a run of anomalous windows continues across at most `gap` normal ones.
fn rebuild(windows_csv: &str, gap: usize) -> Rebuilt {
    let (header, rows) = csv_rows(windows_csv);
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let (ct, ch, cs, ca) = (col("timestamp"), col("host"), col("score"), col("anomaly"));
    let mut out = Rebuilt::new();
    for host in ["a", "b"] {
        let pod: Vec<&Vec<String>> = rows.iter().filter(|r| r[ch] == host).collect();
        let mut i = 0;
        while i < pod.len() {
            if pod[i][ca] != "1" {
                i += 1;
                continue;
            }
            let (start, mut last, mut normal) = (i, i, 0);
            let mut j = i + 1;
            while j < pod.len() && normal <= gap {
                if pod[j][ca] == "1" {
                    last = j;
                    normal = 0;
                } else {
                    normal += 1;
                }
                j += 1;
            }
            let span = &pod[start..=last];
            let anomalous = span.iter().filter(|r| r[ca] == "1").count() as u64;
            let peak = span.iter().map(|r| r[cs].parse::<f32>().unwrap()).fold(f32::MIN, f32::max);
            out.push((
                host.into(),
                pod[start][ct].clone(),
                pod[last][ct].clone(),
                span.len() as u64,
                anomalous,
                peak.to_string(),
            ));
            i = last + 1;
        }
    }
    out
}

fn from_events(events_csv: &str) -> Rebuilt {
    let (header, rows) = csv_rows(events_csv);
    let col = |n: &str| header.iter().position(|h| h == n).unwrap_or_else(|| panic!("no column {n}: {header:?}"));
    let mut got: Rebuilt = rows
        .iter()
        .map(|r| {
            (
                r[col("host")].clone(),
                r[col("start")].clone(),
                r[col("end")].clone(),
                r[col("windows")].parse().unwrap(),
                r[col("anomalous_windows")].parse().unwrap(),
                r[col("peak_score")].clone(),
            )
        })
        .collect();
    got.sort();
    got
}

#[test]
fn events_are_the_window_rows_merged_by_the_gap_rule() {
    let windows = detect(&[]);
    for gap in ["0", "2", "200"] {
        let events = detect(&["--events", "--merge-gap", gap]);
        let mut want = rebuild(&windows, gap.parse().unwrap());
        want.sort();
        assert_eq!(from_events(&events), want, "--merge-gap {gap}");
    }
    // At the default gap: one incident per spike, covering every window that holds a spike row.
    let got = from_events(&detect(&["--events"]));
    assert_eq!(got.len(), 2, "{got:?}");
    let at = |row: usize| kubelstm_time(T0 + row as i64 * STEP);
    assert_eq!((got[0].0.as_str(), &got[0].1, &got[0].2, got[0].3), ("a", &at(200), &at(204 + T - 1), 9));
    assert_eq!((got[1].0.as_str(), &got[1].1, &got[1].2, got[1].3), ("b", &at(100), &at(101 + T - 1), 6));
    let (header, rows) = csv_rows(&detect(&["--events", "--top-features", "2"]));
    let dur = header.iter().position(|h| h == "duration_seconds").unwrap();
    assert_eq!(rows[0][dur], ((204 + T as i64 - 1 - 200) * STEP).to_string());
    // The spike is in x: it carries the incident.
    let f1 = header.iter().position(|h| h == "feature_1").unwrap();
    assert!(rows.iter().all(|r| r[f1] == "x"), "{rows:?}");
}

/// RFC 3339 as detect writes it (UTC, `Z`).
fn kubelstm_time(secs: i64) -> String {
    let mut s = String::new();
    kubelstm::data::time::push_rfc3339(&mut s, secs);
    s
}

/// `metric{host="…"} value` of the Prometheus output, for one host.
fn gauge(text: &str, metric: &str, host: &str) -> Option<String> {
    let prefix = format!("{metric}{{host=\"{host}\"}} ");
    text.lines().find_map(|l| l.strip_prefix(&prefix)).map(str::to_owned)
}

#[test]
fn prometheus_incident_gauges_follow_the_events() {
    // Default gap: both spikes are over long before the file ends.
    let text = detect(&["--format", "prometheus"]);
    for host in ["a", "b"] {
        assert_eq!(gauge(&text, "kubelstm_incident_open", host).as_deref(), Some("0"), "{text}");
        assert_eq!(gauge(&text, "kubelstm_incidents_total", host).as_deref(), Some("1"), "{text}");
        assert_eq!(gauge(&text, "kubelstm_incident_start_timestamp_seconds", host), None);
    }
    // A gap of 200 windows: a's spike (row 200) is fewer than 200 windows from the end, so its
    // incident is still open, as --events writes it at the end; b's (row 100) closed.
    let text = detect(&["--format", "prometheus", "--merge-gap", "200"]);
    let events = from_events(&detect(&["--events", "--merge-gap", "200"]));
    assert_eq!(events.len(), 2, "{events:?}");
    let a = events.iter().find(|e| e.0 == "a").unwrap();
    assert_eq!(gauge(&text, "kubelstm_incident_open", "a").as_deref(), Some("1"), "{text}");
    assert_eq!(gauge(&text, "kubelstm_incident_open", "b").as_deref(), Some("0"), "{text}");
    let start = gauge(&text, "kubelstm_incident_start_timestamp_seconds", "a").unwrap();
    assert_eq!(kubelstm_time(start.parse().unwrap()), a.1);
    assert_eq!(gauge(&text, "kubelstm_incident_peak_score", "a").unwrap(), a.5, "the same f32 as --events");
    assert_eq!(gauge(&text, "kubelstm_anomaly", "a").as_deref(), Some("0"), "the latest window is normal");
    // --merge-gap means nothing to per-window CSV.
    let fx = fixture();
    let o = kubelstm(&["detect", "--model", path(&fx.model), "--data", path(&fx.scored), "--merge-gap", "3"]);
    assert_error(&o, &["--merge-gap", "--events"]);
}

#[test]
fn follow_writes_the_same_incidents_as_batch_and_jsonl_parses() {
    let fx = fixture();
    let batch = detect(&["--events", "--format", "jsonl"]);
    let o = Command::new(EXE)
        .args(["detect", "--model", path(&fx.model), "--follow", "--events", "--format", "jsonl"])
        .args(["--threshold", "100", "-q"])
        .stdin(std::fs::File::open(&fx.scored).unwrap())
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let parse = |text: &str| -> Vec<Value> {
        let mut v: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        v.sort_by_key(|e| e["start"].as_str().unwrap().to_string());
        v
    };
    let (b, f) = (parse(&batch), parse(&String::from_utf8(o.stdout).unwrap()));
    assert_eq!(b, f);
    assert_eq!(b.len(), 2);
    for e in &b {
        assert!(e["peak_score"].as_f64().unwrap() >= e["mean_score"].as_f64().unwrap());
        assert!(e["mean_score"].as_f64().unwrap() >= 100.0, "every window of these incidents is anomalous");
        let shares: f64 = e["top_features"].as_array().unwrap().iter().map(|t| t["share"].as_f64().unwrap()).sum();
        assert!(shares > 0.99 && shares < 1.0 + 1e-9, "two features, all of the score: {shares}");
        assert!(e["peak_at"].as_str().unwrap() >= e["start"].as_str().unwrap());
    }
}

#[test]
fn event_flags_are_checked() {
    let fx = fixture();
    let (m, d) = (path(&fx.model), path(&fx.scored));
    let o = kubelstm(&["detect", "--model", m, "--data", d, "--events", "--format", "prometheus"]);
    assert_error(&o, &["--events", "csv or jsonl"]);
}

#[test]
fn evaluate_reports_event_metrics_next_to_the_point_wise_ones() {
    let fx = fixture();
    let out = fx.dir.join("evaluations");
    let o = kubelstm(&[
        "evaluate",
        "--model",
        path(&fx.model),
        "--data",
        path(&fx.scored),
        "--threshold",
        "100",
        "--output-dir",
        path(&out),
        "--threads",
        "1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("event recall 0.5000") && stdout.contains("event precision 0.5000"), "{stdout}");
    let folder = std::fs::read_dir(&out).unwrap().next().unwrap().unwrap().path();
    let v: Value = serde_json::from_str(&std::fs::read_to_string(folder.join("evaluation.json")).unwrap()).unwrap();
    let e = &v["events"];
    // a: its segment found by its incident at once (label-at last: the spike row's own window);
    // b: a false incident at rows 100..105 and a missed segment at rows 300..304.
    assert_eq!((e["segments"].as_u64(), e["segments_found"].as_u64()), (Some(2), Some(1)));
    assert_eq!((e["incidents"].as_u64(), e["false_incidents"].as_u64()), (Some(2), Some(1)));
    assert_eq!(e["mean_delay"].as_f64(), Some(0.0));
    // Two hosts observed from their first window (row T−1) to their last row.
    let days = 2.0 * ((ROWS - T) as f64 * STEP as f64) / 86_400.0;
    assert!((e["pod_days"].as_f64().unwrap() - days).abs() < 1e-9);
    assert!((e["false_incidents_per_pod_day"].as_f64().unwrap() - 1.0 / days).abs() < 1e-9);
    // The point-wise metrics are still there, for the same windows.
    assert!(v["evaluation"]["roc_auc"].as_f64().is_some());
}
