//! `kubelstm generate --format openmetrics` end to end: the real binary's output is checked as
//! OpenMetrics text (families and series contiguous, every sample line parsed, time order,
//! counters monotone except restarts, `# EOF` last), against the CSV of the same seed, and, where
//! `promtool` is installed, by backfilling it into a TSDB.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::process::Command;

use kubelstm::data::schema;
use kubelstm::data::synthetic::{self, SyntheticConfig};

use crate::cli_train::{assert_success, kubelstm, text};

/// 3000 rows over 7 pods: the last step covers some pods only.
const ARGS: [&str; 8] = ["generate", "--pods", "7", "--rows", "3000", "--seed", "11", "--format"];

fn generate(dir: &Path) -> String {
    let path = dir.join("m.om");
    let out = kubelstm(ARGS.iter().copied().chain(["openmetrics", "-o", path.to_str().unwrap()]));
    let stderr = assert_success(&out);
    assert!(stderr.contains("wrote 3000 rows") && stderr.contains("OpenMetrics samples"), "{stderr}");
    std::fs::read_to_string(path).unwrap()
}

/// One parsed sample line.
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
    t: i64,
}

/// Parses `name{a="x",b="y"} value timestamp`, undoing the escapes; panics with the line.
fn parse_sample(line: &str) -> Sample {
    let open = line.find('{').unwrap_or_else(|| panic!("no labels: {line}"));
    let name = &line[..open];
    assert!(!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{line}");
    let mut labels = BTreeMap::new();
    let mut chars = line[open + 1..].char_indices();
    let rest_at;
    loop {
        let mut key = String::new();
        for (_, c) in chars.by_ref() {
            if c == '=' {
                break;
            }
            key.push(c);
        }
        assert!(!key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{line}");
        assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line}");
        let mut value = String::new();
        loop {
            match chars.next().unwrap_or_else(|| panic!("unterminated value: {line}")).1 {
                '"' => break,
                '\\' => match chars.next().unwrap().1 {
                    'n' => value.push('\n'),
                    c @ ('\\' | '"') => value.push(c),
                    c => panic!("bad escape \\{c}: {line}"),
                },
                '\n' => panic!("raw newline: {line}"),
                c => value.push(c),
            }
        }
        assert!(labels.insert(key, value).is_none(), "duplicate label: {line}");
        match chars.next() {
            Some((_, ',')) => continue,
            Some((i, '}')) => {
                rest_at = open + 1 + i + 1;
                break;
            }
            other => panic!("expected , or }} after a label, got {other:?}: {line}"),
        }
    }
    let fields: Vec<&str> = line[rest_at..].strip_prefix(' ').unwrap_or_else(|| panic!("{line}")).split(' ').collect();
    assert_eq!(fields.len(), 2, "value and timestamp: {line}");
    let value: f64 = fields[0].parse().unwrap_or_else(|_| panic!("value: {line}"));
    assert!(value.is_finite(), "{line}");
    let t: i64 = fields[1].parse().unwrap_or_else(|_| panic!("integral epoch seconds: {line}"));
    Sample { name: name.to_string(), labels, value, t }
}

/// The exposition's families (name → type) and each series' samples (value, time), in order,
/// after asserting the structure OpenMetrics requires.
type Families = Vec<(String, String)>;
type SeriesMap = HashMap<(String, BTreeMap<String, String>), Vec<(f64, i64)>>;

fn check_structure(om: &str) -> (Families, SeriesMap) {
    assert!(om.ends_with("# EOF\n"), "must end with # EOF");
    let body = &om[..om.len() - "# EOF\n".len()];
    let mut families: Families = Vec::new();
    let mut series: SeriesMap = HashMap::new();
    let mut done_series = HashSet::new();
    let mut current: Option<(String, BTreeMap<String, String>)> = None;
    for line in body.lines() {
        if let Some(meta) = line.strip_prefix("# ") {
            let mut parts = meta.splitn(3, ' ');
            let (kind, name, rest) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap_or(""));
            match kind {
                "HELP" => assert!(!rest.is_empty(), "{line}"),
                "TYPE" => {
                    assert!(matches!(rest, "counter" | "gauge"), "{line}");
                    assert!(families.iter().all(|(n, _)| n != name), "TYPE twice (families interleaved): {line}");
                    families.push((name.to_string(), rest.to_string()));
                }
                _ => panic!("only HELP and TYPE metadata, then # EOF: {line}"),
            }
            continue;
        }
        let s = parse_sample(line);
        let (family, kind) = families.last().unwrap_or_else(|| panic!("a sample before any TYPE: {line}"));
        let expected = if kind == "counter" { format!("{family}_total") } else { family.clone() };
        assert_eq!(s.name, expected, "a sample outside its family: {line}");
        if s.name != "kube_node_status_condition" {
            assert!(s.labels.contains_key("namespace") && s.labels.contains_key("pod"), "{line}");
        }
        let key = (s.name.clone(), s.labels.clone());
        if current.as_ref() != Some(&key) {
            if let Some(prev) = current.replace(key.clone()) {
                done_series.insert(prev);
            }
            assert!(!done_series.contains(&key), "series interleaved: {line}");
        }
        let points = series.entry(key).or_default();
        if let Some(&(prev, t)) = points.last() {
            assert!(s.t > t, "timestamps must ascend within a series: {line}");
            if kind == "counter" && s.value < prev {
                // Only the restart count resets (a recreated pod starts again).
                assert_eq!(s.name, "kube_pod_container_status_restarts_total", "a counter went down: {line}");
            }
        }
        points.push((s.value, s.t));
    }
    (families, series)
}

#[test]
fn openmetrics_output_is_well_formed_and_matches_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let om = generate(dir.path());
    // No temporary file (the output's or the spill's) is left next to the output.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    let (families, series) = check_structure(&om);
    assert_eq!(families.len(), 18, "{families:?}");

    let cfg = SyntheticConfig { pods: 7, rows: 3000, seed: 11, ..SyntheticConfig::default() };
    let (csv, _) = synthetic::csv_bytes(&cfg).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let pick = |name: &str, labels: &[(&str, &str)]| -> HashMap<(String, String), HashMap<i64, f64>> {
        let mut out: HashMap<(String, String), HashMap<i64, f64>> = HashMap::new();
        for ((n, l), points) in &series {
            if n == name && labels.iter().all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v)) {
                let pod = out.entry((l["namespace"].clone(), l["pod"].clone())).or_default();
                for &(v, t) in points {
                    *pod.entry(t).or_default() += v;
                }
            }
        }
        out
    };
    let memory = pick("container_memory_working_set_bytes", &[]);
    let cpu = pick("container_cpu_usage_seconds_total", &[]);
    let restarts = pick("kube_pod_container_status_restarts_total", &[]);
    let ready = pick("kube_pod_container_status_ready", &[]);
    let running = pick("kube_pod_status_phase", &[("phase", "Running")]);
    let mut containers: HashMap<(String, String), usize> = HashMap::new();
    for (n, l) in series.keys() {
        if n == "kube_pod_container_info" {
            *containers.entry((l["namespace"].clone(), l["pod"].clone())).or_default() += 1;
        }
    }
    let mut rows = 0;
    for record in reader.records() {
        let r = record.unwrap();
        rows += 1;
        let pod = (r[col(schema::NAMESPACE)].to_string(), r[col(schema::POD_NAME)].to_string());
        let t = kubelstm::data::time::parse_timestamp(&r[col(schema::TIMESTAMP)]).unwrap();
        let num = |name: &str| r[col(name)].parse::<f64>().unwrap();
        // Gauges: the CSV's value exactly.
        assert_eq!(memory[&pod][&t] / 1_048_576.0, num(schema::MEMORY_MB), "{pod:?} at {t}");
        assert_eq!(restarts[&pod][&t], num(schema::POD_RESTARTS));
        assert_eq!(ready[&pod][&t], num(schema::READY_CONTAINERS));
        assert_eq!(containers[&pod] as f64, num(schema::TOTAL_CONTAINERS));
        let status = &r[col(schema::POD_STATUS)];
        let is_running = matches!(status, "Running" | "OOMKilled" | "CrashLoopBackOff" | "Error");
        assert_eq!(running[&pod][&t], if is_running { 1.0 } else { 0.0 }, "{status}");
        // Counters: the increment over one interval is the CSV's amount.
        if let Some(prev) = cpu[&pod].get(&(t - 60)) {
            let percent = (cpu[&pod][&t] - prev) / 60.0 * 100.0;
            let want = num(schema::CPU_USAGE);
            assert!((percent - want).abs() <= 1e-9 * want.abs().max(1.0), "cpu {percent} vs {want}");
        }
    }
    assert_eq!(rows, 3000);
    assert_eq!(cpu.values().map(HashMap::len).sum::<usize>(), 3000, "one cpu sample per CSV row");
}

#[test]
fn openmetrics_to_stdout_is_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path());
    let out = kubelstm(ARGS.iter().copied().chain(["openmetrics", "-q", "-o", "-"]));
    assert_success(&out);
    assert!(out.stdout == file.as_bytes(), "stdout and file differ");
    // The default format is still the CSV.
    let csv = kubelstm(ARGS[..7].iter().copied().chain(["-q", "-o", "-"]));
    assert!(text(&csv.stdout).starts_with("Timestamp,Pod Name,"));
    let bad = kubelstm(ARGS.iter().copied().chain(["json", "-o", "-"]));
    assert_eq!(bad.status.code(), Some(2));
}

/// Backfills the output with `promtool tsdb create-blocks-from openmetrics` when promtool is
/// installed (Debian's `prometheus` package); says so on stderr when it is not.
#[test]
fn promtool_backfills_the_openmetrics_output() {
    let version = Command::new("promtool").arg("--version").output();
    if !matches!(&version, Ok(v) if v.status.success()) {
        // Written to the real stderr, not through the test harness's capture: a skip is visible.
        let _ = writeln!(
            std::io::stderr(),
            "promtool_backfills_the_openmetrics_output: SKIPPED, no working `promtool` on PATH ({}); \
             install Debian's `prometheus` package to run it",
            match version {
                Ok(v) => format!("exit {}", v.status),
                Err(e) => e.to_string(),
            }
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let om = generate(dir.path());
    let samples = om.lines().filter(|l| !l.starts_with('#')).count();
    let tsdb = dir.path().join("tsdb");
    let out = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(dir.path().join("m.om"))
        .arg(&tsdb)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "promtool failed:\n{stdout}\n{}", text(&out.stderr));
    // One table row per block: ULID, min, max, duration, samples, chunks, series, size.
    let loaded: usize = stdout
        .lines()
        .filter(|l| !l.starts_with("BLOCK ULID"))
        .filter_map(|l| l.split_whitespace().nth(4).and_then(|n| n.parse::<usize>().ok()))
        .sum();
    assert_eq!(loaded, samples, "promtool loaded another number of samples:\n{stdout}");
    assert!(std::fs::read_dir(&tsdb).unwrap().count() >= 2, "3000 rows / 7 pods span more than one 2 h block");
}

/// The structural checker itself rejects what promtool 2.42 lets through.
#[test]
#[should_panic(expected = "series interleaved")]
fn checker_rejects_interleaved_series() {
    check_structure(
        "# TYPE g gauge\ng{namespace=\"n\",pod=\"a\"} 1 60\ng{namespace=\"n\",pod=\"b\"} 1 60\n\
         g{namespace=\"n\",pod=\"a\"} 2 120\n# EOF\n",
    );
}

#[test]
#[should_panic(expected = "a counter went down")]
fn checker_rejects_a_decreasing_counter() {
    check_structure(
        "# TYPE c counter\nc_total{namespace=\"n\",pod=\"a\"} 2 60\nc_total{namespace=\"n\",pod=\"a\"} 1 120\n# EOF\n",
    );
}
