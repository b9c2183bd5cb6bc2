//! The model-folder fuzz check: arbitrary bytes become a run folder's `model.json`,
//! `model.safetensors`, `scaler.json` (and optionally `run_status.json`), which are then loaded
//! with [`load_model`] and [`Scaler::from_json`]. Errors are expected; a panic or an abort is a
//! bug. A model that loads must also score a window.
//!
//! Input format ([`encode_model_folder`] writes it): the files' bytes joined by [`SPLIT`], in
//! the order `model.json`, `model.safetensors`, `scaler.json`, `run_status.json`. An empty
//! part is an absent file; without a fourth part `run_status.json` says `complete`, so the
//! fuzzer reaches the model files. A separator rather than length prefixes keeps the seed
//! corpus readable and lets mutations of one file leave the others intact.
//!
//! `fuzz/fuzz_targets/model_load.rs` calls [`check`]; [`crate::corpus`]
//! replays `fuzz/corpus/model_load/` through it on stable Rust.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use kubelstm::artifacts::load_model;
use kubelstm::artifacts::names::{META_FILE, SCALER_FILE, STATUS_FILE, WEIGHTS_FILE};
use kubelstm::data::Scaler;
use kubelstm::params::Weights;
use kubelstm::train::{DenseWindows, Engine};

/// Separates the files of one input.
pub const SPLIT: &[u8] = b"\n%%kubelstm-fuzz-split%%\n";
const PARTS: [&str; 4] = [META_FILE, WEIGHTS_FILE, SCALER_FILE, STATUS_FILE];
const COMPLETE: &[u8] = br#"{"status": "complete", "finished_unix": 0, "message": "fuzz"}"#;

fn split(bytes: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = bytes;
    while parts.len() + 1 < PARTS.len() {
        match rest.windows(SPLIT.len()).position(|w| w == SPLIT) {
            Some(i) => {
                parts.push(&rest[..i]);
                rest = &rest[i + SPLIT.len()..];
            }
            None => break,
        }
    }
    parts.push(rest);
    parts
}

/// Which of a run folder's files [`encode_model_folder`] takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parts {
    /// `model.json`, `model.safetensors`, `scaler.json`; the check then assumes a complete run.
    ModelFiles,
    /// Those three and `run_status.json`, for inputs about a run's status.
    WithStatus,
}

/// A run folder's files as one fuzz input (how the seed corpus is made). An absent file
/// becomes an empty part, which the check reads as absent again.
pub fn encode_model_folder(dir: &Path, parts: Parts) -> std::io::Result<Vec<u8>> {
    let names = match parts {
        Parts::ModelFiles => &PARTS[..3],
        Parts::WithStatus => &PARTS[..],
    };
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(SPLIT);
        }
        match std::fs::read(dir.join(name)) {
            Ok(bytes) => out.extend_from_slice(&bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// A fresh folder under the system's temporary directory, one per call (no state leaks from one
/// input to the next), removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> std::io::Result<Scratch> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("kubelstm-fuzz-model-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What one input did, for the replay test's summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `load_model` accepted the folder, and the loaded model scored a window.
    Loaded { scaler_ok: bool },
    /// `load_model` refused it with this message.
    Refused { error: String, scaler_ok: bool },
}

/// Runs `bytes` as a model folder through `load_model` and the scaler parser. Never panics
/// unless an invariant of a successful load is broken.
pub fn check(bytes: &[u8]) -> Outcome {
    let scratch = Scratch::new().expect("a scratch folder in the temporary directory");
    let dir = &scratch.0;
    let parts = split(bytes);
    for (name, part) in PARTS.iter().zip(&parts).filter(|(_, part)| !part.is_empty()) {
        std::fs::write(dir.join(name), part).expect("write a scratch file");
    }
    if parts.len() < PARTS.len() {
        std::fs::write(dir.join(STATUS_FILE), COMPLETE).expect("write a scratch file");
    }

    let scaler_ok = match parts.get(2).map(|p| std::str::from_utf8(p)) {
        Some(Ok(text)) => match Scaler::from_json(text, SCALER_FILE) {
            Ok(scaler) => {
                let f = scaler.n_features();
                let mut rows = vec![0.5f32; 2 * f]; // (2, F)
                scaler.transform(&mut rows);
                true
            }
            Err(_) => false,
        },
        _ => false,
    };

    match load_model(dir) {
        Ok(loaded) => {
            let model = &loaded.model;
            assert_eq!(loaded.params.len(), model.layout.len(), "weights fill the layout");
            assert!(loaded.params.iter().all(|v| v.is_finite()), "loaded weights are finite");
            assert_eq!(loaded.meta.features.len(), model.config.features, "one name per feature");
            // A model that loads must run: score two all-zero windows of a few steps.
            let steps = loaded.meta.sequence_length.clamp(1, 3);
            let features = model.config.features;
            let windows = DenseWindows { x: vec![0.0; 2 * steps * features], labels: vec![0, 1], steps, features };
            let mut engine = Engine::new(model.clone(), 1).expect("a one-thread engine");
            let mut out = [0.0f32; 2];
            engine.model_outputs(&Weights::new(loaded.params.clone()), &windows, &[0, 1], 2, &mut out);
            Outcome::Loaded { scaler_ok }
        }
        Err(e) => Outcome::Refused { error: kubelstm::cli::error_chain(&e), scaler_ok },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_the_tail_whole_and_at_most_four_parts() {
        let mut bytes = b"a".to_vec();
        for part in [&b"b"[..], b"c", b"d", b"e"] {
            bytes.extend_from_slice(SPLIT);
            bytes.extend_from_slice(part);
        }
        let parts = split(&bytes);
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0], b"a");
        assert!(parts[3].starts_with(b"d") && parts[3].ends_with(b"e"));
        assert_eq!(split(b"only one"), vec![&b"only one"[..]]);
    }

    #[test]
    fn an_absent_file_encodes_as_an_empty_part() {
        let dir = Scratch::new().unwrap();
        std::fs::write(dir.0.join(META_FILE), b"meta").unwrap();
        std::fs::write(dir.0.join(SCALER_FILE), b"scaler").unwrap();
        std::fs::write(dir.0.join(STATUS_FILE), b"status").unwrap();
        let three = encode_model_folder(&dir.0, Parts::ModelFiles).unwrap();
        assert_eq!(split(&three), vec![&b"meta"[..], b"", b"scaler"]);
        let four = encode_model_folder(&dir.0, Parts::WithStatus).unwrap();
        assert_eq!(split(&four), vec![&b"meta"[..], b"", b"scaler", b"status"]);
    }

    #[test]
    fn garbage_is_refused_not_a_panic() {
        for bytes in [&b""[..], b"{}", b"\xff\xfe", SPLIT] {
            assert!(matches!(check(bytes), Outcome::Refused { .. }));
        }
    }
}
