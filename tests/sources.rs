//! Several files as one dataset: a directory, a pattern or a list of files with one
//! header, each file its own series named after it without group columns, through the real
//! binary on a slice of Online Boutique's per-pod metric files (tests/fixtures/online_boutique:
//! 3 pods × 60 rows, Go timestamps in the `Time` column).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use sha2::{Digest, Sha256};

use crate::support::{assert_error, kubelstm, path, stderr};

const PODS: [&str; 3] =
    ["adservice-5f6585d649-fnmft", "cartservice-579f59597d-wc2lz", "checkoutservice-578fcf4766-9csqn"];
const ROWS: usize = 60;
const T: usize = 5;
const FEATURES: &str = "CpuUsage(m),MemoryUsage(Mi),NetworkReceiveBytes,PodWorkload(Ops)";

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/online_boutique")
}

fn fixture_files() -> Vec<PathBuf> {
    PODS.iter().map(|p| fixture_dir().join(format!("{p}_metric.csv"))).collect()
}

/// `train` on `data` (each a `--data-path` value), unsupervised on the generic columns, tiny.
fn train(data: &[&str], out: &Path) -> Output {
    let mut args = vec!["train", "--data-path"];
    args.extend_from_slice(data);
    let seq = T.to_string();
    args.extend([
        "--time-column",
        "Time",
        "--feature-columns",
        FEATURES,
        "--mode",
        "unsupervised",
        "--sequence-length",
        &seq,
        "--epochs",
        "1",
        "--threads",
        "1",
        "--lstm-units",
        "4",
        "4",
        "--dense-units",
        "4",
        "4",
        "--output-dir",
        path(out),
    ]);
    kubelstm(&args)
}

fn run_dir(o: &Output) -> PathBuf {
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}\n{stdout}", stderr(o));
    let line = stdout.lines().find_map(|l| l.strip_prefix("run folder: ")).expect("train names its run folder");
    PathBuf::from(line)
}

fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// A folder with copies of the fixture's pod files, and `extra` files (name, contents).
fn folder_with(extra: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in fixture_files() {
        std::fs::copy(&f, dir.path().join(f.file_name().unwrap())).unwrap();
    }
    for (name, text) in extra {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

#[test]
fn a_directory_of_pod_files_trains_as_one_series_per_file() {
    let out = tempfile::tempdir().unwrap();
    let run = run_dir(&train(&[path(&fixture_dir())], out.path()));

    let summary = std::fs::read_to_string(run.join("summary_report.txt")).unwrap();
    assert!(summary.contains(&format!("Total records: {} (3 pods/series)", 3 * ROWS)), "{summary}");
    assert!(summary.contains(&format!("Series, one per file and named after it: {}", PODS.join(", "))), "{summary}");
    let described = format!("Dataset: 3 files in {} ({}_metric.csv, ", fixture_dir().display(), PODS[0]);
    assert!(summary.contains(&described), "{summary}");

    // The ingest report lists every file with its series and rows.
    let evaluation = read_json(&run.join("evaluation.json"));
    let files = evaluation["ingest"]["files"].as_array().expect("the files read");
    assert_eq!(files.len(), 3);
    for ((file, pod), expected) in files.iter().zip(PODS).zip(fixture_files()) {
        assert_eq!(file["series"], pod);
        assert_eq!(file["path"], expected.display().to_string());
        assert_eq!(file["rows"], ROWS);
    }

    // The data hash is over the files' bytes, in order.
    let mut hasher = Sha256::new();
    for f in fixture_files() {
        hasher.update(std::fs::read(f).unwrap());
    }
    let expected: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let params = read_json(&run.join("parameters.json"));
    assert_eq!(params["training_data_sha256"], expected);
    assert_eq!(read_json(&run.join("model.json"))["training_data_sha256"], expected);
    assert_eq!(params["data_path"], fixture_dir().display().to_string());
}

#[test]
fn a_pattern_and_a_list_of_files_select_the_same_data() {
    let out = tempfile::tempdir().unwrap();
    let hash = |run: &Path| read_json(&run.join("parameters.json"))["training_data_sha256"].clone();
    let series_line = |run: &Path| {
        let summary = std::fs::read_to_string(run.join("summary_report.txt")).unwrap();
        summary.lines().find(|l| l.starts_with("Series, one per file")).map(str::to_owned)
    };
    let directory = run_dir(&train(&[path(&fixture_dir())], &out.path().join("dir")));

    // Online Boutique's metric folder also holds files of other shapes (dependency.csv): the
    // pattern leaves them out. Quoted, so kubelstm matches it, not the shell.
    let folder = folder_with(&[("dependency.csv", "Source,Target,Weight\ncheckoutservice,emailservice,1\n")]);
    let pattern = folder.path().join("*_metric.csv");
    let matched = run_dir(&train(&[path(&pattern)], &out.path().join("pattern")));
    assert_eq!(hash(&matched), hash(&directory));
    assert_eq!(series_line(&matched), series_line(&directory));
    assert!(series_line(&directory).is_some());

    // Listed after one flag, or the flag repeated: the same files in the same order.
    let files = fixture_files();
    let listed = run_dir(&train(&[path(&files[0]), path(&files[1]), path(&files[2])], &out.path().join("list")));
    assert_eq!(hash(&listed), hash(&directory));
    let repeated = {
        let mut args: Vec<&str> = Vec::new();
        for f in &files {
            args.extend(["--data-path", path(f)]);
        }
        // `train` takes the first `--data-path` itself.
        train(&args[1..], &out.path().join("repeated"))
    };
    assert_eq!(hash(&run_dir(&repeated)), hash(&directory));
    assert_eq!(read_json(&run_dir(&repeated).join("parameters.json"))["data_path"].as_array().unwrap().len(), 3);

    // The whole folder: dependency.csv has another header, and the error names it.
    let o = train(&[path(folder.path())], &out.path().join("whole"));
    assert_error(&o, &["dependency.csv", "column 1 is 'Source'", "has 'Time'", "same header", "*_metric.csv"]);
}

#[test]
fn a_file_whose_header_differs_is_named_with_its_column() {
    let out = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&fixture_files()[0]).unwrap().replacen("MemoryUsage(Mi)", "Memory(Mi)", 1);
    let folder = folder_with(&[("zz-renamed_metric.csv", &text)]);
    let o = train(&[path(folder.path())], out.path());
    assert_error(&o, &["zz-renamed_metric.csv", "line 1", "Memory(Mi)", "'MemoryUsage(Mi)'"]);

    let original = std::fs::read_to_string(&fixture_files()[0]).unwrap();
    let short: String = original.lines().map(|l| l.rsplit_once(',').unwrap().0.to_owned() + "\n").collect();
    let folder = folder_with(&[("zz-short_metric.csv", &short)]);
    let o = train(&[path(folder.path())], out.path());
    assert_error(&o, &["zz-short_metric.csv", "'PodWorkload(Ops)' is missing"]);
    assert!(!out.path().join("model_artifacts").exists());
}

#[test]
fn nothing_to_read_is_a_clear_error() {
    let out = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    assert_error(&train(&[path(empty.path())], out.path()), &["--data-path", "holds no .csv files"]);
    std::fs::write(empty.path().join("notes.txt"), "not a csv").unwrap();
    assert_error(&train(&[path(empty.path())], out.path()), &["holds no .csv files"]);
    let nothing = fixture_dir().join("*_metrics.csv");
    assert_error(&train(&[path(&nothing)], out.path()), &["--data-path", "_metrics.csv", "matches no files"]);
    let wild_dir = fixture_dir().join("*").join("*.csv");
    assert_error(&train(&[path(&wild_dir)], out.path()), &["only the file name may hold * or ?"]);
    let files = fixture_files();
    assert_error(&train(&[path(&fixture_dir()), path(&files[1])], out.path()), &["given twice"]);
    // Two files with one name would be one series.
    let other = tempfile::tempdir().unwrap();
    let twin = other.path().join(files[0].file_name().unwrap());
    std::fs::copy(&files[0], &twin).unwrap();
    assert_error(&train(&[path(&files[0]), path(&twin)], out.path()), &["would both be series", PODS[0]]);
}

#[test]
fn detect_on_the_directory_names_each_row_after_its_file() {
    let out = tempfile::tempdir().unwrap();
    let run = run_dir(&train(&[path(&fixture_dir())], out.path()));
    let detect = |data: &[&str]| {
        let mut args = vec!["detect", "--model", path(&run), "--top-features", "1", "--data"];
        args.extend_from_slice(data);
        let o = kubelstm(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    let scores = detect(&[path(&fixture_dir())]);
    let mut lines = scores.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(&header[..3], ["timestamp", "series", "score"], "{scores}");
    let mut per_series: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        per_series.entry(fields[1]).or_default().push(fields[0]);
    }
    assert_eq!(per_series.keys().copied().collect::<Vec<_>>(), PODS);
    for (pod, times) in &per_series {
        // A full window per row from the T-th on; the Go timestamps, as RFC 3339 in UTC.
        assert_eq!(times.len(), ROWS - T + 1, "{pod}");
        assert!(times.iter().all(|t| t.starts_with("2022-08-22T0") && t.ends_with('Z')), "{pod}: {times:?}");
        assert!(times.windows(2).all(|w| w[0] < w[1]), "{pod}: {times:?}");
    }
    // The pattern, quoted, scores the same rows.
    assert_eq!(detect(&[path(&fixture_dir().join("*_metric.csv"))]), scores);
    // One file is one series, as always: no series column.
    let one = detect(&[path(&fixture_files()[1])]);
    assert!(one.starts_with("timestamp,score,"), "{one}");
    assert_eq!(one.lines().count(), 1 + ROWS - T + 1);
}

#[test]
fn evaluate_reads_a_folder_of_labelled_pod_files() {
    let out = tempfile::tempdir().unwrap();
    let run = run_dir(&train(&[path(&fixture_dir())], &out.path().join("runs")));
    // The pod files with a label column: rows 40..45 of each are an incident.
    let labelled = tempfile::tempdir().unwrap();
    let mut hasher = Sha256::new();
    for f in fixture_files() {
        let text = std::fs::read_to_string(&f).unwrap();
        let mut with_labels = String::new();
        for (i, line) in text.lines().enumerate() {
            let label = if i == 0 {
                "label"
            } else if (40..45).contains(&i) {
                "1"
            } else {
                "0"
            };
            with_labels += &format!("{line},{label}\n");
        }
        hasher.update(with_labels.as_bytes());
        std::fs::write(labelled.path().join(f.file_name().unwrap()), with_labels).unwrap();
    }
    let expected: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let eval_dir = out.path().join("evaluations");
    let o = kubelstm(&[
        "evaluate",
        "--model",
        path(&run),
        "--data",
        path(labelled.path()),
        "--threads",
        "1",
        "--output-dir",
        path(&eval_dir),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}\n{stdout}", stderr(&o));
    let folder = PathBuf::from(stdout.lines().find_map(|l| l.strip_prefix("evaluation folder: ")).unwrap());
    let report = read_json(&folder.join("evaluation.json"));
    assert_eq!(report["data_sha256"], expected);
    assert!(report["data"].as_str().unwrap().starts_with("3 files in "), "{}", report["data"]);
    let pods: Vec<&str> =
        report["evaluation"]["per_pod"].as_array().unwrap().iter().map(|p| p["pod"].as_str().unwrap()).collect();
    assert_eq!(pods, PODS);
    let summary = std::fs::read_to_string(folder.join("summary_report.txt")).unwrap();
    assert!(summary.contains("(3 pods/series)") && summary.contains(&format!("SHA-256 {expected}")), "{summary}");
}
