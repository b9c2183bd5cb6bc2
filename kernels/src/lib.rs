//! # kubelstm-kernels
//!
//! The numeric kernels under kubelstm's neural engine, and the only crate of the project
//! that contains `unsafe` code.
//!
//! - [`scalar`]: reference implementations, generic over [`Float`]. They are the
//!   specification, and the kernels of the `f64` audit path.
//! - [`simd`]: `f32` versions of the same kernels, written once over a small vector trait and
//!   instantiated per instruction set; chosen at run time ([`dispatch`]).
//! - [`gemm`]: a safe, size-checked wrapper over `matrixmultiply` (transpose = stride swap).
//!
//! Set `KUBELSTM_SIMD=off` (or `scalar`) to force the scalar reference kernels everywhere, so
//! tests can cover both paths; see [`dispatch`] for the other values.

pub mod dispatch;
pub mod float;
#[doc(hidden)]
pub mod fuzzing;
pub mod gemm;
pub mod scalar;
pub mod simd;

pub use dispatch::{active_isa, Isa};
pub use float::Float;
pub use gemm::{gemm, Mat, MatMut};
