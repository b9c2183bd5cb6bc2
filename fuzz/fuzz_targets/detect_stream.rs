//! `detect --follow` under arbitrary bytes: any CSV line stream into fixed tiny models (a
//! generic-mode classifier and a Kubernetes autoencoder), through every output format, with
//! streaming = batch checked whenever the stream skipped no late row
//! (`kubelstm_testkit::stream::check`). Errors are expected; a panic is a bug. The seed corpus
//! `fuzz/corpus/detect_stream/` is replayed on stable by `kubelstm_testkit::corpus`.
//!
//!     cargo +nightly fuzz run detect_stream fuzz/corpus/detect_stream -- -max_len=8192
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kubelstm_testkit::stream::check(data);
});
