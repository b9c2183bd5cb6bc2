//! Which run folder `serve` serves, and how it notices a new one.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::artifacts::names::META_FILE;
use crate::artifacts::{RunFolder, RunStatus};

/// What identifies the model on disk: the run folder chosen and its model.json's mtime.
pub(super) type ModelStamp = Option<(PathBuf, SystemTime)>;

/// The run folder to serve: `path` itself when it holds a model, else its newest complete
/// `run_*` folder (names sort by time).
pub(super) fn resolve_model_dir(path: &Path) -> PathBuf {
    if path.join(META_FILE).exists() {
        return path.to_path_buf();
    }
    let mut runs: Vec<PathBuf> = std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("run_"))
        .map(|e| e.path())
        .filter(|d| matches!(RunFolder::status(d), Ok(Some(RunStatus::Complete))))
        .collect();
    runs.sort();
    runs.pop().unwrap_or_else(|| path.to_path_buf())
}

pub(super) fn model_stamp(path: &Path) -> ModelStamp {
    let dir = resolve_model_dir(path);
    let mtime = std::fs::metadata(dir.join(META_FILE)).and_then(|m| m.modified()).ok()?;
    Some((dir, mtime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_of_runs_serves_its_newest_complete_run() {
        let dir = tempfile::tempdir().unwrap();
        let run = |name: &str, status: Option<&str>| {
            let d = dir.path().join(name);
            std::fs::create_dir(&d).unwrap();
            std::fs::write(d.join(META_FILE), "{}").unwrap();
            if let Some(s) = status {
                let text = format!("{{\"status\":\"{s}\",\"finished_unix\":0,\"message\":\"\"}}");
                std::fs::write(d.join(crate::artifacts::STATUS_FILE), text).unwrap();
            }
            d
        };
        let old = run("run_20261101_000000", Some("complete"));
        assert_eq!(resolve_model_dir(dir.path()), old);
        let new = run("run_20261108_000000", Some("complete"));
        run("run_20261115_000000", None); // still training
        run("run_20261116_000000", Some("diverged"));
        assert_eq!(resolve_model_dir(dir.path()), new);
        assert_eq!(resolve_model_dir(&new), new, "a run folder is itself");
    }
}
