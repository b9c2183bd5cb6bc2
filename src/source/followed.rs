//! A growing file followed as `tail -F` follows it: `detect --follow` and `serve --data FILE
//! --follow` read a collector's CSV through it.

use std::io::{self, Read};
use std::path::PathBuf;

/// A file read as `tail -F` reads it. At its end it checks the path: a file truncated in place
/// (logrotate's `copytruncate`: shorter than what was read) is read again from the top, and a
/// file replaced by another at the same path (rotation by rename: a new inode) is followed to
/// the new one; each time a note says so on stderr.
///
/// Only whole lines are passed on, so a row cut by the rotation is dropped rather than glued
/// to the new file's first line (the last line of a file that ends without a line break is
/// therefore not read while following). A restarted file may begin with the header again (a
/// CSV writer that starts afresh writes one): a first line equal to the original header is
/// dropped, any other first line is a row (the writer just carried on). A restarted file with
/// another header is not supported: its header line is read as a row, and is reported as bad.
/// A truncation that is followed by more bytes than were read before the next poll (every
/// `detect::follow::POLL`) cannot be told from growth, as with `tail`.
pub struct FollowedFile {
    path: PathBuf,
    file: std::fs::File,
    /// Device and inode of the open file.
    identity: (u64, u64),
    /// Bytes read from the open file.
    offset: u64,
    /// The first line of the first file, without its line end.
    header: Option<Vec<u8>>,
    /// The next whole line is the first of a restarted file.
    at_restart: bool,
    /// Read, not yet a whole line.
    partial: Vec<u8>,
    /// Whole lines ready to be passed on, from `ready_pos`.
    ready: Vec<u8>,
    ready_pos: usize,
    quiet: bool,
}

fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        (0, 0)
    }
}

/// A line without its line end (and a byte-order mark), for comparing headers.
fn bare_line(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line)
}

impl FollowedFile {
    pub fn open(path: PathBuf, quiet: bool) -> io::Result<FollowedFile> {
        let file = std::fs::File::open(&path)?;
        let identity = identity(&file.metadata()?);
        Ok(FollowedFile {
            path,
            file,
            identity,
            offset: 0,
            header: None,
            at_restart: false,
            partial: Vec::new(),
            ready: Vec::new(),
            ready_pos: 0,
            quiet,
        })
    }

    /// Moves the whole lines of `partial` to `ready`, dropping a repeated header.
    fn take_lines(&mut self) {
        // A line ends at LF, CRLF or a lone CR (as the CSV reader reads them).
        let Some(end) = self.partial.iter().rposition(|&b| b == b'\n' || b == b'\r') else { return };
        let lines: Vec<u8> = self.partial.drain(..=end).collect();
        let first_end = match lines.iter().position(|&b| b == b'\n' || b == b'\r') {
            Some(i) if lines[i] == b'\r' && lines.get(i + 1) == Some(&b'\n') => i + 2,
            Some(i) => i + 1,
            None => lines.len(),
        };
        let first = &lines[..first_end];
        let mut skip = 0;
        match &self.header {
            None => self.header = Some(bare_line(first).to_vec()),
            Some(h) if self.at_restart && bare_line(first) == h.as_slice() => skip = first_end,
            Some(_) => {}
        }
        self.at_restart = false;
        if self.ready_pos == self.ready.len() {
            self.ready.clear();
            self.ready_pos = 0;
        }
        self.ready.extend_from_slice(&lines[skip..]);
    }

    fn note(&self, what: &str) {
        if !self.quiet {
            eprintln!("note: {} {what}", self.path.display());
        }
    }

    /// At the end of the open file: was it truncated or replaced? Then start again from the
    /// top of what is at the path now.
    fn restarted(&mut self) -> io::Result<bool> {
        let open = self.file.metadata()?;
        // A FIFO or a device has no length to shrink and is not rotated.
        if !open.is_file() {
            return Ok(false);
        }
        let replaced = match std::fs::metadata(&self.path) {
            Ok(meta) => identity(&meta) != self.identity,
            // Moved away and not yet recreated: keep the open file.
            Err(_) => false,
        };
        if replaced {
            let Ok(file) = std::fs::File::open(&self.path) else { return Ok(false) };
            self.identity = identity(&file.metadata()?);
            self.file = file;
            self.note("was replaced by a new file (rotated); reading the new file from the start");
        } else if open.len() < self.offset {
            use std::io::Seek;
            self.file.seek(io::SeekFrom::Start(0))?;
            self.note("was truncated; reading from the start");
        } else {
            return Ok(false);
        }
        if !self.partial.is_empty() && !self.quiet {
            eprintln!(
                "warning: {}: the incomplete last line before the restart ({} bytes) was dropped",
                self.path.display(),
                self.partial.len()
            );
        }
        self.offset = 0;
        self.partial.clear();
        self.at_restart = true;
        Ok(true)
    }
}

impl Read for FollowedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if self.ready_pos < self.ready.len() {
                let n = buf.len().min(self.ready.len() - self.ready_pos);
                buf[..n].copy_from_slice(&self.ready[self.ready_pos..self.ready_pos + n]);
                self.ready_pos += n;
                return Ok(n);
            }
            let n = self.file.read(&mut chunk)?;
            if n > 0 {
                self.offset += n as u64;
                self.partial.extend_from_slice(&chunk[..n]);
                self.take_lines();
                // A line longer than the line limit is passed on whole-or-not: cut it here so
                // memory stays bounded; the CSV reader reports it as too long.
                if self.partial.len() > crate::data::csv_guard::MAX_LINE_BYTES {
                    self.ready.extend_from_slice(&self.partial);
                    self.partial.clear();
                }
                continue;
            }
            if self.restarted()? {
                continue;
            }
            return Ok(0);
        }
    }
}
