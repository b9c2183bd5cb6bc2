//! Peaks-over-threshold against scipy (`fixtures/pot_reference.json`, made by
//! `fixtures/pot_reference.py`) and, under proptest, against the tail it was drawn from.

use kubelstm::metrics::{gpd_log_likelihood, pot_threshold};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pot_reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("{key} is not a number"))
}

#[test]
fn fits_at_least_as_likely_as_scipy_and_close_to_it() {
    let fx = fixture();
    let (q0, risk) = (num(&fx, "initial_quantile"), num(&fx, "risk"));
    for s in fx["samples"].as_array().unwrap() {
        let name = s["name"].as_str().unwrap();
        let scores: Vec<f64> = s["scores"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let fit = pot_threshold(&scores, risk, q0).unwrap();
        let t = num(s, "initial_threshold");
        assert!((fit.initial_threshold - t).abs() <= 1e-12 * t.abs(), "{name}: t {} vs {t}", fit.initial_threshold);
        assert_eq!(fit.excesses as u64, s["excesses"].as_u64().unwrap(), "{name}");
        assert_eq!(fit.n, scores.len());
        let y: Vec<f64> =
            scores.iter().filter(|&&v| v > fit.initial_threshold).map(|v| v - fit.initial_threshold).collect();
        let ours = gpd_log_likelihood(&y, fit.shape_gamma, fit.scale_sigma);
        let scipy_ll = num(s, "log_likelihood");
        // Our log-likelihood of scipy's parameters agrees with scipy's own (same formula).
        let theirs = gpd_log_likelihood(&y, num(s, "shape_gamma"), num(s, "scale_sigma"));
        assert!((theirs - scipy_ll).abs() < 1e-8 * scipy_ll.abs().max(1.0), "{name}: {theirs} vs {scipy_ll}");
        assert!(ours >= scipy_ll - 1e-6, "{name}: log L {ours} below scipy's {scipy_ll}");
        let (g, sg) = (num(s, "shape_gamma"), num(s, "scale_sigma"));
        assert!((fit.shape_gamma - g).abs() < 1e-3, "{name}: gamma {} vs scipy {g}", fit.shape_gamma);
        assert!((fit.scale_sigma - sg).abs() < 1e-3 * sg, "{name}: sigma {} vs scipy {sg}", fit.scale_sigma);
        let z = num(s, "threshold");
        assert!((fit.threshold - z).abs() < 1e-3 * (z - t), "{name}: z_q {} vs {z}", fit.threshold);
        assert!(fit.threshold > fit.initial_threshold, "{name}: a risk below N_t/n lies above t");
    }
}

#[test]
fn bad_inputs_are_clear_errors() {
    let scores: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.37).sin().abs() + i as f64 * 1e-4).collect();
    let msg = |r: kubelstm::Result<kubelstm::metrics::PotFit>| r.unwrap_err().to_string();
    assert!(msg(pot_threshold(&scores, 0.0, 0.98)).contains("between 0 and 1"));
    assert!(msg(pot_threshold(&scores, 1.0, 0.98)).contains("between 0 and 1"));
    assert!(msg(pot_threshold(&scores, f64::NAN, 0.98)).contains("between 0 and 1"));
    // 20 of 1000 above the 98th percentile: risk 0.05 is more than the data can support.
    let e = msg(pot_threshold(&scores, 0.05, 0.98));
    assert!(e.contains("risk 0.05") && e.contains("20/1000") && e.contains("below 2.000e-2"), "{e}");
    // 5 of 500 above the 99th percentile: too few excesses, and how many there are.
    let e = msg(pot_threshold(&scores[..500], 1e-4, 0.99));
    assert!(e.contains("only 5 of 500") && e.contains("at least 10"), "{e}");
    let mut bad = scores.clone();
    bad[17] = f64::INFINITY;
    assert!(msg(pot_threshold(&bad, 1e-4, 0.98)).contains("[17]"));
    let e = msg(pot_threshold(&[0.25; 2000], 1e-4, 0.98));
    assert!(e.contains("all 2000") && e.contains("equal"), "{e}");
}

/// `n` draws of a GPD(γ, σ) from 0 by inversion: y = σ/γ (U^(−γ) − 1), γ = 0: −σ ln U.
fn gpd_sample(rng: &mut ChaCha8Rng, n: usize, gamma: f64, sigma: f64) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let u: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
            if gamma == 0.0 {
                -sigma * u.ln()
            } else {
                sigma / gamma * (u.powf(-gamma) - 1.0)
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Calibrated on 20,000 draws, the threshold at risk 1e-3 is exceeded by a fresh 200,000
    /// draws of the same distribution at a rate within a factor 2.5 of 1e-3 (the exact
    /// survival of a GPD above the 98th percentile is again a GPD, so the model is right and
    /// only the estimation error of 400 excesses remains).
    #[test]
    fn exceedance_rate_on_fresh_data_is_near_the_risk(
        seed in any::<u64>(),
        gamma in prop_oneof![Just(0.0), -0.3f64..0.5],
        sigma in 0.01f64..100.0,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let calibration = gpd_sample(&mut rng, 20_000, gamma, sigma);
        let risk = 1e-3;
        let fit = pot_threshold(&calibration, risk, 0.98).unwrap();
        let fresh = gpd_sample(&mut rng, 200_000, gamma, sigma);
        let rate = fresh.iter().filter(|&&v| v > fit.threshold).count() as f64 / fresh.len() as f64;
        prop_assert!(rate > risk / 2.5 && rate < risk * 2.5,
            "rate {rate} for risk {risk}: gamma {gamma} fitted {}, sigma {sigma} fitted {}",
            fit.shape_gamma, fit.scale_sigma);
        prop_assert!(fit.threshold > fit.initial_threshold);
    }
}
