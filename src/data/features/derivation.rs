//! [`Derivation`]: how one output feature derives from the raw columns, evaluated on a row's
//! [`Neighbourhood`] (itself and up to two rows before it).

/// How one output feature derives from the raw columns (indices into the raw row `(R,)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Derivation {
    Raw(usize),
    Rate(usize),
    RateChange(usize),
    RollingMean3(usize),
    RollingStd3(usize),
    /// `num / den`, a divisor of 0 taken as 1 (the original's `replace(0, 1)`).
    Ratio {
        num: usize,
        den: usize,
    },
    Sum(usize, usize),
}

/// The current row and up to two before it, all filled: `rows[0]` is row t, `rows[1]` row t−1,
/// `rows[2]` row t−2; only the first `len` are valid.
#[derive(Clone, Copy, Debug)]
pub struct Neighbourhood<'a> {
    pub rows: [&'a [f32]; 3],
    pub len: usize,
}

impl Neighbourhood<'_> {
    /// A neighbourhood from explicit rows, most recent first (1 to 3 rows).
    pub fn from_rows<'a>(rows: &[&'a [f32]]) -> Neighbourhood<'a> {
        assert!((1..=3).contains(&rows.len()), "a neighbourhood has 1 to 3 rows");
        let mut r = [rows[0]; 3];
        r[..rows.len()].copy_from_slice(rows);
        Neighbourhood { rows: r, len: rows.len() }
    }
    fn x(&self, k: usize, c: usize) -> f64 {
        self.rows[k][c] as f64
    }
}

impl Derivation {
    /// The feature value at the neighbourhood's current row.
    pub fn eval(&self, nb: &Neighbourhood<'_>) -> f32 {
        let n = nb.len;
        let v = match *self {
            Derivation::Raw(c) => nb.x(0, c),
            Derivation::Rate(c) => {
                if n >= 2 {
                    nb.x(0, c) - nb.x(1, c)
                } else {
                    0.0
                }
            }
            Derivation::RateChange(c) => match n {
                1 => 0.0,
                2 => nb.x(0, c) - nb.x(1, c),
                _ => (nb.x(0, c) - nb.x(1, c)) - (nb.x(1, c) - nb.x(2, c)),
            },
            Derivation::RollingMean3(c) => (0..n).map(|k| nb.x(k, c)).sum::<f64>() / n as f64,
            Derivation::RollingStd3(c) => {
                if n < 2 {
                    0.0
                } else {
                    let mean = (0..n).map(|k| nb.x(k, c)).sum::<f64>() / n as f64;
                    let ss: f64 = (0..n).map(|k| (nb.x(k, c) - mean).powi(2)).sum();
                    (ss / (n - 1) as f64).sqrt()
                }
            }
            Derivation::Ratio { num, den } => {
                let d = nb.x(0, den);
                nb.x(0, num) / if d == 0.0 { 1.0 } else { d }
            }
            Derivation::Sum(a, b) => nb.x(0, a) + nb.x(0, b),
        };
        saturate(v)
    }
}

/// `v` rounded to f32, saturating at ±`f32::MAX` (differences and sums of values near the
/// f32 limit would otherwise overflow to infinity).
#[inline]
pub fn saturate(v: f64) -> f32 {
    v.clamp(-(f32::MAX as f64), f32::MAX as f64) as f32
}
