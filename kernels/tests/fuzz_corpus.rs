//! Replays every file of the fuzz target's corpus (`fuzz/corpus/kernels/`) through the same
//! check the fuzz target runs, so the seeds and any minimised crash inputs added there stay
//! regression tests on stable Rust, without cargo-fuzz.

use std::path::PathBuf;

#[test]
fn fuzz_corpus_replays() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/kernels");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("corpus entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(files.len() >= 13, "expected at least one seed per kernel selector in {}", dir.display());
    for path in &files {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let outcome = std::panic::catch_unwind(|| kubelstm_kernels::fuzzing::check(&data));
        assert!(outcome.is_ok(), "corpus input {} fails the check", path.display());
    }
}
