//! Every SIMD kernel, written once over [`Simd`]; [`super`] instantiates them per instruction
//! set inside `#[target_feature]` functions. All bodies are `#[inline(always)]` so that they
//! are compiled with the instruction set of the function they land in, and all are safe code:
//! the vector token carries the proof that the instruction set is available.
//!
//! Tails (the last `len % LANES` elements of a slice or row) go through `load_partial` /
//! `store_partial` and the *same* vector arithmetic as full vectors, so an element's result
//! never depends on its position in the slice or on the slice's length. Reductions happen only
//! inside a row (softmax, layer norm), in an order fixed by the row length alone.
//!
//! Kernels that need no transcendental function (ReLU, the activation backward passes, bias,
//! column sums, Adam) use exactly the scalar reference's operations in the same order, without
//! FMA, so they are bit-identical to [`crate::scalar`].

use super::vector::{exp, sigmoid, tanh, Simd};
use crate::scalar;

/// The vector of `x` starting at `at`.
#[inline(always)]
fn ld<S: Simd>(s: S, x: &[f32], at: usize) -> S::V {
    s.load(&x[at..])
}

/// The tail of `x` from `at` on (shorter than a vector), zero-filled.
#[inline(always)]
fn lp<S: Simd>(s: S, x: &[f32], at: usize) -> S::V {
    s.load_partial(&x[at..], 0.0)
}

mod activation;
mod adam;
mod bias;
mod layer_norm;
mod lstm_cell;
mod softmax;

pub(super) use activation::*;
pub(super) use adam::*;
pub(super) use bias::*;
pub(super) use layer_norm::*;
pub(super) use lstm_cell::*;
pub(super) use softmax::*;
