//! Reading a whole file with a bound: every file kubelstm reads into memory at once (the files
//! of a model folder, `--rules`, `--queries`, a CA or secret file) goes through
//! [`read_bounded`], with a limit suited to what the file holds.
//!
//! Without a bound, a `model.json` that is a symlink to `/dev/zero` ate gigabytes in seconds
//! and a FIFO in its place hung `detect` forever. Here the path must name a regular file
//! (after following symlinks), checked before it is opened (opening a FIFO blocks) and again
//! on the open file, and at most `limit` bytes are read: a file that grows past it while being
//! read is refused too. Errors are `io::Error`s so callers keep their own message for a
//! missing file and wrap the rest as "could not read PATH: …".

use std::fs::{self, File, Metadata};
use std::io::{self, Read};
use std::path::Path;

/// `model.json`: the architecture, the feature pipeline with its scaler, the threshold. A few
/// kilobytes for pod metrics; the cap leaves room for the largest feature lists a model takes.
pub const META_LIMIT: u64 = 16 << 20;
/// `scaler.json`: two numbers and a name per feature.
pub const SCALER_LIMIT: u64 = 16 << 20;
/// `threshold.json`: the chosen threshold and a few alternatives.
pub const THRESHOLD_LIMIT: u64 = 1 << 20;
/// `run_status.json`: a status, a time and a one-line message.
pub const STATUS_LIMIT: u64 = 64 << 10;
/// `evaluation.json` (read by `inspect` for its headline): curves and a per-pod breakdown.
pub const EVALUATION_LIMIT: u64 = 256 << 20;
/// A `--rules` or `--queries` TOML file: a few dozen lines.
pub const TOML_LIMIT: u64 = 1 << 20;
/// A PEM file of CA certificates (a whole system bundle is about 200 KiB).
pub const CA_LIMIT: u64 = 4 << 20;
/// A password or token file.
pub const SECRET_LIMIT: u64 = 64 << 10;
/// `model.safetensors` beyond its tensors' data: the 8-byte length and the JSON header (a
/// few kilobytes for kubelstm's dozen tensors).
pub const SAFETENSORS_HEADER_LIMIT: u64 = 1 << 20;

/// `limit` bytes for a message: `64 KiB`, `16 MiB`, or a byte count.
pub fn describe_limit(limit: u64) -> String {
    match limit {
        l if l >= 1 << 20 && l.is_multiple_of(1 << 20) => format!("{} MiB", l >> 20),
        l if l >= 1 << 10 && l.is_multiple_of(1 << 10) => format!("{} KiB", l >> 10),
        l => format!("{l} bytes"),
    }
}

/// What a path is when it is not a regular file.
fn kind(meta: &Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if t.is_char_device() {
            return Some("a character device");
        }
        if t.is_block_device() {
            return Some("a block device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a regular file")
}

fn check(path: &Path, meta: &Metadata, limit: u64) -> io::Result<()> {
    if let Some(kind) = kind(meta) {
        let what = if kind.starts_with("not ") { kind.to_string() } else { format!("{kind}, not a regular file") };
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("it is {what}; kubelstm reads it whole")));
    }
    if meta.len() > limit {
        return Err(too_large(path, limit));
    }
    Ok(())
}

fn too_large(path: &Path, limit: u64) -> io::Error {
    let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!("it is larger than {}, the limit for {name}", describe_limit(limit)),
    )
}

/// The bytes of the regular file at `path`, at most `limit` of them (see the module docs).
pub fn read_bounded(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    check(path, &fs::metadata(path)?, limit)?;
    let file = File::open(path)?;
    let meta = file.metadata()?;
    check(path, &meta, limit)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(path, limit));
    }
    Ok(bytes)
}

/// [`read_bounded`] as UTF-8 text.
pub fn read_bounded_string(path: &Path, limit: u64) -> io::Result<String> {
    String::from_utf8(read_bounded(path, limit)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "it is not valid UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_within_the_limit_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        fs::write(&path, b"{}").unwrap();
        assert_eq!(read_bounded(&path, 2).unwrap(), b"{}");
        assert_eq!(read_bounded_string(&path, 2).unwrap(), "{}");
        let err = read_bounded(&path, 1).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
        assert!(err.to_string().contains("larger than 1 bytes, the limit for a.json"), "{err}");
        assert_eq!(read_bounded(&dir.path().join("none"), 9).unwrap_err().kind(), io::ErrorKind::NotFound);
        let err = read_bounded(dir.path(), 9).unwrap_err().to_string();
        assert!(err.contains("a directory, not a regular file"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_refused_without_reading() {
        let err = read_bounded(Path::new("/dev/zero"), 1 << 20).unwrap_err().to_string();
        assert!(err.contains("a character device, not a regular file"), "{err}");
    }

    #[test]
    fn limits_read_as_units() {
        assert_eq!(describe_limit(64 << 10), "64 KiB");
        assert_eq!(describe_limit(16 << 20), "16 MiB");
        assert_eq!(describe_limit(1000), "1000 bytes");
        assert_eq!(describe_limit((512 << 20) + (1 << 20)), "513 MiB");
    }
}
