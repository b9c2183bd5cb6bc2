//! The run folder `output_dir/run_YYYYMMDD_HHMMSS/`.
//!
//! Created at the start of training so the log and the best checkpoint have a home. Its
//! status file `run_status.json` is written last: absent means the run never finished (it
//! was killed, or is still going); present, it says `complete`, `interrupted` (Ctrl-C: the
//! best model so far was saved) or `diverged` (NaN/inf: the last good checkpoint was kept).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::atomic::{sync_dir, write_atomic, write_json_atomic};
use super::bounded::{read_bounded, STATUS_LIMIT};
use super::names::STATUS_FILE;
use crate::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Complete,
    Interrupted,
    Diverged,
}

#[derive(Serialize, Deserialize)]
struct StatusFile {
    status: RunStatus,
    finished_unix: u64,
    message: String,
    /// Epochs that finished before the run ended (`train` writes it; older folders lack it).
    /// 0 means the weights were never trained: scoring refuses such a folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    epochs_run: Option<usize>,
}

/// What `run_status.json` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusInfo {
    pub status: RunStatus,
    /// Epochs that finished, when the status file records it.
    pub epochs_run: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct RunFolder {
    path: PathBuf,
}

/// `YYYYMMDD_HHMMSS` in UTC for seconds since the epoch (civil-from-days, H. Hinnant).
pub fn timestamp_name(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}{month:02}{day:02}_{:02}{:02}{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl RunFolder {
    /// Creates `output_dir/run_<timestamp>` (with `_2`, `_3`, … if that exists).
    pub fn create(output_dir: &Path) -> Result<Self> {
        Self::create_named(output_dir, "run")
    }

    /// Creates `output_dir/<prefix>_<timestamp>` (with `_2`, `_3`, … if that exists), e.g.
    /// `evaluation_20240304_103000` for `kubelstm evaluate`.
    pub fn create_named(output_dir: &Path, prefix: &str) -> Result<Self> {
        fs::create_dir_all(output_dir).map_err(|e| Error::io("create the output directory", output_dir, e))?;
        let base = format!("{prefix}_{}", timestamp_name(unix_now()));
        for n in 1..1000 {
            let name = if n == 1 { base.clone() } else { format!("{base}_{n}") };
            let path = output_dir.join(name);
            match fs::create_dir(&path) {
                Ok(()) => return Ok(RunFolder { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io("create the run folder", &path, e)),
            }
        }
        Err(Error::config(format!("{} holds too many runs started in the same second", output_dir.display())))
    }

    /// Creates `output_dir` if needed and checks that a file can be created in it. `train` runs
    /// this before loading the data, so a wrong or read-only output directory fails at once
    /// instead of after a long load.
    pub fn check_output_dir(output_dir: &Path) -> Result<()> {
        fs::create_dir_all(output_dir).map_err(|e| Error::io("create the output directory", output_dir, e))?;
        let probe = output_dir.join(format!(".kubelstm-write-test-{}", std::process::id()));
        fs::File::create(&probe).map_err(|e| Error::io("create a file in the output directory", output_dir, e))?;
        let _ = fs::remove_file(&probe);
        Ok(())
    }

    /// Opens an existing folder (for writing `evaluate` results, say).
    pub fn at(path: impl Into<PathBuf>) -> Self {
        RunFolder { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        write_atomic(&self.file(name), bytes)
    }

    pub fn write_json<T: Serialize + ?Sized>(&self, name: &str, value: &T) -> Result<()> {
        write_json_atomic(&self.file(name), value)
    }

    /// Writes the status file: the last write of a run. The folder is synced before it, so
    /// every artifact in it so far (atomic or not, such as the log) is on disk before the file
    /// that vouches for them, and after it (by the atomic write), so a run reported finished
    /// stays finished across a power loss.
    pub fn finish(&self, status: RunStatus, message: &str) -> Result<()> {
        self.finish_with(status, message, None)
    }

    /// [`finish`](Self::finish) for a training run: also records how many epochs finished.
    pub fn finish_training(&self, status: RunStatus, message: &str, epochs_run: usize) -> Result<()> {
        self.finish_with(status, message, Some(epochs_run))
    }

    fn finish_with(&self, status: RunStatus, message: &str, epochs_run: Option<usize>) -> Result<()> {
        sync_dir(&self.path)?;
        let file = StatusFile { status, finished_unix: unix_now(), message: message.to_string(), epochs_run };
        // write_json_atomic syncs the folder after the rename.
        self.write_json(STATUS_FILE, &file)
    }

    /// The status of a run folder: `Ok(None)` if it never finished.
    pub fn status(path: &Path) -> Result<Option<RunStatus>> {
        Ok(Self::status_info(path)?.map(|info| info.status))
    }

    /// The status file of a run folder, with the epoch count: `Ok(None)` if it never finished.
    pub fn status_info(path: &Path) -> Result<Option<StatusInfo>> {
        let file = path.join(STATUS_FILE);
        match read_bounded(&file, STATUS_LIMIT) {
            Ok(bytes) => {
                let status: StatusFile = serde_json::from_slice(&bytes)
                    .map_err(|e| Error::model(path, format!("{STATUS_FILE} is damaged ({e})")))?;
                Ok(Some(StatusInfo { status: status.status, epochs_run: status.epochs_run }))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("read", file, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_names_match_known_dates() {
        assert_eq!(timestamp_name(0), "19700101_000000");
        assert_eq!(timestamp_name(951_782_400), "20000229_000000");
        assert_eq!(timestamp_name(1_795_835_000), "20261128_030320");
    }

    #[test]
    fn folders_are_unique_and_unfinished_until_marked() {
        let dir = tempfile::tempdir().unwrap();
        let a = RunFolder::create(dir.path()).unwrap();
        let b = RunFolder::create(dir.path()).unwrap();
        assert_ne!(a.path(), b.path());
        assert_eq!(RunFolder::status(a.path()).unwrap(), None);
        a.finish(RunStatus::Complete, "ok").unwrap();
        assert_eq!(RunFolder::status(a.path()).unwrap(), Some(RunStatus::Complete));
    }
}
