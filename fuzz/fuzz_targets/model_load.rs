//! A run folder from arbitrary bytes: `model.json`, `model.safetensors`, `scaler.json` (and
//! optionally `run_status.json`), joined by `kubelstm_testkit::model_folder::SPLIT`, are written to
//! a scratch folder and loaded with `load_model` and the scaler parser; a model that loads must
//! also score a window. Errors are expected; a panic or an abort is a bug. The check is
//! `kubelstm_testkit::model_folder::check`, which `kubelstm_testkit::corpus` runs over the
//! corpus `fuzz/corpus/model_load/` on stable.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kubelstm_testkit::model_folder::check(data);
});
