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
