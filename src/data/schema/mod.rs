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

mod header;
mod resolve;

pub(crate) use header::NearMisses;
pub use resolve::{resolve, LabelChoice};
