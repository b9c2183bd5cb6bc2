//! The replay of every checked-in fuzz corpus on stable Rust: each file of
//! `fuzz/corpus/<target>/` through the check its fuzz target runs, so the seeds and every
//! minimised crash input added there stay regression tests without cargo-fuzz.

use std::path::{Path, PathBuf};

use crate::model_folder::Outcome;

/// A fuzz target's check, and the fewest seeds its corpus must hold (one per kernel selector,
/// a valid folder of each architecture, …) so an emptied corpus is noticed.
struct Target {
    name: &'static str,
    check: fn(&[u8]),
    min_seeds: usize,
}

const TARGETS: [Target; 4] = [
    Target { name: "kernels", check: crate::kernels::check, min_seeds: 13 },
    Target { name: "csv_ingest", check: crate::ingest::check, min_seeds: 10 },
    Target { name: "model_load", check: check_model_folder, min_seeds: 5 },
    Target { name: "detect_stream", check: crate::stream::check, min_seeds: 8 },
];

/// `model_load`'s check with its outcome dropped ([`replay_all`] looks at the outcome of the
/// `valid-…` seeds, which are real run folders and must load).
fn check_model_folder(bytes: &[u8]) {
    crate::model_folder::check(bytes);
}

/// The repository's `fuzz/` folder.
pub fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// What a replay saw: `(target, inputs)` per corpus, and the inputs whose check panicked.
#[derive(Debug, Default)]
pub struct Replay {
    pub replayed: Vec<(String, usize)>,
    pub failures: Vec<String>,
}

/// Replays every `fuzz_dir/corpus/<target>/`. Panics, naming the folder, for a corpus whose
/// target has no check here, a fuzz target without a corpus, or a corpus with fewer seeds than
/// its minimum; a check that panics on an input is recorded in [`Replay::failures`].
pub fn replay_all(fuzz_dir: &Path) -> Replay {
    let mut replay = Replay::default();
    let mut dirs = sorted_entries(&fuzz_dir.join("corpus"));
    dirs.retain(|d| d.is_dir());
    for dir in dirs {
        let name = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let target = TARGETS
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("{}: no check function for this corpus in kubelstm_testkit::corpus", dir.display()));
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
            if std::panic::catch_unwind(|| (target.check)(&bytes)).is_err() {
                replay.failures.push(file.display().to_string());
                continue;
            }
            let seed = file.file_name().unwrap_or_default().to_string_lossy();
            if target.name == "model_load" && seed.starts_with("valid-") {
                let outcome = crate::model_folder::check(&bytes);
                assert_eq!(outcome, Outcome::Loaded { scaler_ok: true }, "{} is a valid folder", file.display());
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
