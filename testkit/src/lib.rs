//! # kubelstm-testkit
//!
//! The invariant checks behind kubelstm's fuzz targets, in one unpublished crate that
//! `fuzz/`, the integration tests and the kernel tests share, so that the product crates ship
//! none of them. Each check takes arbitrary bytes; an error from the code under test is fine,
//! a panic is a finding (the `assert!`s are the invariants a successful run must satisfy).
//!
//! | module | fuzz target | what it drives |
//! |---|---|---|
//! | [`kernels`] | `kernels` | every SIMD instruction set against the scalar reference |
//! | [`ingest`] | `csv_ingest` | CSV bytes through schema detection, features, splits, scalers, windows |
//! | [`model_folder`] | `model_load` | bytes as a run folder through `load_model` and a scoring pass |
//! | [`stream`] | `detect_stream` | bytes as a `detect --follow` stream, every output format, against batch |
//!
//! [`corpus`] replays every checked-in corpus (`fuzz/corpus/<target>/`) through its check:
//! one test in `tests/reliability.rs` calls it, so each corpus is replayed once per `cargo test`.

pub mod kernels;

#[cfg(feature = "product")]
pub mod corpus;
#[cfg(feature = "product")]
pub mod ingest;
#[cfg(feature = "product")]
pub mod model_folder;
#[cfg(feature = "product")]
pub mod stream;
