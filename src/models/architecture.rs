//! What every architecture provides — its parameters' initialisation, its cache, its forward
//! and backward passes — and the one place [`Model`](super::Model) dispatches to them: the
//! `Net` and `NetCache` enums, their constructors and the `with_…!` macros. A new
//! architecture is one file behind these traits plus one arm in each enum, constructor and
//! macro of this file (and its [`Arch`] name).

use rand::Rng;

use super::head::HeadCache;
use super::{attention, autoencoder, bidirectional, standard};
use super::{Arch, DropoutSeed, LayerSummary, ModelConfig, ParamCount};
use super::{AttentionModel, Autoencoder, Bidirectional, Standard};
use crate::nn::RecurrentCache;
use crate::params::ParamLayout;
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

/// What the model reaches inside every architecture's cache.
pub trait ArchitectureCache<F> {
    /// Calls `f` on each LSTM layer's cache, which takes the settings of the workspace
    /// ([`RecurrentCache`]).
    fn for_each_recurrent(&mut self, f: &mut dyn FnMut(&mut dyn RecurrentCache));
    /// The dense head's buffers of the last pass; `None` for a model without the head.
    fn head(&self) -> Option<&HeadCache<F>>;
}

/// A built model's layers, of whichever architecture.
#[derive(Clone, Debug)]
pub(super) enum Net {
    Standard(Standard),
    Bidirectional(Bidirectional),
    Attention(AttentionModel),
    Autoencoder(Autoencoder),
}

/// Variants differ in size, but a model has one workspace per thread, made once: boxing
/// would buy nothing.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
pub(super) enum NetCache<F> {
    Standard(standard::Cache<F>),
    Bidirectional(bidirectional::Cache<F>),
    Attention(attention::Cache<F>),
    Autoencoder(autoencoder::Cache<F>),
}

impl Net {
    /// The layers of `cfg.arch`, their tensors added to `layout`.
    pub(super) fn new(layout: &mut ParamLayout, cfg: &ModelConfig) -> Net {
        match cfg.arch {
            Arch::Standard => Net::Standard(Standard::new(layout, cfg)),
            Arch::Bidirectional => Net::Bidirectional(Bidirectional::new(layout, cfg)),
            Arch::Attention => Net::Attention(AttentionModel::new(layout, cfg)),
            Arch::Autoencoder => Net::Autoencoder(Autoencoder::new(layout, cfg)),
        }
    }

    /// An empty cache of this architecture.
    pub(super) fn new_cache<F: Float>(&self) -> NetCache<F> {
        match self {
            Net::Standard(_) => NetCache::Standard(Default::default()),
            Net::Bidirectional(_) => NetCache::Bidirectional(Default::default()),
            Net::Attention(_) => NetCache::Attention(Default::default()),
            Net::Autoencoder(_) => NetCache::Autoencoder(Default::default()),
        }
    }
}

impl<F: Float> NetCache<F> {
    /// The head's outputs `(B, K)` of the last forward pass (`None` for the autoencoder).
    pub(super) fn head_out(&self) -> Option<&[F]> {
        with_cache!(self, |c| c.head().map(|h| h.out.as_slice()))
    }
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
