//! Network degradation: transmit drops and retransmissions grow → receive packets drop.

use rand_chacha::ChaCha8Rng;

use super::{Ctx, Outcome};
use crate::data::synthetic::row::Row;
use crate::data::synthetic::{normal, steps_between, uniform};

#[derive(Clone, Debug)]
pub(in crate::data::synthetic) struct Network {
    phase: Phase,
    /// Steps since the incident started.
    k: usize,
    /// Steps left in the phase.
    left: usize,
    severity: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    /// Transmit drops grow with every step, throughput sags.
    Precursor,
    Degraded,
    Recover,
}

impl Network {
    pub(in crate::data::synthetic) fn start(rng: &mut ChaCha8Rng) -> Network {
        Network { phase: Phase::Precursor, k: 0, left: steps_between(rng, 6, 15), severity: uniform(rng, 0.5, 1.5) }
    }

    pub(in crate::data::synthetic) fn apply(&mut self, cx: &mut Ctx<'_>, row: &mut Row) -> Outcome {
        self.k += 1;
        match self.phase {
            Phase::Precursor => {
                row.tx_drop = 0.25 * self.k as f64 * self.severity * (1.0 + 0.2 * normal(cx.rng)).max(0.1);
                let slow = 1.0 - 0.02 * self.k as f64;
                row.rx *= slow;
                row.tx *= slow;
                row.cpu += 0.05 * self.k as f64;
            }
            Phase::Degraded => {
                row.rx_drop = (self.severity * uniform(cx.rng, 1.0, 30.0)).max(0.1);
                row.tx_drop = self.severity * uniform(cx.rng, 3.0, 20.0);
                row.rx *= 0.5;
                row.tx *= 0.5;
                row.cpu += 1.0;
            }
            Phase::Recover => {
                row.tx_drop = (self.left as f64) * 0.3 * self.severity;
            }
        }
        self.left -= 1;
        if self.left == 0 {
            match self.phase {
                Phase::Precursor => {
                    self.phase = Phase::Degraded;
                    self.left = steps_between(cx.rng, 10, 35);
                }
                Phase::Degraded => {
                    self.phase = Phase::Recover;
                    self.left = steps_between(cx.rng, 3, 8);
                }
                Phase::Recover => return Outcome::Over { recreate: false },
            }
        }
        Outcome::Ongoing
    }
}
