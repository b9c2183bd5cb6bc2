//! Resolving a header, in Kubernetes or generic mode, into the columns a load reads.

use super::header::{check_duplicates, looks_numeric, HeaderIndex, NearMisses};
use super::*;
use crate::data::names::{quoted, quoted_list};
use crate::data::options::{FeatureColumns, GenericSpec, SchemaMode};
use crate::{Error, Result};

/// Resolves a header for `mode`. `sample` holds the first data rows (used only by
/// `--feature-columns all` to find the numeric columns).
pub fn resolve(
    file: &str,
    header: &[String],
    mode: &SchemaMode,
    label: LabelChoice<'_>,
    sample: &[csv::StringRecord],
) -> Result<ResolvedSchema> {
    match mode {
        SchemaMode::Auto => resolve_auto(file, header, label),
        SchemaMode::Generic(spec) => resolve_generic(file, header, spec, label, sample),
    }
}

/// The label column asked for: a name (`optional`: its absence means no labels), or `None`
/// for the default (`label` or `anomaly`, any case, if present).
#[derive(Clone, Copy, Debug)]
pub struct LabelChoice<'a> {
    pub name: Option<&'a str>,
    pub optional: bool,
}

/// A column named `label` or `anomaly` (any case) is the label unless one is named.
fn resolve_label(
    file: &str,
    header: &[String],
    index: &HeaderIndex<'_>,
    label: LabelChoice<'_>,
) -> Result<Option<usize>> {
    match label.name {
        Some(name) if label.optional => Ok(index.find(name)),
        Some(name) => index.find(name).map(Some).ok_or_else(|| {
            let hint = NearMisses::new(header).describe(name);
            Error::schema(file, format!("the label column {hint} is not in the file (--label-column)"))
        }),
        None => Ok(header.iter().position(|h| h.eq_ignore_ascii_case("label") || h.eq_ignore_ascii_case("anomaly"))),
    }
}

fn resolve_auto(file: &str, header: &[String], label_column: LabelChoice<'_>) -> Result<ResolvedSchema> {
    let index = HeaderIndex::new(header);
    let find = |name: &str| index.find(name);
    let present = REQUIRED.iter().filter(|n| find(n).is_some()).count();
    if present == 0 {
        return Err(Error::schema(
            file,
            format!(
                "no recognised schema: none of the Kubernetes columns ({}) is in the header. For any other \
                 metrics CSV use generic mode: --feature-columns all (or a comma-separated list), and \
                 optionally --time-column, --group-columns and --label-column",
                REQUIRED.join(", ")
            ),
        ));
    }
    let near = NearMisses::new(header);
    let missing: Vec<String> = REQUIRED.iter().filter(|n| find(n).is_none()).map(|n| near.describe(n)).collect();
    if !missing.is_empty() {
        return Err(Error::schema(
            file,
            format!(
                "missing required column{} {}: the Kubernetes schema needs all of {}; for other data use \
                 generic mode (--feature-columns)",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", "),
                REQUIRED.join(", ")
            ),
        ));
    }
    let col = |n: &str| find(n).expect("checked above");
    let mut warnings = Vec::new();
    let mut raw = Vec::new();
    for name in NUMERIC {
        match find(name) {
            Some(i) => raw.push(i),
            None => {
                let what = match name {
                    CPU_LIMITS => "feature 'CPU_Utilization_Ratio' is switched off",
                    MEMORY_LIMITS => "feature 'Memory_Utilization_Ratio' is switched off",
                    _ => "it is not used as a feature",
                };
                warnings.push(format!("optional column '{name}' is missing: {what}"));
            }
        }
    }
    let label = resolve_label(file, header, &index, label_column)?;
    let groups = vec![col(NAMESPACE), col(POD_NAME)];
    let (status, reason, node) = (col(POD_STATUS), col(EVENT_REASON), col(NODE_NAME));
    let mut used: Vec<usize> = raw.clone();
    used.extend([col(TIMESTAMP), status, reason, node]);
    used.extend(&groups);
    used.extend(label);
    warnings.extend(check_duplicates(file, header, &used)?);
    Ok(ResolvedSchema {
        kind: SchemaKind::Kubernetes,
        header: header.to_vec(),
        time: Some(col(TIMESTAMP)),
        groups,
        non_negative: vec![true; raw.len()],
        raw,
        label,
        status: Some(status),
        reason: Some(reason),
        node: Some(node),
        warnings,
    })
}

fn resolve_generic(
    file: &str,
    header: &[String],
    spec: &GenericSpec,
    label_column: LabelChoice<'_>,
    sample: &[csv::StringRecord],
) -> Result<ResolvedSchema> {
    let index = HeaderIndex::new(header);
    let mut missing = Vec::new();
    let mut lookup = |name: &str, flag: &'static str| {
        let found = index.find(name);
        if found.is_none() {
            missing.push((name.to_owned(), flag));
        }
        found
    };
    let time = spec.time_column.as_deref().and_then(|n| lookup(n, "--time-column"));
    let groups: Vec<Option<usize>> = spec.group_columns.iter().map(|n| lookup(n, "--group-columns")).collect();
    let named: Vec<Option<usize>> = match &spec.features {
        FeatureColumns::Names(names) => names.iter().map(|n| lookup(n, "--feature-columns")).collect(),
        FeatureColumns::All => Vec::new(),
    };
    if !missing.is_empty() {
        let near = NearMisses::new(header);
        let shown: Vec<String> = missing.iter().map(|(n, flag)| format!("{} ({flag})", near.describe(n))).collect();
        return Err(Error::schema(
            file,
            format!(
                "column{} not in the file: {}; the header has {}",
                if missing.len() == 1 { "" } else { "s" },
                shown.join(", "),
                quoted_list(header)
            ),
        ));
    }
    let groups: Vec<usize> = groups.into_iter().flatten().collect();
    let label = resolve_label(file, header, &index, label_column)?;
    let mut warnings = Vec::new();
    let mut is_reserved = vec![false; header.len()];
    for i in time.iter().chain(&groups).chain(&label) {
        is_reserved[*i] = true;
    }
    let reserved = |i: usize| is_reserved[i];
    let raw: Vec<usize> = match &spec.features {
        FeatureColumns::Names(_) => {
            let raw: Vec<usize> = named.into_iter().flatten().collect();
            if let Some(&i) = raw.iter().find(|&&i| reserved(i)) {
                return Err(Error::config(format!(
                    "{} is both a feature column and the time, group or label column",
                    quoted(&header[i])
                )));
            }
            raw
        }
        FeatureColumns::All => {
            let mut raw = Vec::new();
            for i in (0..header.len()).filter(|&i| !reserved(i)) {
                let cells = sample.iter().filter_map(|r| r.get(i)).map(str::trim);
                let mut any_value = false;
                let mut numeric = true;
                for c in cells {
                    if !looks_numeric(c) {
                        numeric = false;
                        break;
                    }
                    any_value |= !crate::data::csv_ingest::is_missing_token(c);
                }
                if numeric && any_value {
                    raw.push(i);
                } else if numeric {
                    warnings.push(format!(
                        "column {} has no values in the first {} rows: not used as a feature",
                        quoted(&header[i]),
                        sample.len()
                    ));
                }
            }
            if raw.is_empty() {
                return Err(Error::schema(
                    file,
                    format!(
                        "--feature-columns all found no numeric column (besides time, group and label columns) \
                         in the first {} rows; the header has {}",
                        sample.len(),
                        quoted_list(header)
                    ),
                ));
            }
            raw
        }
    };
    let mut used = raw.clone();
    used.extend(time);
    used.extend(&groups);
    used.extend(label);
    warnings.extend(check_duplicates(file, header, &used)?);
    Ok(ResolvedSchema {
        kind: SchemaKind::Generic,
        header: header.to_vec(),
        time,
        groups,
        non_negative: vec![false; raw.len()],
        raw,
        label,
        status: None,
        reason: None,
        node: None,
        warnings,
    })
}
