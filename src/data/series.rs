//! Per-series assembly: rows grouped by series key are sorted by time, de-duplicated, pushed
//! through the series' [`FeatureBuilder`] and labelled.
//!
//! Duplicate timestamps within a series keep the **last** row in file order and drop the
//! others, counted in the report: collectors that retry deliver the same sample twice, and the
//! later delivery is the one a store that upserts would keep. Out-of-order rows are sorted
//! (stable), counted, and are not an error.

use super::csv_ingest::{split_key, RawRow, RowParser};
use super::features::Pushed;
use super::labels::RULE_NAMES;
use super::report::{ColumnCount, IngestReport, RuleCount, SkipReason};
use super::time::format_rfc3339;
use super::{Dataset, Series, SeriesKey};
use crate::{Error, Result};

/// Raw rows of one series as read, in file order.
pub(crate) struct SeriesAcc {
    key: String,
    r: usize,
    ts: Vec<i64>,     // (n,)
    values: Vec<f32>, // (n, R)
    text: Vec<u16>,   // (n,) rule bits from text cells
    labels: Vec<u8>,  // (n,) label cells (0 when there is no label column)
    lines: Vec<u64>,  // (n,) file line of each row
    files: Vec<u32>,  // (n,) the file of each row, an index into the report's files
}

impl SeriesAcc {
    pub(crate) fn new(key: String, r: usize) -> SeriesAcc {
        SeriesAcc {
            key,
            r,
            ts: Vec::new(),
            values: Vec::new(),
            text: Vec::new(),
            labels: Vec::new(),
            lines: Vec::new(),
            files: Vec::new(),
        }
    }
    pub(crate) fn push(&mut self, row: &RawRow, ts: i64, line: u64, file: u32) {
        debug_assert_eq!(row.values.len(), self.r);
        self.ts.push(ts);
        self.values.extend_from_slice(&row.values);
        self.text.push(row.text);
        self.labels.push(row.label.unwrap_or(0));
        self.lines.push(line);
        self.files.push(file);
    }
}

/// Builds the dataset from the accumulated series.
pub(crate) fn finish(parser: RowParser, mut accs: Vec<SeriesAcc>, mut report: IngestReport) -> Result<Dataset> {
    accs.sort_by(|a, b| a.key.cmp(&b.key));
    let plan = parser.plan().clone();
    let (f, r) = (plan.n_features(), plan.n_raw());
    let source = parser.source().to_owned();
    let has_label_column = parser.schema().label.is_some();
    let has_labels = parser.has_labels();
    let has_time = parser.schema().time.is_some();
    let show_time = |t: i64| if has_time { format_rfc3339(t) } else { format!("row {t}") };
    // A row's line is in its own file, when the load read several.
    let file_names: Vec<String> = report.files.iter().map(|f| f.path.clone()).collect();
    let file_of = |acc: &SeriesAcc, i: usize| file_names.get(acc.files[i] as usize).unwrap_or(&source).clone();
    let mut filled = vec![0u64; r];
    let mut rule_rows = [0u64; RULE_NAMES.len()];
    let mut anomalies = 0u64;
    let mut empty_series = Vec::new();
    let mut series = Vec::with_capacity(accs.len());
    let mut out = vec![0.0f32; f]; // (F,)
    for acc in accs {
        let key = SeriesKey(split_key(&acc.key));
        let n = acc.ts.len();
        let mut order: Vec<u32> = (0..n as u32).collect();
        let mut latest = i64::MIN;
        let mut late = 0u64;
        for &t in &acc.ts {
            if t < latest {
                late += 1;
            }
            latest = latest.max(t);
        }
        if late > 0 {
            report.out_of_order_rows += late;
            order.sort_by_key(|&i| acc.ts[i as usize]); // stable: file order among equals
        }
        let mut builder = parser.new_builder();
        let mut s = Series {
            key,
            timestamps: Vec::with_capacity(n),
            features: Vec::with_capacity(n * f),
            labels: has_labels.then(|| Vec::with_capacity(n)),
        };
        for (k, &i) in order.iter().enumerate() {
            let i = i as usize;
            if let Some(&j) = order.get(k + 1) {
                if acc.ts[j as usize] == acc.ts[i] {
                    report.skip(SkipReason::DuplicateTimestamp, || {
                        Error::input(
                            file_of(&acc, i),
                            Some(acc.lines[i]),
                            None,
                            format!(
                                "series {} has another row at {} (line {}); the later row is kept",
                                s.key,
                                show_time(acc.ts[i]),
                                acc.lines[j as usize]
                            ),
                        )
                        .to_string()
                    });
                    continue;
                }
            }
            let raw = &acc.values[i * r..(i + 1) * r];
            let first_missing = || raw.iter().position(|v| v.is_nan()).map(|c| plan.raw_names()[c].as_str());
            match builder.push(raw) {
                Pushed::Accepted => {}
                Pushed::NoPriorValue => {
                    report.skip(SkipReason::MissingNoPriorValue, || {
                        Error::input(
                            file_of(&acc, i),
                            Some(acc.lines[i]),
                            first_missing(),
                            format!("missing value and no earlier value in series {} to carry forward", s.key),
                        )
                        .to_string()
                    });
                    continue;
                }
                Pushed::MissingValue => {
                    report.skip(SkipReason::MissingValue, || {
                        Error::input(file_of(&acc, i), Some(acc.lines[i]), first_missing(), "missing value").to_string()
                    });
                    continue;
                }
            }
            builder.features(&mut out);
            s.features.extend_from_slice(&out);
            s.timestamps.push(acc.ts[i]);
            let cell = has_label_column.then(|| acc.labels[i]);
            if let (Some(labels), Some((label, mask))) =
                (s.labels.as_mut(), parser.label_of(cell, acc.text[i], &builder))
            {
                labels.push(label);
                anomalies += label as u64;
                for (b, count) in rule_rows.iter_mut().enumerate() {
                    *count += ((mask >> b) & 1) as u64;
                }
            }
        }
        for (t, c) in filled.iter_mut().zip(builder.filled_counts()) {
            *t += c;
        }
        if s.timestamps.is_empty() {
            empty_series.push(s.key.to_string());
        } else {
            series.push(s);
        }
    }
    if !empty_series.is_empty() {
        report.warnings.push(format!(
            "{} series had no usable rows and were left out (first: {})",
            empty_series.len(),
            empty_series[0]
        ));
    }
    report.series = series.len();
    report.rows_loaded = series.iter().map(|s| s.timestamps.len() as u64).sum();
    report.missing_filled = plan
        .raw_names()
        .iter()
        .zip(&filled)
        .filter(|(_, &c)| c > 0)
        .map(|(n, &c)| ColumnCount { column: n.clone(), count: c })
        .collect();
    if report.rows_loaded == 0 {
        let why: Vec<String> = report.skipped.iter().map(|s| format!("{} {}", s.rows, s.reason.describe())).collect();
        return Err(Error::data(format!(
            "{source}: no usable rows: {} rows read, all left out ({}); first: {}",
            report.rows_read,
            why.join(", "),
            report.skipped.first().map_or("", |s| s.first.as_str())
        )));
    }
    if has_labels {
        report.anomalies = Some(anomalies);
        let rate = anomalies as f64 / report.rows_loaded as f64;
        report.anomaly_rate = Some(rate);
        if rate > 0.5 {
            report.warnings.push(format!(
                "{:.1} % of the rows are labelled anomalous: labels this common are not useful for training; \
                 check the label column or the rules (--rules FILE)",
                100.0 * rate
            ));
        }
    }
    if let Some(lab) = parser.labeler() {
        let desc = lab.rules().descriptions();
        report.rules = RULE_NAMES
            .iter()
            .zip(desc)
            .zip(rule_rows)
            .map(|((name, description), rows)| RuleCount { rule: name.to_string(), description, rows })
            .collect();
    }
    Ok(Dataset::assemble(parser, series, report))
}
