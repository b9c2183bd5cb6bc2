//! End-to-end training on small synthetic windows: the loop learns, is reproducible, and
//! data parallelism gives the same model at any shard count up to float rounding.

use kubelstm::models::{Arch, Model, ModelConfig};
use kubelstm::train::{fit, DenseWindows, Engine, Silent, TrainSettings};

/// Windows whose label is whether feature 0 rose over the window: learnable from the input.
fn rising_windows(n: usize, steps: usize, features: usize, seed: u64) -> DenseWindows {
    let mut state = seed;
    let mut uniform = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut x = Vec::with_capacity(n * steps * features);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let slope = if uniform() < 0.3 { 0.3 } else { 0.0 };
        labels.push(u8::from(slope > 0.0));
        for t in 0..steps {
            for f in 0..features {
                let trend = if f == 0 { slope * t as f64 } else { 0.0 };
                x.push((trend + 0.3 * (uniform() - 0.5)) as f32);
            }
        }
    }
    DenseWindows { x, labels, steps, features }
}

fn small(arch: Arch, features: usize) -> Model {
    let mut cfg = ModelConfig::new(arch, features);
    cfg.lstm = [12, 8];
    cfg.dense = [8, 6];
    Model::new(cfg).unwrap()
}

#[test]
fn standard_model_learns_a_rising_trend() {
    let windows = rising_windows(600, 6, 3, 1);
    let model = small(Arch::Standard, 3);
    let params = model.init_params(3);
    let mut engine = Engine::new(model, 2).unwrap();
    let (train, validation) = windows.split_at(480);
    let settings =
        TrainSettings { epochs: 8, batch_size: 32, class_weights: [0.7, 1.7], seed: 5, ..Default::default() };
    let outcome = fit(&mut engine, params, &train, &validation, &settings, &mut Silent).unwrap();
    let first = &outcome.history.epochs[0];
    let best = outcome.history.epochs.iter().map(|e| e.validation.auc.unwrap()).fold(0.0, f64::max);
    assert!(outcome.history.epochs.last().unwrap().train.loss < first.train.loss, "loss did not fall");
    assert!(best > 0.95, "validation AUC only {best}");
}

#[test]
fn same_seed_and_threads_give_identical_weights() {
    let (train, validation) = rising_windows(200, 5, 3, 2).split_at(150);
    let settings = TrainSettings { epochs: 2, batch_size: 16, class_weights: [0.7, 1.7], ..Default::default() };
    let run = |threads| {
        let model = small(Arch::Attention, 3);
        let params = model.init_params(9);
        let mut engine = Engine::new(model, threads).unwrap();
        fit(&mut engine, params, &train, &validation, &settings, &mut Silent).unwrap().params
    };
    let a = run(2);
    assert_eq!(a, run(2), "two runs with the same seed differ");
    let single = run(1);
    let worst = a.iter().zip(&single).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-3, "1 and 2 threads drift apart by {worst}");
}

/// "Same seed, same bytes" across builds rests on the random streams: ChaCha8 seeded from a
/// u64, `random::<f64>()`, `random_range` on floats and integers, and the slice shuffle. A
/// `rand` or `rand_chacha` upgrade that changes any of them changes every model and synthetic
/// cluster a seed names; this pins the values so such an upgrade is seen, not shipped.
#[test]
fn the_random_streams_a_seed_names_are_pinned() {
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let floats: Vec<u64> = (0..3).map(|_| rng.random::<f64>().to_bits()).collect();
    let ranged: Vec<u64> = (0..3).map(|_| rng.random_range(-0.5..=0.5f64).to_bits()).collect();
    let ints: Vec<usize> = (0..5).map(|_| rng.random_range(3..=17usize)).collect();
    let mut order: Vec<u32> = (0..10).collect();
    order.shuffle(&mut rng);
    assert_eq!(floats, PINNED_FLOATS);
    assert_eq!(ranged, PINNED_RANGED);
    assert_eq!(ints, PINNED_INTS);
    assert_eq!(order, PINNED_ORDER);
}

// Recorded with rand 0.9.5 and rand_chacha 0.9.0 (f64 values as bits).
const PINNED_FLOATS: [u64; 3] = [4604317194420431787, 4606734539489062706, 4601373070768303508];
const PINNED_RANGED: [u64; 3] = [4593756666656983856, 13820156765362300128, 13823349437177981088];
const PINNED_INTS: [usize; 5] = [7, 7, 5, 15, 12];
const PINNED_ORDER: [u32; 10] = [8, 4, 5, 7, 0, 3, 2, 6, 9, 1];
