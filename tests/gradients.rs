//! Gradient audit of every model: analytic backward passes against sixth-order central
//! differences in f64 (see `kubelstm::gradcheck`), dropout active with fixed masks.

use kubelstm::gradcheck::{check_model, AuditShape};
use kubelstm::models::{Arch, ModelConfig};

fn audit(config: ModelConfig, shape: AuditShape, seed: u64) {
    let check = check_model(&config, shape, seed).unwrap();
    for t in &check.tensors {
        assert!(
            t.passed(),
            "{}: tensor {} has relative error {:.3e} (abs {:.3e})",
            check.label,
            t.name,
            t.max_rel_error,
            t.max_abs_error
        );
    }
    eprintln!("{}: worst relative error {:.2e}, {} redraws", check.label, check.worst(), check.redraws);
}

#[test]
fn standard_model_gradients() {
    audit(ModelConfig::new(Arch::Standard, 5), AuditShape::default(), 1);
}

#[test]
fn bidirectional_model_gradients() {
    audit(ModelConfig::new(Arch::Bidirectional, 5), AuditShape::default(), 2);
}

#[test]
fn attention_model_gradients() {
    audit(ModelConfig::new(Arch::Attention, 5), AuditShape::default(), 3);
}

#[test]
fn supervised_autoencoder_gradients() {
    audit(ModelConfig::new(Arch::Autoencoder, 5), AuditShape::default(), 4);
}

#[test]
fn unsupervised_autoencoder_gradients() {
    audit(ModelConfig::new(Arch::Autoencoder, 5).unsupervised(), AuditShape::default(), 5);
}

#[test]
fn standard_forecaster_gradients() {
    audit(ModelConfig::new(Arch::Standard, 5).unsupervised(), AuditShape::default(), 6);
}

#[test]
fn bidirectional_forecaster_gradients() {
    audit(ModelConfig::new(Arch::Bidirectional, 5).unsupervised(), AuditShape::default(), 7);
}

#[test]
fn attention_forecaster_gradients() {
    audit(ModelConfig::new(Arch::Attention, 5).unsupervised(), AuditShape::default(), 8);
}

/// The calibrated score weighs each feature's error; its gradient must carry the weights.
#[test]
fn weighted_errors_gradients() {
    for (arch, seed) in [(Arch::Autoencoder, 9), (Arch::Standard, 10)] {
        let mut config = ModelConfig::new(arch, 5).unsupervised();
        config.error_weights = Some(vec![0.5, 3.0, 1.0, 0.05, 12.0]);
        audit(config, AuditShape::default(), seed);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 6, ..Default::default() })]
    /// Forecasters over random small shapes and error weights: the split of each window into
    /// the rows read and the row forecast must hold at every T ≥ 2, B and F.
    #[test]
    fn forecaster_gradients_over_random_shapes(
        arch in proptest::sample::select(vec![Arch::Standard, Arch::Bidirectional, Arch::Attention]),
        steps in 2usize..5,
        batch in 1usize..4,
        features in 1usize..5,
        weights in proptest::collection::vec(0.05f64..5.0, 4),
        seed in 0u64..1000,
    ) {
        let mut config = ModelConfig::new(arch, features).unsupervised();
        config.error_weights = Some(weights[..features].to_vec());
        let shape = AuditShape { steps, batch, features, lstm: [3, 2], dense: [3, 2] };
        let check = check_model(&config, shape, seed).unwrap();
        proptest::prop_assert!(check.passed(), "{}: worst relative error {:.3e}", check.label, check.worst());
    }
}
