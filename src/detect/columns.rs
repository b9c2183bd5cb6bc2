//! Does a file have the columns a model reads? Checked on the header, before any row, so the
//! message speaks of the model ("the model was trained on …, this file lacks …") rather than
//! of the training flags the loader would suggest.

use std::collections::HashSet;
use std::path::Path;

use crate::data::names::{quoted, quoted_list};
use crate::data::options::PipelineSpec;
use crate::data::schema::{self, NearMisses, SchemaKind};
use crate::{Error, Result};

/// The columns `spec` reads, in a stable order: time and group columns first, then the
/// numeric inputs (and for Kubernetes data every required column).
pub fn needed_columns(spec: &PipelineSpec) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    let mut add = |n: &str| {
        if seen.insert(n.to_owned()) {
            names.push(n.to_owned());
        }
    };
    if spec.schema == SchemaKind::Kubernetes {
        schema::REQUIRED.iter().for_each(|n| add(n));
    }
    spec.time_column.iter().for_each(|n| add(n));
    spec.group_columns.iter().for_each(|n| add(n));
    spec.raw_columns.iter().for_each(|n| add(n));
    names
}

fn describe(spec: &PipelineSpec) -> String {
    match spec.schema {
        SchemaKind::Kubernetes => format!(
            "Kubernetes pod metrics with the numeric columns {}",
            quoted_list(&spec.raw_columns[..spec.raw_columns.len().min(4)])
                + if spec.raw_columns.len() > 4 { ", …" } else { "" }
        ),
        SchemaKind::Generic => {
            let mut s = format!("generic metrics with the feature columns {}", quoted_list(&spec.raw_columns));
            if let Some(t) = &spec.time_column {
                s += &format!(", time column {}", quoted(t));
            }
            if !spec.group_columns.is_empty() {
                s += &format!(", group columns {}", quoted_list(&spec.group_columns));
            }
            s
        }
    }
}

/// Errors, listing every missing column (with near-miss hints), when `header` (cleaned
/// names) lacks a column the model in `model_dir` reads. Extra columns are fine.
pub fn check_header(file: &str, model_dir: &Path, spec: &PipelineSpec, header: &[String]) -> Result<()> {
    let present: HashSet<&str> = header.iter().map(String::as_str).collect();
    let absent: Vec<String> = needed_columns(spec).into_iter().filter(|n| !present.contains(n.as_str())).collect();
    if absent.is_empty() {
        return Ok(());
    }
    let near = NearMisses::new(header);
    let missing: Vec<String> = absent.iter().map(|n| near.describe(n)).collect();
    let shown = if missing.len() > 8 {
        format!("{} and {} more", missing[..8].join(", "), missing.len() - 8)
    } else {
        missing.join(", ")
    };
    Err(Error::schema(
        file,
        format!(
            "this file does not have the columns the model needs: missing {shown}. The model in {} was trained on \
             {}; score a CSV with those columns (names are exact, order and extra columns do not matter; \
             `kubelstm inspect {}` lists them), or train a model on this file's columns",
            model_dir.display(),
            describe(spec),
            model_dir.display()
        ),
    ))
}
