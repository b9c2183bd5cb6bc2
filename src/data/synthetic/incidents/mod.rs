//! The incidents, one unit each: its state and phases, how it starts, and what it does to the
//! row of its pod at every step (the precursors, then the effects the default rules label).
//! A node's NotReady is a node's incident: it shapes the rows of every pod of the node.
//!
//! Every unit draws from the cluster's one stream, so the order of its draws is the output.

use rand_chacha::ChaCha8Rng;

use super::normal;
use super::row::{Event, Row};
use super::workloads::Template;

mod leak;
mod network;
mod node;
mod rollout;
mod saturation;

pub(super) use leak::Leak;
pub(super) use network::Network;
pub(super) use node::NodeState;
pub(super) use rollout::Rollout;
pub(super) use saturation::Saturation;

/// What a pod is going through.
#[derive(Clone, Debug)]
pub(super) enum Incident {
    None,
    Leak(Leak),
    Saturation(Saturation),
    Network(Network),
    Rollout(Rollout),
    /// Pod recreated (after a crash loop, rollback or node reboot): `left` rows of ContainerCreating.
    Recreate {
        left: usize,
    },
}

/// What an incident sees of its pod while it shapes the pod's row.
pub(super) struct Ctx<'a> {
    pub(super) rng: &'a mut ChaCha8Rng,
    pub(super) tpl: &'a Template,
    pub(super) step: usize,
    /// The pod slot.
    pub(super) slot: usize,
    /// The pod's load this step (season × workload × pod).
    pub(super) load: f64,
    pub(super) name: &'a str,
    pub(super) event: &'a mut Option<Event>,
}

/// How an incident's step ended.
pub(super) enum Outcome {
    Ongoing,
    /// The incident is over: the pod is recreated first if `recreate`, then rests a while.
    Over {
        recreate: bool,
    },
    /// The recreated pod's container has started.
    Started,
}

/// A recreated pod's row: a fresh container (its restarts back to `base_restarts`) being created.
pub(super) fn recreate(left: &mut usize, base_restarts: u32, cx: &mut Ctx<'_>, row: &mut Row) -> Outcome {
    row.status = "ContainerCreating";
    row.ready = 0;
    row.cpu = 0.5 + 0.1 * normal(cx.rng).abs();
    row.mem_pct = 5.0;
    row.rx *= 0.02;
    row.tx *= 0.02;
    row.restarts = base_restarts;
    *left -= 1;
    if *left == 0 {
        Outcome::Started
    } else {
        Outcome::Ongoing
    }
}
