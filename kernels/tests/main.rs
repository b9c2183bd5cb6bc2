//! kubelstm-kernels' tests: one binary, one module per area.
//!
//! Every SIMD path the CPU supports is tested directly (through `simd::Kernels::new(isa)`),
//! whatever `KUBELSTM_SIMD` says, against the scalar reference. Tolerances per kernel are
//! stated in `kubelstm_testkit::kernels` (shared with the fuzz target) and repeated where used.

mod common;
mod dispatch;
mod gemm;
mod reproducibility;
mod simd_vs_scalar;
mod special_values;
