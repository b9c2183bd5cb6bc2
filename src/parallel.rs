//! The worker threads of training and scoring: a pool per engine, and contiguous shares of
//! a batch, one per worker.

use std::ops::Range;

use crate::{Error, Result};

/// A pool of `threads` workers named `{name}-{i}`, or `None` for one thread (the work then
/// runs on the caller's thread).
pub fn worker_pool(threads: usize, name: &'static str) -> Result<Option<rayon::ThreadPool>> {
    if threads <= 1 {
        return Ok(None);
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(move |i| format!("{name}-{i}"))
        .build()
        .map(Some)
        .map_err(|e| Error::config(format!("cannot start {threads} worker threads: {e}")))
}

/// Splits `n` items into at most `parts` contiguous ranges of near-equal size, in order
/// (one empty range when `n` is 0).
pub fn ranges(n: usize, parts: usize) -> impl Iterator<Item = Range<usize>> {
    let parts = parts.min(n).max(1);
    let (base, extra) = (n / parts, n % parts);
    (0..parts).map(move |s| {
        let start = s * base + s.min(extra);
        start..start + base + usize::from(s < extra)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_everything_once_in_order() {
        for n in 0..20 {
            for parts in 1..5 {
                let rs: Vec<_> = ranges(n, parts).collect();
                let flat: Vec<usize> = rs.iter().flat_map(|r| r.clone()).collect();
                assert_eq!(flat, (0..n).collect::<Vec<_>>());
                assert!(rs.iter().all(|r| r.len() + 1 >= n / parts.min(n).max(1)));
            }
        }
    }
}
