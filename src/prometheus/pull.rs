//! A pull: the answers of a query set over a time range, as the rows of a CSV in the same
//! schema, read through [`std::io::Read`]. Train, detect and evaluate read a pull exactly as
//! they read a file (the same ingest, the same hash of the same bytes), so for the same samples
//! Prometheus and CSV give bit-identical feature matrices by construction.
//!
//! ```text
//!  open: probe every query once at a coarse step ──▶ columns the server has (absent optional
//!        ones switched off with a warning; an absent required one is an error) and the pod count
//!  read: for each chunk of the range (≤ 11,000 points, sized so a chunk's grid stays ~16 MB):
//!        every query ──▶ grid[pod][instant][column] ──▶ CSV rows, instant-major, pods sorted
//! ```
//!
//! Rows come out ordered by (instant, pod) whatever the chunk size, so the bytes, and the
//! hash, do not depend on how the range was split. A row exists where any numeric query has a
//! sample for the pod; a query without one there leaves an empty cell (the `--missing` policy
//! decides). `NaN` and infinite samples become empty cells too, and are counted.
//! Memory holds one chunk's grid and the answer being parsed, never a whole range's JSON.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Read};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::client::{Client, ClientSettings};
use super::grid::Grid;
use super::queries::{expand, fill_template, Column, QuerySet, TIME_COLUMN};
use super::range::{format_duration, Range};
use super::response::RangeSeries;
use crate::{Error, Result};

/// Grid cells (pods × instants × numeric columns) one chunk may hold: 16 MB of f64.
const CHUNK_CELLS: u64 = 2_000_000;
/// Instants the presence probe evaluates at most.
const PROBE_POINTS: u64 = 120;

/// What to pull.
#[derive(Clone, Debug)]
pub struct PullSettings {
    pub client: ClientSettings,
    pub queries: QuerySet,
    pub range: Range,
    /// `{window}` of the queries, seconds.
    pub rate_window: u64,
    /// Instants per query; `None` sizes chunks from the pod count.
    pub chunk_points: Option<u64>,
    /// A line per chunk on stderr (when it is a terminal).
    pub progress: bool,
}

/// What a pull did, for the report and the closing line.
#[derive(Clone, Debug, Default)]
pub struct PullStats {
    pub requests: u64,
    pub rows: u64,
    pub pods: usize,
    pub chunks: usize,
    /// Samples that were `NaN` or infinite (left empty).
    pub non_finite: u64,
    pub warnings: Vec<String>,
    pub seconds: f64,
}

#[derive(Default)]
struct Shared {
    stats: PullStats,
    error: Option<Error>,
}

/// A handle to a pull's statistics and first error, kept by the caller while the pull is read.
#[derive(Clone, Default)]
pub struct PullHandle(Arc<Mutex<Shared>>);

impl PullHandle {
    pub fn stats(&self) -> PullStats {
        self.0.lock().map(|s| s.stats.clone()).unwrap_or_default()
    }
    /// The pull's own error, when a read failed because of it: report it instead of the
    /// I/O error the CSV reader saw.
    pub fn take_error(&self) -> Option<Error> {
        self.0.lock().ok().and_then(|mut s| s.error.take())
    }
    /// Replaces a load error caused by the pull with the pull's own.
    pub fn explain(&self, e: Error) -> Error {
        self.take_error().unwrap_or(e)
    }
}

/// The CSV rows of a pull, produced chunk by chunk as they are read.
pub struct PullReader {
    client: Client,
    /// Present columns, with their queries expanded.
    columns: Vec<(Column, Vec<String>)>,
    group_labels: Vec<String>,
    chunks: Vec<Range>,
    next: usize,
    buf: Vec<u8>,
    pos: usize,
    handle: PullHandle,
    started: Instant,
    progress: bool,
}

impl PullReader {
    /// Connects, probes which columns the server has, and writes the header. Errors here are
    /// the server's or the query set's; the rows come when read.
    pub fn open(settings: &PullSettings) -> Result<PullReader> {
        let started = Instant::now();
        let client = Client::new(settings.client.clone())?;
        let window = format_duration(settings.rate_window);
        let step = settings.range.step;
        let set = &settings.queries;
        let probe = Range::new(
            settings.range.start,
            settings.range.end,
            step.max(((settings.range.end - settings.range.start) as u64).div_ceil(PROBE_POINTS)),
        )?;
        let handle = PullHandle::default();
        let mut warnings = Vec::new();
        let mut requests = 0;
        let mut columns = Vec::new();
        let mut missing_required = Vec::new();
        let mut pods = 0usize;
        for column in &set.columns {
            let queries: Vec<String> = match &column.query {
                Some(q) => vec![expand(q, &window, step)],
                None => column.text.iter().map(|t| expand(&t.query, &window, step)).collect(),
            };
            let mut present = false;
            for q in &queries {
                requests += 1;
                let answer = client.query_range(&format!("count({q})"), &probe).map_err(|e| in_column(e, column))?;
                if let Some(n) = answer.series.first().and_then(|s| s.samples.iter().map(|x| x.1).reduce(f64::max)) {
                    present = true;
                    pods = pods.max(n as usize);
                }
            }
            if present || column.is_text() {
                if !present {
                    warnings.push(format!(
                        "Prometheus has no series for '{}' in this range: the column is empty",
                        column.name
                    ));
                }
                columns.push((column.clone(), queries));
            } else if set.is_optional(column) {
                warnings.push(format!(
                    "Prometheus has no series for '{}' in this range ({}): its features are switched off",
                    column.name, queries[0]
                ));
            } else {
                missing_required.push(format!("'{}' ({})", column.name, queries[0]));
            }
        }
        if !missing_required.is_empty() {
            return Err(Error::prometheus(
                client.base_url(),
                format!(
                    "no series in {} for {}: is that exporter (cAdvisor, kube-state-metrics) scraped? \
                     Pass --queries FILE with queries this server can answer",
                    settings.range.describe(),
                    missing_required.join(", ")
                ),
            ));
        }
        if !columns.iter().any(|(c, _)| !c.is_text()) {
            return Err(Error::prometheus(
                client.base_url(),
                format!("no query has series in {}: nothing to pull", settings.range.describe()),
            ));
        }
        let numeric = columns.iter().filter(|(c, _)| !c.is_text()).count() as u64;
        let chunk_points = settings.chunk_points.unwrap_or_else(|| CHUNK_CELLS / (numeric * pods.max(1) as u64));
        let chunks = settings.range.chunks(chunk_points.max(1));
        {
            let mut s = handle.0.lock().expect("fresh lock");
            s.stats.requests = requests;
            s.stats.chunks = chunks.len();
            s.stats.warnings = warnings;
        }
        let mut reader = PullReader {
            client,
            columns,
            group_labels: set.group_labels.clone(),
            chunks,
            next: 0,
            buf: Vec::new(),
            pos: 0,
            handle,
            started,
            progress: settings.progress && io::stderr().is_terminal(),
        };
        let mut header = csv::Writer::from_writer(&mut reader.buf);
        let names = std::iter::once(TIME_COLUMN)
            .chain(set.group_columns.iter().map(String::as_str))
            .chain(reader.columns.iter().map(|(c, _)| c.name.as_str()));
        header.write_record(names).map_err(|e| Error::data(format!("cannot write the header: {e}")))?;
        drop(header);
        Ok(reader)
    }

    pub fn handle(&self) -> PullHandle {
        self.handle.clone()
    }

    /// The column names of the rows, header order.
    pub fn column_names(&self) -> Vec<String> {
        self.columns.iter().map(|(c, _)| c.name.clone()).collect()
    }

    /// The numeric columns present (the generic mode's features).
    pub fn numeric_names(&self) -> Vec<String> {
        self.columns.iter().filter(|(c, _)| !c.is_text()).map(|(c, _)| c.name.clone()).collect()
    }

    fn key_of(&self, s: &RangeSeries, column: &Column) -> Result<Vec<String>> {
        self.group_labels
            .iter()
            .map(|l| match s.label(l) {
                Some(v) if !v.is_empty() => Ok(v.to_owned()),
                _ => Err(Error::prometheus(
                    self.client.base_url(),
                    format!(
                        "the query of '{}' returned a series without the group label '{l}' ({}): \
                         aggregate it by ({})",
                        column.name,
                        describe_labels(&s.labels),
                        self.group_labels.join(", ")
                    ),
                )),
            })
            .collect()
    }

    /// Pulls one chunk and renders its rows into `buf`.
    fn pull_chunk(&mut self, chunk: Range) -> Result<()> {
        let steps = chunk.points() as usize;
        let numeric: Vec<usize> = (0..self.columns.len()).filter(|&i| !self.columns[i].0.is_text()).collect();
        let texts: Vec<usize> = (0..self.columns.len()).filter(|&i| self.columns[i].0.is_text()).collect();
        let (nn, nt) = (numeric.len(), texts.len());
        let mut index: HashMap<Vec<String>, usize> = HashMap::new();
        let mut grid = Grid::default();
        let mut requests = 0u64;
        let mut non_finite = 0u64;
        let step = chunk.step as i64;
        let slot = |t: i64| -> Option<usize> {
            let d = t - chunk.start;
            (d >= 0 && d % step == 0 && ((d / step) as usize) < steps).then_some((d / step) as usize)
        };
        for (j, &ci) in numeric.iter().enumerate() {
            let (column, queries) = &self.columns[ci];
            requests += 1;
            let answer = self.client.query_range(&queries[0], &chunk).map_err(|e| in_column(e, column))?;
            let mut seen = vec![false; grid.keys.len()];
            for s in &answer.series {
                let key = self.key_of(s, column)?;
                let id = grid.id(&mut index, key, steps, nn, nt);
                seen.resize(grid.keys.len(), false);
                if std::mem::replace(&mut seen[id], true) {
                    return Err(Error::prometheus(
                        self.client.base_url(),
                        format!(
                            "the query of '{}' returned two series for {}: aggregate them, e.g. sum by ({}) (…)",
                            column.name,
                            describe_key(&self.group_labels, &grid.keys[id]),
                            self.group_labels.join(", ")
                        ),
                    ));
                }
                for &(t, v) in &s.samples {
                    let Some(k) = slot(t) else { continue };
                    if !v.is_finite() {
                        non_finite += 1;
                    }
                    grid.numeric[id][k * nn + j] = v;
                    grid.present[id][k] = true;
                }
            }
        }
        for (j, &ci) in texts.iter().enumerate() {
            let (column, queries) = &self.columns[ci];
            for (alt, q) in column.text.iter().zip(queries) {
                requests += 1;
                let answer = self.client.query_range(q, &chunk).map_err(|e| in_column(e, column))?;
                for s in &answer.series {
                    let key = self.key_of(s, column)?;
                    // Text alone does not make a row: only pods with numbers get one.
                    let Some(&id) = index.get(&key) else { continue };
                    for &(t, v) in &s.samples {
                        let Some(k) = slot(t) else { continue };
                        let cell = &mut grid.text[id][k * nt + j];
                        if v > 0.0 && cell.is_none() {
                            *cell = Some(fill_template(&alt.template, &s.labels));
                        }
                    }
                }
            }
        }
        let rows = grid.render(&chunk, &numeric, &texts, self.columns.len(), &mut self.buf)?;
        let mut shared = self.handle.0.lock().expect("pull lock");
        let st = &mut shared.stats;
        st.requests += requests;
        st.rows += rows;
        st.pods = st.pods.max(grid.keys.len());
        st.non_finite += non_finite;
        st.seconds = self.started.elapsed().as_secs_f64();
        if self.progress {
            eprint!(
                "\rpulling from {}: chunk {}/{}, {} rows ",
                self.client.base_url(),
                self.next,
                self.chunks.len(),
                st.rows
            );
            if self.next == self.chunks.len() {
                eprintln!();
            }
        }
        Ok(())
    }
}

impl Read for PullReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.buf.len() {
            if self.next == self.chunks.len() {
                return Ok(0);
            }
            self.buf.clear();
            self.pos = 0;
            let chunk = self.chunks[self.next];
            self.next += 1;
            if let Err(e) = self.pull_chunk(chunk) {
                let text = e.to_string();
                if let Ok(mut s) = self.handle.0.lock() {
                    s.error = Some(e);
                }
                return Err(io::Error::other(text));
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn in_column(e: Error, column: &Column) -> Error {
    match e {
        Error::Prometheus { url, message } => {
            Error::Prometheus { url, message: format!("query of '{}': {message}", column.name) }
        }
        other => other,
    }
}

fn describe_labels(labels: &[(String, String)]) -> String {
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", inner.join(", "))
}

fn describe_key(names: &[String], values: &[String]) -> String {
    let inner: Vec<String> = names.iter().zip(values).map(|(k, v)| format!("{k}={v:?}")).collect();
    inner.join(", ")
}
