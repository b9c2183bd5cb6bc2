//! Atomic file writes: write to a hidden temporary file in the same directory, flush it to
//! disk, then rename over the target and sync the directory. A crash leaves either the old
//! file or the new one, never a truncated mix; a failed or abandoned write removes its
//! temporary file.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::{Error, Result};

fn temporary_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// The folder `path` lives in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// fsync of a directory: makes the renames into it durable. (Unix only; elsewhere a directory
/// cannot be opened for syncing.) A file system that cannot sync a directory at all (EINVAL,
/// ENOTSUP: some network and FUSE mounts) is not an error: the rename is done and there is
/// nothing more this process can make durable.
pub fn sync_dir(path: &Path) -> Result<()> {
    #[cfg(unix)]
    match fs::File::open(path).and_then(|dir| dir.sync_all()) {
        Ok(()) => {}
        Err(e) if matches!(e.kind(), std::io::ErrorKind::InvalidInput | std::io::ErrorKind::Unsupported) => {}
        Err(e) => return Err(Error::io("sync", path, e)),
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// A file being written under a temporary name beside `dest`. [`commit`](Self::commit)
/// syncs it, renames it over `dest` and syncs the folder; dropped uncommitted (an error
/// stopped the write), it is removed, so nothing half-written is ever left under either name.
///
/// `dest` is written as given: resolve it with [`atomic_destination`] first, so a device
/// stays a device and a symbolic link stays a link.
pub struct AtomicFile {
    file: File,
    tmp: PathBuf,
    dest: PathBuf,
    /// Set by `commit`: the temporary name no longer exists, so drop has nothing to remove.
    committed: bool,
}

impl AtomicFile {
    /// Creates the temporary file for `dest`. An error names `dest`, the file the user asked for.
    pub fn create(dest: &Path) -> Result<AtomicFile> {
        let tmp = temporary_path(dest);
        let file = File::create(&tmp).map_err(|e| Error::io("create", dest, e))?;
        Ok(AtomicFile { file, tmp, dest: dest.to_path_buf(), committed: false })
    }

    /// Where the file goes when committed.
    pub fn destination(&self) -> &Path {
        &self.dest
    }

    /// Puts the file in place: its data on disk first, then the permissions of the file it
    /// replaces, the rename, and the folder synced so the rename survives a power loss.
    pub fn commit(mut self) -> Result<()> {
        self.file.flush().map_err(|e| Error::io("write", &self.dest, e))?;
        self.file.sync_all().map_err(|e| Error::io("write", &self.dest, e))?;
        keep_mode(&self.dest, &self.tmp).map_err(|e| Error::io("set the permissions of", &self.dest, e))?;
        fs::rename(&self.tmp, &self.dest).map_err(|e| Error::io("rename into place", &self.dest, e))?;
        self.committed = true;
        sync_dir(parent_dir(&self.dest))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.file.write_all(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.tmp);
        }
    }
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
fn keep_mode(dest: &Path, tmp: &Path) -> std::io::Result<()> {
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
    let mut file = AtomicFile::create(&target)?;
    file.write_all(bytes).map_err(|e| Error::io("write", &target, e))?;
    file.commit()
}

/// Streams a file to `path` atomically: `write` fills a buffered temporary file, which is
/// committed only when `write` succeeds (in place for a device or FIFO).
pub fn write_atomic_with(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let Some(target) = atomic_destination(path)? else {
        let file = File::create(path).map_err(|e| Error::io("create", path, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        write(&mut out)?;
        return out.flush().map_err(|e| Error::io("write", path, e));
    };
    let mut file = AtomicFile::create(&target)?;
    let mut out = BufWriter::with_capacity(1 << 20, &mut file);
    write(&mut out)?;
    out.flush().map_err(|e| Error::io("write", &target, e))?;
    drop(out);
    file.commit()
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
    fn an_uncommitted_file_leaves_nothing_and_a_committed_one_has_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scores.csv");
        {
            let mut file = AtomicFile::create(&path).unwrap();
            file.write_all(b"half").unwrap();
            assert!(!path.exists(), "visible before commit");
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0, "dropped uncommitted: nothing left");

        let mut file = AtomicFile::create(&path).unwrap();
        file.write_all(b"whole").unwrap();
        file.commit().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"whole");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["scores.csv"], "only the committed file");
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
