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
//!   file in one cell), and fields and lines have a length limit: see [`LineGuard`].

use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::sync::Arc;

use super::csv_guard::{LineGuard, TooLong};
use super::features::{FeatureBuilder, FeaturePlan};
use super::labels::{LabelRules, Labeler, TextFlags};
use super::options::{FeatureColumns, LabelSource, LoadOptions, MissingPolicy, SchemaMode};
use super::report::{IngestReport, InputFile, SkipReason};
use super::schema::{self, LabelChoice, ResolvedSchema, SchemaKind};
use super::series::{self, SeriesAcc};
use super::time;
use super::Dataset;
use crate::{Error, Result};

/// Separator of group values inside a joined series key.
pub const KEY_SEPARATOR: char = '\u{1f}';

/// Rows sniffed to find the numeric columns for `--feature-columns all`.
const SNIFF_ROWS: usize = 1000;

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

/// Parses records of one file into raw rows, after the header has been resolved.
#[derive(Clone, Debug)]
pub struct RowParser {
    source: String,
    schema: ResolvedSchema,
    /// The features to compute (the model's selection when scoring).
    plan: Arc<FeaturePlan>,
    rules: LabelRules,
    labeler: Option<Labeler>,
    missing: MissingPolicy,
}

impl RowParser {
    /// Resolves `header` (cleaned names) for `options`. `sample`: the first data records, only
    /// looked at by `--feature-columns all`.
    pub fn new(
        source: &str,
        header: &[String],
        options: &LoadOptions,
        sample: &[csv::StringRecord],
    ) -> Result<RowParser> {
        let label = LabelChoice { name: options.label_column.as_deref(), optional: options.label_column_optional };
        let schema = schema::resolve(source, header, &options.schema, label, sample)?;
        let raw_names = schema.raw_names();
        let full = match (&options.schema, schema.kind) {
            (SchemaMode::Generic(spec), _) => FeaturePlan::generic(&raw_names, spec.derived, options.missing)?,
            (SchemaMode::Auto, _) => FeaturePlan::kubernetes(&raw_names, options.missing),
        };
        let plan = match &options.select_features {
            Some(names) => full.select(source, names)?,
            None => full,
        };
        let labeler = match (&options.rules, schema.kind, schema.label) {
            (Some(rules), SchemaKind::Kubernetes, None) => Some(Labeler::new(rules.clone(), &raw_names)),
            _ => None,
        };
        Ok(RowParser {
            source: source.to_owned(),
            schema,
            plan: Arc::new(plan),
            rules: options.rules.clone().unwrap_or_default(),
            labeler,
            missing: options.missing,
        })
    }

    /// Reads the header record and builds the parser (for streams: the header is the first
    /// record). Errors on an empty input.
    pub fn from_header_record(source: &str, header: &csv::StringRecord, options: &LoadOptions) -> Result<RowParser> {
        if matches!(&options.schema, SchemaMode::Generic(g) if g.features == FeatureColumns::All) {
            return Err(Error::config(
                "--feature-columns all needs sample rows to find the numeric columns; name the columns when streaming",
            ));
        }
        RowParser::new(source, &schema::clean_header(source, header)?, options, &[])
    }

    /// This parser for another file with the same header: messages name `source`.
    pub fn for_source(&self, source: &str) -> RowParser {
        RowParser { source: source.to_owned(), ..self.clone() }
    }

    pub fn schema(&self) -> &ResolvedSchema {
        &self.schema
    }
    pub fn source(&self) -> &str {
        &self.source
    }
    /// The feature plan (shared by every builder of this load).
    pub fn plan(&self) -> &Arc<FeaturePlan> {
        &self.plan
    }
    pub fn feature_names(&self) -> &[String] {
        self.plan.names()
    }
    /// The numeric rules, when labels come from rules.
    pub fn labeler(&self) -> Option<&Labeler> {
        self.labeler.as_ref()
    }
    pub fn has_labels(&self) -> bool {
        self.labeler.is_some() || self.schema.label.is_some()
    }
    pub fn label_source(&self) -> LabelSource {
        match (&self.labeler, self.schema.label) {
            (Some(l), _) => LabelSource::Rules { rules: l.rules().clone() },
            (None, Some(c)) => LabelSource::Column { name: self.schema.header[c].clone() },
            (None, None) => LabelSource::None,
        }
    }
    /// A fresh per-series feature builder.
    pub fn new_builder(&self) -> FeatureBuilder {
        FeatureBuilder::new(self.plan.clone())
    }
    /// The label of an accepted row: the label cell, else the rules on the builder's current
    /// neighbourhood. Returns (label, rule mask).
    pub fn label_of(&self, row_label: Option<u8>, text: TextFlags, builder: &FeatureBuilder) -> Option<(u8, u16)> {
        if let Some(l) = row_label {
            return Some((l, 0));
        }
        self.labeler.as_ref().map(|lab| {
            let m = lab.rule_mask(text, &builder.neighbourhood());
            ((m != 0) as u8, m)
        })
    }

    fn bad(&self, reason: SkipReason, line: u64, column: Option<&str>, msg: String) -> BadRow {
        BadRow { reason, error: Error::input(&self.source, Some(line), column, msg) }
    }

    /// Parses `record` (at file line `line`) into `out`, reusing its buffers.
    pub fn parse(&self, record: &csv::StringRecord, line: u64, out: &mut RawRow) -> std::result::Result<(), BadRow> {
        let s = &self.schema;
        if record.len() != s.header.len() {
            return Err(self.bad(
                SkipReason::RaggedRow,
                line,
                None,
                format!("this row has {} fields but the header has {}", record.len(), s.header.len()),
            ));
        }
        out.key.clear();
        for (k, &g) in s.groups.iter().enumerate() {
            let v = &record[g];
            if v.is_empty() {
                return Err(self.bad(
                    SkipReason::BadLabelOrKey,
                    line,
                    Some(s.name(g)),
                    "empty series name: every row needs one".into(),
                ));
            }
            if k > 0 {
                out.key.push(KEY_SEPARATOR);
            }
            out.key.push_str(v);
        }
        out.timestamp = match s.time {
            Some(c) => {
                let t = &record[c];
                match time::parse_timestamp(t) {
                    Some(v) => Some(v),
                    None => {
                        return Err(self.bad(
                            SkipReason::BadTimestamp,
                            line,
                            Some(s.name(c)),
                            format!("cannot parse timestamp '{t}': {}", time::EXPECTED_FORMS),
                        ))
                    }
                }
            }
            None => None,
        };
        out.values.clear();
        for (k, &c) in s.raw.iter().enumerate() {
            let v = self.parse_number(&record[c], line, c, s.non_negative[k])?;
            out.values.push(v);
        }
        out.text = match (s.status, s.reason, s.node) {
            (Some(a), Some(b), Some(c)) if self.labeler.is_some() => {
                self.rules.text_flags(&record[a], &record[b], &record[c])
            }
            _ => 0,
        };
        out.label = match s.label {
            Some(c) => Some(parse_label(&record[c]).ok_or_else(|| {
                self.bad(
                    SkipReason::BadLabelOrKey,
                    line,
                    Some(s.name(c)),
                    format!("label '{}' is not 0 or 1", &record[c]),
                )
            })?),
            None => None,
        };
        Ok(())
    }

    fn parse_number(&self, text: &str, line: u64, col: usize, non_negative: bool) -> std::result::Result<f32, BadRow> {
        let name = self.schema.name(col);
        if is_missing_token(text) {
            if self.missing == MissingPolicy::Error {
                return Err(self.bad(
                    SkipReason::BadValue,
                    line,
                    Some(name),
                    format!("missing value '{text}' (--missing error; forward-fill, zero or drop would accept it)"),
                ));
            }
            return Ok(f32::NAN);
        }
        let v: f64 = match text.parse() {
            Ok(v) => v,
            Err(_) => {
                return Err(self.bad(SkipReason::BadValue, line, Some(name), format!("'{text}' is not a number")))
            }
        };
        if v.is_nan() {
            return Ok(f32::NAN); // spelled differently, e.g. "+nan"
        }
        if v.is_infinite() {
            return Err(self.bad(
                SkipReason::BadValue,
                line,
                Some(name),
                format!("infinite value '{text}': only finite numbers can be used"),
            ));
        }
        if v.abs() > f32::MAX as f64 {
            return Err(self.bad(
                SkipReason::BadValue,
                line,
                Some(name),
                format!("value {text} is beyond the f32 range (±3.4e38)"),
            ));
        }
        if non_negative && v < 0.0 {
            return Err(self.bad(
                SkipReason::BadValue,
                line,
                Some(name),
                format!("negative value {text}: this column counts or measures something and cannot be negative"),
            ));
        }
        Ok(v as f32)
    }
}

fn parse_label(text: &str) -> Option<u8> {
    match text {
        "0" | "0.0" => Some(0),
        "1" | "1.0" => Some(1),
        t if t.eq_ignore_ascii_case("false") => Some(0),
        t if t.eq_ignore_ascii_case("true") => Some(1),
        _ => None,
    }
}

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

/// Loads a whole CSV from `reader`; `source` names it in messages (a path, or `<stdin>`).
pub fn read_dataset<R: Read>(reader: R, source: &str, options: &LoadOptions) -> Result<Dataset> {
    let mut load = Load::new(options);
    read_file_into(&mut load, reader, source, None)?;
    load.finish(source)
}

/// A load in progress: the rows of one file, or of several files with one header read as one
/// dataset (see [`super::sources`]).
pub struct Load<'a> {
    options: &'a LoadOptions,
    /// The parser and header of the first file; the others must have the same header.
    first: Option<(RowParser, String, Vec<String>)>,
    report: IngestReport,
    index: HashMap<String, usize>,
    accs: Vec<SeriesAcc>,
}

impl<'a> Load<'a> {
    pub fn new(options: &'a LoadOptions) -> Load<'a> {
        Load { options, first: None, report: IngestReport::default(), index: HashMap::new(), accs: Vec::new() }
    }

    /// The dataset of every file read; `source` names it (a path, or a description of the files).
    pub fn finish(mut self, source: &str) -> Result<Dataset> {
        let Some((parser, _, _)) = self.first else {
            return Err(Error::data(format!("{source}: no files to read")));
        };
        self.report.source = source.to_owned();
        drop(self.index);
        // One file names itself: the list is for loads of several.
        if self.report.files.len() == 1 {
            self.report.files.clear();
        }
        series::finish(parser.for_source(source), self.accs, self.report)
    }
}

/// Reads one file's rows into `load`; `source` names it in messages. `series`: the series every
/// row of this file belongs to (its name when files name series), instead of the group columns'.
/// Returns the file's data rows.
pub fn read_file_into<R: Read>(load: &mut Load, reader: R, source: &str, series: Option<&str>) -> Result<u64> {
    let options = load.options;
    let mut rdr = csv_reader(reader);
    let mut record = csv::StringRecord::new();
    let header = match rdr.read_record(&mut record) {
        Ok(true) => {
            if let Some(bad) = unclosed_quote(&mut rdr, source, &[], 1) {
                return Err(bad.error);
            }
            schema::clean_header(source, &record)?
        }
        Ok(false) => {
            return Err(Error::input(
                source,
                None,
                None,
                "the file is empty: expected a header line with column names and rows of metrics",
            ))
        }
        Err(e) => {
            return Err(match map_csv_error(source, &[], e) {
                Ok(bad) => bad.error,
                Err(fatal) => fatal,
            })
        }
    };
    // Files after the first: the same header, and the first file's parser under this name.
    let later = match &load.first {
        Some((first, first_source, first_header)) => {
            super::sources::check_same_header(first_source, first_header, source, &header)?;
            Some(first.for_source(source))
        }
        None => None,
    };

    // `--feature-columns all` looks at the first rows before resolving the header.
    let mut pending: VecDeque<std::result::Result<csv::StringRecord, csv::Error>> = VecDeque::new();
    let sniff =
        later.is_none() && matches!(&options.schema, SchemaMode::Generic(g) if g.features == FeatureColumns::All);
    if sniff {
        while pending.len() < SNIFF_ROWS {
            let mut r = csv::StringRecord::new();
            match rdr.read_record(&mut r) {
                Ok(true) => pending.push_back(Ok(r)),
                Ok(false) => break,
                Err(e) => pending.push_back(Err(e)),
            }
        }
    }
    let parser = match later {
        Some(parser) => parser,
        None => {
            let sample: Vec<csv::StringRecord> = pending.iter().filter_map(|r| r.as_ref().ok().cloned()).collect();
            let parser = RowParser::new(source, &header, options, &sample)?;
            load.report.source = source.to_owned();
            load.report.warnings.extend(parser.schema().warnings.iter().cloned());
            load.first = Some((parser.clone(), source.to_owned(), header.clone()));
            parser
        }
    };

    let file_index = load.report.files.len() as u32;
    load.report.files.push(InputFile { path: source.to_owned(), series: series.map(str::to_owned), rows: 0 });
    // Without a time column, row order is time: across files when their rows share series.
    let rows_before = if series.is_some() { 0 } else { load.report.rows_read };
    let Load { report, index, accs, .. } = load;
    let mut row = RawRow::default();
    let mut data_row: u64 = 0;
    loop {
        let next = match pending.pop_front() {
            Some(r) => Some(r),
            None => match rdr.read_record(&mut record) {
                Ok(true) => None, // in `record`
                Ok(false) => break,
                Err(e) => Some(Err(e)),
            },
        };
        let sniffed;
        let rec: &csv::StringRecord = match next {
            None => &record,
            Some(Ok(r)) => {
                sniffed = r;
                &sniffed
            }
            Some(Err(e)) => {
                data_row += 1;
                let bad = map_csv_error(source, &header, e)?;
                if !options.skip_bad_rows {
                    return Err(with_skip_hint(bad.error));
                }
                report.skip(bad.reason, || bad.error.to_string());
                continue;
            }
        };
        let line = rec.position().map_or(data_row + 2, |p| p.line());
        let row_index = rows_before + data_row;
        data_row += 1;
        let parsed = match unclosed_quote(&mut rdr, source, &header, line) {
            Some(bad) => Err(bad),
            None => parser.parse(rec, line, &mut row),
        };
        if let Err(bad) = parsed {
            if !options.skip_bad_rows {
                return Err(with_skip_hint(bad.error));
            }
            report.skip(bad.reason, || bad.error.to_string());
            continue;
        }
        if let Some(name) = series {
            row.key.clear();
            row.key.push_str(name);
        }
        let id = match index.get(row.key.as_str()) {
            Some(&id) => id,
            None => {
                index.insert(row.key.clone(), accs.len());
                accs.push(SeriesAcc::new(row.key.clone(), parser.plan().n_raw()));
                accs.len() - 1
            }
        };
        accs[id].push(&row, row.timestamp.unwrap_or(row_index as i64), line, file_index);
    }
    report.rows_read += data_row;
    report.files[file_index as usize].rows = data_row;
    if data_row == 0 {
        return Err(Error::input(source, None, None, "the file has a header but no data rows"));
    }
    Ok(data_row)
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

    #[test]
    fn labels_parse() {
        assert_eq!(parse_label("1"), Some(1));
        assert_eq!(parse_label("TRUE"), Some(1));
        assert_eq!(parse_label("0.0"), Some(0));
        assert_eq!(parse_label("2"), None);
        assert_eq!(parse_label(""), None);
    }
}
