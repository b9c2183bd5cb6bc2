//! The replay of every checked-in fuzz corpus on stable Rust: each file of
//! `fuzz/corpus/<target>/` through the check its fuzz target runs, so the seeds and every
//! minimised crash input added there stay regression tests without cargo-fuzz.

use std::path::{Path, PathBuf};

use crate::model_folder::Outcome;

/// A fuzz target's check, and the fewest seeds its corpus must hold (one per kernel selector,
/// a valid folder of each architecture, …) so an emptied corpus is noticed.
struct Target {
    name: &'static str,
    check: Check,
    min_seeds: usize,
}

enum Check {
    /// Any outcome but a panic passes.
    Plain(fn(&[u8])),
    /// `model_load`'s check: its `valid-…` seeds are real run folders and must also load.
    ModelFolder,
}

impl Check {
    /// Runs the check on the input of `seed`; `Err` names what went wrong.
    fn run(&self, seed: &str, bytes: &[u8]) -> Result<(), String> {
        let outcome = std::panic::catch_unwind(|| match self {
            Check::Plain(check) => {
                check(bytes);
                None
            }
            Check::ModelFolder => Some(crate::model_folder::check(bytes)),
        })
        .map_err(|_| "the check panicked".to_string())?;
        match outcome {
            Some(outcome) if seed.starts_with("valid-") && outcome != Outcome::Loaded { scaler_ok: true } => {
                Err(format!("a valid folder did not load: {outcome:?}"))
            }
            _ => Ok(()),
        }
    }
}

const TARGETS: [Target; 4] = [
    Target { name: "kernels", check: Check::Plain(crate::kernels::check), min_seeds: 13 },
    Target { name: "csv_ingest", check: Check::Plain(crate::ingest::check), min_seeds: 10 },
    Target { name: "model_load", check: Check::ModelFolder, min_seeds: 5 },
    Target { name: "detect_stream", check: Check::Plain(crate::stream::check), min_seeds: 8 },
];

/// The repository's `fuzz/` folder.
pub fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// What a replay saw: `(target, inputs)` per corpus, and the inputs that failed their check
/// (a panic, or a `valid-…` model folder that did not load), each with why.
#[derive(Debug, Default)]
pub struct Replay {
    pub replayed: Vec<(String, usize)>,
    pub failures: Vec<String>,
}

/// Replays every `fuzz_dir/corpus/<target>/`. Panics, naming the folder, for a corpus whose
/// target has no check here, a fuzz target without a corpus, or a corpus with fewer seeds than
/// its minimum; an input that fails its check is recorded in [`Replay::failures`].
pub fn replay_all(fuzz_dir: &Path) -> Replay {
    let mut replay = Replay::default();
    let mut dirs = sorted_entries(&fuzz_dir.join("corpus"));
    dirs.retain(|d| d.is_dir());
    for dir in dirs {
        let name = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let target = TARGETS.iter().find(|t| t.name == name).unwrap_or_else(|| {
            panic!("{}: no check function for this corpus in kubelstm_testkit::corpus", dir.display())
        });
        let files = sorted_entries(&dir);
        assert!(
            files.len() >= target.min_seeds,
            "{}: {} inputs, at least {} expected",
            dir.display(),
            files.len(),
            target.min_seeds
        );
        for file in &files {
            let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
            let seed = file.file_name().unwrap_or_default().to_string_lossy();
            if let Err(why) = target.check.run(&seed, &bytes) {
                replay.failures.push(format!("{}: {why}", file.display()));
            }
        }
        replay.replayed.push((name, files.len()));
    }
    for program in sorted_entries(&fuzz_dir.join("fuzz_targets")) {
        let stem = program.file_stem().unwrap_or_default().to_string_lossy().into_owned();
        assert!(replay.replayed.iter().any(|(t, _)| *t == stem), "fuzz target {stem} has no seed corpus");
    }
    replay
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    let mut paths: Vec<PathBuf> = entries.map(|e| e.expect("a directory entry").path()).collect();
    paths.sort();
    paths
}
