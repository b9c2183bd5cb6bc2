//! Where scored windows go: one small interface, so the drivers (batch, `--follow`, `serve`)
//! know no output format. [`Output`] writes each window; [`EventSink`](super::EventSink)
//! merges them into incidents first.

use super::output::{Output, Scored};
use crate::Result;

pub trait WindowSink {
    /// Takes the next scored window (in time order per pod).
    fn write(&mut self, s: &Scored<'_>) -> Result<()>;
    /// The input paused: make what was written visible.
    fn idle(&mut self) -> Result<()>;
    /// Windows taken and how many were at or above the threshold.
    fn counts(&self) -> (u64, u64);
}

impl WindowSink for Output {
    fn write(&mut self, s: &Scored<'_>) -> Result<()> {
        Output::write(self, s)
    }
    fn idle(&mut self) -> Result<()> {
        Output::idle(self)
    }
    fn counts(&self) -> (u64, u64) {
        (self.windows, self.anomalies)
    }
}
