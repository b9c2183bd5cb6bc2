//! CSV ingest under arbitrary bytes: schema detection, parsing, features, labels, splits,
//! scaling and a window gather (`kubelstm_testkit::ingest::check`). Errors are expected; a panic
//! is a bug. The seed corpus `fuzz/corpus/csv_ingest/` is replayed on stable by
//! `kubelstm_testkit::corpus` (the test `reliability::every_fuzz_corpus_replays`).
//!
//!     cargo +nightly fuzz run csv_ingest fuzz/corpus/csv_ingest -- -max_len=16384
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kubelstm_testkit::ingest::check(data);
});
