//! The Kubernetes pod-metrics schema (the original project's column names, exactly as it wrote
//! them) and the resolution of a CSV header into the columns a load uses.
//!
//! Two modes:
//! - **Kubernetes** (auto-detected): the [`REQUIRED`] columns must all be present; the
//!   [`OPTIONAL`] ones switch features on when present; anything else is ignored.
//! - **Generic**: the user names feature, time, group and label columns (see
//!   [`GenericSpec`](super::options::GenericSpec)).
//!
//! Resolution only looks at the header (and, for `--feature-columns all`, at a sample of rows to
//! tell numeric columns from text ones); it returns column indices and warnings.

use std::collections::{HashMap, HashSet};

use super::names::{is_invisible, listed, quoted, quoted_list};
use super::options::{FeatureColumns, GenericSpec, SchemaMode};
use crate::{Error, Result};

/// Columns a header may have. Metrics files have tens of columns, wide exports a few
/// thousand; past this a header is not one kubelstm can learn from, and refusing it at once
/// keeps every per-column step (lookups, duplicate checks, messages) small.
pub const MAX_COLUMNS: usize = 10_000;

pub const TIMESTAMP: &str = "Timestamp";
pub const POD_NAME: &str = "Pod Name";
pub const NAMESPACE: &str = "Namespace";
pub const NODE_NAME: &str = "Node Name";
pub const POD_STATUS: &str = "Pod Status";
pub const EVENT_REASON: &str = "Event Reason";
pub const CPU_USAGE: &str = "CPU Usage (%)";
pub const MEMORY_PERCENT: &str = "Memory Usage (%)";
pub const POD_RESTARTS: &str = "Pod Restarts";
pub const MEMORY_MB: &str = "Memory Usage (MB)";
pub const NET_RX_BYTES: &str = "Network Receive Bytes";
pub const NET_TX_BYTES: &str = "Network Transmit Bytes";
pub const FS_READS: &str = "FS Reads Total (MB)";
pub const FS_WRITES: &str = "FS Writes Total (MB)";
pub const NET_RX_DROPPED: &str = "Network Receive Packets Dropped (p/s)";
pub const NET_TX_DROPPED: &str = "Network Transmit Packets Dropped (p/s)";
pub const READY_CONTAINERS: &str = "Ready Containers";
pub const TOTAL_CONTAINERS: &str = "Total Containers";
pub const CPU_LIMITS: &str = "CPU Limits (%)";
pub const MEMORY_LIMITS: &str = "Memory Limits (MB)";
pub const EVENT_MESSAGE: &str = "Event Message";
pub const EVENT_AGE: &str = "Event Age (minutes)";
pub const EVENT_COUNT: &str = "Event Count";

/// The 11 base metrics that get `_rate`, `_rate_change`, `_rolling_mean_3`, `_rolling_std_3`.
pub const BASE_METRICS: [&str; 11] = [
    CPU_USAGE,
    MEMORY_PERCENT,
    POD_RESTARTS,
    MEMORY_MB,
    NET_RX_BYTES,
    NET_TX_BYTES,
    FS_READS,
    FS_WRITES,
    NET_RX_DROPPED,
    NET_TX_DROPPED,
    READY_CONTAINERS,
];

/// Every column the Kubernetes schema needs, in the original's order.
pub const REQUIRED: [&str; 18] = [
    TIMESTAMP,
    POD_NAME,
    NAMESPACE,
    NODE_NAME,
    POD_STATUS,
    EVENT_REASON,
    CPU_USAGE,
    MEMORY_PERCENT,
    POD_RESTARTS,
    MEMORY_MB,
    NET_RX_BYTES,
    NET_TX_BYTES,
    FS_READS,
    FS_WRITES,
    NET_RX_DROPPED,
    NET_TX_DROPPED,
    READY_CONTAINERS,
    TOTAL_CONTAINERS,
];

/// Optional columns: present ones are used, missing ones switch off what needs them.
pub const OPTIONAL: [&str; 5] = [CPU_LIMITS, MEMORY_LIMITS, EVENT_MESSAGE, EVENT_AGE, EVENT_COUNT];

/// Numeric input columns of the Kubernetes schema, in feature order: the 11 base metrics,
/// `Total Containers`, then the optional numeric columns. All of them count or measure
/// something and cannot be negative.
pub const NUMERIC: [&str; 16] = [
    CPU_USAGE,
    MEMORY_PERCENT,
    POD_RESTARTS,
    MEMORY_MB,
    NET_RX_BYTES,
    NET_TX_BYTES,
    FS_READS,
    FS_WRITES,
    NET_RX_DROPPED,
    NET_TX_DROPPED,
    READY_CONTAINERS,
    TOTAL_CONTAINERS,
    CPU_LIMITS,
    MEMORY_LIMITS,
    EVENT_AGE,
    EVENT_COUNT,
];

/// Which kind of file a dataset came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SchemaKind {
    Kubernetes,
    Generic,
}

/// A header resolved to the column indices a load reads.
#[derive(Clone, Debug)]
pub struct ResolvedSchema {
    pub kind: SchemaKind,
    /// Header names as read (trimmed, BOM removed).
    pub header: Vec<String>,
    pub time: Option<usize>,
    pub groups: Vec<usize>,
    /// Numeric input columns, in the order of the raw rows `(R,)`.
    pub raw: Vec<usize>,
    /// Per raw column: values must be ≥ 0 (Kubernetes counts and measures).
    pub non_negative: Vec<bool>,
    pub label: Option<usize>,
    /// Kubernetes only: `Pod Status`, `Event Reason`, `Node Name`, read for the label rules.
    pub status: Option<usize>,
    pub reason: Option<usize>,
    pub node: Option<usize>,
    pub warnings: Vec<String>,
}

impl ResolvedSchema {
    pub fn raw_names(&self) -> Vec<String> {
        self.raw.iter().map(|&i| self.header[i].clone()).collect()
    }
    pub fn name(&self, column: usize) -> &str {
        &self.header[column]
    }
    pub fn group_names(&self) -> Vec<String> {
        self.groups.iter().map(|&i| self.header[i].clone()).collect()
    }
}

/// The names of `header` with surrounding white space and a byte-order mark removed. Errors
/// when the header has more than [`MAX_COLUMNS`] columns.
pub fn clean_header(file: &str, header: &csv::StringRecord) -> Result<Vec<String>> {
    if header.len() > MAX_COLUMNS {
        return Err(Error::schema(
            file,
            format!(
                "the header has {} columns, more than the {MAX_COLUMNS} kubelstm reads: keep the columns \
                 you need (e.g. with `cut` or `xsv select`)",
                header.len()
            ),
        ));
    }
    Ok(header.iter().map(|h| h.trim_start_matches('\u{feff}').trim().to_owned()).collect())
}

/// Each name of a header and its first column: lookups by name in constant time, so a wide
/// header costs one pass, not one pass per name.
pub(crate) struct HeaderIndex<'a> {
    first: HashMap<&'a str, usize>,
}

impl<'a> HeaderIndex<'a> {
    pub(crate) fn new(header: &'a [String]) -> Self {
        let mut first = HashMap::with_capacity(header.len());
        for (i, h) in header.iter().enumerate() {
            first.entry(h.as_str()).or_insert(i);
        }
        HeaderIndex { first }
    }
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        self.first.get(name).copied()
    }
}

/// A name folded for near-miss hints: no white space or invisible characters, lower case.
fn squash(s: &str) -> String {
    s.chars().filter(|&c| !c.is_whitespace() && !is_invisible(c)).collect::<String>().to_lowercase()
}

/// Hints for missing names that differ only in case, spacing or invisible characters from a
/// header name: `'cpu' (the file has 'cpu\u{200b}'; names are exact)`. Built once per header.
pub(crate) struct NearMisses<'a> {
    squashed: HashMap<String, &'a str>,
}

impl<'a> NearMisses<'a> {
    pub(crate) fn new(header: &'a [String]) -> Self {
        let mut squashed = HashMap::with_capacity(header.len());
        for h in header {
            squashed.entry(squash(h)).or_insert(h.as_str());
        }
        NearMisses { squashed }
    }

    /// `name` quoted, with the header's near miss when there is one.
    pub(crate) fn describe(&self, name: &str) -> String {
        match self.squashed.get(&squash(name)) {
            Some(h) => format!("{} (the file has {}; names are exact)", quoted(name), quoted(h)),
            None => quoted(name),
        }
    }
}

/// Errors when a column the load will use appears more than once.
fn check_duplicates(file: &str, header: &[String], used: &[usize]) -> Result<Vec<String>> {
    let used: HashSet<usize> = used.iter().copied().collect();
    let mut warnings = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(header.len());
    let mut dup_errors = Vec::new();
    for (i, h) in header.iter().enumerate() {
        if let Some(&first) = seen.get(h.as_str()) {
            let text = format!("{} (columns {} and {})", quoted(h), first + 1, i + 1);
            if used.contains(&first) || used.contains(&i) {
                dup_errors.push(text);
            } else if !h.is_empty() {
                warnings.push(format!("column name {text} appears more than once; the column is not used"));
            }
        } else {
            seen.insert(h.as_str(), i);
        }
    }
    if dup_errors.is_empty() {
        Ok(warnings)
    } else {
        Err(Error::schema(
            file,
            format!(
                "duplicated column name {}: a column the load uses must appear once; rename or drop the copy",
                listed(&dup_errors)
            ),
        ))
    }
}

/// True when `text` reads as a number or a missing value (used to sniff numeric columns).
pub(crate) fn looks_numeric(text: &str) -> bool {
    let t = text.trim();
    super::csv_ingest::is_missing_token(t) || t.parse::<f64>().is_ok()
}

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
                    any_value |= !super::csv_ingest::is_missing_token(c);
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
