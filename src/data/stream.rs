//! Row-at-a-time feature computation for streams (`detect --follow`, the generator's summary).
//!
//! [`FeatureStream`] keeps one [`FeatureBuilder`] per series (`O(R)` floats each) and turns each
//! CSV record into that series' feature row as it arrives, with the same parser, builder and
//! rules as the batch loader, so a stream whose rows arrive in time order gives bit-identical
//! features and labels. What a stream cannot do is reorder: a row older than or as old as the
//! last one of its series is skipped ([`SkipReason::LateRow`]); the batch loader would sort it
//! (and keep the *last* of equal timestamps), so equality holds for streams in time order.
//! Idle series can be evicted to bound memory.

use std::collections::HashMap;

use super::csv_ingest::{BadRow, RawRow, RowParser};
use super::features::{FeatureBuilder, Pushed};
use super::labels::RULE_NAMES;
use super::report::{IngestReport, RuleCount, SkipReason};
use crate::Error;

struct SeriesState {
    builder: FeatureBuilder,
    last_ts: i64,
}

/// One scored-ready row of a stream.
#[derive(Debug)]
pub struct StreamRow<'a> {
    /// Group values joined by [`KEY_SEPARATOR`](super::csv_ingest::KEY_SEPARATOR).
    pub key: &'a str,
    pub timestamp: i64,
    /// `(F,)`
    pub features: &'a [f32],
    pub label: Option<u8>,
    /// Rules that fired (bit `i` = [`RULE_NAMES`]`[i]`), 0 without rules.
    pub rule_mask: u16,
}

/// Feature rows from a stream of records.
pub struct FeatureStream {
    parser: RowParser,
    series: HashMap<String, SeriesState>,
    row: RawRow,
    out: Vec<f32>, // (F,)
    rows_in: u64,
    report: IngestReport,
    rule_rows: [u64; RULE_NAMES.len()],
    anomalies: u64,
}

impl FeatureStream {
    pub fn new(parser: RowParser) -> FeatureStream {
        let f = parser.plan().n_features();
        let report = IngestReport { source: parser.source().to_owned(), ..Default::default() };
        FeatureStream {
            parser,
            series: HashMap::new(),
            row: RawRow::default(),
            out: vec![0.0; f],
            rows_in: 0,
            report,
            rule_rows: [0; RULE_NAMES.len()],
            anomalies: 0,
        }
    }

    pub fn parser(&self) -> &RowParser {
        &self.parser
    }

    /// Offers the next record (at file line `line`). `Ok(None)`: the row was consumed but gives
    /// no feature row (missing values with nothing to fill from, `--missing drop`, or a late
    /// row; counted in the report). `Err`: a bad row; the caller decides to stop or skip
    /// ([`skip`](Self::skip)).
    pub fn push(&mut self, record: &csv::StringRecord, line: u64) -> Result<Option<StreamRow<'_>>, BadRow> {
        let index = self.rows_in;
        self.rows_in += 1;
        self.report.rows_read += 1;
        self.parser.parse(record, line, &mut self.row)?;
        let ts = self.row.timestamp.unwrap_or(index as i64);
        let state = match self.series.get_mut(self.row.key.as_str()) {
            Some(s) => s,
            None => {
                let s = SeriesState { builder: self.parser.new_builder(), last_ts: i64::MIN };
                self.report.series += 1;
                self.series.entry(self.row.key.clone()).or_insert(s)
            }
        };
        let source = self.parser.source();
        if ts <= state.last_ts {
            let last = state.last_ts;
            self.report.skip(SkipReason::LateRow, || {
                Error::input(source, Some(line), None, format!("timestamp {ts} is not after {last}, its series' last"))
                    .to_string()
            });
            return Ok(None);
        }
        match state.builder.push(&self.row.values) {
            Pushed::Accepted => {}
            other => {
                let reason = if other == Pushed::NoPriorValue {
                    SkipReason::MissingNoPriorValue
                } else {
                    SkipReason::MissingValue
                };
                self.report.skip(reason, || Error::input(source, Some(line), None, "missing value").to_string());
                return Ok(None);
            }
        }
        state.last_ts = ts;
        state.builder.features(&mut self.out);
        let (label, rule_mask) = match self.parser.label_of(self.row.label, self.row.text, &state.builder) {
            Some((l, m)) => (Some(l), m),
            None => (None, 0),
        };
        self.report.rows_loaded += 1;
        if let Some(l) = label {
            self.anomalies += l as u64;
        }
        for (b, c) in self.rule_rows.iter_mut().enumerate() {
            *c += ((rule_mask >> b) & 1) as u64;
        }
        Ok(Some(StreamRow { key: &self.row.key, timestamp: ts, features: &self.out, label, rule_mask }))
    }

    /// Counts a bad row the caller chose to skip.
    pub fn skip(&mut self, bad: &BadRow) {
        self.report.skip(bad.reason, || bad.error.to_string());
    }

    /// Forgets series whose last row is older than `before` (epoch seconds); returns how many.
    pub fn evict_older_than(&mut self, before: i64) -> usize {
        let n = self.series.len();
        self.series.retain(|_, s| s.last_ts >= before);
        n - self.series.len()
    }

    /// Forgets one series (its next row starts it afresh); true if it was held.
    pub fn forget(&mut self, key: &str) -> bool {
        self.series.remove(key).is_some()
    }

    /// Series currently held.
    pub fn live_series(&self) -> usize {
        self.series.len()
    }

    /// What the stream has done so far (rows, skips, rule counts, anomaly rate).
    pub fn report(&self) -> IngestReport {
        let mut r = self.report.clone();
        if self.parser.has_labels() && r.rows_loaded > 0 {
            r.anomalies = Some(self.anomalies);
            r.anomaly_rate = Some(self.anomalies as f64 / r.rows_loaded as f64);
        }
        if let Some(lab) = self.parser.labeler() {
            r.rules = RULE_NAMES
                .iter()
                .zip(lab.rules().descriptions())
                .zip(self.rule_rows)
                .map(|((n, d), rows)| RuleCount { rule: n.to_string(), description: d, rows })
                .collect();
        }
        r
    }
}
