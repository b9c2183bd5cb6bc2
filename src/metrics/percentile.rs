//! numpy's `percentile` with the default `method="linear"`: the unsupervised threshold is
//! the p-th percentile of the validation scores (reconstruction errors).
//!
//! ```text
//! sorted values v_0 <= ... <= v_{n-1},   h = (n − 1) · p / 100,   j = ⌊h⌋,   g = h − j
//! percentile = v_j + (v_{j+1} − v_j) · g          (v_{n-1} when h >= n − 1)
//! ```
//!
//! numpy evaluates the interpolation from the upper end when `g >= 0.5`
//! (`v_{j+1} − (v_{j+1} − v_j)(1 − g)`), which is more accurate there; done the same way
//! so results agree to the last bit. Selection instead of a full sort: O(n).

use super::check_finite;
use crate::{Error, Result};

/// The `p`-th percentile (0 ≤ p ≤ 100) of `values` with linear interpolation. Errors:
/// empty input, a non-finite value, `p` outside [0, 100].
pub fn percentile<S: Copy + Into<f64>>(values: &[S], p: f64) -> Result<f64> {
    if !(0.0..=100.0).contains(&p) {
        return Err(Error::config(format!("percentile must be between 0 and 100, got {p}")));
    }
    if values.is_empty() {
        return Err(Error::data("percentile of an empty set of scores"));
    }
    check_finite(values, "values")?;
    let mut v: Vec<f64> = values.iter().map(|&s| s.into()).collect();
    let n = v.len();
    let h = (n - 1) as f64 * (p / 100.0);
    if h >= (n - 1) as f64 {
        return Ok(v.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    }
    let j = h.floor() as usize;
    let g = h - j as f64;
    let (_, &mut lower, above) = v.select_nth_unstable_by(j, f64::total_cmp);
    // `above` holds the values after position j, so its minimum is v_{j+1}.
    let upper = above.iter().copied().fold(f64::INFINITY, f64::min);
    let diff = upper - lower;
    Ok(if g >= 0.5 { upper - diff * (1.0 - g) } else { lower + diff * g })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy() {
        // np.percentile([1, 2, 3, 4], [0, 25, 50, 95, 100]) = [1, 1.75, 2.5, 3.85, 4]
        let v = [4.0f64, 1.0, 3.0, 2.0];
        assert_eq!(percentile(&v, 0.0).unwrap(), 1.0);
        assert_eq!(percentile(&v, 25.0).unwrap(), 1.75);
        assert_eq!(percentile(&v, 50.0).unwrap(), 2.5);
        assert!((percentile(&v, 95.0).unwrap() - 3.85).abs() < 1e-15);
        assert_eq!(percentile(&v, 100.0).unwrap(), 4.0);
        assert_eq!(percentile(&[7.0f32], 95.0).unwrap(), 7.0);
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(percentile::<f64>(&[], 50.0).is_err());
        assert!(percentile(&[1.0f64], 101.0).is_err());
        assert!(percentile(&[1.0f64], f64::NAN).is_err());
        assert!(percentile(&[1.0f64, f64::NAN], 50.0).is_err());
    }
}
