//! [`FeatureBuilder`]: one series' incremental feature state, fed one raw row at a time.

use std::sync::Arc;

use super::{FeaturePlan, Neighbourhood};
use crate::data::options::MissingPolicy;

/// Why [`FeatureBuilder::push`] did not accept a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    Accepted,
    /// Forward fill: a value is missing and the series has not seen that column yet.
    NoPriorValue,
    /// `--missing drop` (or `error`, defensively): a value is missing.
    MissingValue,
}

/// Per-series incremental feature state: the last three accepted (filled) raw rows and the
/// forward-fill memory. Bounded: `O(R)` floats whatever the series length.
#[derive(Clone, Debug)]
pub struct FeatureBuilder {
    plan: Arc<FeaturePlan>,
    ring: Vec<f32>, // (3, R) accepted rows; slot `head` is the most recent
    head: usize,
    len: usize,          // accepted rows, saturating at 3
    last_seen: Vec<f32>, // (R,) last observed value per column, NaN before the first
    scratch: Vec<f32>,   // (R,) the row being filled
    filled: Vec<u64>,    // (R,) values filled (forward fill or zero) per column
    accepted: u64,
}

impl FeatureBuilder {
    pub fn new(plan: Arc<FeaturePlan>) -> FeatureBuilder {
        let r = plan.n_raw();
        FeatureBuilder {
            plan,
            ring: vec![0.0; 3 * r],
            head: 0,
            len: 0,
            last_seen: vec![f32::NAN; r],
            scratch: vec![0.0; r],
            filled: vec![0; r],
            accepted: 0,
        }
    }

    pub fn plan(&self) -> &FeaturePlan {
        &self.plan
    }

    /// Offers the next raw row of this series (`(R,)`, NaN = missing; rows in time order).
    /// Missing values are filled per the plan's policy; an accepted row becomes the current
    /// row of [`neighbourhood`](Self::neighbourhood).
    pub fn push(&mut self, raw: &[f32]) -> Pushed {
        let r = self.plan.n_raw();
        assert_eq!(raw.len(), r, "raw row length");
        let policy = self.plan.missing();
        let mut outcome = Pushed::Accepted;
        for ((slot, &v), last) in self.scratch.iter_mut().zip(raw).zip(self.last_seen.iter_mut()) {
            *slot = if v.is_nan() {
                match policy {
                    MissingPolicy::ForwardFill if !last.is_nan() => *last,
                    MissingPolicy::ForwardFill => {
                        outcome = Pushed::NoPriorValue;
                        v
                    }
                    MissingPolicy::Zero => 0.0,
                    MissingPolicy::Drop | MissingPolicy::Error => {
                        outcome = Pushed::MissingValue;
                        v
                    }
                }
            } else {
                // Observed values feed the forward fill even when the row itself is dropped
                // (pandas: groupby().ffill() before dropna()).
                *last = v;
                v
            };
        }
        if outcome != Pushed::Accepted {
            return outcome;
        }
        for (count, v) in self.filled.iter_mut().zip(raw) {
            *count += v.is_nan() as u64;
        }
        self.head = (self.head + 1) % 3;
        self.ring[self.head * r..(self.head + 1) * r].copy_from_slice(&self.scratch);
        self.len = (self.len + 1).min(3);
        self.accepted += 1;
        Pushed::Accepted
    }

    /// The last accepted row and up to two before it. Panics before the first accepted row.
    pub fn neighbourhood(&self) -> Neighbourhood<'_> {
        assert!(self.len > 0, "no row accepted yet");
        let r = self.plan.n_raw();
        let slot = |k: usize| {
            let s = (self.head + 3 - k) % 3;
            &self.ring[s * r..(s + 1) * r]
        };
        Neighbourhood { rows: [slot(0), slot(1), slot(2)], len: self.len }
    }

    /// Features of the last accepted row. `out`: `(F,)`.
    pub fn features(&self, out: &mut [f32]) {
        self.plan.compute(&self.neighbourhood(), out);
    }

    /// [`push`](Self::push) then [`features`](Self::features); false when the row was dropped.
    pub fn push_features(&mut self, raw: &[f32], out: &mut [f32]) -> bool {
        if self.push(raw) == Pushed::Accepted {
            self.features(out);
            true
        } else {
            false
        }
    }

    /// Values filled so far, per raw column `(R,)`.
    pub fn filled_counts(&self) -> &[u64] {
        &self.filled
    }
    pub fn accepted(&self) -> u64 {
        self.accepted
    }
}
