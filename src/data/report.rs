//! What a load did: rows read, skipped (and why), values filled, rules fired, warnings.
//! Serialises into the run folder's reports; `Display` is the human summary.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why rows did not make it into the dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    /// A numeric cell that is not a finite number in f32 range, or a negative count (`--skip-bad-rows`).
    BadValue,
    /// An unparseable or empty timestamp (`--skip-bad-rows`).
    BadTimestamp,
    /// A label cell that is not 0/1, or an empty series name (`--skip-bad-rows`).
    BadLabelOrKey,
    /// A row with a different number of fields than the header (`--skip-bad-rows`).
    RaggedRow,
    /// A row that is not valid UTF-8 (`--skip-bad-rows`).
    InvalidUtf8,
    /// A row whose line ends inside a quoted field: a closing quote is missing (`--skip-bad-rows`).
    UnclosedQuote,
    /// Same series and timestamp as a later row: the later row is kept.
    DuplicateTimestamp,
    /// Forward fill with no earlier value in the series to carry.
    MissingNoPriorValue,
    /// `--missing drop`.
    MissingValue,
    /// Streams only: a row not after its series' last row (a stream cannot reorder).
    LateRow,
}

impl SkipReason {
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::BadValue => "bad numeric value",
            SkipReason::BadTimestamp => "bad timestamp",
            SkipReason::BadLabelOrKey => "bad label or series name",
            SkipReason::RaggedRow => "wrong number of fields",
            SkipReason::InvalidUtf8 => "invalid UTF-8",
            SkipReason::UnclosedQuote => "unclosed quote (a closing quote is missing)",
            SkipReason::DuplicateTimestamp => "duplicate timestamp in its series (kept the last)",
            SkipReason::MissingNoPriorValue => "missing value with no earlier value to carry forward",
            SkipReason::MissingValue => "missing value (--missing drop)",
            SkipReason::LateRow => "row not after its series' last row (a stream cannot reorder)",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub reason: SkipReason,
    pub rows: u64,
    /// The first such row, as an error message with its line.
    pub first: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnCount {
    pub column: String,
    pub count: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleCount {
    pub rule: String,
    pub description: String,
    /// Rows this rule fired on (a row can fire several rules).
    pub rows: u64,
}

/// One of the files a load of several read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputFile {
    pub path: String,
    /// The series its rows make, when files name series (no group columns).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    /// Its data rows (header excluded), good or bad.
    pub rows: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IngestReport {
    pub source: String,
    /// The files read, in order, when there were several (`source` describes them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<InputFile>,
    /// Data rows in the file (header excluded), good or bad.
    pub rows_read: u64,
    /// Rows in the dataset.
    pub rows_loaded: u64,
    pub series: usize,
    pub skipped: Vec<Skipped>,
    /// Rows that came before an earlier timestamp of their series and were sorted into place.
    pub out_of_order_rows: u64,
    /// Values filled by the missing-value policy, per column (columns with none omitted).
    pub missing_filled: Vec<ColumnCount>,
    /// Per-rule firing counts, when labels come from rules.
    pub rules: Vec<RuleCount>,
    /// Anomalous rows, when the data has labels.
    pub anomalies: Option<u64>,
    pub anomaly_rate: Option<f64>,
    pub warnings: Vec<String>,
}

impl IngestReport {
    pub(crate) fn skip(&mut self, reason: SkipReason, first: impl FnOnce() -> String) {
        match self.skipped.iter_mut().find(|s| s.reason == reason) {
            Some(s) => s.rows += 1,
            None => {
                self.skipped.push(Skipped { reason, rows: 1, first: first() });
                self.skipped.sort_by_key(|s| s.reason);
            }
        }
    }
    pub fn rows_skipped(&self) -> u64 {
        self.skipped.iter().map(|s| s.rows).sum()
    }
}

impl fmt::Display for IngestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} rows read, {} loaded in {} series",
            self.source, self.rows_read, self.rows_loaded, self.series
        )?;
        for s in &self.skipped {
            writeln!(f, "  skipped {} rows: {} (first: {})", s.rows, s.reason.describe(), s.first)?;
        }
        if self.out_of_order_rows > 0 {
            writeln!(f, "  sorted {} out-of-order rows into time order", self.out_of_order_rows)?;
        }
        for c in &self.missing_filled {
            writeln!(f, "  filled {} missing values in {}", c.count, super::names::quoted(&c.column))?;
        }
        if let (Some(a), Some(rate)) = (self.anomalies, self.anomaly_rate) {
            writeln!(f, "  anomalous rows: {a} ({:.2} %)", 100.0 * rate)?;
        }
        if !self.rules.is_empty() {
            writeln!(f, "  rules fired (rows):")?;
            let width = self.rules.iter().map(|r| r.rule.len()).max().unwrap_or(0);
            for r in &self.rules {
                writeln!(f, "    {:<width$} {:>9}  {}", r.rule, r.rows, r.description)?;
            }
        }
        for w in &self.warnings {
            writeln!(f, "  warning: {w}")?;
        }
        Ok(())
    }
}
