//! Fault detection on one day of a real Kubernetes deployment: Google's Online Boutique with
//! 56 injected faults (the Nezha dataset, Yu et al., FSE 2023; `rca_data/2022-08-22`).
//!
//! The faults were injected in the first four hours of the day (03:53–07:53 UTC); the 16 hours
//! after them are the normal behaviour the model learns, as if it had been trained on another
//! day of the same cluster. Each pod's file is split in time at 15 minutes after the last
//! injection: the rows after it train an unsupervised model, the rows before it are scored. A fault counts as detected when a window of the injected pod ending
//! within five minutes of the injection is at or above the threshold; the delay is from the
//! injection to that window. Reported per fault type, at the model's own threshold (with the
//! false alarms it raises: flagged windows outside every fault's five minutes), and at an
//! alarm budget of 2 % of the windows beside the z-max floor at the same budget (the largest
//! |z| over the metrics, mean and std from the pod's training half).
//!
//! ```text
//! cargo run --release --example online_boutique -- \
//!     --data ../shared/data/nezha-online-boutique-2022-08-22 [--archs standard,autoencoder]
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::Parser;
use rand::{Rng, SeedableRng};

use kubelstm::data::time::parse_timestamp;
use kubelstm::data::DataFiles;
use kubelstm::detect::batch::{load_files_for_scoring, score_dataset};
use kubelstm::detect::{BatchScorer, ScoringModel};

/// The pod's own metrics (the node's are shared by every pod on it).
const FEATURES: &str = "CpuUsageRate(%),MemoryUsageRate(%),SyscallRead,SyscallWrite,NetworkReceiveBytes,\
NetworkTransmitBytes,PodClientLatencyP90(s),PodServerLatencyP90(s),PodClientLatencyP99(s),PodServerLatencyP99(s),\
PodWorkload(Ops),PodSuccessRate(%)";

/// A fault is found if flagged within this many seconds of its injection.
const WITHIN: i64 = 300;

#[derive(Parser)]
#[command(about = "Fault detection of every architecture on Online Boutique (Nezha, 2022-08-22)")]
struct Cli {
    /// The folder holding `metric/` and `2022-08-22-fault_list.json`.
    #[arg(long)]
    data: PathBuf,
    #[arg(long, value_delimiter = ',', default_value = "standard,bidirectional,attention,autoencoder")]
    archs: Vec<String>,
    #[arg(long, default_value_t = 30)]
    epochs: usize,
    #[arg(long, default_value_t = 10)]
    sequence_length: usize,
    /// Share of windows the alarm-budget comparison flags.
    #[arg(long, default_value_t = 0.02)]
    budget: f64,
    #[arg(long)]
    threads: Option<usize>,
    /// Extra `kubelstm train` flags, e.g. `--train-flag=--smooth=3`.
    #[arg(long = "train-flag", allow_hyphen_values = true)]
    train_flags: Vec<String>,
}

struct Fault {
    pod: String,
    at: i64,
    kind: String,
}

/// `pod → [(timestamp, score)]` in time order.
type Scores = BTreeMap<String, Vec<(i64, f64)>>;

fn faults(dir: &Path) -> Result<Vec<Fault>, String> {
    let path = dir.join("2022-08-22-fault_list.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for list in json.as_object().ok_or("the fault list is not an object")?.values() {
        for f in list.as_array().ok_or("a fault hour is not a list")? {
            let at = f["inject_timestamp"].as_str().and_then(|s| s.parse().ok()).ok_or("bad inject_timestamp")?;
            let text = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            out.push(Fault { pod: text("inject_pod"), at, kind: text("inject_type") });
        }
    }
    out.sort_by_key(|f| f.at);
    Ok(out)
}

/// Splits each pod file in two at `cut` (epoch seconds): rows from it on go to `train/`, rows
/// before it to `test/` under `work`. Returns the pods'
/// training rows (timestamp, features) for the z-max floor, and the test rows.
#[allow(clippy::type_complexity)]
fn split_files(
    dir: &Path,
    work: &Path,
    cut: i64,
) -> Result<(BTreeMap<String, Vec<Vec<f64>>>, BTreeMap<String, Vec<(i64, Vec<f64>)>>), String> {
    let (train_dir, test_dir) = (work.join("train"), work.join("test"));
    for d in [&train_dir, &test_dir] {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    let features: Vec<&str> = FEATURES.split(',').collect();
    let (mut train_rows, mut test_rows) = (BTreeMap::new(), BTreeMap::new());
    let metric = dir.join("metric");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&metric)
        .map_err(|e| format!("{}: {e}", metric.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with("_metric.csv"))
        .collect();
    names.sort();
    for path in names {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut lines = text.lines();
        let header = lines.next().ok_or("empty file")?;
        let rows: Vec<&str> = lines.collect();
        let time = |line: &&str| parse_timestamp(line.split(',').next().unwrap_or_default()).unwrap_or(0);
        let cut = rows.iter().position(|l| time(l) >= cut).unwrap_or(rows.len());
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let pod = name.trim_end_matches("_metric.csv").to_string();
        let write =
            |to: &Path, part: &[&str]| std::fs::write(to.join(&name), format!("{header}\n{}\n", part.join("\n")));
        write(&train_dir, &rows[cut..]).map_err(|e| e.to_string())?;
        write(&test_dir, &rows[..cut]).map_err(|e| e.to_string())?;
        let columns: Vec<&str> = header.split(',').collect();
        let index: Vec<usize> = features.iter().map(|f| columns.iter().position(|c| c == f).unwrap()).collect();
        let parse = |line: &str| -> (i64, Vec<f64>) {
            let cells: Vec<&str> = line.split(',').collect();
            (parse_timestamp(cells[0]).unwrap_or(0), index.iter().map(|&i| cells[i].parse().unwrap_or(0.0)).collect())
        };
        train_rows.insert(pod.clone(), rows[cut..].iter().map(|l| parse(l).1).collect());
        test_rows.insert(pod, rows[..cut].iter().map(|l| parse(l)).collect());
    }
    Ok((train_rows, test_rows))
}

fn train_and_score(cli: &Cli, arch: &str, work: &Path) -> Result<(Scores, f64), String> {
    let mut argv: Vec<String> = vec!["--data-path".into(), work.join("train").display().to_string()];
    argv.extend(
        ["--time-column", "Time", "--feature-columns", FEATURES, "--mode", "unsupervised", "--seed", "1"]
            .map(String::from),
    );
    argv.extend([
        "--output-dir".into(),
        work.join("runs").display().to_string(),
        "--epochs".into(),
        cli.epochs.to_string(),
    ]);
    argv.extend(["--sequence-length".into(), cli.sequence_length.to_string()]);
    if let Some(t) = cli.threads {
        argv.extend(["--threads".into(), t.to_string()]);
    }
    if arch != "standard" {
        argv.push(format!("--use-{arch}"));
    }
    argv.extend(cli.train_flags.iter().cloned());
    let settings = kubelstm::cli::train::settings_from_words(&argv).map_err(|e| e.to_string())?;
    let result = kubelstm::train::job::run(&settings, Arc::new(AtomicBool::new(false))).map_err(|e| e.to_string())?;
    let model = ScoringModel::load(&result.run_dir).map_err(|e| e.to_string())?;
    let files = DataFiles::resolve(&[work.join("test")], "--data").map_err(|e| e.to_string())?;
    let (dataset, _) = load_files_for_scoring(&files, &model, false).map_err(|e| e.to_string())?;
    let mut scorer = BatchScorer::new(&model, cli.threads.unwrap_or(0)).map_err(|e| e.to_string())?;
    let mut scores = Scores::new();
    score_dataset(&mut scorer, &dataset, &model, false, |s| {
        scores.entry(s.key.to_string()).or_default().push((s.timestamp, f64::from(s.score)));
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    Ok((scores, model.threshold()))
}

fn z_max_scores(
    train: &BTreeMap<String, Vec<Vec<f64>>>,
    test: &BTreeMap<String, Vec<(i64, Vec<f64>)>>,
    skip: usize,
) -> Scores {
    let mut out = Scores::new();
    for (pod, rows) in train {
        let f = rows[0].len();
        let n = rows.len() as f64;
        let mean: Vec<f64> = (0..f).map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / n).collect();
        let std: Vec<f64> =
            (0..f).map(|j| (rows.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n).sqrt().max(1e-9)).collect();
        let scores = test[pod]
            .iter()
            .skip(skip)
            .map(|(t, r)| (*t, (0..f).map(|j| ((r[j] - mean[j]) / std[j]).abs()).fold(0.0, f64::max)))
            .collect();
        out.insert(pod.clone(), scores);
    }
    out
}

/// Per fault type: (faults, found, delays of the found), and false alarms, at `threshold`.
struct Found {
    by_kind: BTreeMap<String, (usize, usize, Vec<i64>)>,
    /// cpu and network faults with some pod flagged within five minutes.
    any_pod: usize,
    false_alarms: usize,
    windows: usize,
}

fn found(scores: &Scores, faults: &[Fault], threshold: f64) -> Found {
    let mut by_kind: BTreeMap<String, (usize, usize, Vec<i64>)> = BTreeMap::new();
    for f in faults {
        let e = by_kind.entry(f.kind.clone()).or_default();
        e.0 += 1;
        let hit = scores
            .get(&f.pod)
            .and_then(|s| s.iter().find(|(t, v)| *t >= f.at && *t <= f.at + WITHIN && *v >= threshold));
        if let Some((t, _)) = hit {
            e.1 += 1;
            e.2.push(t - f.at);
        }
    }
    // System-level: any pod flagged within the five minutes (a fault's effect often shows in
    // its callers, not in the pod it was injected into).
    let cpu_net: Vec<&Fault> = faults.iter().filter(|f| is_cpu_or_network(&f.kind)).collect();
    let any_pod = cpu_net
        .iter()
        .filter(|f| scores.values().flatten().any(|(t, v)| *t >= f.at && *t <= f.at + WITHIN && *v >= threshold))
        .count();
    let mut false_alarms = 0;
    let mut windows = 0;
    for (pod, s) in scores {
        for (t, v) in s {
            windows += 1;
            let in_fault = faults.iter().any(|f| &f.pod == pod && *t >= f.at && *t <= f.at + WITHIN);
            false_alarms += usize::from(*v >= threshold && !in_fault);
        }
    }
    Found { by_kind, any_pod, false_alarms, windows }
}

fn is_cpu_or_network(kind: &str) -> bool {
    kind.starts_with("cpu") || kind.starts_with("network")
}

/// The score above which `budget` of all windows lie.
fn budget_threshold(scores: &Scores, budget: f64) -> f64 {
    let mut all: Vec<f64> = scores.values().flatten().map(|(_, v)| *v).collect();
    all.sort_by(|a, b| b.total_cmp(a));
    all[((all.len() as f64 * budget) as usize).min(all.len() - 1)]
}

fn line(name: &str, f: &Found) -> String {
    let mut cells = Vec::new();
    let (mut cpu_net, mut cpu_net_found) = (0, 0);
    for (kind, (n, k, delays)) in &f.by_kind {
        let mean_delay = if delays.is_empty() { 0.0 } else { delays.iter().sum::<i64>() as f64 / delays.len() as f64 };
        cells.push(format!("{kind} {k}/{n} ({mean_delay:.0} s)"));
        if is_cpu_or_network(kind) {
            cpu_net += n;
            cpu_net_found += k;
        }
    }
    format!(
        "| {name} | {cpu_net_found}/{cpu_net} ({:.0} %) | {}/{cpu_net} ({:.0} %) | {} | {} of {} windows |",
        100.0 * cpu_net_found as f64 / cpu_net.max(1) as f64,
        f.any_pod,
        100.0 * f.any_pod as f64 / cpu_net.max(1) as f64,
        cells.join("; "),
        f.false_alarms,
        f.windows
    )
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(report) => {
            print!("{report}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> Result<String, String> {
    let work = std::env::temp_dir().join(format!("kubelstm-online-boutique-{}", std::process::id()));
    let all_faults = faults(&cli.data)?;
    let cut = all_faults.last().map_or(0, |f| f.at) + 900;
    let (train_rows, test_rows) = split_files(&cli.data, &work, cut)?;
    let start = test_rows.values().filter_map(|r| r.get(cli.sequence_length - 1).map(|(t, _)| *t)).max().unwrap_or(0);
    let end = test_rows.values().filter_map(|r| r.last().map(|(t, _)| *t)).min().unwrap_or(0);
    let faults: Vec<Fault> = all_faults.into_iter().filter(|f| f.at >= start && f.at + WITHIN <= end).collect();
    let mut report = format!(
        "# kubelstm on Online Boutique: {} faults in the scored hours, found within {WITHIN} s\n\n\
         | detector | cpu + network: injected pod flagged | any pod flagged | per type, injected pod: found (mean delay) | false alarms |\n|---|---:|---:|---|---:|\n",
        faults.len()
    );
    // Random scores at the same budget: what chance alone finds, above all "any pod flagged".
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let random: Scores = test_rows
        .iter()
        .map(|(pod, rows)| {
            (pod.clone(), rows.iter().skip(cli.sequence_length - 1).map(|(t, _)| (*t, rng.random::<f64>())).collect())
        })
        .collect();
    let _ = writeln!(
        report,
        "{}",
        line(
            &format!("random at a {:.0} % budget", 100.0 * cli.budget),
            &found(&random, &faults, budget_threshold(&random, cli.budget))
        )
    );
    let z = z_max_scores(&train_rows, &test_rows, cli.sequence_length - 1);
    let _ = writeln!(
        report,
        "{}",
        line(
            &format!("z-max at a {:.0} % budget", 100.0 * cli.budget),
            &found(&z, &faults, budget_threshold(&z, cli.budget))
        )
    );
    for arch in &cli.archs {
        let (scores, threshold) = train_and_score(cli, arch, &work)?;
        let _ = writeln!(report, "{}", line(&format!("{arch}, own threshold"), &found(&scores, &faults, threshold)));
        let _ = writeln!(
            report,
            "{}",
            line(
                &format!("{arch} at a {:.0} % budget", 100.0 * cli.budget),
                &found(&scores, &faults, budget_threshold(&scores, cli.budget))
            )
        );
        eprint!("{report}");
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(report)
}
