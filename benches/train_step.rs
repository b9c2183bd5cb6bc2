//! One training step (forward, weighted BCE, backward, Adam) per architecture on the
//! canonical workload (T = 10, F = 64; see `kubelstm::bench`), at batch 32 and 256, and
//! inference at batch 1024 and batch 1, all threads. Throughput is in samples/s.
//!
//!     cargo bench --bench train_step -- --warm-up-time 1 --measurement-time 5
//!
//! `kubelstm bench` measures the same steps with the PyTorch script's protocol (median of
//! three 5 s repeats); this is the criterion view of them for regressions.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kubelstm::bench::{workload, TrainStep, FEATURES, INFER_BATCH};
use kubelstm::models::{Arch, Model, ModelConfig};
use kubelstm::params::Weights;
use kubelstm::train::Engine;

fn threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

fn train_steps(c: &mut Criterion) {
    let (pool, weights) = workload(0);
    let mut group = c.benchmark_group("train_step");
    group.sample_size(20);
    for arch in Arch::ALL {
        for batch in [32usize, 256] {
            let mut step = TrainStep::new(arch, threads(), batch).expect("model builds");
            group.throughput(Throughput::Elements(batch as u64));
            group.bench_function(BenchmarkId::new(arch.name(), format!("b{batch}")), |b| {
                b.iter(|| black_box(step.run(&pool, weights)))
            });
        }
    }
    group.finish();
}

fn inference(c: &mut Criterion) {
    let (pool, _) = workload(0);
    let mut group = c.benchmark_group("inference");
    group.sample_size(20);
    for arch in Arch::ALL {
        let model = Model::new(ModelConfig::new(arch, FEATURES)).expect("model builds");
        let params = Weights::new(model.init_params::<f32>(0));
        let mut engine = Engine::new(model, threads()).expect("threads start");
        for batch in [1usize, INFER_BATCH] {
            let ids: Vec<usize> = (0..batch).collect();
            let mut out = vec![0.0f32; batch];
            group.throughput(Throughput::Elements(batch as u64));
            group.bench_function(BenchmarkId::new(arch.name(), format!("b{batch}")), |b| {
                b.iter(|| {
                    engine.model_outputs(&params, &pool, &ids, batch, &mut out);
                    black_box(&out);
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, train_steps, inference);
criterion_main!(benches);
