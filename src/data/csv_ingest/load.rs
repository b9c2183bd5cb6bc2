//! The batch read loop: the rows of one file, or of several files with one header, into the
//! per-series accumulators of one [`Dataset`].

use std::collections::{HashMap, VecDeque};
use std::io::Read;

use super::{csv_reader, map_csv_error, unclosed_quote, with_skip_hint, RawRow, RowParser};
use crate::data::options::{FeatureColumns, LoadOptions, SchemaMode};
use crate::data::report::{IngestReport, InputFile};
use crate::data::schema;
use crate::data::series::{self, SeriesAcc};
use crate::data::Dataset;
use crate::{Error, Result};

/// Rows sniffed to find the numeric columns for `--feature-columns all`.
const SNIFF_ROWS: usize = 1000;

/// Loads a whole CSV from `reader`; `source` names it in messages (a path, or `<stdin>`).
pub fn read_dataset<R: Read>(reader: R, source: &str, options: &LoadOptions) -> Result<Dataset> {
    let mut load = Load::new(options);
    read_file_into(&mut load, reader, source, None)?;
    load.finish(source)
}

/// A load in progress: the rows of one file, or of several files with one header read as one
/// dataset (see [`crate::data::sources`]).
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
            crate::data::sources::check_same_header(first_source, first_header, source, &header)?;
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
