//! Area under a curve by the trapezoid rule: scikit-learn's `auc(x, y)`.
//!
//! ```text
//! auc = direction · Σ_j (x_{j+1} − x_j) (y_{j+1} + y_j) / 2
//! ```
//!
//! `x` must be monotonic; `direction` is -1 when it decreases (a precision-recall curve's
//! recall does), so the area is positive either way. The original project's "PR-AUC" is
//! `auc(recall, precision)`, which is why this is public and not only used for ROC.

use crate::{Error, Result};

/// Trapezoid area under `(x, y)`. Errors: fewer than 2 points, lengths differ, non-finite
/// values, `x` neither non-decreasing nor non-increasing.
pub fn auc(x: &[f64], y: &[f64]) -> Result<f64> {
    if x.len() != y.len() {
        return Err(Error::data(format!("auc: x has {} points but y has {}", x.len(), y.len())));
    }
    if x.len() < 2 {
        return Err(Error::data(format!("auc: at least 2 points are needed, got {}", x.len())));
    }
    if let Some(i) = x.iter().chain(y).position(|v| !v.is_finite()) {
        let (name, j) = if i < x.len() { ("x", i) } else { ("y", i - x.len()) };
        return Err(Error::data(format!("auc: {name}[{j}] is not finite")));
    }
    let direction = if x.windows(2).all(|w| w[1] >= w[0]) {
        1.0
    } else if x.windows(2).all(|w| w[1] <= w[0]) {
        -1.0
    } else {
        return Err(Error::data("auc: x is neither increasing nor decreasing"));
    };
    Ok(direction * trapezoid(x, y))
}

/// `Σ_j (x_{j+1} − x_j) (y_{j+1} + y_j) / 2`, numpy's `trapezoid` term by term. No checks.
pub(crate) fn trapezoid(x: &[f64], y: &[f64]) -> f64 {
    x.windows(2).zip(y.windows(2)).map(|(x, y)| (x[1] - x[0]) * (y[1] + y[0]) / 2.0).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directions_give_the_positive_area() {
        assert_eq!(auc(&[0.0, 1.0], &[1.0, 1.0]).unwrap(), 1.0);
        assert_eq!(auc(&[1.0, 0.5, 0.0], &[0.0, 1.0, 1.0]).unwrap(), 0.75);
    }

    #[test]
    fn bad_curves_are_errors() {
        assert!(auc(&[0.0], &[1.0]).is_err());
        assert!(auc(&[0.0, 1.0], &[1.0]).is_err());
        assert!(auc(&[0.0, 1.0, 0.5], &[1.0, 1.0, 1.0]).is_err());
        assert!(auc(&[0.0, f64::NAN], &[1.0, 1.0]).is_err());
    }
}
