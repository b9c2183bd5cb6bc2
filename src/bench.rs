//! The canonical speed workload of the PyTorch comparison (README, "Performance"), shared by
//! `kubelstm bench` and the criterion benches. It is defined exactly as the PyTorch reference
//! script `bench_torch.py` defines it; that script is not part of this repository (it was kept
//! beside it, with the other reference scripts, when the comparison was measured):
//! T = 10, F = 64, f32 inputs N(0, 1), labels Bernoulli(0.1), balanced class weights,
//! weighted BCE, Adam (lr 1e-3), dropout as in the models; batches cycle through a pool of
//! 8192 pre-generated samples. Each figure is the median of 3 repeats of ≥ `seconds` after
//! ≥ 1 s of warm-up.

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::models::{Arch, Model, ModelConfig};
use crate::optim::{Adam, AdamConfig};
use crate::params::{standard_normal, Weights};
use crate::train::{DenseWindows, Engine, Windows};
use crate::Result;

pub const STEPS: usize = 10;
pub const FEATURES: usize = 64;
pub const POOL: usize = 8192;
pub const POSITIVE_RATE: f64 = 0.1;
pub const TRAIN_BATCHES: [usize; 2] = [32, 256];
pub const INFER_BATCH: usize = 1024;

/// Forward FLOPs of one LSTM layer per sample: T · 4H · (in + H) · 2 per direction.
pub fn lstm_flops(steps: usize, input: usize, hidden: usize, bidirectional: bool) -> f64 {
    (if bidirectional { 2.0 } else { 1.0 }) * (steps * 4 * hidden * (input + hidden) * 2) as f64
}

fn dense_flops(input: usize, output: usize, steps: usize) -> f64 {
    (steps * input * output * 2) as f64
}

fn head_flops(input: usize) -> f64 {
    dense_flops(input, 64, 1) + dense_flops(64, 32, 1) + dense_flops(32, 1, 1)
}

/// Per-sample forward FLOPs of an architecture at the canonical sizes (matmul work only,
/// as the PyTorch script counts it).
pub fn forward_flops(arch: Arch, steps: usize, features: usize) -> f64 {
    let t = steps;
    match arch {
        Arch::Standard => lstm_flops(t, features, 128, false) + lstm_flops(t, 128, 64, false) + head_flops(64),
        Arch::Bidirectional => lstm_flops(t, features, 128, true) + lstm_flops(t, 256, 64, true) + head_flops(128),
        Arch::Attention => {
            let d = 256;
            lstm_flops(t, features, 128, true)
                + 2.0 * (t * t * d * 2) as f64
                + lstm_flops(t, 2 * d, 64, true)
                + head_flops(128)
        }
        Arch::Autoencoder => {
            lstm_flops(t, features, 64, true)
                + lstm_flops(t, 128, 32, true)
                + lstm_flops(t, 64, 32, true)
                + lstm_flops(t, 64, 64, true)
                + dense_flops(128, features, t)
                + dense_flops(1, 1, 1)
        }
    }
}

/// The pool of samples and its balanced class weights.
pub fn workload(seed: u64) -> (DenseWindows, [f64; 2]) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = (0..POOL * STEPS * FEATURES).map(|_| standard_normal(&mut rng) as f32).collect();
    let labels: Vec<u8> = (0..POOL).map(|_| u8::from(rng.random::<f64>() < POSITIVE_RATE)).collect();
    let positives = labels.iter().filter(|&&l| l == 1).count().max(1) as f64;
    let negatives = (POOL as f64 - positives).max(1.0);
    let weights = [POOL as f64 / (2.0 * negatives), POOL as f64 / (2.0 * positives)];
    (DenseWindows { x, labels, steps: STEPS, features: FEATURES }, weights)
}

/// One repeat's figure and the median over repeats.
#[derive(Clone, Debug, Serialize)]
pub struct Measurement {
    pub median: f64,
    pub repeats: Vec<f64>,
}

impl Measurement {
    fn from_repeats(mut repeats: Vec<f64>) -> Self {
        let mut sorted = repeats.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[sorted.len() / 2];
        repeats.shrink_to_fit();
        Measurement { median, repeats }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ArchResult {
    pub params: usize,
    pub flops_per_sample: f64,
    pub train_b32: Measurement,
    pub train_b256: Measurement,
    pub infer_b1024: Measurement,
    pub latency_b1_us: Measurement,
    /// GFLOP/s of each throughput median (training counted as 3× forward).
    pub gflops: GflopRates,
}

#[derive(Clone, Debug, Serialize)]
pub struct GflopRates {
    pub train_b32: f64,
    pub train_b256: f64,
    pub infer_b1024: f64,
}

/// How long to measure.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub seconds: f64,
    pub warmup_seconds: f64,
    pub repeats: usize,
}

impl Default for Timing {
    fn default() -> Self {
        Timing { seconds: 5.0, warmup_seconds: 1.0, repeats: 3 }
    }
}

/// Samples per second of `step` (which processes `batch` samples), per repeat.
fn throughput(timing: Timing, batch: usize, mut step: impl FnMut()) -> Measurement {
    let warm = Instant::now();
    let mut n = 0;
    while n < 3 || warm.elapsed().as_secs_f64() < timing.warmup_seconds {
        step();
        n += 1;
    }
    let repeats = (0..timing.repeats)
        .map(|_| {
            let start = Instant::now();
            let mut steps = 0usize;
            loop {
                step();
                steps += 1;
                let elapsed = start.elapsed().as_secs_f64();
                if elapsed >= timing.seconds {
                    return (steps * batch) as f64 / elapsed;
                }
            }
        })
        .collect();
    Measurement::from_repeats(repeats)
}

/// Median per-call microseconds of `call`, per repeat.
fn latency(timing: Timing, mut call: impl FnMut()) -> Measurement {
    let warm = Instant::now();
    while warm.elapsed().as_secs_f64() < timing.warmup_seconds {
        call();
    }
    let repeats = (0..timing.repeats)
        .map(|_| {
            let mut samples = Vec::new();
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs_f64(timing.seconds) {
                let t = Instant::now();
                call();
                samples.push(t.elapsed().as_secs_f64() * 1e6);
            }
            samples.sort_by(f64::total_cmp);
            samples[samples.len() / 2]
        })
        .collect();
    Measurement::from_repeats(repeats)
}

/// A training step of the engine: forward, loss, backward, Adam.
pub struct TrainStep {
    pub engine: Engine,
    pub params: Weights<f32>,
    pub adam: Adam<f32>,
    outputs: Vec<f32>,
    ids: Vec<usize>,
    cursor: usize,
    step: u64,
}

impl TrainStep {
    pub fn new(arch: Arch, threads: usize, batch: usize) -> Result<Self> {
        let model = Model::new(ModelConfig::new(arch, FEATURES))?;
        let params = Weights::new(model.init_params(0));
        let adam = Adam::new(AdamConfig::default(), params.values().len());
        Ok(TrainStep {
            engine: Engine::new(model, threads)?,
            params,
            adam,
            outputs: vec![0.0; batch],
            ids: vec![0; batch],
            cursor: 0,
            step: 0,
        })
    }

    /// One step on the next `batch` samples of the pool.
    pub fn run(&mut self, pool: &DenseWindows, class_weights: [f64; 2]) -> f64 {
        let batch = self.ids.len();
        if self.cursor + batch > pool.len() {
            self.cursor = 0;
        }
        for (k, id) in self.ids.iter_mut().enumerate() {
            *id = self.cursor + k;
        }
        self.cursor += batch;
        self.step += 1;
        let loss =
            self.engine.loss_and_gradient(&self.params, pool, &self.ids, class_weights, self.step, &mut self.outputs);
        self.engine.step(&mut self.adam, &mut self.params);
        loss
    }
}

/// Measures one architecture: training at batch 32 and 256, inference at 1024, latency at 1.
pub fn bench_arch(
    arch: Arch,
    threads: usize,
    timing: Timing,
    pool: &DenseWindows,
    weights: [f64; 2],
) -> Result<ArchResult> {
    let mut train = [0.0f64; 2].map(|_| None);
    let mut params_count = 0;
    for (k, &batch) in TRAIN_BATCHES.iter().enumerate() {
        let mut step = TrainStep::new(arch, threads, batch)?;
        params_count = step.params.values().len();
        train[k] = Some(throughput(timing, batch, || {
            std::hint::black_box(step.run(pool, weights));
        }));
    }
    let model = Model::new(ModelConfig::new(arch, FEATURES))?;
    let params = Weights::new(model.init_params::<f32>(0));
    let mut engine = Engine::new(model, threads)?;
    let ids: Vec<usize> = (0..INFER_BATCH).collect();
    let mut outputs = vec![0.0f32; INFER_BATCH];
    let infer = throughput(timing, INFER_BATCH, || {
        engine.model_outputs(&params, pool, &ids, INFER_BATCH, &mut outputs);
        std::hint::black_box(&outputs);
    });
    let mut one = [0.0f32];
    let latency_b1 = latency(timing, || {
        engine.model_outputs(&params, pool, &[0], 1, &mut one);
        std::hint::black_box(&one);
    });
    let flops = forward_flops(arch, STEPS, FEATURES);
    let [train_b32, train_b256] = train.map(Option::unwrap);
    let gflops = GflopRates {
        train_b32: 3.0 * flops * train_b32.median / 1e9,
        train_b256: 3.0 * flops * train_b256.median / 1e9,
        infer_b1024: flops * infer.median / 1e9,
    };
    Ok(ArchResult {
        params: params_count,
        flops_per_sample: flops,
        train_b32,
        train_b256,
        infer_b1024: infer,
        latency_b1_us: latency_b1,
        gflops,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flop_counts_match_the_reference_script() {
        // The reference script's count: the standard model needs 2.96 MFLOP per sample forward.
        let standard = forward_flops(Arch::Standard, 10, 64);
        assert!((standard - 2_960_000.0).abs() < 10_000.0, "{standard}");
        // LSTM layer: T·4H·(in+H)·2.
        assert_eq!(lstm_flops(10, 64, 128, false), (10 * 512 * 192 * 2) as f64);
        assert_eq!(lstm_flops(10, 64, 128, true), 2.0 * (10 * 512 * 192 * 2) as f64);
    }

    #[test]
    fn workload_has_the_canonical_shape_and_rate() {
        let (pool, w) = workload(0);
        assert_eq!(pool.x.len(), POOL * STEPS * FEATURES);
        let rate = pool.labels.iter().filter(|&&l| l == 1).count() as f64 / POOL as f64;
        assert!((rate - 0.1).abs() < 0.02, "{rate}");
        assert!(w[1] > w[0]);
    }
}
