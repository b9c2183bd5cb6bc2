//! # kubelstm-kernels
//!
//! The numeric kernels under kubelstm's neural engine, and the only crate of the project
//! that contains `unsafe` code.
//!
//! - [`scalar`]: reference implementations, generic over [`Float`]. They are the
//!   specification, and the kernels of the `f64` audit path.
//! - [`simd`]: `f32` versions of the same kernels, written once over a small vector trait and
//!   instantiated per instruction set; chosen at run time ([`dispatch`]).
//! - [`gemm`](mod@gemm): a safe, size-checked wrapper over `matrixmultiply` (transpose = stride swap).
//!
//! Set `KUBELSTM_SIMD=off` (or `scalar`) to force the scalar reference kernels everywhere, so
//! tests can cover both paths; see [`dispatch`] for the other values. (GEMM is not affected:
//! matrixmultiply detects the CPU on its own.)
//!
//! ## Why run-time dispatch, and `std::arch` for x86
//!
//! `wide` selects instructions when this crate is *compiled* (`cfg(target_feature)`): a
//! portable x86-64 build gets SSE2 from it, and a `-C target-cpu=native` build would not run
//! on older CPUs. So that one release binary runs on any x86-64 and still uses AVX2+FMA or
//! AVX-512F where the CPU has them, every kernel is instantiated three times from one generic
//! body: over `core::arch` `__m512` and `__m256` inside `#[target_feature]` functions, and over
//! `wide::f32x8` at the build's baseline. [`dispatch`] detects the CPU once and caches the
//! choice; [`simd::Kernels`] also lets tests and benchmarks call any supported path directly.
//! All x86 code is `cfg(target_arch = "x86_64")`; other targets get `wide` (NEON on aarch64)
//! or the scalar reference. Details, accuracy and reproducibility guarantees: [`simd`].

pub mod dispatch;
pub mod float;
pub mod gemm;
pub mod scalar;
pub mod simd;

pub use dispatch::{active_isa, cpu_name, Isa};
pub use float::Float;
pub use gemm::{gemm, Mat, MatMut};
