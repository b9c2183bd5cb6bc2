//! The CSV reader every load and stream shares, and how its record-level failures become
//! errors or skippable bad rows.

use std::io::Read;

use super::BadRow;
use crate::data::csv_guard::{LineGuard, TooLong};
use crate::data::report::SkipReason;
use crate::Error;

/// The CSV reader every load and stream uses (no header handling, ragged rows reported by the
/// parser, cells trimmed), reading through a [`LineGuard`]: quoted fields end with their line,
/// line numbers are right whatever the line ending, and fields and lines are bounded.
pub fn csv_reader<R: Read>(reader: R) -> csv::Reader<LineGuard<R>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .buffer_capacity(1 << 16)
        .from_reader(LineGuard::new(reader))
}

/// The bad row for `record` at `line` if its line had an unclosed quote (see [`LineGuard`]).
pub fn unclosed_quote<R: Read>(
    rdr: &mut csv::Reader<LineGuard<R>>,
    source: &str,
    header: &[String],
    line: u64,
) -> Option<BadRow> {
    let quote = rdr.get_mut().unclosed_quote(line)?;
    Some(BadRow {
        reason: SkipReason::UnclosedQuote,
        error: Error::input(
            source,
            Some(line),
            header.get(quote.field).map(String::as_str),
            "a quote opens this field but the line ends before it closes: a closing quote is missing \
             (kubelstm reads no field across lines)",
        ),
    })
}

/// A record-level read failure: a bad row (skippable) or a fatal error.
pub fn map_csv_error(source: &str, header: &[String], e: csv::Error) -> std::result::Result<BadRow, Error> {
    let line = e.position().map(|p| p.line());
    match e.into_kind() {
        csv::ErrorKind::Utf8 { err, .. } => {
            let column = header.get(err.field()).map(String::as_str);
            Ok(BadRow {
                reason: SkipReason::InvalidUtf8,
                error: Error::input(
                    source,
                    line,
                    column,
                    format!(
                        "invalid UTF-8 (byte {} of the field): kubelstm reads UTF-8 CSV; convert the file \
                         (e.g. iconv -f latin1 -t utf-8)",
                        err.valid_up_to()
                    ),
                ),
            })
        }
        csv::ErrorKind::Io(io) => match io.get_ref().and_then(|e| e.downcast_ref::<TooLong>()) {
            Some(long) => {
                let column = long.field.and_then(|f| header.get(f)).map(String::as_str);
                Err(Error::input(source, Some(long.line), column, long.message.clone()))
            }
            None => Err(Error::io("read", source, io)),
        },
        other => Err(Error::input(source, line, None, format!("{:?}", other))),
    }
}

/// Adds "(--skip-bad-rows skips such rows)" to an input error.
pub fn with_skip_hint(e: Error) -> Error {
    match e {
        Error::Input { file, line, column, message } => {
            Error::Input { file, line, column, message: format!("{message} (--skip-bad-rows skips such rows)") }
        }
        other => other,
    }
}
