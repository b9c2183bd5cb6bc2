//! Reading a metrics CSV: header resolution, one-row parsing, and the batch read loop.
//!
//! [`RowParser`] turns one CSV record into a [`RawRow`] (series key, timestamp, raw numeric
//! values `(R,)` with NaN for missing, rule bits from text cells, label). The batch loader and
//! `detect --follow` share it, so a row means the same thing in both.
//!
//! Cell rules (errors name file, line and column; `--skip-bad-rows` skips the row and counts
//! it instead):
//! - numbers parse as f64 and must be finite and within f32 range; Kubernetes columns must not
//!   be negative (they count or measure things);
//! - empty cells and `NaN`, `NA`, `N/A`, `null`, `None` (any case) are missing values and
//!   follow `--missing`; `inf`/`-inf` are errors, not missing;
//! - timestamps: see [`time`](super::time); a row whose field count differs from the header's
//!   is an error; a UTF-8 byte-order mark and CRLF line ends are accepted; invalid UTF-8 is an
//!   error with its line;
//! - a quoted field ends with its line (an unclosed quote is a bad row, not the rest of the
//!   file in one cell), and fields and lines have a length limit: see [`LineGuard`](super::csv_guard::LineGuard).
//!
//! Files: `row_parser.rs` (one record), `reader.rs` (the shared CSV reader and its failures),
//! `load.rs` (the batch read loop).

mod load;
mod reader;
mod row_parser;

pub use load::{read_dataset, read_file_into, Load};
pub use reader::{csv_reader, map_csv_error, unclosed_quote, with_skip_hint};
pub use row_parser::RowParser;

use super::labels::TextFlags;
use super::report::SkipReason;
use crate::Error;

/// Separator of group values inside a joined series key.
pub const KEY_SEPARATOR: char = '\u{1f}';

/// Cell texts that mean "no value".
pub fn is_missing_token(t: &str) -> bool {
    t.is_empty()
        || t.eq_ignore_ascii_case("nan")
        || t.eq_ignore_ascii_case("na")
        || t.eq_ignore_ascii_case("n/a")
        || t.eq_ignore_ascii_case("null")
        || t.eq_ignore_ascii_case("none")
}

/// One parsed record.
#[derive(Clone, Debug, Default)]
pub struct RawRow {
    /// The group values joined by [`KEY_SEPARATOR`] (empty for a one-series file).
    pub key: String,
    /// Epoch seconds; `None` without a time column (the caller uses the row index).
    pub timestamp: Option<i64>,
    /// `(R,)` raw numeric values, NaN where missing.
    pub values: Vec<f32>,
    /// Rule bits decided from text cells (Kubernetes).
    pub text: TextFlags,
    /// From the label column, when there is one.
    pub label: Option<u8>,
}

impl RawRow {
    /// The group values of the key.
    pub fn key_parts(&self) -> Vec<String> {
        split_key(&self.key)
    }
}

pub(crate) fn split_key(key: &str) -> Vec<String> {
    if key.is_empty() {
        Vec::new()
    } else {
        key.split(KEY_SEPARATOR).map(str::to_owned).collect()
    }
}

/// A row that cannot be used: why, and the error to report.
#[derive(Debug)]
pub struct BadRow {
    pub reason: SkipReason,
    pub error: Error,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_tokens() {
        for t in ["", "NaN", "nan", "NA", "n/a", "null", "None"] {
            assert!(is_missing_token(t), "{t}");
        }
        for t in ["0", "inf", "-", "nil?"] {
            assert!(!is_missing_token(t), "{t}");
        }
    }
}
