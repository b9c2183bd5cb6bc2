//! The CSV-ingest fuzz check: any bytes through schema detection, parsing, features, labels,
//! splits, scaling and a window gather. Errors are fine; a panic is a bug (the `assert!`s
//! here are the invariants every successful load must satisfy).
//!
//! `fuzz/fuzz_targets/csv_ingest.rs` calls [`check`]; [`crate::corpus`] replays the seed corpus
//! `fuzz/corpus/csv_ingest/` through it on stable Rust, and `tests/data.rs` runs it on every
//! CSV its tests parse and on bounded mutations of the corpus.

use kubelstm::artifacts::names::SCALER_FILE;
use kubelstm::data::options::{FeatureColumns, GenericSpec, LabelAt, LoadOptions, MissingPolicy, SchemaMode};
use kubelstm::data::scaler::{Scaler, ScalerKind};
use kubelstm::data::split::{SplitConfig, Splits, VALIDATION_SHARE};
use kubelstm::data::windows::WindowIndex;
use kubelstm::data::{load_reader, Dataset};

/// Runs `bytes` through every stage under a few option sets. Never panics on any input unless
/// an invariant is broken.
pub fn check(bytes: &[u8]) {
    let generic = |derived, time: Option<&str>| LoadOptions {
        schema: SchemaMode::Generic(GenericSpec {
            features: FeatureColumns::All,
            time_column: time.map(str::to_owned),
            group_columns: Vec::new(),
            derived,
        }),
        skip_bad_rows: true,
        ..LoadOptions::default()
    };
    let option_sets = [
        LoadOptions::default(),
        LoadOptions { skip_bad_rows: true, missing: MissingPolicy::Zero, ..LoadOptions::default() },
        LoadOptions { skip_bad_rows: true, missing: MissingPolicy::Drop, ..LoadOptions::default() },
        generic(true, None),
        generic(false, Some("Timestamp")),
    ];
    for options in &option_sets {
        if let Ok(mut ds) = load_reader(bytes, "fuzz.csv", options) {
            check_dataset(&mut ds);
        }
    }
}

fn check_dataset(ds: &mut Dataset) {
    let f = ds.n_features();
    assert!(f > 0, "a dataset has features");
    assert_eq!(ds.report.rows_loaded as usize, ds.n_rows());
    assert!(ds.report.rows_loaded + ds.report.rows_skipped() <= ds.report.rows_read);
    for s in &ds.series {
        assert!(!s.is_empty());
        assert_eq!(s.features.len(), s.len() * f);
        assert!(s.timestamps.windows(2).all(|w| w[0] < w[1]), "timestamps strictly increase");
        assert!(s.features.iter().all(|v| v.is_finite()), "features are finite");
        if let Some(l) = &s.labels {
            assert_eq!(l.len(), s.len());
            assert!(l.iter().all(|&v| v <= 1));
        }
    }
    for label_at in [LabelAt::Next, LabelAt::Last] {
        let cfg = SplitConfig::new(0.2, VALIDATION_SHARE, 2, label_at).expect("valid settings");
        let Ok(splits) = Splits::new(&ds.series, &cfg) else { continue };
        let blocks = splits.train_rows(&ds.series, f);
        for kind in [ScalerKind::MinMax, ScalerKind::Robust] {
            if let Ok((scaler, _)) = Scaler::fit(kind, &ds.feature_names, &blocks) {
                let back = Scaler::from_json(&scaler.to_json(), SCALER_FILE)
                    .expect("scaler round trip");
                assert_eq!(back, scaler);
                let mut rows: Vec<f32> = ds.series[0].features.clone();
                scaler.transform(&mut rows);
                assert!(rows.iter().all(|v| v.is_finite()), "scaled values are finite");
            }
        }
        let w: &WindowIndex = &splits.train;
        let batch: Vec<usize> = (0..w.len().min(4)).collect();
        let mut out = vec![0.0; w.seq_len * batch.len() * f];
        w.gather(&ds.series, f, &batch, &mut out);
    }
}
