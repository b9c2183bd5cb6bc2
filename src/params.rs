//! One flat parameter buffer with named tensors.
//!
//! A model is built against a [`ParamLayout`]: each layer registers its tensors (PyTorch
//! names and layouts, e.g. `l1.weight_ih_l0 (4H, I)`) and keeps the returned [`Span`]s. The
//! parameters are then a single `Vec<F>` of `layout.len()` elements; the gradients and both
//! Adam moments are `Vec<F>`s of the same length and layout, so the optimizer is one loop and
//! saving a model is one pass over `layout.tensors()`.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::Float;

/// Where one tensor lives in the flat buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub offset: usize,
    pub len: usize,
}

impl Span {
    #[inline]
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.len
    }
    #[inline]
    pub fn of<'a, F>(&self, buf: &'a [F]) -> &'a [F] {
        &buf[self.range()]
    }
    #[inline]
    pub fn of_mut<'a, F>(&self, buf: &'a mut [F]) -> &'a mut [F] {
        &mut buf[self.range()]
    }
}

/// A named tensor: name, shape (row-major), and its span.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorSpec {
    pub name: String,
    pub shape: Vec<usize>,
    pub span: Span,
}

/// The ordered list of tensors of a model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParamLayout {
    tensors: Vec<TensorSpec>,
    len: usize,
}

impl ParamLayout {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a tensor and returns its span. Names must be unique.
    pub fn add(&mut self, name: impl Into<String>, shape: &[usize]) -> Span {
        let name = name.into();
        assert!(self.find(&name).is_none(), "parameter '{name}' registered twice");
        let len = shape.iter().product();
        let span = Span { offset: self.len, len };
        self.tensors.push(TensorSpec { name, shape: shape.to_vec(), span });
        self.len += len;
        span
    }

    /// Total number of scalars.
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn tensors(&self) -> &[TensorSpec] {
        &self.tensors
    }
    pub fn find(&self, name: &str) -> Option<&TensorSpec> {
        self.tensors.iter().find(|t| t.name == name)
    }
    /// A zeroed buffer of this layout (parameters, gradients or moments).
    pub fn zeros<F: Float>(&self) -> Vec<F> {
        vec![F::ZERO; self.len]
    }
}

/// Converts a parameter buffer between float types (f32 training ↔ f64 audit).
pub fn convert<A: Float, B: Float>(src: &[A]) -> Vec<B> {
    src.iter().map(|v| B::from_f64(v.to_f64())).collect()
}

// ------------------------------------------------------------------ initialisers (Keras defaults)

/// Glorot (Xavier) uniform for a `(fan_out, fan_in)` weight: U(−l, l), l = √(6 / (in + out)).
pub fn glorot_uniform<F: Float>(w: &mut [F], fan_out: usize, fan_in: usize, rng: &mut impl Rng) {
    assert_eq!(w.len(), fan_out * fan_in, "glorot_uniform: shape mismatch");
    let limit = (6.0 / (fan_in + fan_out).max(1) as f64).sqrt();
    for v in w {
        *v = F::from_f64(rng.random_range(-limit..=limit));
    }
}

/// Standard normal by Box-Muller (rand's own normal lives in rand_distr; this is enough).
pub fn standard_normal(rng: &mut impl Rng) -> f64 {
    loop {
        let u1: f64 = rng.random();
        let u2: f64 = rng.random();
        if u1 > f64::MIN_POSITIVE {
            return (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        }
    }
}

/// Orthogonal initialiser (Keras `recurrent_initializer='orthogonal'`) for a `(rows, cols)`
/// matrix: a random Gaussian matrix made orthonormal along its shorter side by modified
/// Gram-Schmidt, so the recurrence neither explodes nor vanishes at the start.
pub fn orthogonal<F: Float>(w: &mut [F], rows: usize, cols: usize, rng: &mut impl Rng) {
    assert_eq!(w.len(), rows * cols, "orthogonal: shape mismatch");
    // Orthonormalise the `short` vectors of length `long`, then lay them out as rows or columns.
    let (short, long) = if rows <= cols { (rows, cols) } else { (cols, rows) };
    let mut q: Vec<Vec<f64>> = Vec::with_capacity(short);
    while q.len() < short {
        let mut v: Vec<f64> = (0..long).map(|_| standard_normal(rng)).collect();
        for u in &q {
            let dot: f64 = v.iter().zip(u).map(|(a, b)| a * b).sum();
            for (a, b) in v.iter_mut().zip(u) {
                *a -= dot * b;
            }
        }
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if norm > 1e-8 {
            v.iter_mut().for_each(|a| *a /= norm);
            q.push(v);
        }
    }
    for r in 0..rows {
        for c in 0..cols {
            let value = if rows <= cols { q[r][c] } else { q[c][r] };
            w[r * cols + c] = F::from_f64(value);
        }
    }
}

// ------------------------------------------------------------------ versioned parameter values

static NEXT_GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn fresh_generation() -> u64 {
    NEXT_GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Parameter values with a version stamp, so layers may keep derived copies (transposed
/// weights) across passes. Every mutable borrow takes a new, process-wide unique stamp, so
/// equal stamps mean the same values, never stale ones.
#[derive(Debug)]
pub struct Weights<F> {
    values: Vec<F>,
    generation: u64,
}

impl<F: Clone> Clone for Weights<F> {
    fn clone(&self) -> Self {
        Weights::new(self.values.clone())
    }
}

impl<F> Weights<F> {
    pub fn new(values: Vec<F>) -> Self {
        Weights { values, generation: fresh_generation() }
    }
    pub fn values(&self) -> &[F] {
        &self.values
    }
    /// Mutable access; the values get a new stamp.
    pub fn values_mut(&mut self) -> &mut [F] {
        self.generation = fresh_generation();
        &mut self.values
    }
    pub fn generation(&self) -> u64 {
        self.generation
    }
    pub fn into_values(self) -> Vec<F> {
        self.values
    }
}

#[cfg(test)]
mod weights_tests {
    use super::Weights;

    #[test]
    fn every_mutation_and_every_copy_gets_a_new_stamp() {
        let mut w = Weights::new(vec![1.0f32]);
        let g0 = w.generation();
        let copy = w.clone();
        assert_ne!(copy.generation(), g0);
        w.values_mut()[0] = 2.0;
        assert_ne!(w.generation(), g0);
        assert_ne!(w.generation(), copy.generation());
        assert_eq!(w.generation(), w.generation());
    }
}
