//! Node NotReady: disk and network pressure on every pod of a node → the node goes NotReady
//! (`Node Name` carries `(NodeNotReady)`, pods `Unknown`, nothing ready) → containers restart
//! when it returns.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::Incident;
use crate::data::synthetic::cluster::Pod;
use crate::data::synthetic::row::{emit, Row};
use crate::data::synthetic::steps_between;

/// Per node-step probability that a node starts to fail.
const NODE_HAZARD: f64 = 1.0 / 5000.0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(in crate::data::synthetic) enum NodeState {
    Healthy,
    Pressure { k: usize, left: usize },
    NotReady { left: usize },
}

impl NodeState {
    /// The node's state at the next step; `cooldown` (steps a node stays healthy) counts down
    /// first and is set again when the node comes back.
    pub(in crate::data::synthetic) fn next(self, cooldown: &mut usize, rng: &mut ChaCha8Rng) -> NodeState {
        match self {
            NodeState::Healthy => {
                if *cooldown > 0 {
                    *cooldown -= 1;
                    NodeState::Healthy
                } else if rng.random::<f64>() < NODE_HAZARD {
                    NodeState::Pressure { k: 0, left: steps_between(rng, 6, 12) }
                } else {
                    NodeState::Healthy
                }
            }
            NodeState::Pressure { k, left } if left > 1 => NodeState::Pressure { k: k + 1, left: left - 1 },
            NodeState::Pressure { .. } => NodeState::NotReady { left: steps_between(rng, 5, 20) },
            NodeState::NotReady { left } if left > 1 => NodeState::NotReady { left: left - 1 },
            NodeState::NotReady { .. } => {
                *cooldown = steps_between(rng, 600, 1500);
                NodeState::Healthy
            }
        }
    }

    /// The node's condition on the row of one of its pods: it overrides what the pod shows.
    pub(in crate::data::synthetic) fn apply(self, pod: &mut Pod, step: usize, row: &mut Row) {
        match self {
            NodeState::Healthy => {
                if pod.was_down {
                    // The node is back: containers restart.
                    pod.was_down = false;
                    row.restarts += 1;
                    row.status = "ContainerCreating";
                    row.ready = 0;
                    row.cpu = 0.5;
                    row.mem_pct = 5.0;
                    emit(&mut pod.event, step, "NodeReady", || "Node is ready again; containers restarted".into());
                }
            }
            NodeState::Pressure { k, .. } => {
                let k = k as f64 + 1.0;
                row.cpu += 0.2 * k;
                row.tx_drop += 0.15 * k;
                row.fs_write *= (1.0 - 0.06 * k).max(0.2);
                row.rx *= (1.0 - 0.03 * k).max(0.5);
                row.tx *= (1.0 - 0.03 * k).max(0.5);
            }
            NodeState::NotReady { .. } => {
                row.node_not_ready = true;
                pod.was_down = true;
                pod.incident = Incident::None;
                pod.cooldown = 120;
                row.status = "Unknown";
                row.ready = 0;
                row.cpu = 0.0;
                row.mem_pct = pod.last_mem;
                row.rx = 0.0;
                row.tx = 0.0;
                row.fs_read = 0.0;
                row.fs_write = 0.0;
                row.rx_drop = 0.0;
                row.tx_drop = 0.0;
                emit(&mut pod.event, step, "NodeNotReady", || "Node is not ready".into());
            }
        }
    }
}
