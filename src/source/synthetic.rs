//! The built-in synthetic cluster: what `train` reads when no data is given.

use sha2::{Digest, Sha256};

use super::{Loaded, Loader, Source};
use crate::artifacts::model_file::hex;
use crate::data::synthetic::{self, SyntheticConfig};
use crate::Result;

/// The cluster [`crate::data::synthetic`] generates, as the CSV `kubelstm generate` writes.
#[derive(Clone, Debug)]
pub struct SyntheticSource(pub SyntheticConfig);

impl Source for SyntheticSource {
    fn describe(&self) -> String {
        self.0.describe()
    }

    fn read_whole(&self, loader: &dyn Loader) -> Result<Loaded> {
        let (bytes, _) = synthetic::csv_bytes(&self.0)?;
        let sha256 = hex(&Sha256::digest(&bytes));
        let dataset = loader.load(&mut bytes.as_slice(), &self.describe(), None)?;
        Ok(Loaded::whole(dataset, sha256))
    }
}
