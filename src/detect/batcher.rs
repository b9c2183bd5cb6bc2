//! The queue between the streaming scorer and the output: windows wait while more input is
//! at hand and are scored together, across threads, when the queue fills or the input pauses.

use super::batch::{BatchScorer, WORKER_VALUES};
use super::model::ScoringModel;
use super::output::{Output, Scored};
use super::sink::WindowSink;
use super::stream::StreamWindow;
use crate::Result;

/// Windows queued for scoring together: the stream's windows wait here only while more input
/// is at hand, and are scored as one batch (across threads) when the queue is full or the
/// input pauses. A window's score does not depend on its batch, so this changes when scores
/// are written, never what they are.
pub struct ScoreBatcher {
    scorer: BatchScorer,
    capacity: usize,
    steps: usize,
    width: usize,
    explain: bool,
    x: Vec<f32>, // (capacity, T, F)
    keys: Vec<String>,
    timestamps: Vec<i64>,
    len: usize,
    scores: Vec<f32>, // (capacity,)
    shares: Vec<f32>, // (capacity, F)
}

impl ScoreBatcher {
    /// `capacity` windows at most per batch, over `threads` workers.
    pub fn new(model: &ScoringModel, threads: usize, capacity: usize, explain: bool) -> Result<ScoreBatcher> {
        let (t, f) = (model.steps(), model.features());
        // At most the values every worker holds at once: a model with long, wide windows
        // queues fewer of them (scores do not depend on the batch).
        let most = (WORKER_VALUES.saturating_mul(threads.max(1)) / t.saturating_mul(f).max(1)).max(1);
        let capacity = capacity.clamp(1, most);
        Ok(ScoreBatcher {
            scorer: BatchScorer::new(model, threads)?,
            capacity,
            steps: t,
            width: f,
            explain,
            x: vec![0.0; capacity * t * f],
            keys: vec![String::new(); capacity],
            timestamps: vec![0; capacity],
            len: 0,
            scores: vec![0.0; capacity],
            shares: vec![0.0; if explain { capacity * f } else { 0 }],
        })
    }

    /// Queues a window; scores the queue into `out` when it is full.
    pub fn queue(&mut self, w: &StreamWindow<'_>, out: &mut impl WindowSink) -> Result<()> {
        let tf = self.steps * self.width;
        let i = self.len;
        self.x[i * tf..(i + 1) * tf].copy_from_slice(w.x);
        self.keys[i].clear();
        self.keys[i].push_str(w.key);
        self.timestamps[i] = w.timestamp;
        self.len += 1;
        if self.len == self.capacity {
            self.flush(out)?;
        }
        Ok(())
    }

    /// Scores the queued windows and writes them to `out`, in the order they were queued.
    pub fn flush(&mut self, out: &mut impl WindowSink) -> Result<()> {
        let (n, f, tf) = (self.len, self.width, self.steps * self.width);
        if n == 0 {
            return Ok(());
        }
        self.len = 0;
        let shares = self.explain.then(|| &mut self.shares[..n * f]);
        self.scorer.score_batch_first(&self.x[..n * tf], &mut self.scores[..n], shares);
        for i in 0..n {
            out.write(&Scored {
                key: &self.keys[i],
                timestamp: self.timestamps[i],
                score: self.scores[i],
                shares: if self.explain { &self.shares[i * f..(i + 1) * f] } else { &[] },
            })?;
        }
        Ok(())
    }
}

/// Where a stream's windows go: the batcher and the output, shared with whoever calls
/// [`StreamSink::idle`] when the input pauses.
pub struct StreamSink<W = Output> {
    pub batcher: ScoreBatcher,
    pub out: W,
}

impl<W: WindowSink> StreamSink<W> {
    /// The input paused: score what is queued and make the output visible.
    pub fn idle(&mut self) -> Result<()> {
        self.batcher.flush(&mut self.out)?;
        self.out.idle()
    }

    /// The stream ended: score what is queued; the output is the caller's to finish.
    pub fn finish(mut self) -> Result<W> {
        self.batcher.flush(&mut self.out)?;
        Ok(self.out)
    }
}
