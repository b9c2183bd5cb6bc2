//! One split's windows over the dataset's series, as the trainer and the evaluation read them.

use crate::data::{Series, WindowIndex};
use crate::train::Windows;

/// The windows of one split, as the trainer sees them.
pub struct SplitWindows<'a> {
    pub index: &'a WindowIndex,
    pub series: &'a [Series],
    pub features: usize,
}

impl Windows for SplitWindows<'_> {
    fn len(&self) -> usize {
        self.index.len()
    }
    fn steps(&self) -> usize {
        self.index.seq_len
    }
    fn features(&self) -> usize {
        self.features
    }
    fn label(&self, i: usize) -> u8 {
        self.index.label(self.series, i).unwrap_or(0)
    }
    fn has_labels(&self) -> bool {
        self.series.iter().any(|s| s.labels.is_some())
    }
    fn gather(&self, ids: &[usize], x: &mut [f32]) {
        self.index.gather(self.series, self.features, ids, x)
    }
}
