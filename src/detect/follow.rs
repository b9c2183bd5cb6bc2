//! Input for `--follow`: a reader thread moves bytes from standard input or a growing file
//! into a bounded channel, and the scoring thread reads them through [`ChannelReader`], which
//! knows when it has caught up with the input. Just before it would wait for more bytes it
//! calls `on_idle` (the output flushes, a Prometheus file is replaced), and again about once a
//! second while it waits, so what has been scored is visible without a flush per row.
//!
//! On a file, end of file means "nothing more yet" (`tail -F`): the reader thread polls for
//! appended bytes until `stop` is set (Ctrl-C), and [`crate::source::FollowedFile`] notices
//! rotation. On standard input, end of file ends the stream.
//!
//! [`score_live`] is the whole driver, shared by `detect --follow` and `serve --data FILE
//! --follow`: the reader thread, the batcher that scores windows together, the smoothing.

use std::cell::RefCell;
use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, TryRecvError};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use super::batch::DEFAULT_PER_WORKER;
use super::model::ScoringModel;
use super::sink::WindowSink;
use super::smoothing::Smoothed;
use super::stream::{run_stream, ScoreBatcher, StreamSettings, StreamSink, StreamSummary};
use crate::source::LiveInput;

/// Chunks in flight between the threads: a bounded buffer, so a slow scorer holds the reader
/// back instead of growing memory.
const CHANNEL_CHUNKS: usize = 16;
const CHUNK_BYTES: usize = 64 * 1024;
/// How often a file at its end is polled, and how often `on_idle` runs while waiting.
pub const POLL: Duration = Duration::from_millis(200);
const IDLE_TICK: Duration = Duration::from_secs(1);

/// Starts the reader thread. `tail`: treat end of input as "wait for more" until `stop`.
pub fn spawn_reader(
    mut input: Box<dyn Read + Send>,
    tail: bool,
    stop: Arc<AtomicBool>,
) -> Receiver<io::Result<Vec<u8>>> {
    let (tx, rx) = sync_channel(CHANNEL_CHUNKS);
    thread::Builder::new()
        .name("kubelstm-input".into())
        .spawn(move || loop {
            if tail && stop.load(Ordering::Relaxed) {
                break;
            }
            let mut buf = vec![0u8; CHUNK_BYTES];
            match input.read(&mut buf) {
                Ok(0) if tail => thread::sleep(POLL),
                Ok(0) => break,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.send(Ok(buf)).is_err() {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    break;
                }
            }
        })
        .expect("the input thread starts");
    rx
}

/// `Read` over the channel; calls `on_idle` whenever it has to wait. An error from `on_idle`
/// ends the read with [`io::ErrorKind::Other`]; the callback keeps the real error for its owner.
pub struct ChannelReader<'a> {
    rx: Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    pos: usize,
    on_idle: Box<dyn FnMut() -> io::Result<()> + 'a>,
}

impl<'a> ChannelReader<'a> {
    pub fn new(rx: Receiver<io::Result<Vec<u8>>>, on_idle: impl FnMut() -> io::Result<()> + 'a) -> Self {
        ChannelReader { rx, chunk: Vec::new(), pos: 0, on_idle: Box::new(on_idle) }
    }

    /// The next chunk, waiting (and idling) if none is ready; `None` at the end.
    fn next_chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        match self.rx.try_recv() {
            Ok(chunk) => return chunk.map(Some),
            Err(TryRecvError::Disconnected) => return Ok(None),
            Err(TryRecvError::Empty) => {}
        }
        loop {
            (self.on_idle)()?;
            match self.rx.recv_timeout(IDLE_TICK) {
                Ok(chunk) => return chunk.map(Some),
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return Ok(None),
            }
        }
    }
}

impl Read for ChannelReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.chunk.len() {
            match self.next_chunk()? {
                Some(chunk) => {
                    self.chunk = chunk;
                    self.pos = 0;
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Scores `live` into `out` as it arrives, until it ends or
/// `stop` is set: windows that arrive together are scored together on `threads` workers, and
/// at once when the input pauses; each pod's scores are smoothed as a batch's are. Whenever
/// the input pauses, after the queue is scored and `out` made visible, `on_idle` sees `out`
/// (the exporter publishes it). Returns what the stream did and the output, to be finished.
pub fn score_live<W: WindowSink>(
    live: LiveInput,
    model: &ScoringModel,
    threads: usize,
    settings: StreamSettings,
    out: W,
    stop: Arc<AtomicBool>,
    mut on_idle: impl FnMut(&mut W) -> crate::Result<()>,
) -> crate::Result<(StreamSummary, W)> {
    let rx = spawn_reader(live.reader, live.tail, stop);
    let batcher = ScoreBatcher::new(model, threads, DEFAULT_PER_WORKER * threads, settings.explain)?;
    let sink = RefCell::new(StreamSink { batcher, out: Smoothed::new(out, model.smooth_windows()) });
    // The reader can only return an io::Error; the real one waits here for the caller.
    let failed: RefCell<Option<crate::Error>> = RefCell::new(None);
    let reader = ChannelReader::new(rx, || {
        let mut sink = sink.borrow_mut();
        let idle = sink.idle().and_then(|()| on_idle(sink.out.inner_mut()));
        idle.map_err(|e| {
            let io = io::Error::other(e.to_string());
            *failed.borrow_mut() = Some(e);
            io
        })
    });
    let summary = match run_stream(reader, &live.name, model, settings, &sink) {
        Ok(summary) => summary,
        Err(e) => return Err(failed.into_inner().unwrap_or(e)),
    };
    Ok((summary, sink.into_inner().finish()?.into_inner()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn reads_everything_in_order() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let rx = spawn_reader(Box::new(io::Cursor::new(data.clone())), false, Arc::new(AtomicBool::new(false)));
        let idles = Cell::new(0);
        let mut r = ChannelReader::new(rx, || {
            idles.set(idles.get() + 1);
            Ok(())
        });
        let mut got = Vec::new();
        r.read_to_end(&mut got).unwrap();
        assert_eq!(got, data);
    }
}
