//! Failed rollout: an image pull (disk reads surge) → the new version fails readiness
//! (`Unhealthy`), liveness restarts with `Error` rows → rolled back (the pod is recreated).

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{Ctx, Outcome};
use crate::data::synthetic::row::{emit, Row};
use crate::data::synthetic::{steps_between, uniform};

#[derive(Clone, Debug)]
pub(in crate::data::synthetic) struct Rollout {
    phase: Phase,
    /// Steps since the incident started.
    k: usize,
    /// Steps left in the phase.
    left: usize,
    /// Steps to the next liveness kill.
    next_kill: usize,
    /// The new image's minor version.
    version: u32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    Pulling,
    Failing,
}

impl Rollout {
    pub(in crate::data::synthetic) fn start(rng: &mut ChaCha8Rng) -> Rollout {
        Rollout {
            phase: Phase::Pulling,
            k: 0,
            left: steps_between(rng, 2, 4),
            next_kill: steps_between(rng, 4, 8),
            version: rng.random_range(10..60),
        }
    }

    pub(in crate::data::synthetic) fn apply(&mut self, cx: &mut Ctx<'_>, row: &mut Row) -> Outcome {
        let tpl = cx.tpl;
        let step = cx.step;
        self.k += 1;
        match self.phase {
            Phase::Pulling => {
                // Unpacking layers: disk reads surge, CPU creeps up (no spike).
                row.fs_read += uniform(cx.rng, 60.0, 200.0);
                row.cpu += 0.25 * self.k as f64;
                let (name, v) = (tpl.name, self.version);
                emit(cx.event, step, "Pulling", || format!("Pulling image \"registry.local/{name}:v1.{v}\""));
                self.left -= 1;
                if self.left == 0 {
                    self.phase = Phase::Failing;
                    self.left = steps_between(cx.rng, 15, 45);
                }
            }
            Phase::Failing => {
                row.ready = row.total - 1;
                row.cpu *= 0.4;
                row.rx *= 0.3;
                row.tx *= 0.3;
                self.next_kill -= 1;
                if self.next_kill == 0 {
                    row.status = "Error";
                    row.restarts += 1;
                    self.next_kill = steps_between(cx.rng, 4, 8);
                }
                emit(cx.event, step, "Unhealthy", || {
                    "Readiness probe failed: HTTP probe failed with statuscode: 503".to_string()
                });
                self.left -= 1;
                if self.left == 0 {
                    let container = tpl.containers[0];
                    emit(cx.event, step, "Killing", || {
                        format!("Stopping container {container}: rolled back to the previous revision")
                    });
                    return Outcome::Over { recreate: true };
                }
            }
        }
        Outcome::Ongoing
    }
}
