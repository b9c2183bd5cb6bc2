//! `--format prometheus`: the [`Exposition`] of each pod's latest score written as a file
//! (replaced whole), once to standard output at the end, or kept in memory.

use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use super::destination::write_error;
use super::exposition::Exposition;
use super::{OutputOptions, Scored, Target, WindowFormat};
use crate::{Error, Result};

/// The exposition as a file (replaced whole at each snapshot), on standard output (once, at
/// the end) or in memory.
pub(crate) struct PrometheusFile {
    exposition: Exposition,
    target: Target,
    dirty: bool,
    last_write: Option<Instant>,
}

impl PrometheusFile {
    pub fn new(opts: &OutputOptions, target: &Target) -> Result<PrometheusFile> {
        if let Target::File { path, .. } = target {
            // Written whole at each snapshot; nothing to open now. Check the folder exists so
            // a typo fails before any work.
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            if !dir.is_dir() {
                return Err(Error::io("write to", path, io::Error::new(io::ErrorKind::NotFound, "no such folder")));
            }
        }
        Ok(PrometheusFile { exposition: Exposition::new(opts), target: target.clone(), dirty: false, last_write: None })
    }

    /// Writes the exposition where it goes; returns it for a [`Target::Memory`] output.
    fn snapshot(&mut self) -> Result<Vec<u8>> {
        let text = self.exposition.render();
        self.dirty = false;
        self.last_write = Some(Instant::now());
        match &self.target {
            Target::File { path, .. } => crate::artifacts::write_atomic(path, text.as_bytes())?,
            Target::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|e| write_error(&self.target, e))?;
            }
            Target::Memory => return Ok(text.into_bytes()),
            Target::Discard => {}
        }
        Ok(Vec::new())
    }
}

impl WindowFormat for PrometheusFile {
    fn write(&mut self, s: &Scored<'_>, _anomaly: bool, top: &[(usize, f32)]) -> Result<()> {
        self.exposition.record(s, top);
        self.dirty = true;
        Ok(())
    }

    /// With `--follow`, the file is replaced at most once a second.
    fn idle(&mut self) -> Result<()> {
        let due = self.dirty && self.last_write.is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
        if due && matches!(self.target, Target::File { .. }) {
            self.snapshot()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<Vec<u8>> {
        self.snapshot()
    }

    fn exposition(&mut self) -> Option<&mut Exposition> {
        Some(&mut self.exposition)
    }
}
