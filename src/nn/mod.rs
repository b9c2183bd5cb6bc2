//! Layers as explicit forward/backward pairs over flat buffers.
//!
//! Conventions (every layer):
//! - Sequences are **time-major**: a `(T, B, C)` buffer holds row `t·B + b` at offset
//!   `(t·B + b)·C`. Each time step is then one contiguous `(B, C)` block, which is what the
//!   LSTM recurrence multiplies.
//! - `forward` writes its outputs and whatever its backward needs into a cache owned by the
//!   caller, sized once per (T, B) and reused, so a training step allocates nothing.
//! - `backward` **adds** into parameter gradients and into the input gradient `dx` (`+=`),
//!   as llm.c does; zeroing is explicit and done by the caller. `dx` is an `Option`: the first
//!   layer of a model skips it unless input gradients are wanted (attributions, gradcheck).
//! - Parameters come as the whole flat buffer `p` and gradients as the whole `g`; each layer
//!   knows its [`Span`](crate::params::Span)s.

pub mod activation;
pub mod attention;
pub mod bilstm;
pub mod concat;
pub mod dense;
pub mod dropout;
pub mod layer_norm;
pub mod loss;
pub mod lstm;
pub mod repeat;
pub mod window_error;

pub use attention::{AttentionCache, SelfAttention};
pub use bilstm::{BiLstm, BiLstmCache};
pub use dense::Dense;
pub use dropout::Dropout;
pub use layer_norm::{LayerNorm, LayerNormCache};
pub use lstm::{Lstm, LstmCache, LstmOutput};
pub use window_error::{window_error_backward, window_error_forward, ErrorShape};

/// Resizes a reusable buffer to `len` elements. Keeps the allocation when it is large
/// enough; contents are unspecified afterwards (every user overwrites them).
pub(crate) fn resize<F: crate::Float>(buf: &mut Vec<F>, len: usize) {
    if buf.len() != len {
        buf.resize(len, F::ZERO);
    }
}
