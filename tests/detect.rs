//! Scoring end to end: `detect` batch and `--follow` give the same bits, streams
//! emit before their input ends, every output format parses, exit codes, wrong-schema and
//! damaged-model errors, the model file round trip (and through the `safetensors` crate, with
//! the names and shapes `docs/model-format.md` documents), `evaluate`, `inspect` and eviction.
//! (The `detect_stream` fuzz corpus is replayed by `reliability::every_fuzz_corpus_replays`.)
//!
//! Three tiny models are trained once for the whole module (about a second): a standard
//! classifier and an unsupervised autoencoder on 6 synthetic pods, and a generic-mode
//! autoencoder on a made-up `t,host,x,y` file.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use clap::Parser;
use kubelstm::artifacts::{load_model, save_model, ModelMeta, RunFolder, RunStatus};
use kubelstm::cli::{Cli, Command as Sub};
use kubelstm::data::synthetic::{self, SyntheticConfig};
use kubelstm::detect::batch::{load_for_scoring, score_dataset, BatchScorer};
use kubelstm::detect::stream::StreamScorer;
use kubelstm::detect::{Scorer, ScoringModel};
use kubelstm::models::{Arch, Model, ModelConfig};

use crate::support::{assert_error, kubelstm, path, stderr, EXE};

struct Fixture {
    dir: PathBuf,
    /// 6 pods × 500 rows of synthetic Kubernetes metrics (seed 5: anomalies in every split).
    k8s_csv: PathBuf,
    /// Another cluster (seed 3), labelled by the rules: for `evaluate`.
    k8s_other: PathBuf,
    /// Generic metrics: `t,host,x,y`, with awkward host names.
    generic_csv: PathBuf,
    standard: PathBuf,
    autoencoder: PathBuf,
    generic: PathBuf,
    /// The standard model on the generic metrics without labels: a forecaster, by default.
    forecaster: PathBuf,
}

fn train(args: &[String]) -> PathBuf {
    let mut argv: Vec<String> = ["kubelstm", "train", "--epochs", "1", "--threads", "1"].map(String::from).to_vec();
    argv.extend_from_slice(args);
    let Sub::Train(args) = Cli::try_parse_from(&argv).expect("train flags").command else { unreachable!() };
    let settings = args.settings().expect("valid settings");
    let result = kubelstm::train::job::run(&settings, Arc::new(AtomicBool::new(false))).expect("training");
    assert_eq!(result.status, RunStatus::Complete);
    result.run_dir
}

fn generic_text() -> String {
    let mut s = String::from("t,host,x,y,unused\n");
    let hosts = ["web \"1\"", "db\\2", "cache,3"];
    for step in 0..400i64 {
        for (h, host) in hosts.iter().enumerate() {
            let x = ((step as f64 * 0.1 + h as f64).sin() * 10.0 + 20.0) as f32;
            let y = if step % 97 == 13 { 90.0 } else { 5.0 + (step % 7) as f32 };
            let quoted = format!("\"{}\"", host.replace('"', "\"\""));
            s += &format!("{},{quoted},{x},{y},text\n", 1_700_000_000 + step * 30);
        }
    }
    s
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("detect_fixture");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let write_cluster = |seed: u64, name: &str| {
            let path = dir.join(name);
            let cfg = SyntheticConfig { pods: 6, rows: 3000, seed, ..SyntheticConfig::default() };
            synthetic::write_csv(&cfg, std::fs::File::create(&path).unwrap(), name).unwrap();
            path
        };
        let k8s_csv = write_cluster(5, "k8s.csv");
        let k8s_other = write_cluster(3, "k8s_other.csv");
        let generic_csv = dir.join("generic.csv");
        std::fs::write(&generic_csv, generic_text()).unwrap();
        let runs = dir.join("runs");
        let (k8s, gen, out) =
            (k8s_csv.to_str().unwrap().to_owned(), generic_csv.to_str().unwrap().to_owned(), runs.to_str().unwrap());
        let (k8s, gen) = (k8s.as_str(), gen.as_str());
        let small = ["--lstm-units", "8", "4", "--dense-units", "8", "4", "--output-dir", out];
        let with = |extra: &[&str]| -> Vec<String> { small.iter().chain(extra).map(|s| s.to_string()).collect() };
        let standard = train(&with(&["--data-path", k8s]));
        let autoencoder = train(&with(&["--data-path", k8s, "--use-autoencoder", "--mode", "unsupervised"]));
        // The generic file's columns, for both models trained on it.
        let generic_columns =
            ["--feature-columns", "x,y", "--time-column", "t", "--group-columns", "host", "--sequence-length", "5"];
        let generic = train(&with(
            &[
                &["--data-path", gen, "--use-autoencoder", "--mode", "unsupervised", "--derived-features"][..],
                &generic_columns,
            ]
            .concat(),
        ));
        let forecaster = train(&with(&[&["--data-path", gen][..], &generic_columns].concat()));
        Fixture { dir, k8s_csv, k8s_other, generic_csv, standard, autoencoder, generic, forecaster }
    })
}

/// `detect` with `--data FILE`, or with `--follow` and the file on standard input (on a file,
/// `--follow` waits for more rows like `tail -f`).
fn detect_on(run: &Path, data: &Path, follow: bool, extra: &[&str]) -> Output {
    let mut cmd = Command::new(EXE);
    cmd.args(["detect", "--model", path(run)]);
    if follow {
        cmd.args(["--follow", "--data", "-"]).stdin(std::fs::File::open(data).unwrap());
    } else {
        cmd.args(["--data", path(data)]).stdin(Stdio::null());
    }
    cmd.args(extra).output().expect("the binary runs")
}

/// A copy of a run folder to damage.
fn copy_run(from: &Path, name: &str) -> PathBuf {
    let to = fixture().dir.join("damaged").join(name);
    let _ = std::fs::remove_dir_all(&to);
    std::fs::create_dir_all(&to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
    to
}

type Bits = BTreeMap<(String, i64), (u32, Vec<u32>)>;

/// Batch scores through the library: 2 workers, an odd batch size, with explanations.
fn batch_bits(model: &ScoringModel, csv: &Path) -> Bits {
    let dataset = load_for_scoring(std::fs::File::open(csv).unwrap(), "batch", model, false).unwrap();
    let mut scorer = BatchScorer::new(model, 2).unwrap();
    scorer.per_worker = 7;
    let mut bits = Bits::new();
    score_dataset(&mut scorer, &dataset, model, true, |s| {
        let v = (s.score.to_bits(), s.shares.iter().map(|v| v.to_bits()).collect());
        assert!(bits.insert((s.key.to_string(), s.timestamp), v).is_none());
        Ok(())
    })
    .unwrap();
    bits
}

/// The same file as a stream, record by record.
fn stream_bits(model: &ScoringModel, csv: &Path) -> Bits {
    let mut rdr = kubelstm::data::csv_ingest::csv_reader(std::fs::File::open(csv).unwrap());
    let mut records = rdr.records();
    let header = records.next().unwrap().unwrap();
    let mut stream = StreamScorer::new(model, &header, "stream", false, true, Some(3600)).unwrap();
    let mut bits = Bits::new();
    for (i, r) in records.enumerate() {
        if let Some(s) = stream.push(&r.unwrap(), i as u64 + 2).unwrap() {
            let v = (s.score.to_bits(), s.shares.iter().map(|v| v.to_bits()).collect());
            assert!(bits.insert((s.key.to_string(), s.timestamp), v).is_none());
        }
    }
    bits
}

// ---------------------------------------------------------------------------------------
// Streaming = batch

#[test]
fn streaming_scores_and_shares_equal_batch_to_the_last_bit() {
    let fx = fixture();
    let runs = [
        (&fx.standard, &fx.k8s_csv),
        (&fx.autoencoder, &fx.k8s_csv),
        (&fx.generic, &fx.generic_csv),
        (&fx.forecaster, &fx.generic_csv),
    ];
    for (run, csv) in runs {
        let model = ScoringModel::load(run).unwrap();
        let batch = batch_bits(&model, csv);
        let stream = stream_bits(&model, csv);
        // 6 pods × (500 − T + 1) windows, or 3 hosts × (400 − 5 + 1).
        assert!(batch.len() == 6 * 491 || batch.len() == 3 * 396, "{}", batch.len());
        assert_eq!(batch.len(), stream.len());
        for ((key, (b, s)), (_, (b2, s2))) in batch.iter().zip(&stream) {
            assert_eq!((b, s), (b2, s2), "{} at {key:?}", model.arch());
        }
    }
}

#[test]
fn cli_batch_and_follow_write_the_same_rows() {
    let fx = fixture();
    let run = path(&fx.standard);
    let batch = kubelstm(&["detect", "--model", run, "--data", path(&fx.k8s_csv), "-q"]);
    assert!(batch.status.success(), "{}", stderr(&batch));
    let mut child = Command::new(EXE)
        .args(["detect", "--model", run, "--follow", "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = std::fs::read(&fx.k8s_csv).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let follow = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(follow.status.success(), "{}", stderr(&follow));
    let sorted = |bytes: &[u8]| {
        let mut lines: Vec<String> = String::from_utf8(bytes.to_vec()).unwrap().lines().map(String::from).collect();
        lines.sort();
        lines
    };
    assert_eq!(sorted(&batch.stdout), sorted(&follow.stdout));
    assert_eq!(batch.stdout.iter().filter(|&&b| b == b'\n').count(), 1 + 6 * 491);
}

#[test]
fn follow_over_a_pipe_emits_scores_before_the_input_ends() {
    let fx = fixture();
    let text = std::fs::read_to_string(&fx.k8s_csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut child = Command::new(EXE)
        .args(["detect", "--model", path(&fx.standard), "--follow", "--format", "jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    // Header + 11 rows per pod: enough for every pod's first window (T = 10), not more.
    for l in &lines[..1 + 6 * 11] {
        writeln!(stdin, "{l}").unwrap();
    }
    stdin.flush().unwrap();
    let first = rx.recv_timeout(Duration::from_secs(30)).expect("a score before the input ended");
    let v: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert!(v["score"].as_f64().is_some(), "{first}");
    // The rest, then end of input: the process finishes cleanly.
    for l in &lines[1 + 6 * 11..] {
        writeln!(stdin, "{l}").unwrap();
    }
    drop(stdin);
    let status = child.wait().unwrap();
    reader.join().unwrap();
    assert!(status.success());
    let count = 1 + rx.try_iter().count();
    assert_eq!(count, 6 * 491);
}

#[test]
fn follow_on_a_file_waits_for_appended_rows_until_ctrl_c() {
    let fx = fixture();
    let text = std::fs::read_to_string(&fx.k8s_csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let file = fx.dir.join("growing.csv");
    std::fs::write(&file, lines[..1 + 6 * 9].join("\n") + "\n").unwrap();
    let mut child = Command::new(EXE)
        .args(["detect", "--model", path(&fx.standard), "--follow", "--data", path(&file), "--top-features", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = tx.send(line.unwrap());
        }
    });
    // 9 rows per pod: no window yet, so nothing at all (the header waits for the first row).
    // Append the 10th and 11th rows of every pod, in two writes, the second cut mid-line: only
    // whole rows are read.
    assert!(rx.recv_timeout(Duration::from_millis(1500)).is_err());
    let mut f = std::fs::OpenOptions::new().append(true).open(&file).unwrap();
    let more = lines[1 + 6 * 9..1 + 6 * 11].join("\n") + "\n";
    let (a, b) = more.split_at(more.len() / 2 + 3);
    f.write_all(a.as_bytes()).unwrap();
    f.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    f.write_all(b.as_bytes()).unwrap();
    f.flush().unwrap();
    assert!(rx.recv_timeout(Duration::from_secs(30)).unwrap().starts_with("timestamp,"));
    let got: Vec<String> = (0..12).map(|_| rx.recv_timeout(Duration::from_secs(30)).expect("a score")).collect();
    assert!(got.iter().all(|l| l.split(',').count() == 6), "{got:?}");
    // Ctrl-C ends it: what was scored is kept, exit 130.
    let killed = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
}

/// A forecaster flags the rows it could not have forecast: `y` jumps to 90 at steps 13, 110,
/// 207 and 304 of every host (a level it never has otherwise), and those rows, explained by
/// `y`, are all above the threshold and score several times the typical row.
#[test]
fn a_forecaster_scores_the_unforecastable_rows_and_names_their_feature() {
    let fx = fixture();
    let o =
        kubelstm(&["detect", "--model", path(&fx.forecaster), "--data", path(&fx.generic_csv), "--top-features", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut rdr = csv::Reader::from_reader(o.stdout.as_slice());
    let (mut spikes, mut others) = (Vec::new(), Vec::new());
    for r in rdr.records() {
        let r = r.unwrap();
        let t = kubelstm::data::time::parse_timestamp(&r[0]).unwrap();
        let step = (t - 1_700_000_000) / 30;
        let score: f64 = r[2].parse().unwrap();
        if step % 97 == 13 {
            assert_eq!(&r[5], "y", "the spike at step {step} is explained by y: {r:?}");
            assert_eq!(&r[4], "1", "the spike at step {step} is above the threshold: {r:?}");
            spikes.push(score);
        } else if step % 97 != 14 {
            others.push(score);
        }
    }
    // Windows of 5 rows: every spike from step 13 on is some window's last row.
    assert_eq!(spikes.len(), 3 * 4);
    others.sort_by(f64::total_cmp);
    let median = others[others.len() / 2];
    let weakest_spike = spikes.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(weakest_spike > 4.0 * median, "spikes {spikes:?} vs median {median}");
}

/// `(host, timestamp) → score` rows of `detect`'s CSV, each host's in time order.
fn scores_by_host(stdout: &[u8]) -> BTreeMap<String, Vec<(String, f32)>> {
    let mut by_host: BTreeMap<String, Vec<(String, f32)>> = BTreeMap::new();
    for r in csv::Reader::from_reader(stdout).records() {
        let r = r.unwrap();
        by_host.entry(r[1].to_string()).or_default().push((r[0].to_string(), r[2].parse().unwrap()));
    }
    by_host
}

/// With `smooth_windows` = 3 each row's score is its host's mean of the last three window
/// scores (fewer at the start), in batch and in `--follow` alike; the spikes still stand out.
#[test]
fn smoothed_scores_are_each_pods_mean_of_its_last_windows_in_batch_and_stream() {
    let fx = fixture();
    let smoothed = copy_run(&fx.forecaster, "smooth3");
    let file = smoothed.join("threshold.json");
    let mut thresholds: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(thresholds["smooth_windows"], 1, "training's default is no smoothing");
    thresholds["smooth_windows"] = 3.into();
    std::fs::write(&file, thresholds.to_string()).unwrap();

    let raw = detect_on(&fx.forecaster, &fx.generic_csv, false, &["-q"]);
    let batch = detect_on(&smoothed, &fx.generic_csv, false, &["-q"]);
    let follow = detect_on(&smoothed, &fx.generic_csv, true, &["-q"]);
    for o in [&raw, &batch, &follow] {
        assert!(o.status.success(), "{}", stderr(o));
    }
    let (raw, batch, follow) = (scores_by_host(&raw.stdout), scores_by_host(&batch.stdout), scores_by_host(&follow.stdout));
    assert_eq!(batch, follow, "streamed smoothing equals batch smoothing");
    assert_eq!(raw.len(), 3);
    let mut changed = 0;
    for (host, rows) in &raw {
        let smooth = &batch[host];
        assert_eq!(smooth.len(), rows.len());
        for i in 0..rows.len() {
            let last = &rows[i.saturating_sub(2)..=i];
            let mean = last.iter().map(|(_, s)| f64::from(*s)).sum::<f64>() / last.len() as f64;
            assert_eq!(smooth[i].0, rows[i].0, "same windows in the same order");
            assert_eq!(smooth[i].1, mean as f32, "{host} row {i}: the mean of {last:?}");
            changed += usize::from(smooth[i].1 != rows[i].1);
        }
    }
    assert!(changed > 100, "smoothing changed only {changed} scores");
}

/// `train --smooth 3` stores the window count and sets the threshold on smoothed validation
/// scores: the same weights as without it (same seed), another threshold.
#[test]
fn train_smooth_sets_the_threshold_on_smoothed_validation_scores() {
    let fx = fixture();
    let out = fx.dir.join("smooth_runs");
    let args = |smooth: &str| -> Vec<String> {
        [
            "--data-path", path(&fx.generic_csv), "--feature-columns", "x,y", "--time-column", "t", "--group-columns",
            "host", "--sequence-length", "5", "--lstm-units", "8", "4", "--dense-units", "8", "4", "--output-dir",
            path(&out), "--threshold-rule", "percentile", "--threshold-percentile", "90", "--smooth", smooth,
        ]
        .map(String::from)
        .to_vec()
    };
    let read = |run: &Path, name: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(run.join(name)).unwrap()).unwrap()
    };
    let (plain, smoothed) = (train(&args("1")), train(&args("3")));
    let weights = |run: &Path| read(run, "model.json")["weights_sha256"].as_str().unwrap().to_string();
    assert_eq!(weights(&plain), weights(&smoothed));
    assert_eq!(read(&plain, "threshold.json")["smooth_windows"], 1);
    assert_eq!(read(&smoothed, "threshold.json")["smooth_windows"], 3);
    let value = |run: &Path| read(run, "threshold.json")["value"].as_f64().unwrap();
    // Same weights, same validation windows: only smoothing can move the percentile.
    assert_ne!(value(&smoothed), value(&plain));
}

// ---------------------------------------------------------------------------------------
// Output formats

#[test]
fn csv_output_parses_with_the_csv_crate() {
    let fx = fixture();
    let o = kubelstm(&["detect", "--model", path(&fx.generic), "--data", path(&fx.generic_csv), "--top-features", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut rdr = csv::Reader::from_reader(o.stdout.as_slice());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        ["timestamp", "host", "score", "threshold", "anomaly", "feature_1", "share_1", "feature_2", "share_2"]
    );
    let mut hosts = std::collections::BTreeSet::new();
    let mut n = 0;
    for r in rdr.records() {
        let r = r.unwrap();
        hosts.insert(r[1].to_string());
        let score: f32 = r[2].parse().unwrap();
        let threshold: f64 = r[3].parse().unwrap();
        assert_eq!(&r[4], if f64::from(score) >= threshold { "1" } else { "0" });
        let (s1, s2): (f32, f32) = (r[6].parse().unwrap(), r[8].parse().unwrap());
        assert!(s1 >= s2 && s1 + s2 <= 1.0 + 1e-5, "{s1} {s2}");
        assert!(r[0].ends_with('Z'));
        n += 1;
    }
    assert_eq!(n, 3 * 396);
    // Commas, quotes and backslashes in the key survive the round trip.
    assert_eq!(hosts.into_iter().collect::<Vec<_>>(), ["cache,3", "db\\2", "web \"1\""]);
}

#[test]
fn jsonl_output_parses_with_serde_json() {
    let fx = fixture();
    let o = kubelstm(&["detect", "--model", path(&fx.standard), "--data", path(&fx.k8s_csv), "--format", "jsonl"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    let mut n = 0;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        for k in ["timestamp", "namespace", "pod", "score", "threshold", "anomaly", "top_features"] {
            assert!(keys.contains(&k), "{line}");
        }
        let top = v["top_features"].as_array().unwrap();
        assert_eq!(top.len(), 3);
        assert!(top.iter().all(|t| t["feature"].is_string() && t["share"].as_f64().is_some()));
        // The score is an f32 written in its shortest form: read it back as f32 (as f64 it can
        // fall just below a threshold it equals).
        let score = v["score"].as_f64().unwrap() as f32;
        assert_eq!(v["anomaly"].as_bool().unwrap(), f64::from(score) >= v["threshold"].as_f64().unwrap());
        n += 1;
    }
    assert_eq!(n, 6 * 491);
}

/// A small parser of the text exposition format: `# HELP`/`# TYPE` lines, then samples
/// `name{label="value",…} number` with escaped label values.
fn parse_prometheus(text: &str) -> Vec<(String, BTreeMap<String, String>, f64)> {
    let mut typed = std::collections::BTreeSet::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            let name = parts.next().unwrap();
            let kind = parts.next().unwrap();
            assert!(kind == "gauge" || (kind == "counter" && name.ends_with("_total")), "{line}");
            typed.insert(name.to_string());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        assert!(!line.starts_with('#'), "stray comment: {line}");
        let name_end = line.find(['{', ' ']).unwrap();
        let name = &line[..name_end];
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{line}");
        assert!(typed.contains(name), "sample before its TYPE: {line}");
        let (labels, rest) = match line[name_end..].strip_prefix('{') {
            Some(body) => parse_labels(body, line),
            None => (BTreeMap::new(), &line[name_end..]),
        };
        let value = rest.strip_prefix(' ').unwrap();
        let v = match value {
            "NaN" => f64::NAN,
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
        };
        samples.push((name.to_string(), labels, v));
    }
    samples
}

/// `label="value",…}` (after the `{`): the labels, unescaped, and the rest of the line.
fn parse_labels<'a>(body: &'a str, line: &str) -> (BTreeMap<String, String>, &'a str) {
    let mut labels = BTreeMap::new();
    let mut rest = body;
    loop {
        let eq = rest.find("=\"").unwrap_or_else(|| panic!("no label value in {line}"));
        let name = &rest[..eq];
        assert!(!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{line}");
        let mut value = String::new();
        let mut chars = rest[eq + 2..].char_indices();
        let end = loop {
            let (j, c) = chars.next().unwrap_or_else(|| panic!("unterminated value in {line}"));
            match c {
                '\\' => match chars.next().map(|(_, e)| e) {
                    Some('n') => value.push('\n'),
                    Some(e @ ('\\' | '"')) => value.push(e),
                    other => panic!("bad escape {other:?} in {line}"),
                },
                '"' => break eq + 2 + j + 1,
                c => value.push(c),
            }
        };
        labels.insert(name.to_string(), value);
        rest = &rest[end..];
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
            continue;
        }
        return (labels, rest.strip_prefix('}').unwrap_or_else(|| panic!("no closing brace in {line}")));
    }
}

#[test]
fn prometheus_output_parses_and_holds_each_pods_latest_score() {
    let fx = fixture();
    let out = fx.dir.join("prom").join("kubelstm.prom");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let args = ["detect", "--model", path(&fx.generic), "--data", path(&fx.generic_csv), "--format", "prometheus"];
    let o = kubelstm(&[&args[..], &["-o", path(&out)]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    // Only the file: no temporary left behind.
    let names: Vec<_> = std::fs::read_dir(out.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["kubelstm.prom"]);
    let text = std::fs::read_to_string(&out).unwrap();
    let samples = parse_prometheus(&text);
    let scores: Vec<_> = samples.iter().filter(|s| s.0 == "kubelstm_anomaly_score").collect();
    let hosts: Vec<&str> = scores.iter().map(|s| s.1["host"].as_str()).collect();
    assert_eq!(hosts, ["cache,3", "db\\2", "web \"1\""]);
    let threshold = samples.iter().find(|s| s.0 == "kubelstm_anomaly_threshold").unwrap().2;
    for s in &scores {
        let flag = samples.iter().find(|a| a.0 == "kubelstm_anomaly" && a.1 == s.1).unwrap().2;
        assert_eq!(flag, f64::from(u8::from(s.2 >= threshold)));
        let ts = samples.iter().find(|a| a.0 == "kubelstm_sample_timestamp_seconds" && a.1 == s.1).unwrap().2;
        assert_eq!(ts, (1_700_000_000 + 399 * 30) as f64, "the latest window ends at the last row");
    }
    // The latest score per pod is the last CSV row of that pod.
    let csv = kubelstm(&["detect", "--model", path(&fx.generic), "--data", path(&fx.generic_csv), "-q"]);
    let mut last = BTreeMap::new();
    for r in csv::Reader::from_reader(csv.stdout.as_slice()).records() {
        let r = r.unwrap();
        last.insert(r[1].to_string(), r[2].parse::<f32>().unwrap());
    }
    for s in &scores {
        assert_eq!(s.2 as f32, last[&s.1["host"]]);
    }
    let shares = samples.iter().filter(|s| s.0 == "kubelstm_feature_share").count();
    assert_eq!(shares, 3 * 3);
    // To stdout too.
    let o = kubelstm(&["detect", "--model", path(&fx.standard), "--data", path(&fx.k8s_csv), "--format", "prometheus"]);
    let samples = parse_prometheus(&String::from_utf8(o.stdout).unwrap());
    let pods: Vec<_> = samples.iter().filter(|s| s.0 == "kubelstm_anomaly_score").map(|s| s.1.clone()).collect();
    assert_eq!(pods.len(), 6);
    assert!(pods.iter().all(|l| l.keys().eq(["namespace", "pod"])));
}

#[test]
fn output_file_is_written_atomically_and_stdin_batch_equals_the_file() {
    let fx = fixture();
    let dir = fx.dir.join("atomic");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("scores.csv");
    let o =
        kubelstm(&["detect", "--model", path(&fx.autoencoder), "--data", path(&fx.k8s_csv), "-o", path(&file), "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    let mut child = Command::new(EXE)
        .args(["detect", "--model", path(&fx.autoencoder), "--data", "-", "-q"])
        .stdin(std::fs::File::open(&fx.k8s_csv).unwrap())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut from_stdin = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut from_stdin).unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(std::fs::read(&file).unwrap(), from_stdin);
    // A FIFO (as /dev/null or /dev/stdout would be) is written in place, never replaced; a
    // symbolic link stays a link to the file it names.
    let fifo = dir.join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let o =
        kubelstm(&["detect", "--model", path(&fx.autoencoder), "--data", path(&fx.k8s_csv), "-o", path(&fifo), "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(reader.join().unwrap(), from_stdin);
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    let link = dir.join("link.csv");
    std::os::unix::fs::symlink(&file, &link).unwrap();
    let o = kubelstm(&["detect", "--model", path(&fx.standard), "--data", path(&fx.k8s_csv), "-o", path(&link), "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert!(std::fs::read_to_string(&file).unwrap().starts_with("timestamp,namespace,pod,score"));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 3, "no temporary left");
    // A failed run leaves no file and no temporary (unwritable destination: no such folder).
    let o =
        kubelstm(&["detect", "--model", path(&fx.standard), "--data", path(&fx.k8s_csv), "-o", "/nonexistent/x.csv"]);
    assert_error(&o, &["/nonexistent"]);
}

// ---------------------------------------------------------------------------------------
// Exit codes

#[test]
fn exit_codes_zero_one_two_and_broken_pipe() {
    let fx = fixture();
    let (run, data) = (path(&fx.standard), path(&fx.k8s_csv));
    let base = ["detect", "--model", run, "--data", data, "-q", "--top-features", "0"];
    let ok = kubelstm(&base);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let found = kubelstm(&[&base[..], &["--fail-on-anomaly", "--threshold", "0"]].concat());
    assert_eq!(found.status.code(), Some(1), "{}", stderr(&found));
    let quiet = kubelstm(&[&base[..], &["--fail-on-anomaly", "--threshold", "1.5"]].concat());
    assert_eq!(quiet.status.code(), Some(0));
    assert_error(&kubelstm(&["detect", "--model", "/no/such/run", "--data", data]), &["no such run folder"]);
    assert_error(&kubelstm(&[&base[..], &["--threads", "0"]].concat()), &["--threads"]);
    // The same bound as training: a typo must not start 100,000 scorers.
    assert_error(&kubelstm(&[&base[..], &["--threads", "100000"]].concat()), &["--threads must be between 1 and 1024"]);
    assert_error(&kubelstm(&[&base[..], &["--threshold", "NaN"]].concat()), &["--threshold"]);
    assert_eq!(kubelstm(&["detect", "--bogus"]).status.code(), Some(2));

    // Broken pipe: the reader goes away after one line; detect exits 0 without a message.
    for follow in [false, true] {
        let mut args = vec!["detect", "--model", run, "--data", "-"];
        if follow {
            args.push("--follow");
        }
        let input = std::fs::File::open(&fx.k8s_csv).unwrap();
        let mut child =
            Command::new(EXE).args(&args).stdin(input).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert!(line.starts_with("timestamp,"));
        drop(out);
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "follow {follow}: {}", stderr(&o));
        assert!(!stderr(&o).contains("error"), "{}", stderr(&o));
    }
}

// ---------------------------------------------------------------------------------------
// Wrong data, damaged models (the bad-input cases that reach `detect`)

fn rewrite_csv(src: &Path, dst: &Path, edit: impl Fn(Vec<String>) -> Vec<String>) {
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).from_path(src).unwrap();
    let mut w = csv::Writer::from_path(dst).unwrap();
    for r in rdr.records() {
        w.write_record(edit(r.unwrap().iter().map(String::from).collect())).unwrap();
    }
    w.flush().unwrap();
}

#[test]
fn a_file_with_the_wrong_columns_is_told_what_the_model_needs() {
    let fx = fixture();
    // Generic data for a Kubernetes model.
    let o = kubelstm(&["detect", "--model", path(&fx.standard), "--data", path(&fx.generic_csv)]);
    assert_error(&o, &["does not have the columns the model needs", "'Pod Name'", "Kubernetes pod metrics", "inspect"]);
    // Kubernetes data for the generic model ("trained on other features").
    let o = detect_on(&fx.generic, &fx.k8s_csv, true, &[]);
    assert_error(&o, &["missing 't', 'host', 'x', 'y'", "feature columns 'x', 'y'"]);
    // One column renamed: named, with the near miss.
    let renamed = fx.dir.join("renamed.csv");
    rewrite_csv(&fx.k8s_csv, &renamed, |mut r| {
        if r[0] == "Timestamp" {
            for c in r.iter_mut().filter(|c| *c == "CPU Usage (%)") {
                *c = "cpu usage (%)".into();
            }
        }
        r
    });
    for follow in [false, true] {
        let o = detect_on(&fx.standard, &renamed, follow, &[]);
        assert_error(&o, &["'CPU Usage (%)' (the file has 'cpu usage (%)'; names are exact)"]);
    }
    // Extra columns and another column order are fine: same scores.
    let shuffled = fx.dir.join("shuffled.csv");
    rewrite_csv(&fx.k8s_csv, &shuffled, |mut r| {
        r.reverse();
        r.push(if r[0].is_empty() { "extra".into() } else { "1".into() });
        r
    });
    let a = kubelstm(&["detect", "--model", path(&fx.standard), "--data", path(&fx.k8s_csv), "-q"]);
    let b = kubelstm(&["detect", "--model", path(&fx.standard), "--data", path(&shuffled), "-q"]);
    assert!(b.status.success(), "{}", stderr(&b));
    assert_eq!(a.stdout, b.stdout);
    // A bad value: file, line and column, and the --skip-bad-rows hint.
    let bad = fx.dir.join("bad_value.csv");
    rewrite_csv(&fx.k8s_csv, &bad, |mut r| {
        if r[0] == "2024-03-04T00:05:00Z" && r[1] == "postgres-0" {
            r[6] = "lots".into();
        }
        r
    });
    for follow in [false, true] {
        let o = detect_on(&fx.standard, &bad, follow, &[]);
        let file = if follow { "<stdin>, line" } else { "bad_value.csv, line" };
        assert_error(&o, &[file, "column 'CPU Usage (%)'", "'lots' is not a number", "--skip-bad-rows"]);
        let o = detect_on(&fx.standard, &bad, follow, &["--skip-bad-rows"]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stderr(&o).contains("skipped 1 rows: bad numeric value"), "{}", stderr(&o));
    }
    // Empty input and too few rows.
    let empty = fx.dir.join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    assert_error(&kubelstm(&["detect", "--model", path(&fx.standard), "--data", path(&empty)]), &["empty"]);
    let short = fx.dir.join("short.csv");
    let text = std::fs::read_to_string(&fx.k8s_csv).unwrap();
    std::fs::write(&short, text.lines().take(1 + 6 * 5).collect::<Vec<_>>().join("\n")).unwrap();
    assert_error(
        &kubelstm(&["detect", "--model", path(&fx.standard), "--data", path(&short)]),
        &["no series is long enough"],
    );
}

#[test]
fn damaged_model_folders_are_errors_that_say_what_and_what_to_do() {
    let fx = fixture();
    let data = path(&fx.k8s_csv);
    let detect = |run: &Path| kubelstm(&["detect", "--model", path(run), "--data", data]);

    let run = copy_run(&fx.standard, "missing_weights");
    std::fs::remove_file(run.join("model.safetensors")).unwrap();
    assert_error(&detect(&run), &["model.safetensors is missing"]);

    let run = copy_run(&fx.standard, "missing_scaler");
    std::fs::remove_file(run.join("scaler.json")).unwrap();
    assert_error(&detect(&run), &["scaler.json", "missing", "copy the whole folder"]);

    let run = copy_run(&fx.standard, "unfinished");
    std::fs::remove_file(run.join("run_status.json")).unwrap();
    assert_error(&detect(&run), &["did not finish"]);

    let run = copy_run(&fx.standard, "truncated");
    let bytes = std::fs::read(run.join("model.safetensors")).unwrap();
    std::fs::write(run.join("model.safetensors"), &bytes[..bytes.len() * 2 / 3]).unwrap();
    assert_error(&detect(&run), &["truncated or damaged"]);

    let run = copy_run(&fx.standard, "flipped");
    let mut bytes = std::fs::read(run.join("model.safetensors")).unwrap();
    let at = bytes.len() - 5;
    bytes[at] ^= 0x08;
    std::fs::write(run.join("model.safetensors"), &bytes).unwrap();
    assert_error(&detect(&run), &["checksum", "altered or damaged"]);

    let run = copy_run(&fx.standard, "future_version");
    let meta = std::fs::read_to_string(run.join("model.json")).unwrap();
    std::fs::write(run.join("model.json"), meta.replace("\"format_version\": 1", "\"format_version\": 2")).unwrap();
    assert_error(&detect(&run), &["model format version 2 is not supported", "retrain"]);

    let run = copy_run(&fx.standard, "smooth_zero");
    let thresholds = std::fs::read_to_string(run.join("threshold.json")).unwrap();
    std::fs::write(run.join("threshold.json"), thresholds.replace("\"smooth_windows\": 1", "\"smooth_windows\": 0")).unwrap();
    assert_error(&detect(&run), &["threshold.json's smooth_windows is 0, outside 1..=1000", "altered"]);

    let run = copy_run(&fx.standard, "edited_scaler");
    let scaler = std::fs::read_to_string(run.join("scaler.json")).unwrap();
    let edited = scaler.replacen("0.", "0.5", 1);
    assert_ne!(scaler, edited);
    std::fs::write(run.join("scaler.json"), edited).unwrap();
    assert_error(&detect(&run), &["scaler.json differs", "altered"]);

    let run = copy_run(&fx.standard, "mixed_runs");
    std::fs::copy(fx.autoencoder.join("threshold.json"), run.join("threshold.json")).unwrap();
    assert_error(&detect(&run), &["threshold.json says threshold"]);

    let run = copy_run(&fx.standard, "garbage_json");
    std::fs::write(run.join("model.json"), "{ not json").unwrap();
    assert_error(&detect(&run), &["model.json is not valid JSON"]);

    // evaluate and inspect refuse the same way.
    let run = copy_run(&fx.standard, "flipped_again");
    std::fs::write(run.join("model.safetensors"), &bytes).unwrap();
    assert_error(&kubelstm(&["inspect", path(&run)]), &["checksum"]);
    assert_error(&kubelstm(&["evaluate", "--model", path(&run), "--data", data]), &["checksum"]);
}

// ---------------------------------------------------------------------------------------
// The model file

/// `name [dims]` per tensor, with the input width written `F`.
fn tensor_lines(bytes: &[u8], f: usize) -> Vec<String> {
    let st = safetensors::SafeTensors::deserialize(bytes).unwrap();
    let mut lines: Vec<String> = st
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            assert_eq!(view.dtype(), safetensors::Dtype::F32);
            let dims: Vec<String> =
                view.shape().iter().map(|&d| if d == f { "F".to_string() } else { d.to_string() }).collect();
            format!("{name} [{}]", dims.join(", "))
        })
        .collect();
    lines.sort();
    lines
}

/// The tensor lists of `docs/model-format.md`, per architecture (```text blocks after a
/// `### <arch>` heading).
fn documented_tensors() -> BTreeMap<String, Vec<String>> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/model-format.md")).unwrap();
    let mut out = BTreeMap::new();
    let mut arch: Option<String> = None;
    let mut block: Option<Vec<String>> = None;
    for line in doc.lines() {
        if let Some(h) = line.strip_prefix("### ") {
            arch = h.split_whitespace().next().map(|s| s.trim_matches('`').to_lowercase());
        } else if line.starts_with("```text") && arch.is_some() {
            block = Some(Vec::new());
        } else if line.starts_with("```") {
            if let (Some(a), Some(b)) = (arch.take(), block.take()) {
                let mut b: Vec<String> = b.into_iter().filter(|l| !l.trim().is_empty()).collect();
                b.sort();
                out.insert(a, b);
            }
        } else if let Some(b) = block.as_mut() {
            // `name  [dims]  # comment`
            let l = line.split('#').next().unwrap().trim();
            let (name, dims) = l.split_once(' ').unwrap_or((l, ""));
            b.push(format!("{name} {}", dims.trim()));
        }
    }
    out
}

#[test]
fn model_file_round_trip_and_the_documented_tensor_names_and_shapes() {
    let dir = fixture().dir.join("round_trip");
    let f = 7; // an input width no default layer width equals
    let documented = documented_tensors();
    for arch in Arch::ALL {
        let run = dir.join(arch.name());
        std::fs::create_dir_all(&run).unwrap();
        let model = Model::new(ModelConfig::new(arch, f)).unwrap();
        let params = model.init_params::<f32>(3);
        let names: Vec<String> = (0..f).map(|j| format!("f{j}")).collect();
        save_model(&run, &model, &params, &ModelMeta::new(&model.config, 4, names)).unwrap();
        RunFolder::at(&run).finish(RunStatus::Complete, "test").unwrap();
        let loaded = load_model(&run).unwrap();
        assert_eq!(
            loaded.params.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            params.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        // Identical scores from the loaded model.
        let x: Vec<f32> = (0..4 * 5 * f).map(|i| ((i * 37 % 23) as f32 / 11.0) - 1.0).collect();
        let (mut a, mut b) = (vec![0.0; 5], vec![0.0; 5]);
        Scorer::new(model.clone(), params.clone()).score(&x, 4, 5, &mut a, None);
        Scorer::new(loaded.model.clone(), loaded.params.clone()).score(&x, 4, 5, &mut b, None);
        assert_eq!(
            a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            b.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        // A second reader: the safetensors crate sees the documented names, shapes and dtype.
        let bytes = std::fs::read(run.join("model.safetensors")).unwrap();
        let got = tensor_lines(&bytes, f);
        let want = documented.get(arch.name()).unwrap_or_else(|| panic!("docs/model-format.md lacks {arch}"));
        assert_eq!(&got, want, "{arch}: docs/model-format.md and the file disagree");
        // Values in the file are the parameters, row-major, little-endian f32.
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        for t in model.layout.tensors() {
            let view = st.tensor(&t.name).unwrap();
            let vals: Vec<f32> =
                view.data().chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
            assert_eq!(vals.as_slice(), t.span.of(&params), "{}", t.name);
        }
    }
    // The standard model's names are models_torch.Standard's state_dict keys.
    assert!(documented["standard"].iter().any(|l| l == "l1.weight_ih_l0 [512, F]"));
}

// ---------------------------------------------------------------------------------------
// evaluate, inspect

#[test]
fn evaluate_writes_a_complete_folder_with_the_models_threshold() {
    let fx = fixture();
    let out = fx.dir.join("evaluations");
    let o = kubelstm(&[
        "evaluate",
        "--model",
        path(&fx.standard),
        "--data",
        path(&fx.k8s_other),
        "--output-dir",
        path(&out),
        "--threads",
        "1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let folders: Vec<PathBuf> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(folders.len(), 1);
    let folder = &folders[0];
    assert!(folder.file_name().unwrap().to_str().unwrap().starts_with("evaluation_"));
    for f in [
        "evaluation.json",
        "summary_report.txt",
        "roc_curve.png",
        "precision_recall_curve.png",
        "confusion_matrix.png",
        "scores.png",
        "run_status.json",
    ] {
        assert!(folder.join(f).is_file(), "{f} missing");
    }
    assert_eq!(RunFolder::status(folder).unwrap(), Some(RunStatus::Complete));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("evaluation.json")).unwrap()).unwrap();
    let model = ScoringModel::load(&fx.standard).unwrap();
    assert_eq!(v["evaluation"]["chosen"]["threshold"]["value"].as_f64().unwrap(), model.threshold());
    assert_eq!(v["threshold_chosen_on"], "validation");
    assert_eq!(v["evaluation"]["samples"].as_u64().unwrap(), 6 * 490, "labelled windows (label_at next)");
    assert!(String::from_utf8_lossy(&o.stdout).contains("Performance on k8s_other.csv"));
    // --threshold replaces it; the model's becomes an alternative.
    let o = kubelstm(&[
        "evaluate",
        "--model",
        path(&fx.standard),
        "--data",
        path(&fx.k8s_other),
        "--output-dir",
        path(&out),
        "--threshold",
        "0.25",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Unlabelled data is an error that says so.
    let o = kubelstm(&[
        "evaluate",
        "--model",
        path(&fx.generic),
        "--data",
        path(&fx.generic_csv),
        "--output-dir",
        path(&out),
    ]);
    assert_error(&o, &["no labels to evaluate against"]);
}

#[test]
fn inspect_shows_layers_features_threshold_and_metrics() {
    let fx = fixture();
    let o = kubelstm(&["inspect", path(&fx.standard)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    for want in [
        "Layer (type)",
        "l1 (LSTM)",
        "(B, T, 8)",
        "Total params: 2,729",
        "CPU Usage (%)",
        "MinMaxScaler",
        "F1-optimal",
        "next sample",
        "Metrics (test",
    ] {
        assert!(text.contains(want), "inspect lacks {want:?}:\n{text}");
    }
    let o = kubelstm(&["inspect", path(&fx.autoencoder), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["model"]["arch"], "autoencoder");
    assert_eq!(v["score"], "mean squared reconstruction error of the scaled window");
    let total: u64 = v["layers"].as_array().unwrap().iter().map(|l| l["params"].as_u64().unwrap()).sum();
    assert_eq!(total, v["total_params"].as_u64().unwrap());
}

// ---------------------------------------------------------------------------------------
// Eviction and memory

#[test]
fn silent_pods_are_evicted_in_data_time_and_start_afresh() {
    use kubelstm::data::LabelAt;
    use kubelstm_testkit::stream::{generic_spec, tiny_model};
    let model = tiny_model(Arch::Standard, generic_spec(), 3, LabelAt::Next, false);
    let header = csv::StringRecord::from(vec!["t", "g", "x", "y"]);
    let mut stream = StreamScorer::new(&model, &header, "s", false, false, Some(100)).unwrap();
    let mut push = |t: i64, g: &str| {
        let r = csv::StringRecord::from(vec![t.to_string(), g.to_string(), "1".into(), "2".into()]);
        stream.push(&r, 0).unwrap().is_some()
    };
    // Pod a: 3 rows, a score at the third.
    assert_eq!([push(0, "a"), push(10, "a"), push(20, "a")], [false, false, true]);
    // Pod b moves the stream's clock 150 s on; a's next row comes 130 s after its last.
    assert!(!push(150, "b"));
    assert!(!push(150, "a"), "a was evicted: it needs 3 rows again");
    assert_eq!([push(160, "a"), push(170, "a")], [false, true]);
    // Thousands of pods that each send a few rows and go quiet: memory stays bounded.
    let mut stream = StreamScorer::new(&model, &header, "s", false, false, Some(100)).unwrap();
    let mut peak = 0;
    for k in 0..5000i64 {
        for step in 0..3 {
            let r =
                csv::StringRecord::from(vec![(k * 10 + step).to_string(), format!("pod{k}"), "1".into(), "2".into()]);
            stream.push(&r, 0).unwrap();
        }
        peak = peak.max(stream.live_pods());
    }
    assert!(peak <= 20, "{peak} pods held at once");
    assert!(stream.evicted >= 4980);
}
