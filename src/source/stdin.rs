//! Standard input (`--data -`): read whole, or scored as it arrives with `--follow`.

use std::io::Read;

use super::{LiveInput, Loaded, Loader, Source};
use crate::data::hashing::HashingReader;
use crate::{Error, Result};

/// CSV piped into the process.
#[derive(Clone, Copy, Debug)]
pub struct StdinSource;

impl Source for StdinSource {
    fn describe(&self) -> String {
        "<stdin>".into()
    }

    fn read_whole(&self, loader: &dyn Loader) -> Result<Loaded> {
        let name = self.describe();
        let mut input = HashingReader::new(std::io::stdin().lock());
        let dataset = loader.load(&mut input, &name, None)?;
        // The CSV reader stops at the end on success; be exact about what was hashed.
        std::io::copy(&mut input, &mut std::io::sink()).map_err(|e| Error::io("read", &name, e))?;
        Ok(Loaded::whole(dataset, input.hex_digest()))
    }

    /// A pipe: its end is the end of the stream.
    fn open_live(&self, _quiet: bool) -> Result<LiveInput> {
        let reader: Box<dyn Read + Send> = Box::new(std::io::stdin());
        Ok(LiveInput { name: self.describe(), reader, tail: false })
    }
}
