//! What every architecture provides — its parameters' initialisation, its cache, its forward
//! and backward passes — so that [`Model`](super::Model) dispatches in one place
//! ([`with_net!`] and [`with_cache!`]) and a new architecture is one file behind these traits
//! plus one arm in each macro.

use rand::Rng;

use super::head::HeadCache;
use super::{DropoutSeed, LayerSummary, ModelConfig, ParamCount};
use crate::Float;

/// One architecture's layers. Every pass maps a time-major batch `x (T, B, F)` to one output
/// per sample `(B)` (see the [module docs](super)).
pub trait Architecture {
    /// The per-pass buffers of one thread, reused across calls.
    type Cache<F: Float>: ArchitectureCache<F> + Default;

    /// Writes the layers' initial values (Keras initialisers) into `p`.
    fn init<F: Float>(&self, p: &mut [F], rng: &mut impl Rng);

    /// Forward pass; `dropout: None` is inference. Returns the outputs `(B)`.
    fn forward<'c, F: Float>(
        &self,
        c: &'c mut Self::Cache<F>,
        x: &[F],
        p: &[F],
        steps: usize,
        batch: usize,
        dropout: Option<DropoutSeed>,
    ) -> &'c [F];

    /// Backward pass from `d_out (B)` of the last forward pass on `c`: adds into `g` and,
    /// when given, into `dx (T, B, F)`.
    fn backward<F: Float>(
        &self,
        c: &mut Self::Cache<F>,
        g: &mut [F],
        p: &[F],
        x: &[F],
        d_out: &[F],
        dx: Option<&mut [F]>,
    );

    /// Its layers after the input, for `inspect`: name, output shape, parameter count.
    fn summary(&self, cfg: &ModelConfig, count: &ParamCount<'_>) -> Vec<LayerSummary>;
}

/// The settings every architecture's cache takes, and what the model reads back from it.
pub trait ArchitectureCache<F> {
    /// See [`Workspace::set_weights_generation`](super::Workspace::set_weights_generation).
    fn set_weights_generation(&mut self, generation: Option<u64>);
    /// See [`Workspace::set_input_gradients_only`](super::Workspace::set_input_gradients_only).
    fn set_input_gradients_only(&mut self, on: bool);
    /// Lets bidirectional layers run their two directions on two threads (a no-op without).
    fn set_parallel_directions(&mut self, _parallel: bool) {}
    /// The dense head's buffers of the last pass; `None` for a model without the head.
    fn head(&self) -> Option<&HeadCache<F>>;
}

/// `$body` with `$m` the model's architecture and `$c` its cache, whatever the architecture.
macro_rules! with_net {
    ($net:expr, $cache:expr, |$m:ident, $c:ident| $body:expr) => {
        match ($net, $cache) {
            (Net::Standard($m), NetCache::Standard($c)) => $body,
            (Net::Bidirectional($m), NetCache::Bidirectional($c)) => $body,
            (Net::Attention($m), NetCache::Attention($c)) => $body,
            (Net::Autoencoder($m), NetCache::Autoencoder($c)) => $body,
            _ => panic!("workspace belongs to another architecture"),
        }
    };
}

/// `$body` with `$c` the cache, whatever the architecture.
macro_rules! with_cache {
    ($cache:expr, |$c:ident| $body:expr) => {
        match $cache {
            NetCache::Standard($c) => $body,
            NetCache::Bidirectional($c) => $body,
            NetCache::Attention($c) => $body,
            NetCache::Autoencoder($c) => $body,
        }
    };
}

/// `$body` with `$m` the architecture, whichever it is.
macro_rules! with_arch {
    ($net:expr, |$m:ident| $body:expr) => {
        match $net {
            Net::Standard($m) => $body,
            Net::Bidirectional($m) => $body,
            Net::Attention($m) => $body,
            Net::Autoencoder($m) => $body,
        }
    };
}

pub(crate) use {with_arch, with_cache, with_net};
