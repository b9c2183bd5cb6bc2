//! CPU saturation: traffic ramps up (CPU rising < 0.5/min, network with it) → CPU spikes
//! (> 0.5/min) to its limit → readiness probes time out (ready < total) → load subsides.

use rand_chacha::ChaCha8Rng;

use super::{Ctx, Outcome};
use crate::data::synthetic::row::{emit, Row};
use crate::data::synthetic::{steps_between, uniform};

#[derive(Clone, Debug)]
pub(in crate::data::synthetic) struct Saturation {
    phase: Phase,
    /// CPU points above normal; traffic grows in proportion.
    extra: f64,
    /// CPU points gained per step of the ramp.
    slope: f64,
    /// Steps left in the phase.
    left: usize,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    /// Gentle: under the 0.5/step spike rule.
    Ramp,
    /// Steep, until CPU nears its limit.
    Surge,
    Saturated,
    Recover,
}

impl Saturation {
    pub(in crate::data::synthetic) fn start(rng: &mut ChaCha8Rng) -> Saturation {
        Saturation { phase: Phase::Ramp, extra: 0.0, slope: uniform(rng, 0.12, 0.25), left: steps_between(rng, 10, 25) }
    }

    pub(in crate::data::synthetic) fn apply(&mut self, cx: &mut Ctx<'_>, row: &mut Row) -> Outcome {
        let tpl = cx.tpl;
        let mut outcome = Outcome::Ongoing;
        match self.phase {
            Phase::Ramp => {
                self.extra += self.slope;
                self.left -= 1;
                if self.left == 0 {
                    self.phase = Phase::Surge;
                }
            }
            Phase::Surge => {
                self.extra += uniform(cx.rng, 4.0, 12.0);
                if tpl.cpu * cx.load + self.extra >= 0.95 * tpl.cpu_limit {
                    self.phase = Phase::Saturated;
                    self.left = steps_between(cx.rng, 10, 35);
                }
            }
            Phase::Saturated => {
                self.left -= 1;
                if self.left == 0 {
                    self.phase = Phase::Recover;
                    self.left = steps_between(cx.rng, 6, 15);
                }
            }
            Phase::Recover => {
                self.extra *= 1.0 - 1.0 / (self.left as f64 + 1.0);
                self.left -= 1;
                if self.left == 0 {
                    outcome = Outcome::Over { recreate: false };
                }
            }
        }
        let traffic = 1.0 + self.extra / tpl.cpu;
        if self.phase == Phase::Saturated {
            row.cpu = tpl.cpu_limit * uniform(cx.rng, 0.92, 1.0);
            row.ready = row.total - 1;
            row.rx *= traffic.min(3.0);
            row.tx *= 0.6;
            let (step, slot) = (cx.step, cx.slot);
            emit(cx.event, step, "Unhealthy", || {
                format!(
                    "Readiness probe failed: Get \"http://10.0.{}.{}:8080/ready\": context deadline exceeded",
                    step % 200,
                    slot % 250
                )
            });
        } else {
            row.cpu = (row.cpu + self.extra).min(tpl.cpu_limit);
            row.rx *= traffic.min(3.0);
            row.tx *= traffic.min(3.0);
        }
        outcome
    }
}
