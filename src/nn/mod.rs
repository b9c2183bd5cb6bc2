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

/// The settings an LSTM layer's cache takes between passes, one direction or two; a model
/// hands them to each of its LSTM layers.
pub trait RecurrentCache {
    /// Declares that the weights passed to the next forward pass are version `generation`
    /// (`None`: unknown). While the version stays the same the layer reuses its transposed
    /// weights instead of rebuilding them; the caller must change it whenever the weights
    /// change (the trainer bumps it after every update, a scorer never changes it).
    fn set_weights_generation(&mut self, generation: Option<u64>);

    /// Makes backward compute only the gradient of the input, skipping the weight and bias
    /// gradients (two of its three GEMM groups): what gradient × input attributions need.
    fn set_input_gradients_only(&mut self, on: bool);

    /// Lets a bidirectional layer run its two directions concurrently (`rayon::join`, on the
    /// current pool); a one-direction layer has nothing to run beside itself.
    fn set_parallel_directions(&mut self, _parallel: bool) {}
}

/// Resizes a reusable buffer to `len` elements. Keeps the allocation when it is large
/// enough; contents are unspecified afterwards (every user overwrites them).
pub(crate) fn resize<F: crate::Float>(buf: &mut Vec<F>, len: usize) {
    if buf.len() != len {
        buf.resize(len, F::ZERO);
    }
}
