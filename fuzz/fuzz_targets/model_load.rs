//! A run folder from arbitrary bytes: `model.json`, `model.safetensors`, `scaler.json` (and
//! optionally `run_status.json`), joined by `kubelstm::artifacts::fuzz::SPLIT`, are written to
//! a scratch folder and loaded with `load_model` and the scaler parser; a model that loads must
//! also score a window. Errors are expected; a panic or an abort is a bug. The check is
//! `kubelstm::artifacts::fuzz_model_folder`, which `tests/reliability.rs` runs over the corpus
//! `fuzz/corpus/model_load/` on stable.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kubelstm::artifacts::fuzz_model_folder(data);
});
