//! Decimation of a long series for drawing ("M4"): per pixel column keep the first, the
//! lowest, the highest and the last point, in index order. A line through them covers
//! exactly the pixels the full line would, so 10^6 scores draw as at most 4 points per
//! column and no spike disappears.

/// Polyline segments `(index, value)` to draw `values` over `columns` pixel columns.
/// Non-finite values split segments (a gap); a column with no finite value is a gap.
pub(crate) fn min_max_per_column(values: &[f64], columns: usize) -> Vec<Vec<(usize, f64)>> {
    let n = values.len();
    let columns = columns.max(1);
    if n <= 4 * columns {
        return split_at_gaps(values.iter().copied().enumerate());
    }
    // One pass; `bucket` = the column of index i.
    let mut kept: Vec<(usize, f64)> = Vec::with_capacity(4 * columns);
    let mut i = 0;
    while i < n {
        let bucket = i * columns / n;
        let end = ((bucket + 1) * n).div_ceil(columns).min(n); // first index of the next column
        let column = &values[i..end];
        let mut first = None;
        let (mut lo, mut hi, mut last) = ((0, f64::INFINITY), (0, f64::NEG_INFINITY), (0, 0.0));
        let mut gap_inside = false;
        for (j, &v) in column.iter().enumerate() {
            if !v.is_finite() {
                gap_inside = true;
                continue;
            }
            let at = i + j;
            first.get_or_insert((at, v));
            if v < lo.1 {
                lo = (at, v);
            }
            if v > hi.1 {
                hi = (at, v);
            }
            last = (at, v);
        }
        match first {
            Some(first) => {
                let mut four = [first, lo, hi, last];
                four.sort_by_key(|p| p.0);
                for (k, p) in four.into_iter().enumerate() {
                    if k == 0 || p.0 != four[k - 1].0 {
                        kept.push(p);
                    }
                }
                if gap_inside {
                    kept.push((usize::MAX, f64::NAN));
                }
            }
            None => kept.push((usize::MAX, f64::NAN)),
        }
        i = end;
    }
    split_at_gaps(kept.into_iter())
}

fn split_at_gaps(points: impl Iterator<Item = (usize, f64)>) -> Vec<Vec<(usize, f64)>> {
    let mut segments: Vec<Vec<(usize, f64)>> = vec![Vec::new()];
    for (i, v) in points {
        if v.is_finite() {
            segments.last_mut().expect("never empty").push((i, v));
        } else if !segments.last().expect("never empty").is_empty() {
            segments.push(Vec::new());
        }
    }
    segments.retain(|s| !s.is_empty());
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_series_are_kept_whole() {
        let v = [1.0, 2.0, f64::NAN, 3.0];
        assert_eq!(min_max_per_column(&v, 10), vec![vec![(0, 1.0), (1, 2.0)], vec![(3, 3.0)]]);
        assert!(min_max_per_column(&[], 10).is_empty());
    }

    #[test]
    fn every_column_keeps_its_extremes() {
        let n = 1_000_000;
        let mut v: Vec<f64> = (0..n).map(|i| (i as f64 * 0.001).sin()).collect();
        v[123_457] = 50.0; // a one-sample spike
        v[765_433] = -50.0;
        let segments = min_max_per_column(&v, 900);
        assert_eq!(segments.len(), 1);
        let kept = &segments[0];
        assert!(kept.len() <= 4 * 900);
        assert!(kept.contains(&(123_457, 50.0)) && kept.contains(&(765_433, -50.0)));
        assert!(kept.windows(2).all(|w| w[0].0 < w[1].0), "index order");
        assert_eq!((kept[0].0, kept.last().unwrap().0), (0, n - 1));
    }

    #[test]
    fn nan_runs_leave_gaps() {
        let mut v = vec![1.0; 10_000];
        v[5_000..6_000].fill(f64::NAN);
        let segments = min_max_per_column(&v, 100);
        assert_eq!(segments.len(), 2);
        assert!(segments[0].last().unwrap().0 < 5_000 && segments[1][0].0 >= 6_000);
    }
}
