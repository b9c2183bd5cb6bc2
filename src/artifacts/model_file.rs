//! The model on disk: `model.safetensors` (weights) and `model.json` (everything else).
//!
//! `model.safetensors` holds one f32 tensor per parameter under its PyTorch name and layout
//! (`l1.weight_ih_l0 (4H, I)`, …), readable by any safetensors reader. `model.json` holds
//! the format version, the architecture, the feature pipeline, the threshold and the SHA-256
//! of the weights. Loading checks the version, every tensor's name, shape and dtype, and the
//! checksum before any weight is used: a truncated, altered or foreign file is an error that
//! says which, never a panic or a silently wrong score.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::bounded::{read_bounded, META_LIMIT, SAFETENSORS_HEADER_LIMIT};
use super::names::{META_FILE, STATUS_FILE, WEIGHTS_FILE};
use super::run_folder::{RunFolder, RunStatus, StatusInfo};
use crate::data::{LabelAt, PipelineSpec, Scaler};
use crate::metrics::ThresholdRule;
use crate::models::{check_window, Model, ModelConfig};
use crate::prometheus::PrometheusSpec;
use crate::{Error, Result};

/// Version of the model folder format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
pub const FORMAT_NAME: &str = "kubelstm-model";

/// `model.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelMeta {
    pub format: String,
    pub format_version: u32,
    pub kubelstm_version: String,
    pub model: ModelConfig,
    /// T, the window length the model was trained on.
    pub sequence_length: usize,
    /// Input features in model order.
    pub features: Vec<String>,
    /// SHA-256 of the f32 little-endian weights in layout order.
    pub weights_sha256: String,
    pub threshold: f64,
    /// How `threshold` was chosen; `null` for models built outside `kubelstm train`.
    #[serde(deserialize_with = "threshold_rule_either_form")]
    pub threshold_rule: Option<ThresholdRule>,
    pub seed: u64,
    pub training_data_sha256: String,
    /// The data pipeline that turns raw rows into model features (ingest settings, scaler);
    /// `null` only for models built outside `kubelstm train` (tests), which cannot score files.
    pub pipeline: Option<ModelPipeline>,
    /// Trained on a Prometheus pull: its step, rate window and queries, which `detect` reuses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<PrometheusSpec>,
}

/// `model.json`'s `pipeline`: how raw rows become the model's scaled input windows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelPipeline {
    /// Schema, columns, derived features, missing-value policy, label source, feature names.
    pub spec: PipelineSpec,
    /// Which row labels a window in training: `next` (the row after it) or `last` (its last
    /// row). It decides what a score predicts; see [`crate::detect`].
    pub label_at: LabelAt,
    /// Fitted on the training split's rows; applied to every feature row before windowing.
    pub scaler: Scaler,
}

impl ModelMeta {
    pub fn new(model: &ModelConfig, sequence_length: usize, features: Vec<String>) -> Self {
        ModelMeta {
            format: FORMAT_NAME.to_string(),
            format_version: FORMAT_VERSION,
            kubelstm_version: env!("CARGO_PKG_VERSION").to_string(),
            model: model.clone(),
            sequence_length,
            features,
            weights_sha256: String::new(),
            threshold: 0.5,
            threshold_rule: None,
            seed: 0,
            training_data_sha256: String::new(),
            pipeline: None,
            prometheus: None,
        }
    }
}

/// `threshold_rule` as written now (the rule as a JSON object, or `null`) or as earlier
/// versions wrote it: the object's JSON text inside a string, `""` for none. Those run
/// folders still load; a string that is not a rule is a damaged file.
fn threshold_rule_either_form<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<ThresholdRule>, D::Error> {
    use serde::de::Error as _;
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(text) if text.is_empty() => Ok(None),
        serde_json::Value::String(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| D::Error::custom(format!("threshold_rule {text:?} is not a threshold rule ({e})"))),
        value => Option::<ThresholdRule>::deserialize(value)
            .map_err(|e| D::Error::custom(format!("threshold_rule is not a threshold rule ({e})"))),
    }
}

/// SHA-256 (hex) of weights as stored: f32 little-endian, layout order.
pub fn weights_sha256(params: &[f32]) -> String {
    let mut hasher = Sha256::new();
    for v in params {
        hasher.update(v.to_le_bytes());
    }
    hex(&hasher.finalize())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The safetensors bytes of `params` (deterministic: tensors sorted by name, one metadata key).
pub fn safetensors_bytes(model: &Model, params: &[f32]) -> Result<Vec<u8>> {
    assert_eq!(params.len(), model.layout.len(), "parameter buffer does not fit the model");
    let bytes: Vec<u8> = params.iter().flat_map(|v| v.to_le_bytes()).collect();
    let mut views = Vec::new();
    for t in model.layout.tensors() {
        let data = &bytes[t.span.offset * 4..(t.span.offset + t.span.len) * 4];
        let view = TensorView::new(Dtype::F32, t.shape.clone(), data)
            .map_err(|e| Error::data(format!("cannot encode tensor {}: {e}", t.name)))?;
        views.push((t.name.clone(), view));
    }
    let metadata = HashMap::from([("format".to_string(), format!("{FORMAT_NAME}/{FORMAT_VERSION}"))]);
    safetensors::serialize(views, Some(metadata)).map_err(|e| Error::data(format!("cannot encode the model: {e}")))
}

/// Writes `model.safetensors` then `model.json` (with the weights' checksum) into `dir`.
pub fn save_model(dir: &Path, model: &Model, params: &[f32], meta: &ModelMeta) -> Result<()> {
    let mut meta = meta.clone();
    meta.model = model.config.clone();
    meta.weights_sha256 = weights_sha256(params);
    super::write_atomic(&dir.join(WEIGHTS_FILE), &safetensors_bytes(model, params)?)?;
    super::write_json_atomic(&dir.join(META_FILE), &meta)
}

/// A model loaded and verified from a run folder.
#[derive(Clone, Debug)]
pub struct LoadedModel {
    pub dir: PathBuf,
    pub model: Model,
    pub params: Vec<f32>,
    pub meta: ModelMeta,
    pub status: RunStatus,
    /// Epochs that finished in training, when `run_status.json` records it (0: untrained).
    pub epochs_run: Option<usize>,
}

/// The file `name` of the run folder `dir`, at most `limit` bytes (see [`super::bounded`]).
fn read(dir: &Path, name: &str, limit: u64) -> Result<Vec<u8>> {
    let path = dir.join(name);
    read_bounded(&path, limit).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::model(dir, format!("{name} is missing; is this a kubelstm run folder (output_dir/run_…)?"))
        } else {
            Error::io("read", &path, e)
        }
    })
}

/// Reads `model.json` and checks its format and version.
pub fn read_meta(dir: &Path) -> Result<ModelMeta> {
    let bytes = read(dir, META_FILE, META_LIMIT)?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::model(dir, format!("{META_FILE} is not valid JSON ({e}); the file is damaged")))?;
    let format = value.get("format").and_then(|v| v.as_str()).unwrap_or("");
    let version = value.get("format_version").and_then(|v| v.as_u64());
    if format != FORMAT_NAME {
        return Err(Error::model(dir, format!("{META_FILE} is not a kubelstm model description")));
    }
    if version != Some(u64::from(FORMAT_VERSION)) {
        let found = version.map_or("unknown".to_string(), |v| v.to_string());
        return Err(Error::model(
            dir,
            format!(
                "model format version {found} is not supported by kubelstm {} (it reads version {FORMAT_VERSION}); \
                 retrain the model with this version or score it with the kubelstm that trained it",
                env!("CARGO_PKG_VERSION")
            ),
        ));
    }
    serde_json::from_value(value).map_err(|e| Error::model(dir, format!("{META_FILE} is damaged: {e}")))
}

/// Loads and verifies the model of a run folder.
pub fn load_model(dir: &Path) -> Result<LoadedModel> {
    if !dir.is_dir() {
        return Err(Error::model(dir, "no such run folder"));
    }
    let StatusInfo { status, epochs_run } = match RunFolder::status_info(dir)? {
        Some(info) => info,
        None => {
            return Err(Error::model(
                dir,
                format!(
                    "the run did not finish (no {STATUS_FILE}): training was killed or is still running; \
                     use a completed run folder"
                ),
            ))
        }
    };
    let meta = read_meta(dir)?;
    if meta.sequence_length == 0 {
        return Err(Error::model(dir, format!("{META_FILE} gives sequence length 0: the file is damaged")));
    }
    let model = Model::new(meta.model.clone()).map_err(|e| Error::model(dir, format!("{META_FILE}: {e}")))?;
    // Every size a scorer allocates from, checked once here for every command.
    check_window(meta.sequence_length, model.config.features)
        .map_err(|e| Error::model(dir, format!("{META_FILE}: {e}: the file is damaged")))?;
    if meta.sequence_length < model.config.min_steps() {
        return Err(Error::model(
            dir,
            format!(
                "{META_FILE}: sequence length {} is below the {} steps this model needs: the file is damaged",
                meta.sequence_length,
                model.config.min_steps()
            ),
        ));
    }
    if meta.features.len() != model.config.features {
        return Err(Error::model(
            dir,
            format!("{META_FILE} lists {} features but the model takes {}", meta.features.len(), model.config.features),
        ));
    }
    // The tensors' data, whose size the model fixes, plus a header of bounded size.
    let limit = 8 + SAFETENSORS_HEADER_LIMIT + 4 * model.layout.len() as u64;
    let bytes = read(dir, WEIGHTS_FILE, limit)?;
    let tensors = SafeTensors::deserialize(&bytes)
        .map_err(|e| Error::model(dir, format!("{WEIGHTS_FILE} is truncated or damaged ({e})")))?;
    if tensors.len() != model.layout.tensors().len() {
        return Err(Error::model(
            dir,
            format!("{WEIGHTS_FILE} has {} tensors, the model needs {}", tensors.len(), model.layout.tensors().len()),
        ));
    }
    let mut params = vec![0.0f32; model.layout.len()];
    for spec in model.layout.tensors() {
        let t = tensors
            .tensor(&spec.name)
            .map_err(|_| Error::model(dir, format!("{WEIGHTS_FILE} has no tensor '{}'", spec.name)))?;
        if t.dtype() != Dtype::F32 {
            return Err(Error::model(dir, format!("tensor '{}' is {:?}, expected F32", spec.name, t.dtype())));
        }
        if t.shape() != spec.shape.as_slice() {
            return Err(Error::model(
                dir,
                format!("tensor '{}' has shape {:?}, expected {:?}", spec.name, t.shape(), spec.shape),
            ));
        }
        for (dst, chunk) in spec.span.of_mut(&mut params).iter_mut().zip(t.data().chunks_exact(4)) {
            *dst = f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
    }
    if weights_sha256(&params) != meta.weights_sha256 {
        return Err(Error::model(
            dir,
            format!("the weights in {WEIGHTS_FILE} do not match the checksum in {META_FILE}: the file was altered or damaged"),
        ));
    }
    if let Some(bad) = model.layout.tensors().iter().find(|t| t.span.of(&params).iter().any(|v| !v.is_finite())) {
        return Err(Error::model(dir, format!("tensor '{}' holds NaN or infinite weights", bad.name)));
    }
    Ok(LoadedModel { dir: dir.to_path_buf(), model, params, meta, status, epochs_run })
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::models::Arch;

    fn saved(dir: &Path) -> (Model, Vec<f32>) {
        let model =
            Model::new(ModelConfig { lstm: [6, 3], dense: [4, 3], ..ModelConfig::new(Arch::Standard, 4) }).unwrap();
        let params = model.init_params::<f32>(7);
        let meta = ModelMeta::new(&model.config, 10, vec!["a".into(), "b".into(), "c".into(), "d".into()]);
        save_model(dir, &model, &params, &meta).unwrap();
        RunFolder::at(dir).finish(RunStatus::Complete, "").unwrap();
        (model, params)
    }

    #[test]
    fn round_trip_gives_identical_weights_and_deterministic_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let (model, params) = saved(dir.path());
        let loaded = load_model(dir.path()).unwrap();
        assert_eq!(loaded.params, params);
        assert_eq!(loaded.model.config, model.config);
        assert_eq!(safetensors_bytes(&model, &params).unwrap(), fs::read(dir.path().join(WEIGHTS_FILE)).unwrap());
    }

    #[test]
    fn altered_truncated_and_unfinished_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        saved(dir.path());
        let path = dir.path().join(WEIGHTS_FILE);
        let good = fs::read(&path).unwrap();

        let mut altered = good.clone();
        let last = altered.len() - 1;
        altered[last] ^= 0x40;
        fs::write(&path, &altered).unwrap();
        assert!(load_model(dir.path()).unwrap_err().to_string().contains("checksum"));

        fs::write(&path, &good[..good.len() / 2]).unwrap();
        assert!(load_model(dir.path()).unwrap_err().to_string().contains("truncated or damaged"));

        fs::write(&path, &good).unwrap();
        fs::remove_file(dir.path().join(super::super::STATUS_FILE)).unwrap();
        assert!(load_model(dir.path()).unwrap_err().to_string().contains("did not finish"));
    }

    /// Run folders written before the rule was stored as an object hold it as JSON text in a
    /// string (`""` when there was none): they load with the same rule.
    #[test]
    fn the_threshold_rule_reads_as_an_object_and_in_the_old_string_form() {
        let dir = tempfile::tempdir().unwrap();
        let model = Model::new(ModelConfig::new(Arch::Standard, 2)).unwrap();
        let params = model.init_params::<f32>(3);
        let rule = ThresholdRule::Pot {
            risk: 1e-4,
            initial_threshold: 0.25,
            shape_gamma: -0.125,
            scale_sigma: 0.5,
            excesses: 40,
        };
        let mut meta = ModelMeta::new(&model.config, 5, vec!["a".into(), "b".into()]);
        meta.threshold_rule = Some(rule);
        save_model(dir.path(), &model, &params, &meta).unwrap();
        RunFolder::at(dir.path()).finish(RunStatus::Complete, "").unwrap();
        let path = dir.path().join(META_FILE);
        let mut json: serde_json::Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(json["threshold_rule"]["rule"], "pot", "stored as an object: {}", json["threshold_rule"]);
        assert_eq!(load_model(dir.path()).unwrap().meta.threshold_rule, Some(rule));

        let mut rewrite = |stored: serde_json::Value| {
            json["threshold_rule"] = stored;
            fs::write(&path, serde_json::to_vec_pretty(&json).unwrap()).unwrap();
            load_model(dir.path()).map(|m| m.meta.threshold_rule)
        };
        // Exactly what train wrote before: serde_json::to_value(rule).to_string().
        let old = serde_json::to_value(rule).unwrap().to_string();
        assert_eq!(rewrite(old.into()).unwrap(), Some(rule));
        assert_eq!(rewrite("".into()).unwrap(), None);
        assert_eq!(rewrite(serde_json::Value::Null).unwrap(), None);
        let err = rewrite("percentile please".into()).unwrap_err().to_string();
        assert!(err.contains(META_FILE) && err.contains("threshold_rule"), "{err}");
    }

    #[test]
    fn another_format_version_is_refused_with_advice() {
        let dir = tempfile::tempdir().unwrap();
        saved(dir.path());
        let path = dir.path().join(META_FILE);
        let text = fs::read_to_string(&path).unwrap().replace("\"format_version\": 1", "\"format_version\": 99");
        fs::write(&path, text).unwrap();
        let err = load_model(dir.path()).unwrap_err().to_string();
        assert!(err.contains("version 99") && err.contains("retrain"), "{err}");
    }
}
