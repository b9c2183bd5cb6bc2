//! Batch scoring: every full window of a loaded, scaled dataset, across worker threads.
//!
//! Windows are scored in rounds of `threads × per_worker` windows; each worker gathers its
//! contiguous share of the round into its own `(T, B, F)` buffer and scores it with its own
//! [`Scorer`], then the round's scores and shares are handed to the caller in window order. A
//! window's score does not depend on its batch, so the result is the same bits at any thread
//! count and any `per_worker` (and equal to the streaming driver's).

use super::smoothing::Smoother;
use std::io::{BufRead, BufReader, Read};
use std::ops::Range;

use rayon::prelude::*;

use super::columns::check_header;
use super::model::ScoringModel;
use super::output::Scored;
use super::scorer::Scorer;
use crate::data::csv_guard::MAX_LINE_BYTES;
use crate::data::csv_ingest::{csv_reader, unclosed_quote, KEY_SEPARATOR};
use crate::data::options::GenericSpec;
use crate::data::schema::clean_header;
use crate::data::sources::load_files;
use crate::data::{DataFiles, Dataset, Series, WindowIndex};
use crate::nn::resize;
use crate::parallel::{ranges, worker_pool};
use crate::source::Loader;
use crate::{Error, Result};

/// Windows scored per worker per round: large enough for efficient GEMMs, small enough that a
/// worker's activations stay in cache.
pub const DEFAULT_PER_WORKER: usize = 128;

/// Values (T × F) of the windows one worker holds at once: 2^22, 16 MiB of f32. Pod-metric
/// models (T × F in the hundreds) stay at [`DEFAULT_PER_WORKER`]; a model with long, wide
/// windows scores fewer at a time instead of asking for gigabytes.
pub const WORKER_VALUES: usize = 1 << 22;

/// Windows per worker per round for windows of `steps` × `features`: [`DEFAULT_PER_WORKER`],
/// or fewer (at least one) so they fit in [`WORKER_VALUES`].
pub fn windows_per_worker(steps: usize, features: usize) -> usize {
    (WORKER_VALUES / steps.saturating_mul(features).max(1)).clamp(1, DEFAULT_PER_WORKER)
}

struct Worker {
    scorer: Scorer,
    x: Vec<f32>, // (T, B, F)
}

/// Per-thread scorers over one model.
pub struct BatchScorer {
    workers: Vec<Worker>,
    pool: Option<rayon::ThreadPool>,
    pub per_worker: usize,
    steps: usize,
    features: usize,
}

impl BatchScorer {
    pub fn new(model: &ScoringModel, threads: usize) -> Result<BatchScorer> {
        let threads = threads.max(1);
        let pool = worker_pool(threads, "kubelstm-detect")?;
        let workers = (0..threads).map(|_| Worker { scorer: model.scorer(), x: Vec::new() }).collect();
        Ok(BatchScorer {
            workers,
            pool,
            per_worker: windows_per_worker(model.steps(), model.features()),
            steps: model.steps(),
            features: model.features(),
        })
    }

    pub fn threads(&self) -> usize {
        self.workers.len()
    }

    /// Scores windows `ids` of `index` into `scores (B)` and, when given, `shares (B, F)`.
    pub fn score(
        &mut self,
        index: &WindowIndex,
        series: &[Series],
        ids: Range<usize>,
        scores: &mut [f32],
        shares: Option<&mut [f32]>,
    ) {
        assert_eq!(index.seq_len, self.steps, "windows of another length than the model's");
        let first = ids.start;
        let f = self.features;
        let gather = |r: Range<usize>, x: &mut [f32]| {
            let ids: Vec<usize> = (first + r.start..first + r.end).collect();
            index.gather(series, f, &ids, x);
        };
        self.score_with(ids.len(), &gather, scores, shares);
    }

    /// Scores windows stored batch first, `x (B, T, F)`, oldest row first.
    pub fn score_batch_first(&mut self, x: &[f32], scores: &mut [f32], shares: Option<&mut [f32]>) {
        let (t, f) = (self.steps, self.features);
        let n = scores.len();
        assert_eq!(x.len(), n * t * f, "x is not (B, T, F)");
        let gather = |r: Range<usize>, out: &mut [f32]| {
            let b = r.len();
            for (k, i) in r.enumerate() {
                for step in 0..t {
                    out[(step * b + k) * f..(step * b + k + 1) * f]
                        .copy_from_slice(&x[(i * t + step) * f..(i * t + step + 1) * f]);
                }
            }
        };
        self.score_with(n, &gather, scores, shares);
    }

    /// Scores `n` windows: each worker takes a contiguous range, `gather(range, x)` writes
    /// those windows time-major into its `x (T, b, F)`, and its scorer fills its slice of
    /// `scores (n)` and `shares (n, F)`.
    fn score_with(
        &mut self,
        n: usize,
        gather: &(dyn Fn(Range<usize>, &mut [f32]) + Sync),
        scores: &mut [f32],
        shares: Option<&mut [f32]>,
    ) {
        let (t, f) = (self.steps, self.features);
        assert_eq!(scores.len(), n, "one score per window");
        // Pair each worker with its contiguous range and slices of the outputs.
        let threads = self.workers.len();
        let mut jobs = Vec::with_capacity(threads);
        let mut rest_scores = scores;
        let mut rest_shares = shares;
        for (worker, r) in self.workers.iter_mut().zip(ranges(n, threads)) {
            let (s, tail) = std::mem::take(&mut rest_scores).split_at_mut(r.len());
            rest_scores = tail;
            let sh = rest_shares.take().map(|all| {
                let (head, tail) = all.split_at_mut(r.len() * f);
                rest_shares = Some(tail);
                head
            });
            jobs.push((worker, r, s, sh));
        }
        let work = |(worker, r, s, sh): &mut (&mut Worker, Range<usize>, &mut [f32], Option<&mut [f32]>)| {
            let b = r.len();
            if b == 0 {
                return;
            }
            resize(&mut worker.x, t * b * f);
            gather(r.clone(), &mut worker.x);
            worker.scorer.score(&worker.x, t, b, s, sh.as_deref_mut());
        };
        match &self.pool {
            Some(pool) if jobs.len() > 1 => pool.install(|| jobs.par_iter_mut().for_each(work)),
            _ => jobs.iter_mut().for_each(work),
        }
    }
}

/// Scores every full window of `dataset` (scaled) in order — series by series, each in time
/// order — and hands each to `emit`. `explain`: compute per-feature shares.
pub fn score_dataset(
    scorer: &mut BatchScorer,
    dataset: &Dataset,
    model: &ScoringModel,
    explain: bool,
    mut emit: impl FnMut(&Scored<'_>) -> Result<()>,
) -> Result<u64> {
    let (t, f) = (model.steps(), model.features());
    let index = WindowIndex::scoring(&dataset.series, t, model.label_at());
    let keys: Vec<String> = dataset.series.iter().map(|s| s.key.0.join(&KEY_SEPARATOR.to_string())).collect();
    let round = scorer.per_worker * scorer.threads();
    let mut scores = vec![0.0f32; round]; // (B)
    let mut shares = vec![0.0f32; if explain { round * f } else { 0 }]; // (B, F)

    // The model's threshold applies to smoothed scores; series arrive whole and in time order.
    let mut smoother = Smoother::new(model.smooth_windows());
    let mut start = 0;
    while start < index.len() {
        let end = (start + round).min(index.len());
        let n = end - start;
        let sh = explain.then(|| &mut shares[..n * f]);
        scorer.score(&index, &dataset.series, start..end, &mut scores[..n], sh);
        for (i, w) in index.windows[start..end].iter().enumerate() {
            let s = &dataset.series[w.series as usize];
            emit(&Scored {
                key: &keys[w.series as usize],
                timestamp: s.timestamps[index.last_row(*w)],
                score: smoother.smooth(&keys[w.series as usize], scores[i]),
                shares: if explain { &shares[i * f..(i + 1) * f] } else { &[] },
            })?;
        }
        start = end;
    }
    Ok(index.len() as u64)
}

/// Loads `input` (CSV in the model's schema) as training would and scales it with the
/// model's scaler. The header is checked against the model first, so a file in another
/// schema is told what the model needs rather than which training flags would read it.
pub fn load_for_scoring<R: Read>(input: R, source: &str, model: &ScoringModel, skip_bad_rows: bool) -> Result<Dataset> {
    let mut input = BufReader::with_capacity(1 << 20, input);
    let first = check_model_header(&mut input, source, model)?;
    // The header line goes back in front of the rest.
    let reader = std::io::Cursor::new(first).chain(input);
    let mut dataset = crate::data::load_reader(reader, source, &model.load_options(skip_bad_rows))?;
    model.scaler().transform_dataset(&mut dataset)?;
    Ok(dataset)
}

/// Loads several files (or one) for scoring, as [`load_for_scoring`] loads one: the first
/// file's header is checked against the model, and the others must have the same header (see
/// [`crate::data::sources`]). Returns the dataset and the SHA-256 of the files' bytes in order.
pub fn load_files_for_scoring(
    files: &DataFiles,
    model: &ScoringModel,
    skip_bad_rows: bool,
) -> Result<(Dataset, String)> {
    let first = &files.paths()[0];
    let file = std::fs::File::open(first).map_err(|e| Error::io("open", first, e))?;
    check_model_header(&mut BufReader::new(file), &first.display().to_string(), model)?;
    let (mut dataset, hash) = load_files(files, &model.load_options(skip_bad_rows))?;
    model.scaler().transform_dataset(&mut dataset)?;
    Ok((dataset, hash))
}

/// A saved model's [`Loader`]: whatever the source, its rows are read in the model's schema
/// (the header checked first) and scaled with the model's scaler.
pub struct ScoringLoader<'a> {
    pub model: &'a ScoringModel,
    pub skip_bad_rows: bool,
}

impl Loader for ScoringLoader<'_> {
    /// The model's pipeline names the columns, whatever the source says of them.
    fn load(&self, input: &mut dyn Read, source: &str, _columns: Option<&GenericSpec>) -> Result<Dataset> {
        load_for_scoring(input, source, self.model, self.skip_bad_rows)
    }

    fn load_files(&self, files: &DataFiles) -> Result<(Dataset, String)> {
        load_files_for_scoring(files, self.model, self.skip_bad_rows)
    }
}

/// Reads the header line of `input` and checks it names the model's columns; returns the line.
fn check_model_header<R: BufRead>(input: &mut R, source: &str, model: &ScoringModel) -> Result<Vec<u8>> {
    let mut first = Vec::new();
    // At most one line's limit: past it the loader reports the line as too long.
    (&mut *input)
        .take(MAX_LINE_BYTES as u64 + 1)
        .read_until(b'\n', &mut first)
        .map_err(|e| Error::io("read", source, e))?;
    let mut header = csv::StringRecord::new();
    let mut rdr = csv_reader(first.as_slice());
    if let Ok(true) = rdr.read_record(&mut header) {
        // A header whose quote never closes is that, not a header missing columns.
        if let Some(bad) = unclosed_quote(&mut rdr, source, &[], 1) {
            return Err(bad.error);
        }
        check_header(source, model.dir(), &model.pipeline.spec, &clean_header(source, &header)?)?;
    }
    Ok(first)
}
