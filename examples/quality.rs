//! Detection quality on real, labelled, public data: the Application Server Dataset (ASD,
//! Li et al., KDD 2021; 12 servers, 19 metrics, expert labels), measured the way the
//! literature measures it and against floors computed in the same run.
//!
//! For each server: every architecture trains unsupervised on `omi-K_train.csv` only (its last
//! 20 % is the validation split the scaler, the score's weights and the threshold see), then
//! scores `omi-K_test.csv`. Reported per server and as the mean over servers: ROC-AUC and
//! average precision of the raw scores, point-wise F1 at the threshold the model chose itself
//! (no test labels), F1 at the best threshold ("oracle"), and the point-adjusted oracle F1 with
//! random scores' beside it (a point-adjusted F1 alone means little: random scores reach ~0.6).
//!
//! Floors, no learning, on the same rows: random scores; z-max (the largest |z| over the
//! metrics, mean and std of the train file); PCA (squared residual off the principal subspace
//! that holds 90 % of the train file's standardised variance); persistence (the squared change
//! from the previous row in train-std units: the forecast "next = last" a forecaster must beat).
//!
//! Ablations of the score's choices, on the same trained models (no retraining): plain MSE
//! instead of per-feature weights, and a trailing mean over the last k windows.
//!
//! ```text
//! cargo run --release --example quality -- --data ../shared/data/asd [--servers 1,2] \
//!     [--archs standard,autoencoder] [--epochs 20] [--seeds 3] [--out quality.md] 2>quality.log
//! ```
//! Training logs go to stderr; the tables to stdout (and `--out`). With `--seeds N` every model
//! is trained N times (seeds 1..=N): the per-server rows are the mean over seeds, the summary
//! gives mean ± standard deviation over seeds of the mean over servers.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::Parser;
use rand::{Rng, SeedableRng};

use kubelstm::data::split::VALIDATION_SHARE;
use kubelstm::detect::batch::{load_for_scoring, score_dataset};
use kubelstm::detect::{BatchScorer, ScoringModel};
use kubelstm::metrics::{average_precision, confusion_matrix, f1_optimal_threshold, roc_auc, Threshold};

#[derive(Parser)]
#[command(about = "Detection quality of every architecture on the Application Server Dataset")]
struct Cli {
    /// The ASD folder (omi-K_train.csv, omi-K_test.csv).
    #[arg(long)]
    data: PathBuf,
    /// Servers to run (1..=12), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,4,5,6,7,8,9,10,11,12")]
    servers: Vec<usize>,
    /// Architectures: standard, bidirectional, attention, autoencoder.
    #[arg(long, value_delimiter = ',', default_value = "standard,bidirectional,attention,autoencoder")]
    archs: Vec<String>,
    #[arg(long, default_value_t = 20)]
    epochs: usize,
    /// Train each model with seeds 1..=N and report mean ± std over seeds.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    seeds: u64,
    #[arg(long, default_value_t = 10)]
    sequence_length: usize,
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Widths of the two recurrent layers (default: the model's).
    #[arg(long)]
    lstm_units: Option<String>,
    /// Trailing-mean window of the smoothing ablation.
    #[arg(long, default_value_t = 3)]
    smooth: usize,
    #[arg(long)]
    threads: Option<usize>,
    /// Also write the tables here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Extra `kubelstm train` flags, e.g. `--train-flag=--use-robust-scaler`.
    #[arg(long = "train-flag", allow_hyphen_values = true)]
    train_flags: Vec<String>,
}

/// One CSV of ASD: rows of the 19 metrics, and the labels of a test file.
struct Table {
    rows: Vec<Vec<f64>>,
    labels: Vec<u8>,
}

fn read_table(path: &Path) -> Result<Table, String> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let header = rdr.headers().map_err(|e| format!("{}: {e}", path.display()))?.clone();
    let label = header.iter().position(|h| h == "label");
    let (mut rows, mut labels) = (Vec::new(), Vec::new());
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| format!("{}: {e}", path.display()))?;
        let mut row = Vec::with_capacity(rec.len());
        for (j, v) in rec.iter().enumerate() {
            let v: f64 = v.trim().parse().map_err(|_| format!("{} row {}: bad value {v:?}", path.display(), i + 2))?;
            if Some(j) == label {
                labels.push(u8::from(v > 0.5));
            } else {
                row.push(v);
            }
        }
        rows.push(row);
    }
    Ok(Table { rows, labels })
}

/// Threshold-free and thresholded quality of one score series against `labels`.
#[derive(Clone, Copy, Default)]
struct Quality {
    roc_auc: f64,
    average_precision: f64,
    /// At the detector's own threshold (NaN for floors, which have none).
    own_f1: f64,
    oracle_f1: f64,
    point_adjusted_f1: f64,
    /// Segments with at least one point at or above the own threshold, of all segments.
    segments_found: f64,
}

fn quality(labels: &[u8], scores: &[f64], own_threshold: Option<f64>) -> Quality {
    let best_f1 = |s: &[f64]| f1_optimal_threshold(labels, s).ok().flatten().map_or(f64::NAN, |o| o.f1);
    let segments = segments(labels);
    // Point adjustment: a segment counts as found as soon as one of its points is flagged, so
    // each anomalous point takes its segment's highest score.
    let mut adjusted = scores.to_vec();
    for &(a, b) in &segments {
        let peak = scores[a..b].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        adjusted[a..b].fill(peak);
    }
    let (own_f1, segments_found) = match own_threshold {
        Some(t) => {
            let f1 = confusion_matrix(labels, scores, t).map_or(f64::NAN, |cm| cm.f1());
            let found = segments.iter().filter(|&&(a, b)| scores[a..b].iter().any(|&s| s >= t)).count();
            (f1, found as f64 / segments.len().max(1) as f64)
        }
        None => (f64::NAN, f64::NAN),
    };
    Quality {
        roc_auc: roc_auc(labels, scores).ok().flatten().unwrap_or(f64::NAN),
        average_precision: average_precision(labels, scores).ok().flatten().unwrap_or(f64::NAN),
        own_f1,
        oracle_f1: best_f1(scores),
        point_adjusted_f1: best_f1(&adjusted),
        segments_found,
    }
}

/// `[start, end)` of each run of 1s.
fn segments(labels: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &y) in labels.iter().chain(std::iter::once(&0)).enumerate() {
        match (y == 1, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    out
}

fn mean_std(rows: &[Vec<f64>]) -> (Vec<f64>, Vec<f64>) {
    let (n, f) = (rows.len() as f64, rows[0].len());
    let mean: Vec<f64> = (0..f).map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / n).collect();
    // A constant metric gets a unit spread of 1e-3 (ASD is scaled to [0, 1]) rather than 0.
    let std =
        (0..f).map(|j| (rows.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n).sqrt().max(1e-3)).collect();
    (mean, std)
}

fn z_max(train: &[Vec<f64>], test: &[Vec<f64>]) -> Vec<f64> {
    let (mean, std) = mean_std(train);
    test.iter().map(|r| r.iter().enumerate().map(|(j, v)| ((v - mean[j]) / std[j]).abs()).fold(0.0, f64::max)).collect()
}

fn persistence(train: &[Vec<f64>], test: &[Vec<f64>]) -> Vec<f64> {
    let (_, std) = mean_std(train);
    let mut out = vec![0.0];
    for w in test.windows(2) {
        out.push(w[1].iter().zip(&w[0]).enumerate().map(|(j, (a, b))| ((a - b) / std[j]).powi(2)).sum());
    }
    out
}

/// Residual off the principal subspace holding 90 % of the train file's standardised variance.
fn pca_residual(train: &[Vec<f64>], test: &[Vec<f64>]) -> Vec<f64> {
    let (mean, std) = mean_std(train);
    let f = mean.len();
    let z = |r: &Vec<f64>| -> Vec<f64> { (0..f).map(|j| (r[j] - mean[j]) / std[j]).collect() };
    let mut cov = vec![vec![0.0; f]; f];
    for r in train {
        let v = z(r);
        for a in 0..f {
            for b in 0..f {
                cov[a][b] += v[a] * v[b] / train.len() as f64;
            }
        }
    }
    let (values, vectors) = jacobi_eigen(cov);
    let mut order: Vec<usize> = (0..f).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    let total: f64 = values.iter().sum();
    let (mut kept, mut acc) = (Vec::new(), 0.0);
    for &i in &order {
        if acc >= 0.9 * total {
            break;
        }
        acc += values[i];
        kept.push(i);
    }
    test.iter()
        .map(|r| {
            let v = z(r);
            let mut residual = v.clone();
            for &k in &kept {
                let coef: f64 = (0..f).map(|j| v[j] * vectors[j][k]).sum();
                for j in 0..f {
                    residual[j] -= coef * vectors[j][k];
                }
            }
            residual.iter().map(|x| x * x).sum()
        })
        .collect()
}

/// Eigenvalues and eigenvectors (columns) of a symmetric matrix by cyclic Jacobi rotations.
// Index loops: a rotation reads and writes two rows or two columns at once.
#[allow(clippy::needless_range_loop)]
fn jacobi_eigen(mut a: Vec<Vec<f64>>) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let mut v: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect()).collect();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j].powi(2))
            .sum();
        if off < 1e-22 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[p][q].abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let sign = if theta >= 0.0 { 1.0 } else { -1.0 };
                let t = sign / (theta.abs() + (theta * theta + 1.0).sqrt());
                let (c, s) = (1.0 / (t * t + 1.0).sqrt(), t / (t * t + 1.0).sqrt());
                for k in 0..n {
                    let (akp, akq) = (a[k][p], a[k][q]);
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let (vkp, vkq) = (row[p], row[q]);
                    row[p] = c * vkp - s * vkq;
                    row[q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i][i]).collect(), v)
}

/// Trailing mean over the last `k` scores (fewer at the start).
fn smoothed(scores: &[f64], k: usize) -> Vec<f64> {
    (0..scores.len())
        .map(|i| scores[i.saturating_sub(k - 1)..=i].iter().sum::<f64>() / (i.min(k - 1) + 1) as f64)
        .collect()
}

/// What one trained model gives: scores of each test row that ends a window (rows `T-1..`),
/// the same for the validation rows of the train file (its last 20 %, as training split it),
/// the model's own threshold, and the plain-MSE test scores of the same model.
struct Scored {
    test: Vec<f64>,
    validation: Vec<f64>,
    threshold: f64,
    plain: Vec<f64>,
}

/// Trains `arch` on `train_csv` and scores both files.
fn train_and_score(
    cli: &Cli,
    arch: &str,
    seed: u64,
    train_csv: &Path,
    test_csv: &Path,
    out_dir: &Path,
) -> Result<Scored, String> {
    let mut argv: Vec<String> = vec!["--data-path".into(), train_csv.display().to_string()];
    argv.extend(["--feature-columns", "all", "--mode", "unsupervised"].map(String::from));
    argv.extend(["--seed".into(), seed.to_string()]);
    argv.extend(["--output-dir".into(), out_dir.display().to_string()]);
    argv.extend(["--epochs".into(), cli.epochs.to_string(), "--batch-size".into(), cli.batch_size.to_string()]);
    argv.extend(["--sequence-length".into(), cli.sequence_length.to_string()]);
    if let Some(t) = cli.threads {
        argv.extend(["--threads".into(), t.to_string()]);
    }
    if let Some(u) = &cli.lstm_units {
        argv.extend(["--lstm-units".into(), u.clone()]);
    }
    match arch {
        "standard" => {}
        "bidirectional" | "attention" | "autoencoder" => argv.push(format!("--use-{arch}")),
        other => return Err(format!("unknown architecture {other:?}")),
    }
    argv.extend(cli.train_flags.iter().cloned());
    let settings = kubelstm::cli::train::settings_from_words(&argv).map_err(|e| e.to_string())?;
    let result = kubelstm::train::job::run(&settings, Arc::new(AtomicBool::new(false))).map_err(|e| e.to_string())?;
    let model = ScoringModel::load(&result.run_dir).map_err(|e| e.to_string())?;
    let threshold = model.threshold();
    let score = |model: &ScoringModel, csv: &Path| -> Result<Vec<f64>, String> {
        let file = std::fs::File::open(csv).map_err(|e| format!("{}: {e}", csv.display()))?;
        let dataset = load_for_scoring(file, &csv.display().to_string(), model, false).map_err(|e| e.to_string())?;
        let mut scorer = BatchScorer::new(model, cli.threads.unwrap_or(0)).map_err(|e| e.to_string())?;
        let mut scores = Vec::new();
        let mut expected = model.steps() as i64 - 1;
        score_dataset(&mut scorer, &dataset, model, false, |s| {
            // Without a time column a row's timestamp is its index: every window in order.
            assert_eq!(s.timestamp, expected, "the test file's windows arrive in row order");
            expected += 1;
            scores.push(f64::from(s.score));
            Ok(())
        })
        .map_err(|e| e.to_string())?;
        Ok(scores)
    };
    let test = score(&model, test_csv)?;
    let mut validation = score(&model, train_csv)?;
    // Training's split: the last 20 % of the rows, windows wholly inside it.
    let rows = validation.len() + model.steps() - 1;
    let first_validation_row = rows - (rows as f64 * VALIDATION_SHARE).round() as usize;
    validation.drain(..first_validation_row.min(validation.len()));
    // The same weights with the score's per-feature weights removed (the layers copy them at
    // construction, so the model is rebuilt from its configuration).
    let mut plain = model.clone();
    let mut config = plain.loaded.model.config.clone();
    config.error_weights = None;
    plain.loaded.model = kubelstm::models::Model::new(config).map_err(|e| e.to_string())?;
    let plain = score(&plain, test_csv)?;
    Ok(Scored { test, validation, threshold, plain })
}

/// Thresholds a detector can set from its validation scores alone, compared by test F1.
const RULES: [&str; 6] = ["POT 1e-2", "POT 1e-3", "POT 1e-4", "p99", "p99.9", "val max"];

fn rule_thresholds(validation: &[f64]) -> Vec<f64> {
    let pot = |risk| Threshold::pot(validation, risk).map_or(f64::NAN, |t| t.value);
    let pct = |p| Threshold::percentile(validation, p).map_or(f64::NAN, |t| t.value);
    vec![
        pot(1e-2),
        pot(1e-3),
        pot(1e-4),
        pct(99.0),
        pct(99.9),
        validation.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    ]
}

fn f1_at(labels: &[u8], scores: &[f64], threshold: f64) -> f64 {
    if threshold.is_nan() {
        return f64::NAN;
    }
    confusion_matrix(labels, scores, threshold).map_or(f64::NAN, |cm| cm.f1())
}

const COLUMNS: &str = "| detector | ROC-AUC | AP | F1 own | F1 oracle | PA-F1 oracle | segments found |";
const RULE: &str = "|---|---:|---:|---:|---:|---:|---:|";

impl Quality {
    fn fields(&self) -> [f64; 6] {
        [self.roc_auc, self.average_precision, self.own_f1, self.oracle_f1, self.point_adjusted_f1, self.segments_found]
    }
}

fn row(name: &str, q: &Quality) -> String {
    row_spread(name, q, None)
}

/// A table row; with `spread`, each figure is `mean ± std`.
fn row_spread(name: &str, q: &Quality, spread: Option<&Quality>) -> String {
    let mut out = format!("| {name} |");
    for (i, v) in q.fields().into_iter().enumerate() {
        let _ = match (v.is_nan(), spread) {
            (true, _) => write!(out, " – |"),
            (false, Some(sd)) => write!(out, " {v:.3} ± {:.3} |", sd.fields()[i]),
            (false, None) => write!(out, " {v:.3} |"),
        };
    }
    out
}

fn from_fields(f: [f64; 6]) -> Quality {
    Quality {
        roc_auc: f[0],
        average_precision: f[1],
        own_f1: f[2],
        oracle_f1: f[3],
        point_adjusted_f1: f[4],
        segments_found: f[5],
    }
}

fn mean_of(qs: &[Quality]) -> Quality {
    from_fields(std::array::from_fn(|i| qs.iter().map(|q| q.fields()[i]).sum::<f64>() / qs.len() as f64))
}

/// Sample standard deviation of each figure (0 for one value).
fn std_of(qs: &[Quality]) -> Quality {
    let mean = mean_of(qs).fields();
    let n = qs.len() as f64;
    from_fields(std::array::from_fn(|i| {
        let ss: f64 = qs.iter().map(|q| (q.fields()[i] - mean[i]).powi(2)).sum();
        if qs.len() > 1 {
            (ss / (n - 1.0)).sqrt()
        } else {
            0.0
        }
    }))
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> Result<(), String> {
    let work = std::env::temp_dir().join(format!("kubelstm-quality-{}", std::process::id()));
    let mut names: Vec<String> = ["random", "z-max", "PCA", "persistence"].map(String::from).to_vec();
    for arch in &cli.archs {
        names.push(arch.clone());
        names.push(format!("{arch}, plain MSE"));
        names.push(format!("{arch}, smoothed k={}", cli.smooth));
    }
    let floors = 4;
    let seeds: Vec<u64> = (1..=cli.seeds).collect();
    // [detector][seed][server]; the floors learn nothing and have seed 1 only.
    let mut all: Vec<Vec<Vec<Quality>>> = vec![vec![Vec::new(); seeds.len()]; names.len()];
    // Per architecture, raw then smoothed: test F1 at each rule's threshold, per server.
    let mut rule_f1: Vec<Vec<Vec<f64>>> = vec![Vec::new(); 2 * cli.archs.len()];
    let mut report = String::new();
    let _ = writeln!(
        report,
        "# kubelstm on ASD: {} epochs, T={}, batch {}, seeds 1..={}\n",
        cli.epochs, cli.sequence_length, cli.batch_size, cli.seeds
    );
    for &k in &cli.servers {
        let train_csv = cli.data.join(format!("omi-{k}_train.csv"));
        let test_csv = cli.data.join(format!("omi-{k}_test.csv"));
        let (train, test) = (read_table(&train_csv)?, read_table(&test_csv)?);
        // Scores exist for rows that end a window; every detector is measured on those rows.
        let skip = cli.sequence_length - 1;
        let labels = &test.labels[skip..];
        // [detector][seed]
        let mut qs: Vec<Vec<Quality>> = Vec::new();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(k as u64);
        let random: Vec<f64> = (0..labels.len()).map(|_| rng.random::<f64>()).collect();
        qs.push(vec![quality(labels, &random, None)]);
        qs.push(vec![quality(labels, &z_max(&train.rows, &test.rows)[skip..], None)]);
        qs.push(vec![quality(labels, &pca_residual(&train.rows, &test.rows)[skip..], None)]);
        qs.push(vec![quality(labels, &persistence(&train.rows, &test.rows)[skip..], None)]);
        for (a, arch) in cli.archs.iter().enumerate() {
            let (mut raw, mut plain, mut smooth) = (Vec::new(), Vec::new(), Vec::new());
            for &seed in &seeds {
                let dir = work.join(format!("omi-{k}-{arch}-seed{seed}"));
                std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                let started = std::time::Instant::now();
                let scored = train_and_score(cli, arch, seed, &train_csv, &test_csv, &dir)?;
                eprintln!(
                    "quality: omi-{k} {arch} seed {seed} trained and scored in {:.0} s",
                    started.elapsed().as_secs_f64()
                );
                let smooth_test = smoothed(&scored.test, cli.smooth);
                let smooth_validation = smoothed(&scored.validation, cli.smooth);
                let smooth_threshold = Threshold::pot(&smooth_validation, 1e-4).map_or(f64::NAN, |t| t.value);
                raw.push(quality(labels, &scored.test, Some(scored.threshold)));
                plain.push(quality(labels, &scored.plain, None));
                smooth.push(quality(labels, &smooth_test, Some(smooth_threshold)));
                let f1s = |scores: &[f64], validation: &[f64]| -> Vec<f64> {
                    rule_thresholds(validation).into_iter().map(|t| f1_at(labels, scores, t)).collect()
                };
                rule_f1[2 * a].push(f1s(&scored.test, &scored.validation));
                rule_f1[2 * a + 1].push(f1s(&smooth_test, &smooth_validation));
            }
            qs.extend([raw, plain, smooth]);
        }
        let _ = writeln!(
            report,
            "## omi-{k} ({} test rows, {} anomalous)\n\n{COLUMNS}\n{RULE}",
            labels.len(),
            labels.iter().filter(|&&y| y == 1).count()
        );
        for (i, per_seed) in qs.iter().enumerate() {
            let _ = writeln!(report, "{}", row(&names[i], &mean_of(per_seed)));
            for (s, q) in per_seed.iter().enumerate() {
                all[i][s].push(*q);
            }
        }
        report.push('\n');
        print!("{}", report.split("## ").last().map(|s| format!("## {s}")).unwrap_or_default());
    }
    let over = if cli.seeds > 1 { format!(" (mean ± std over {} seeds)", cli.seeds) } else { String::new() };
    let mut summary = format!("## Mean over {} servers{over}\n\n{COLUMNS}\n{RULE}\n", cli.servers.len());
    for (i, per_seed) in all.iter().enumerate() {
        // Each seed's mean over servers, then their spread.
        let means: Vec<Quality> = per_seed.iter().filter(|s| !s.is_empty()).map(|s| mean_of(s)).collect();
        let spread = (i >= floors && cli.seeds > 1).then(|| std_of(&means));
        let _ = writeln!(summary, "{}", row_spread(&names[i], &mean_of(&means), spread.as_ref()));
    }
    let _ = writeln!(summary, "\n## Test F1 at thresholds set on validation scores (mean over servers and seeds)\n");
    let _ = writeln!(summary, "| detector | {} |\n|---|{}", RULES.join(" | "), "---:|".repeat(RULES.len()));
    for (i, per_server) in rule_f1.iter().enumerate() {
        let arch = &cli.archs[i / 2];
        let name = if i % 2 == 0 { arch.clone() } else { format!("{arch}, smoothed k={}", cli.smooth) };
        let means: Vec<String> = (0..RULES.len())
            .map(|r| {
                let v: Vec<f64> = per_server.iter().map(|f| f[r]).filter(|v| !v.is_nan()).collect();
                format!("{:.3} ({}/{})", v.iter().sum::<f64>() / v.len().max(1) as f64, v.len(), per_server.len())
            })
            .collect();
        let _ = writeln!(summary, "| {name} | {} |", means.join(" | "));
    }
    print!("{summary}");
    report.push_str(&summary);
    if let Some(out) = &cli.out {
        std::fs::write(out, &report).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}
