//! Helpers shared by the test modules.

use kubelstm_kernels::simd::Kernels;
use kubelstm_kernels::Isa;
use proptest::prelude::*;
use proptest::test_runner::Config;

/// Every SIMD instruction set this CPU supports (the scalar reference is what they are
/// compared with, so it is left out).
pub fn simd_paths() -> Vec<Kernels> {
    Kernels::all_supported().into_iter().filter(|k| k.isa() != Isa::Scalar).collect()
}

/// A bounded number of cases, so the whole suite stays well under a minute on 2 cores.
pub fn cases(n: u32) -> Config {
    Config { cases: n, failure_persistence: None, ..Config::default() }
}

/// `v` copied `off` elements into a fresh buffer; use `&buf[off..]` as a misaligned slice.
pub fn at_offset(v: &[f32], off: usize) -> Vec<f32> {
    let mut buf = vec![0.0; off + v.len()];
    buf[off..].copy_from_slice(v);
    buf
}

/// Mostly moderate values, sometimes large ones.
pub fn value(scale: f32) -> impl Strategy<Value = f32> {
    prop_oneof![4 => -scale..scale, 1 => -100.0 * scale..100.0 * scale, 1 => Just(0.0f32)]
}

pub fn values(len: usize, scale: f32) -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(value(scale), len)
}

/// A value in `[0, 1]`, as an activated sigmoid gate or a softmax output.
pub fn unit() -> impl Strategy<Value = f32> {
    prop_oneof![4 => 0.0f32..=1.0, 1 => Just(0.0f32), 1 => Just(1.0f32)]
}
