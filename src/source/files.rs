//! CSV files: one, or several read as one dataset (see [`crate::data::sources`]).

use super::{FollowedFile, LiveInput, Loaded, Loader, Source};
use crate::data::DataFiles;
use crate::{Error, Result};

/// `--data FILE`, `--data DIR`, `--data 'PATTERN'`, or several of them.
#[derive(Clone, Debug)]
pub struct FilesSource(pub DataFiles);

impl Source for FilesSource {
    fn describe(&self) -> String {
        self.0.describe()
    }

    fn read_whole(&self, loader: &dyn Loader) -> Result<Loaded> {
        let (dataset, sha256) = loader.load_files(&self.0)?;
        Ok(Loaded::whole(dataset, sha256))
    }

    /// One file, followed as `tail -F` follows it: truncation and rotation start it again
    /// from the top.
    fn open_live(&self, quiet: bool) -> Result<LiveInput> {
        match self.0.paths() {
            [path] => {
                let file = FollowedFile::open(path.clone(), quiet).map_err(|e| Error::io("open", path, e))?;
                Ok(LiveInput { name: self.describe(), reader: Box::new(file), tail: true })
            }
            _ => Err(Error::config("--follow follows one file or standard input, not several files")),
        }
    }
}
