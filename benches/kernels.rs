//! Kernel benchmarks at the shapes of the models' LSTM steps: every instruction set the CPU
//! supports next to the scalar reference, in one run, so the ratios are like for like.
//!
//!     cargo bench --bench kernels -- --warm-up-time 1 --measurement-time 3
//!
//! Shapes (standard model, T = 10 steps, I = 64 inputs, H = 128 units, 4H = 512 gates):
//! - `step`:  the recurrence `h_{t−1} (B, H) · W_hhᵀ (H, 4H)`, once per step;
//! - `inproj`: the input projection of all steps at once, `(T·B, I) · W_ihᵀ (I, 4H)`;
//! - `wgrad`: the weight gradient `dpreᵀ (4H, T·B) · [x h] (T·B, I+H)`;
//!
//! at batch B = 32 and 256. GEMM throughput is reported in elements/s with one element per
//! floating-point operation (2·m·n·k per product), i.e. FLOP/s. The fused cell runs on B·H
//! units; softmax on the attention rows (B·T rows of T = 10 keys); layer norm on the dense
//! head's 64 columns.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use kubelstm_kernels::gemm::{b_row_stride, gemm_f32, Mat, MatMut};
use kubelstm_kernels::scalar;
use kubelstm_kernels::simd::Kernels;

/// Deterministic values in [−1, 1).
fn data(len: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

const T: usize = 10;
const I: usize = 64;
const H: usize = 128;

fn gemm(c: &mut Criterion) {
    let mut group = c.benchmark_group("gemm");
    for b in [1usize, 32, 256] {
        // (label, m, k, n, A transposed (stored k×m)). B is row-major (k×n) as the engine
        // hands it over (Wᵀ transposed once per pass), which takes kubelstm's micro-kernels;
        // the same product with B stored as (n×k) and viewed through `.t()` goes to
        // matrixmultiply, so both run here on identical numbers.
        let shapes = [
            (format!("step_b{b}_{b}x{H}x{}", 4 * H), b, H, 4 * H, false),
            (format!("inproj_b{b}_{}x{I}x{}", T * b, 4 * H), T * b, I, 4 * H, false),
            (format!("wgrad_b{b}_{}x{}x{}", 4 * H, T * b, I + H), 4 * H, T * b, I + H, true),
        ];
        for (label, m, k, n, ta) in shapes {
            let (a, bm) = (data(m * k, 1), data(k * n, 2));
            let mut bt = vec![0.0f32; k * n];
            kubelstm_kernels::gemm::transpose(&mut bt, k, &bm, k, n);
            let mut out = vec![0.0f32; m * n];
            let av = if ta { Mat::new(&a, k, m).t() } else { Mat::new(&a, m, k) };
            let b_rows = Mat::new(&bm, k, n);
            let b_cols = Mat::new(&bt, n, k).t();
            group.throughput(Throughput::Elements((2 * m * n * k) as u64));
            group.sample_size(20);
            group.bench_function(BenchmarkId::new("kubelstm", &label), |bench| {
                bench.iter(|| gemm_f32(1.0, black_box(av), black_box(b_rows), 0.0, MatMut::new(&mut out, m, n)))
            });
            group.bench_function(BenchmarkId::new("matrixmultiply", &label), |bench| {
                bench.iter(|| gemm_f32(1.0, black_box(av), black_box(b_cols), 0.0, MatMut::new(&mut out, m, n)))
            });
            // The same B at the row stride the LSTM layers store Wᵀ at (`b_row_stride`): the
            // ratio to "kubelstm" is what the padding buys on this CPU.
            let ld = b_row_stride(n);
            let mut padded = vec![0.0f32; k * ld];
            for (dst, src) in padded.chunks_mut(ld).zip(bm.chunks(n)) {
                dst[..n].copy_from_slice(src);
            }
            let b_padded = Mat::strided(&padded, k, n, ld);
            group.bench_function(BenchmarkId::new("kubelstm_b_row_stride", &label), |bench| {
                bench.iter(|| gemm_f32(1.0, black_box(av), black_box(b_padded), 0.0, MatMut::new(&mut out, m, n)))
            });
            if b <= 32 {
                group.sample_size(10);
                group.bench_function(BenchmarkId::new("naive", &label), |bench| {
                    bench.iter(|| {
                        scalar::gemm(1.0f32, black_box(av), black_box(b_rows), 0.0, MatMut::new(&mut out, m, n))
                    })
                });
            }
        }
    }
    // The machine's f32 ceiling as README's Performance section takes it: a 1024³ product.
    let n = 1024;
    let (a, bm) = (data(n * n, 1), data(n * n, 2));
    let mut out = vec![0.0f32; n * n];
    group.throughput(Throughput::Elements((2 * n * n * n) as u64));
    group.sample_size(10);
    group.bench_function(BenchmarkId::new("kubelstm", "square_1024"), |bench| {
        bench.iter(|| gemm_f32(1.0, Mat::new(&a, n, n), Mat::new(&bm, n, n), 0.0, MatMut::new(&mut out, n, n)))
    });
    group.bench_function(BenchmarkId::new("matrixmultiply", "square_1024"), |bench| {
        bench.iter(|| gemm_f32(1.0, Mat::new(&a, n, n), Mat::new(&bm, n, n).t(), 0.0, MatMut::new(&mut out, n, n)))
    });
    group.finish();
}

fn lstm_cell(c: &mut Criterion) {
    let mut group = c.benchmark_group("lstm_cell");
    for b in [32usize, 256] {
        let n = b * H;
        // Pre-activations of a typical spread; the kernels are branch-free, the reference's
        // libm calls nearly so.
        let pre: Vec<f32> = data(4 * n, 3).iter().map(|v| 3.0 * v).collect();
        let c_prev = data(n, 4);
        let (mut gates, mut cs, mut hs) = (pre.clone(), vec![0.0f32; n], vec![0.0f32; n]);
        scalar::lstm_cell_forward(&mut gates, &mut cs, &mut hs, &c_prev, H);
        let (dh, dc0) = (data(n, 5), data(n, 6));
        let mut dpre = vec![0.0f32; 4 * n];
        group.throughput(Throughput::Elements(n as u64));
        for k in Kernels::all_supported() {
            let isa = k.isa().name();
            group.bench_function(BenchmarkId::new(format!("forward/{isa}"), format!("BH_{b}x{H}")), |bench| {
                bench.iter_batched_ref(
                    || pre.clone(),
                    |g| k.lstm_cell_forward(g, &mut cs, &mut hs, &c_prev, H),
                    BatchSize::SmallInput,
                )
            });
            group.bench_function(BenchmarkId::new(format!("backward/{isa}"), format!("BH_{b}x{H}")), |bench| {
                bench.iter_batched_ref(
                    || dc0.clone(),
                    |dc| k.lstm_cell_backward(&mut dpre, dc, &gates, &c_prev, &cs, &dh, H),
                    BatchSize::SmallInput,
                )
            });
        }
    }
    group.finish();
}

fn softmax_and_layer_norm(c: &mut Criterion) {
    let mut group = c.benchmark_group("rows");
    for b in [32usize, 256] {
        // Attention scores: (B, T, T) = B·T rows of T keys.
        let (rows, cols) = (b * T, T);
        let x: Vec<f32> = data(rows * cols, 7).iter().map(|v| 4.0 * v).collect();
        let mut y = x.clone();
        scalar::softmax_rows(&mut y, cols);
        let dy = data(rows * cols, 8);
        let mut dx = vec![0.0f32; rows * cols];
        group.throughput(Throughput::Elements((rows * cols) as u64));
        for k in Kernels::all_supported() {
            let isa = k.isa().name();
            group.bench_function(BenchmarkId::new(format!("softmax/{isa}"), format!("{rows}x{cols}")), |bench| {
                bench.iter_batched_ref(|| x.clone(), |x| k.softmax_rows(x, cols), BatchSize::SmallInput)
            });
            group.bench_function(
                BenchmarkId::new(format!("softmax_backward/{isa}"), format!("{rows}x{cols}")),
                |bench| bench.iter(|| k.softmax_rows_backward(&mut dx, black_box(&dy), black_box(&y), cols)),
            );
        }
        // The dense head's layer norm: (B, 64).
        let (rows, cols) = (b, 64);
        let x = data(rows * cols, 9);
        let (gamma, beta) = (data(cols, 10), data(cols, 11));
        let (mut y, mut mean, mut rstd) = (vec![0.0f32; rows * cols], vec![0.0f32; rows], vec![0.0f32; rows]);
        scalar::layer_norm_forward(&mut y, &mut mean, &mut rstd, &x, &gamma, &beta, 1e-3);
        let dy = data(rows * cols, 12);
        let (mut dx, mut dg, mut db) = (vec![0.0f32; rows * cols], vec![0.0f32; cols], vec![0.0f32; cols]);
        group.throughput(Throughput::Elements((rows * cols) as u64));
        for k in Kernels::all_supported() {
            let isa = k.isa().name();
            group.bench_function(BenchmarkId::new(format!("layer_norm/{isa}"), format!("{rows}x{cols}")), |bench| {
                bench.iter(|| k.layer_norm_forward(&mut y, &mut mean, &mut rstd, black_box(&x), &gamma, &beta, 1e-3))
            });
            group.bench_function(
                BenchmarkId::new(format!("layer_norm_backward/{isa}"), format!("{rows}x{cols}")),
                |bench| {
                    bench.iter(|| {
                        k.layer_norm_backward(&mut dx, &mut dg, &mut db, black_box(&dy), &x, &mean, &rstd, &gamma)
                    })
                },
            );
        }
    }
    group.finish();
}

fn elementwise(c: &mut Criterion) {
    let mut group = c.benchmark_group("elementwise");
    // One step's gates at batch 32, and an Adam step over 2¹⁷ parameters.
    let n = 32 * 4 * H;
    let x: Vec<f32> = data(n, 13).iter().map(|v| 6.0 * v).collect();
    let np = 1 << 17;
    let (p, m, v, g) =
        (data(np, 14), data(np, 15), data(np, 16).iter().map(|v| v.abs()).collect::<Vec<_>>(), data(np, 17));
    for k in Kernels::all_supported() {
        let isa = k.isa().name();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(BenchmarkId::new(format!("sigmoid/{isa}"), n), |bench| {
            bench.iter_batched_ref(|| x.clone(), |x| k.sigmoid_inplace(x), BatchSize::SmallInput)
        });
        group.bench_function(BenchmarkId::new(format!("tanh/{isa}"), n), |bench| {
            bench.iter_batched_ref(|| x.clone(), |x| k.tanh_inplace(x), BatchSize::SmallInput)
        });
        group.throughput(Throughput::Elements(np as u64));
        group.bench_function(BenchmarkId::new(format!("adam/{isa}"), np), |bench| {
            bench.iter_batched_ref(
                || (p.clone(), m.clone(), v.clone()),
                |(p, m, v)| k.adam_update(p, m, v, &g, 1e-3, 0.9, 0.999, 1e-7),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, gemm, lstm_cell, softmax_and_layer_norm, elementwise);
criterion_main!(benches);
