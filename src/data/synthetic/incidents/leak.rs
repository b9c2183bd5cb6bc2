//! Memory leak: memory climbs for hours → `Memory Usage (%)` > 95 → an `OOMKilled` row with
//! event `OOMKilling` → `CrashLoopBackOff` cycles (no ready containers, restarts rising past 5,
//! fast re-leaks) → the pod is recreated.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{Ctx, Outcome};
use crate::data::synthetic::row::{emit, Row};
use crate::data::synthetic::{normal, uniform};

#[derive(Clone, Debug)]
pub(in crate::data::synthetic) struct Leak {
    phase: Phase,
    /// Memory points gained per step while growing.
    rate: f64,
    /// Memory leaked so far (points above the normal level).
    extra: f64,
    /// OOM kills so far.
    cycles: u32,
    max_cycles: u32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    Growing,
    Backoff {
        left: usize,
    },
    /// Restarted after a kill: leaks 25 times faster, from a low level.
    Restarting,
}

impl Leak {
    pub(in crate::data::synthetic) fn start(rng: &mut ChaCha8Rng) -> Leak {
        Leak {
            phase: Phase::Growing,
            rate: uniform(rng, 0.15, 0.5),
            extra: 0.0,
            cycles: 0,
            max_cycles: rng.random_range(3..=6),
        }
    }

    pub(in crate::data::synthetic) fn apply(&mut self, cx: &mut Ctx<'_>, row: &mut Row) -> Outcome {
        let tpl = cx.tpl;
        let step = cx.step;
        let container = tpl.containers[0];
        match self.phase {
            Phase::Growing | Phase::Restarting => {
                let r = if self.phase == Phase::Growing { self.rate } else { self.rate * 25.0 };
                self.extra += r * (1.0 + 0.2 * normal(cx.rng)).max(0.2);
                let level = if self.phase == Phase::Growing { row.mem_pct } else { 0.45 * tpl.mem_pct };
                row.mem_pct = level + self.extra;
                row.cpu += (self.extra / 40.0) * 0.2 * tpl.cpu; // GC pressure
                if self.phase == Phase::Restarting {
                    row.ready = row.total - 1;
                    row.cpu += 0.5 * tpl.cpu;
                }
                if row.mem_pct >= 99.3 {
                    row.mem_pct = uniform(cx.rng, 99.3, 99.95);
                    row.status = "OOMKilled";
                    row.restarts += 1;
                    self.cycles += 1;
                    emit(cx.event, step, "OOMKilling", || {
                        format!("Memory cgroup out of memory: Killed process {} ({container})", 1000 + step % 30000)
                    });
                    self.extra = 0.0;
                    self.phase = if self.cycles >= 2 {
                        Phase::Backoff { left: (self.cycles as usize - 1).min(5) }
                    } else {
                        Phase::Restarting
                    };
                    if self.cycles > self.max_cycles {
                        return Outcome::Over { recreate: true };
                    }
                }
            }
            Phase::Backoff { left } => {
                row.status = "CrashLoopBackOff";
                row.ready = 0;
                row.cpu = 0.3 + 0.05 * normal(cx.rng).abs();
                row.mem_pct = 2.0 + 0.2 * normal(cx.rng).abs();
                row.rx *= 0.01;
                row.tx *= 0.01;
                row.fs_read *= 0.05;
                row.fs_write *= 0.05;
                let name = cx.name;
                emit(cx.event, step, "BackOff", || {
                    format!("Back-off restarting failed container {container} in pod {name}")
                });
                self.phase = if left > 1 { Phase::Backoff { left: left - 1 } } else { Phase::Restarting };
            }
        }
        Outcome::Ongoing
    }
}
