//! Where a record-per-line output goes: standard output, a file written in place, a file
//! written under a temporary name and renamed into place when complete, memory or nowhere.
//! Both the window writers (CSV, JSON lines) and the incident writer (`--events`) write here.
//!
//! The CSV header is held back until the first record (or the successful end of a run with
//! none): a run that fails before scoring anything leaves standard output empty, so
//! `detect … > scores.csv` never leaves a header-only file that reads as "no anomalies".

use std::fs::File;
use std::io::{self, BufWriter, Write};

use super::Target;
use crate::artifacts::AtomicFile;
use crate::{Error, Result};

enum Sink {
    Stdout(io::Stdout),
    /// Written in place (`--follow`, a device or FIFO).
    File(File),
    /// Renamed into place by [`Destination::finish`]; removed if dropped unfinished.
    Atomic(AtomicFile),
    Discard,
    Memory(Vec<u8>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout(s) => s.write(buf),
            Sink::File(f) => f.write(buf),
            Sink::Atomic(f) => f.write(buf),
            Sink::Discard => Ok(buf.len()),
            Sink::Memory(v) => v.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(s) => s.flush(),
            Sink::File(f) => f.flush(),
            Sink::Atomic(f) => f.flush(),
            Sink::Discard | Sink::Memory(_) => Ok(()),
        }
    }
}

/// A buffered destination of whole lines.
pub(crate) struct Destination {
    writer: BufWriter<Sink>,
    target: Target,
    pending_header: Option<String>,
}

impl Destination {
    /// Opens `target`: a file is created now (under its temporary name when atomic), so a
    /// missing folder fails before any work. A device or FIFO (`-o /dev/null`) is written in
    /// place, never replaced.
    pub fn open(target: &Target) -> Result<Destination> {
        let sink = match target {
            Target::Stdout => Sink::Stdout(io::stdout()),
            Target::Discard => Sink::Discard,
            Target::Memory => Sink::Memory(Vec::new()),
            Target::File { path, atomic } => match crate::artifacts::atomic_destination(path)? {
                Some(dest) if *atomic => Sink::Atomic(AtomicFile::create(&dest)?),
                _ => Sink::File(File::create(path).map_err(|e| Error::io("create", path, e))?),
            },
        };
        Ok(Destination {
            writer: BufWriter::with_capacity(1 << 16, sink),
            target: target.clone(),
            pending_header: None,
        })
    }

    /// Holds `header` back until the first line (or [`Destination::finish`]).
    pub fn hold_header(&mut self, header: String) {
        self.pending_header = Some(header);
    }

    /// Writes one or more whole lines, after the held-back header if these are the first.
    pub fn write(&mut self, lines: &str) -> Result<()> {
        if let Some(header) = self.pending_header.take() {
            self.writer.write_all(header.as_bytes()).map_err(|e| write_error(&self.target, e))?;
        }
        self.writer.write_all(lines.as_bytes()).map_err(|e| write_error(&self.target, e))
    }

    /// Makes what was written visible.
    pub fn flush(&mut self) -> Result<()> {
        self.writer.flush().map_err(|e| write_error(&self.target, e))
    }

    /// Completes the output: the header of a run with no records (an empty result, not a
    /// failure), flush, and the rename of an atomic file. Returns the bytes of a
    /// [`Target::Memory`] destination.
    pub fn finish(mut self) -> Result<Vec<u8>> {
        if let Some(header) = self.pending_header.take() {
            self.writer.write_all(header.as_bytes()).map_err(|e| write_error(&self.target, e))?;
        }
        let sink = self.writer.into_inner().map_err(|e| write_error(&self.target, e.into_error()))?;
        match sink {
            Sink::Stdout(mut s) => s.flush().map_err(|e| write_error(&self.target, e))?,
            Sink::Atomic(f) => f.commit()?,
            Sink::Memory(bytes) => return Ok(bytes),
            Sink::File(_) | Sink::Discard => {}
        }
        Ok(Vec::new())
    }
}

/// A write error naming where it went.
pub(crate) fn write_error(target: &Target, e: io::Error) -> Error {
    match target {
        Target::File { path, .. } => Error::io("write", path, e),
        _ => Error::io("write", "<stdout>", e),
    }
}
