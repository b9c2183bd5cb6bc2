//! Streaming scoring (`detect --follow`): one CSV record in, at most one score out.
//!
//! Each pod keeps a ring of its last `T` scaled feature rows (`T·F` floats) next to the
//! [`FeatureStream`]'s per-pod feature state (`O(R)` floats); a record that completes a window
//! is scored at once, alone (`B = 1`). Memory is `O(pods · T · F)` and bounded in time by
//! eviction: a pod is forgotten once the newest row of the whole stream is more than
//! `evict_after` past its last row, and a pod that comes back starts afresh (new features
//! history, `T` rows before its first score).
//!
//! Eviction is exact whatever the sweep timing: whether a pod counts as evicted depends only
//! on the newest timestamp seen before its row and its own last timestamp, and both the lazy
//! check on its next row and the periodic sweep (which only frees memory) use that rule.
//!
//! Rows must arrive in time order per pod (late rows are skipped and counted, see
//! [`FeatureStream`]); for such input the scores equal the batch driver's bit for bit.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Read;

pub use super::batcher::{ScoreBatcher, StreamSink};
use super::columns::check_header;
use super::model::ScoringModel;
use super::output::Scored;
use super::scorer::Scorer;
use super::sink::WindowSink;
use crate::data::csv_ingest::{csv_reader, map_csv_error, unclosed_quote, with_skip_hint, KEY_SEPARATOR};
use crate::data::schema::clean_header;
use crate::data::{FeatureStream, IngestReport, RowParser, Scaler};
use crate::{Error, Result};

/// The last `T` scaled rows of one pod.
struct Ring {
    rows: Vec<f32>, // (T, F), slot `next` is the oldest once full
    next: usize,
    len: usize,
    last_ts: i64,
}

/// A pod's full window as the stream completes it.
#[derive(Clone, Copy, Debug)]
pub struct StreamWindow<'a> {
    pub key: &'a str,
    /// Of the window's last row.
    pub timestamp: i64,
    /// `(T, F)` scaled rows, oldest first.
    pub x: &'a [f32],
}

/// Scores a stream of records as they arrive.
pub struct StreamScorer {
    features: FeatureStream,
    scaler: Scaler,
    scorer: Scorer,
    explain: bool,
    skip_bad_rows: bool,
    steps: usize,
    width: usize,
    groups: Vec<usize>,
    pods: HashMap<String, Ring>,
    key: String,      // the current record's key
    row: Vec<f32>,    // (F,) scaled
    window: Vec<f32>, // (T, 1, F)
    shares: Vec<f32>, // (F,)
    score: [f32; 1],
    evict_after: Option<i64>,
    newest: i64,
    next_sweep: i64,
    /// Windows scored, pods evicted so far.
    pub windows: u64,
    pub evicted: u64,
}

impl StreamScorer {
    /// Starts a stream whose first record was `header`. `source` names the input in messages.
    pub fn new(
        model: &ScoringModel,
        header: &csv::StringRecord,
        source: &str,
        skip_bad_rows: bool,
        explain: bool,
        evict_after: Option<i64>,
    ) -> Result<StreamScorer> {
        check_header(source, model.dir(), &model.pipeline.spec, &clean_header(source, header)?)?;
        let parser = RowParser::from_header_record(source, header, &model.load_options(skip_bad_rows))?;
        debug_assert_eq!(parser.feature_names(), model.feature_names());
        let groups = parser.schema().groups.clone();
        let (t, f) = (model.steps(), model.features());
        Ok(StreamScorer {
            features: FeatureStream::new(parser),
            scaler: model.scaler().clone(),
            scorer: model.scorer(),
            explain,
            skip_bad_rows,
            steps: t,
            width: f,
            groups,
            pods: HashMap::new(),
            key: String::new(),
            row: vec![0.0; f],
            window: vec![0.0; t * f],
            shares: vec![0.0; if explain { f } else { 0 }],
            score: [0.0],
            evict_after,
            newest: i64::MIN,
            next_sweep: i64::MIN,
            windows: 0,
            evicted: 0,
        })
    }

    /// Pods currently held.
    pub fn live_pods(&self) -> usize {
        self.pods.len()
    }

    /// What the stream has read and skipped so far.
    pub fn report(&self) -> IngestReport {
        self.features.report()
    }

    /// Evicts the record's pod when it has been silent too long (before its row is used).
    fn evict_if_silent(&mut self, record: &csv::StringRecord) {
        let Some(gap) = self.evict_after else { return };
        self.key.clear();
        for (k, &g) in self.groups.iter().enumerate() {
            let Some(v) = record.get(g) else { return };
            if k > 0 {
                self.key.push(KEY_SEPARATOR);
            }
            self.key.push_str(v);
        }
        if let Some(ring) = self.pods.get(self.key.as_str()) {
            if self.newest.saturating_sub(ring.last_ts) > gap {
                self.pods.remove(self.key.as_str());
                self.features.forget(&self.key);
                self.evicted += 1;
            }
        }
    }

    /// Frees the pods the eviction rule has dropped (memory only: their next row would be
    /// treated as a new pod anyway). Runs at the start of a push, at most every `gap/4` of
    /// data time.
    fn sweep(&mut self) {
        let Some(gap) = self.evict_after else { return };
        if self.newest < self.next_sweep {
            return;
        }
        let newest = self.newest;
        let before = self.pods.len();
        self.pods.retain(|_, r| newest.saturating_sub(r.last_ts) <= gap);
        self.evicted += (before - self.pods.len()) as u64;
        self.features.evict_older_than(newest.saturating_sub(gap));
        self.next_sweep = newest.saturating_add((gap / 4).max(1));
    }

    /// Offers the next record (at input line `line`) and scores the window it completes, if
    /// any, on its own. A bad record is an error unless bad rows are skipped.
    pub fn push(&mut self, record: &csv::StringRecord, line: u64) -> Result<Option<Scored<'_>>> {
        let Some(timestamp) = self.advance(record, line)? else { return Ok(None) };
        let t = self.steps;
        let explain = self.explain.then_some(&mut self.shares[..]);
        self.scorer.score(&self.window, t, 1, &mut self.score, explain);
        Ok(Some(Scored { key: &self.key, timestamp, score: self.score[0], shares: &self.shares }))
    }

    /// Offers the next record and returns the window it completes, if any, unscored (for a
    /// [`ScoreBatcher`]).
    pub fn push_window(&mut self, record: &csv::StringRecord, line: u64) -> Result<Option<StreamWindow<'_>>> {
        let Some(timestamp) = self.advance(record, line)? else { return Ok(None) };
        Ok(Some(StreamWindow { key: &self.key, timestamp, x: &self.window }))
    }

    /// Takes the record into its pod's state; `Some(timestamp)` when it completed a window,
    /// which is then in `self.window` and its key in `self.key`.
    fn advance(&mut self, record: &csv::StringRecord, line: u64) -> Result<Option<i64>> {
        self.sweep();
        self.evict_if_silent(record);
        let timestamp = match self.features.push(record, line) {
            Ok(Some(row)) => {
                self.row.copy_from_slice(row.features);
                // The key is copied (into a reused buffer) so the score does not borrow the
                // feature stream.
                self.key.clear();
                self.key.push_str(row.key);
                row.timestamp
            }
            Ok(None) => return Ok(None),
            Err(bad) => {
                if self.skip_bad_rows {
                    self.features.skip(&bad);
                    return Ok(None);
                }
                return Err(with_skip_hint(bad.error));
            }
        };
        let (t, f) = (self.steps, self.width);
        self.scaler.transform(&mut self.row);
        let ring = match self.pods.get_mut(self.key.as_str()) {
            Some(r) => r,
            None => self.pods.entry(self.key.clone()).or_insert(Ring {
                rows: vec![0.0; t * f],
                next: 0,
                len: 0,
                last_ts: i64::MIN,
            }),
        };
        ring.rows[ring.next * f..(ring.next + 1) * f].copy_from_slice(&self.row);
        ring.next = (ring.next + 1) % t;
        ring.len = (ring.len + 1).min(t);
        ring.last_ts = timestamp;
        let full = ring.len == t;
        if full {
            // Oldest first: slots next, next+1, …, wrapping.
            for i in 0..t {
                let slot = (ring.next + i) % t;
                self.window[i * f..(i + 1) * f].copy_from_slice(&ring.rows[slot * f..(slot + 1) * f]);
            }
        }
        self.newest = self.newest.max(timestamp);
        if !full {
            return Ok(None);
        }
        self.windows += 1;
        Ok(Some(timestamp))
    }
}

/// How a stream is scored.
#[derive(Clone, Copy, Debug)]
pub struct StreamSettings {
    pub skip_bad_rows: bool,
    /// Compute per-feature shares (for `--top-features` > 0).
    pub explain: bool,
    pub evict_after: Option<i64>,
}

/// What a finished stream did.
#[derive(Clone, Debug)]
pub struct StreamSummary {
    pub windows: u64,
    pub pods: usize,
    pub evicted: u64,
    pub report: IngestReport,
}

/// Reads CSV records from `input` (header first) and queues each completed window in `sink`,
/// which scores and writes them in batches. `sink` is shared with whoever calls its `idle`
/// while the input waits (see [`super::follow`]); after the last record the queue is scored.
pub fn run_stream<R: Read, W: WindowSink>(
    input: R,
    source: &str,
    model: &ScoringModel,
    settings: StreamSettings,
    sink: &RefCell<StreamSink<W>>,
) -> Result<StreamSummary> {
    let mut rdr = csv_reader(input);
    let mut record = csv::StringRecord::new();
    let fatal = |e: csv::Error| match map_csv_error(source, &[], e) {
        Ok(bad) => bad.error,
        Err(fatal) => fatal,
    };
    if !rdr.read_record(&mut record).map_err(fatal)? {
        return Err(Error::input(
            source,
            None,
            None,
            "the input is empty: expected a header line with the model's column names, then rows of metrics",
        ));
    }
    if let Some(bad) = unclosed_quote(&mut rdr, source, &[], 1) {
        return Err(bad.error);
    }
    let mut scorer =
        StreamScorer::new(model, &record, source, settings.skip_bad_rows, settings.explain, settings.evict_after)?;
    let header = clean_header(source, &record)?;
    let mut data_row: u64 = 0;
    loop {
        match rdr.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                data_row += 1;
                let bad = map_csv_error(source, &header, e)?;
                if !settings.skip_bad_rows {
                    return Err(with_skip_hint(bad.error));
                }
                scorer.features.skip(&bad);
                continue;
            }
        }
        let line = record.position().map_or(data_row + 2, |p| p.line());
        data_row += 1;
        if let Some(bad) = unclosed_quote(&mut rdr, source, &header, line) {
            if !settings.skip_bad_rows {
                return Err(with_skip_hint(bad.error));
            }
            scorer.features.skip(&bad);
            continue;
        }
        if let Some(w) = scorer.push_window(&record, line)? {
            let sink = &mut *sink.borrow_mut();
            sink.batcher.queue(&w, &mut sink.out)?;
        }
    }
    let sink = &mut *sink.borrow_mut();
    sink.batcher.flush(&mut sink.out)?;
    Ok(StreamSummary {
        windows: scorer.windows,
        pods: scorer.live_pods(),
        evicted: scorer.evicted,
        report: scorer.report(),
    })
}
