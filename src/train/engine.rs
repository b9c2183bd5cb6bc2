//! The data-parallel executor: one model, one workspace and one gradient buffer per thread.
//!
//! A batch is cut into contiguous shards, one per thread; each shard runs forward, loss and
//! backward on its own, then the shard gradients are summed in shard order (so a run is
//! bit-reproducible at a fixed thread count). This is the only level of parallelism: the
//! GEMMs inside a shard run single-threaded. Buffers are sized on first use and reused, so a
//! step allocates nothing.
//!
//! This is training's executor: [`Engine::loss_and_gradient`] for a step, and
//! [`Engine::model_outputs`] for the raw outputs (logits or errors) that validation,
//! `evaluate` and `kubelstm bench` read. `detect` and `serve` score through
//! [`BatchScorer`](crate::detect::batch::BatchScorer) instead, whose workers add the score
//! function and the per-feature explanations to the same forward pass.

use std::ops::Range;

use rayon::prelude::*;

use crate::models::{DropoutSeed, Model, Objective, Workspace};
use crate::nn::loss::weighted_bce_with_logits;
use crate::nn::resize;
use crate::optim::Adam;
use crate::parallel::{ranges, worker_pool};
use crate::params::Weights;
use crate::train::Windows;
use crate::Result;

struct Shard {
    ws: Workspace<f32>,
    grads: Vec<f32>,   // (P)
    x: Vec<f32>,       // (T, b, F)
    targets: Vec<f32>, // (b)
    weights: Vec<f32>, // (b)
    d_out: Vec<f32>,   // (b)
    loss: f64,
}

pub struct Engine {
    pub model: Model,
    pool: Option<rayon::ThreadPool>,
    shards: Vec<Shard>,
    /// Windows per forward pass inside a shard: large batches run as a sequence of passes
    /// this big, whose activations (T·n rows of gates, states, caches) stay in the core's L2
    /// instead of streaming through memory. Results per window do not depend on it.
    /// `KUBELSTM_MICRO_BATCH` overrides the default (see [`micro_batch_setting`]).
    micro_batch: usize,
}

/// Windows per forward pass when `KUBELSTM_MICRO_BATCH` is unset.
pub const DEFAULT_MICRO_BATCH: usize = 32;
/// The largest `KUBELSTM_MICRO_BATCH` accepted: far past any batch, so a typo is caught.
pub const MAX_MICRO_BATCH: usize = 65_536;

/// The `KUBELSTM_MICRO_BATCH` setting: a whole number from 1 to [`MAX_MICRO_BATCH`], or the
/// default when it is unset or empty. Anything else is an error naming the variable, the
/// value and the accepted range, never a silent fallback to the default.
pub fn micro_batch_setting() -> Result<usize> {
    let value = match std::env::var("KUBELSTM_MICRO_BATCH") {
        Err(std::env::VarError::NotPresent) => return Ok(DEFAULT_MICRO_BATCH),
        Err(std::env::VarError::NotUnicode(value)) => value.to_string_lossy().into_owned(),
        Ok(value) if value.trim().is_empty() => return Ok(DEFAULT_MICRO_BATCH),
        Ok(value) => value,
    };
    match value.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_MICRO_BATCH).contains(&n) => Ok(n),
        _ => Err(crate::Error::config(format!(
            "KUBELSTM_MICRO_BATCH={value:?} is not a whole number from 1 to {MAX_MICRO_BATCH} \
             (windows per forward pass; unset for the default of {DEFAULT_MICRO_BATCH})"
        ))),
    }
}

impl Engine {
    /// An executor over `threads` threads (1 = run on the caller's thread).
    pub fn new(model: Model, threads: usize) -> Result<Self> {
        let micro_batch = micro_batch_setting()?;
        let threads = threads.max(1);
        let pool = worker_pool(threads, "kubelstm-worker")?;
        let shards = (0..threads)
            .map(|_| Shard {
                ws: model.workspace(),
                grads: model.layout.zeros(),
                x: Vec::new(),
                targets: Vec::new(),
                weights: Vec::new(),
                d_out: Vec::new(),
                loss: 0.0,
            })
            .collect();
        Ok(Engine { model, pool, shards, micro_batch })
    }

    pub fn threads(&self) -> usize {
        self.shards.len()
    }

    /// Forward, loss and backward over the windows `ids`. Leaves the batch gradient (of the
    /// batch-mean loss) in [`Engine::gradient`], writes each window's output (logit or
    /// reconstruction error) into `outputs`, and returns the batch loss: class-weighted BCE
    /// for classifiers, mean reconstruction error otherwise.
    pub fn loss_and_gradient(
        &mut self,
        weights: &Weights<f32>,
        windows: &dyn Windows,
        ids: &[usize],
        class_weights: [f64; 2],
        dropout_seed: u64,
        outputs: &mut [f32],
    ) -> f64 {
        assert_eq!(outputs.len(), ids.len(), "loss_and_gradient: one output per window");
        let (params, generation) = (weights.values(), Some(weights.generation()));
        let batch = ids.len();
        let (steps, features) = (windows.steps(), windows.features());
        let Engine { model, pool, shards, micro_batch } = self;
        let (model, micro_batch) = (&*model, *micro_batch);
        let mut jobs = split_jobs(shards, batch, outputs);
        let used = jobs.len();
        let work = |shard: &mut Shard, range: &Range<usize>, out: &mut [f32]| {
            shard.grads.fill(0.0);
            shard.loss = 0.0;
            shard.ws.set_weights_generation(generation);
            // Micro-batches keep a pass's buffers in cache; backward adds into the shard's
            // gradient, so they sum to the shard's gradient.
            let mut start = range.start;
            for out in out.chunks_mut(micro_batch) {
                let n = out.len();
                let ids = &ids[start..start + n];
                resize(&mut shard.x, steps * n * features);
                windows.gather(ids, &mut shard.x);
                let seed = Some(DropoutSeed { seed: dropout_seed, first_sample: start });
                start += n;
                out.copy_from_slice(model.forward(&mut shard.ws, params, &shard.x, steps, n, seed));
                resize(&mut shard.d_out, n);
                // The loss of n windows is a mean over them; rescale to the batch mean.
                let share = n as f64 / batch as f64;
                shard.loss += match model.config.objective {
                    Objective::Classifier => {
                        resize(&mut shard.targets, n);
                        resize(&mut shard.weights, n);
                        for (k, &id) in ids.iter().enumerate() {
                            let label = windows.label(id).min(1);
                            shard.targets[k] = f32::from(label);
                            shard.weights[k] = class_weights[usize::from(label)] as f32;
                        }
                        let loss = weighted_bce_with_logits(&mut shard.d_out, out, &shard.targets, &shard.weights);
                        shard.d_out.iter_mut().for_each(|d| *d *= share as f32);
                        f64::from(loss) * share
                    }
                    Objective::Reconstruction | Objective::Forecast => {
                        shard.d_out.fill(1.0 / batch as f32);
                        out.iter().map(|&e| f64::from(e)).sum::<f64>() / batch as f64
                    }
                };
                model.backward(&mut shard.ws, &mut shard.grads, params, &shard.x, &shard.d_out, None);
            }
        };
        run_jobs(pool.as_ref(), &mut jobs, work);
        drop(jobs);

        // Sum the shard gradients into shard 0, in shard order, in parallel over elements.
        let (first, others) = shards.split_at_mut(1);
        let others = &others[..used - 1];
        if !others.is_empty() {
            const CHUNK: usize = 16 * 1024;
            let reduce = |(c, acc): (usize, &mut [f32])| {
                for other in others {
                    let src = &other.grads[c * CHUNK..c * CHUNK + acc.len()];
                    for (a, &v) in acc.iter_mut().zip(src) {
                        *a += v;
                    }
                }
            };
            let grads = &mut first[0].grads;
            match pool {
                Some(pool) => pool.install(|| grads.par_chunks_mut(CHUNK).enumerate().for_each(reduce)),
                None => grads.chunks_mut(CHUNK).enumerate().for_each(reduce),
            }
        }
        shards[..used].iter().map(|s| s.loss).sum()
    }

    /// Applies `adam` with the gradient of the last [`Engine::loss_and_gradient`], on the engine's
    /// threads.
    pub fn step(&mut self, adam: &mut Adam<f32>, weights: &mut Weights<f32>) {
        let pool = self.pool.as_ref();
        adam.update_in(weights.values_mut(), &self.shards[0].grads, pool);
    }

    /// The gradient left by the last [`Engine::loss_and_gradient`].
    pub fn gradient(&self) -> &[f32] {
        &self.shards[0].grads
    }
    pub fn gradient_mut(&mut self) -> &mut [f32] {
        &mut self.shards[0].grads
    }

    /// Inference outputs (logits or reconstruction errors) of windows `ids`, `chunk` windows
    /// at a time split across the threads.
    pub fn model_outputs(
        &mut self,
        weights: &Weights<f32>,
        windows: &dyn Windows,
        ids: &[usize],
        chunk: usize,
        outputs: &mut [f32],
    ) {
        assert_eq!(outputs.len(), ids.len(), "model_outputs: one output per window");
        let (params, generation) = (weights.values(), Some(weights.generation()));
        let (steps, features) = (windows.steps(), windows.features());
        let Engine { model, pool, shards, micro_batch } = self;
        let (model, micro_batch) = (&*model, *micro_batch);
        for (ids, outputs) in ids.chunks(chunk.max(1)).zip(outputs.chunks_mut(chunk.max(1))) {
            // One shard's windows, a micro-batch per forward pass.
            let work = |shard: &mut Shard, range: &Range<usize>, out: &mut [f32]| {
                shard.ws.set_weights_generation(generation);
                let mut start = range.start;
                for out in out.chunks_mut(micro_batch) {
                    let n = out.len();
                    resize(&mut shard.x, steps * n * features);
                    windows.gather(&ids[start..start + n], &mut shard.x);
                    start += n;
                    out.copy_from_slice(model.forward(&mut shard.ws, params, &shard.x, steps, n, None));
                }
            };
            let mut jobs = split_jobs(shards, ids.len(), outputs);
            match pool {
                // Too few windows to give every thread a shard (a window at a time): let the
                // bidirectional layers use the idle threads for their second direction
                // instead. A model without them stays on the calling thread (waking the pool
                // costs more than a batch-1 pass of the standard model).
                Some(pool) if jobs.len() == 1 && model.config.arch.has_bidirectional_layers() => {
                    let (shard, range, out) = &mut jobs[0];
                    pool.install(|| {
                        shard.ws.set_parallel_directions(true);
                        work(shard, range, out);
                        shard.ws.set_parallel_directions(false);
                    });
                }
                _ => run_jobs(pool.as_ref(), &mut jobs, work),
            }
        }
    }
}

type Job<'a> = (&'a mut Shard, Range<usize>, &'a mut [f32]);

/// Pairs shards with contiguous ranges of `n` items and the matching output chunks.
fn split_jobs<'a>(shards: &'a mut [Shard], n: usize, outputs: &'a mut [f32]) -> Vec<Job<'a>> {
    let parts = shards.len();
    let mut jobs = Vec::with_capacity(parts);
    let mut rest = outputs;
    for (shard, range) in shards.iter_mut().zip(ranges(n, parts)) {
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(range.len());
        rest = tail;
        jobs.push((shard, range, head));
    }
    jobs
}

fn run_jobs(
    pool: Option<&rayon::ThreadPool>,
    jobs: &mut [Job<'_>],
    work: impl Fn(&mut Shard, &Range<usize>, &mut [f32]) + Sync,
) {
    match pool {
        Some(pool) if jobs.len() > 1 => {
            pool.install(|| jobs.par_iter_mut().for_each(|(shard, range, out)| work(shard, range, out)))
        }
        _ => jobs.iter_mut().for_each(|(shard, range, out)| work(shard, range, out)),
    }
}
