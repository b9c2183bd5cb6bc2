//! Atomic file writes: write to a hidden temporary file in the same directory, flush it to
//! disk, then rename over the target. A crash leaves either the old file or the new one,
//! never a truncated mix; a failed write removes its temporary file.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::{Error, Result};

fn temporary_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Where an atomic write of `path` should rename to, or `None` when `path` must be written in
/// place: an existing device, FIFO or socket (`-o /dev/null`, `-o /dev/stdout`, a named pipe)
/// must never be replaced by a regular file. A symbolic link to a regular file resolves to its
/// target, so the link stays a link. A directory is an error.
pub fn atomic_destination(path: &Path) -> Result<Option<PathBuf>> {
    match fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            Err(Error::io("write to", path, std::io::Error::new(std::io::ErrorKind::IsADirectory, "it is a directory")))
        }
        Ok(m) if !m.is_file() => Ok(None),
        Ok(_) => Ok(Some(fs::canonicalize(path).map_err(|e| Error::io("resolve", path, e))?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Some(path.to_path_buf())),
        Err(e) => Err(Error::io("inspect", path, e)),
    }
}

/// Gives the temporary file `tmp` the permissions of the file it is about to replace, so an
/// output kept at 0640 does not come back 0644. Nothing to do for a new file.
pub fn keep_mode(dest: &Path, tmp: &Path) -> std::io::Result<()> {
    match fs::metadata(dest) {
        Ok(m) => fs::set_permissions(tmp, m.permissions()),
        Err(_) => Ok(()),
    }
}

/// Writes `bytes` to `path` atomically (in place for a device or FIFO, see
/// [`atomic_destination`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let Some(target) = atomic_destination(path)? else {
        return fs::write(path, bytes).map_err(|e| Error::io("write", path, e));
    };
    let path = target.as_path();
    let tmp = temporary_path(path);
    let result = (|| -> std::io::Result<()> {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        keep_mode(path, &tmp)
    })();
    if let Err(err) = result {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io("write", path, err));
    }
    fs::rename(&tmp, path).map_err(|err| {
        let _ = fs::remove_file(&tmp);
        Error::io("rename into place", path, err)
    })
}

/// Streams a file to `path` atomically: `write` fills a buffered temporary file, which is
/// synced and renamed into place only when `write` succeeds (in place for a device or FIFO).
pub fn write_atomic_with(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let Some(target) = atomic_destination(path)? else {
        let file = File::create(path).map_err(|e| Error::io("create", path, e))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        write(&mut out)?;
        return out.flush().map_err(|e| Error::io("write", path, e));
    };
    let path = target.as_path();
    let tmp = temporary_path(path);
    let file = File::create(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let result = write(&mut out).and_then(|()| {
        out.flush().map_err(|e| Error::io("write", path, e))?;
        out.get_ref().sync_all().map_err(|e| Error::io("write", path, e))?;
        keep_mode(path, &tmp).map_err(|e| Error::io("set the permissions of", path, e))
    });
    drop(out);
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    fs::rename(&tmp, path).map_err(|err| {
        let _ = fs::remove_file(&tmp);
        Error::io("rename into place", path, err)
    })
}

/// Writes `value` as pretty JSON (with a final newline) atomically.
pub fn write_json_atomic<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<()> {
    let mut bytes =
        serde_json::to_vec_pretty(value).map_err(|e| Error::data(format!("cannot encode {}: {e}", path.display())))?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_written_in_place_and_links_stay_links() {
        assert_eq!(atomic_destination(Path::new("/dev/null")).unwrap(), None);
        write_atomic(Path::new("/dev/null"), b"x").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.txt");
        fs::write(&target, b"old").unwrap();
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read(&target).unwrap(), b"new");
        assert!(atomic_destination(dir.path()).is_err());
    }

    #[test]
    fn a_failed_write_names_the_path_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-subdir").join("a.json");
        let err = write_atomic(&path, b"x").unwrap_err();
        assert!(err.to_string().contains("missing-subdir"), "{err}");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
