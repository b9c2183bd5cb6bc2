//! The SHA-256 of a load's input bytes (a model's `training_data_sha256`), taken as the
//! ingest reads them, so a file or a pull is read once.

use std::io::Read;

use sha2::{Digest, Sha256};

use crate::artifacts::model_file::hex;

/// Wraps a reader and hashes what passes through, so a file is read once.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader { inner, hasher: Sha256::new() }
    }
    /// Goes on hashing after the bytes `hasher` has seen: several files, hashed in order as one
    /// input.
    pub fn resume(inner: R, hasher: Sha256) -> Self {
        HashingReader { inner, hasher }
    }
    /// The hash so far, to [`resume`](Self::resume) with the next file.
    pub fn into_hasher(self) -> Sha256 {
        self.hasher
    }
    /// The SHA-256 (hex) of what was read so far.
    pub fn hex_digest(&self) -> String {
        hex(&self.hasher.clone().finalize())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}
