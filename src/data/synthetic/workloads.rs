//! The cluster's twelve workloads: what a pod of each looks like at load 1.

pub(super) struct Template {
    pub(super) name: &'static str,
    pub(super) namespace: &'static str,
    /// A StatefulSet (ordinal pod names, never rolled out), else a Deployment.
    pub(super) stateful: bool,
    pub(super) containers: &'static [&'static str],
    pub(super) cpu: f64,       // % of one core at load 1
    pub(super) cpu_limit: f64, // % of one core
    pub(super) mem_limit: f64, // MB
    pub(super) mem_pct: f64,   // % of the limit at load 1
    pub(super) rx: f64,        // bytes per sample at load 1
    pub(super) tx_ratio: f64,
    pub(super) fs_read: f64,  // MB per sample
    pub(super) fs_write: f64, // MB per sample
    /// JVM/TSDB memory: saw-tooths up and drops at GC/compaction.
    pub(super) sawtooth: bool,
    /// Runs a report job every 2 h (a gentle CPU ramp).
    pub(super) batch: bool,
    /// Relative odds that an incident of this workload is a memory leak.
    pub(super) leak_weight: f64,
}

// One block per workload, its fields on a few lines by theme: identity, CPU/memory, network/disk, behaviour.
#[rustfmt::skip]
pub(super) const TEMPLATES: [Template; 12] = [
    Template {
        name: "web-frontend", namespace: "frontend", stateful: false, containers: &["nginx", "istio-proxy"],
        cpu: 12.0, cpu_limit: 100.0, mem_limit: 512.0, mem_pct: 35.0,
        rx: 4.0e7, tx_ratio: 1.6, fs_read: 0.4, fs_write: 0.2,
        sawtooth: false, batch: false, leak_weight: 0.5,
    },
    Template {
        name: "checkout", namespace: "frontend", stateful: false, containers: &["checkout", "istio-proxy"],
        cpu: 18.0, cpu_limit: 150.0, mem_limit: 1024.0, mem_pct: 45.0,
        rx: 2.0e7, tx_ratio: 1.1, fs_read: 0.3, fs_write: 0.3,
        sawtooth: false, batch: false, leak_weight: 1.0,
    },
    Template {
        name: "api-gateway", namespace: "backend", stateful: false, containers: &["gateway", "istio-proxy"],
        cpu: 25.0, cpu_limit: 200.0, mem_limit: 1024.0, mem_pct: 50.0,
        rx: 6.0e7, tx_ratio: 1.0, fs_read: 0.5, fs_write: 0.4,
        sawtooth: false, batch: false, leak_weight: 1.0,
    },
    Template {
        name: "orders", namespace: "backend", stateful: false, containers: &["orders-jvm"],
        cpu: 30.0, cpu_limit: 200.0, mem_limit: 2048.0, mem_pct: 55.0,
        rx: 1.5e7, tx_ratio: 0.9, fs_read: 1.0, fs_write: 2.0,
        sawtooth: true, batch: false, leak_weight: 3.0,
    },
    Template {
        name: "inventory", namespace: "backend", stateful: false, containers: &["inventory"],
        cpu: 15.0, cpu_limit: 100.0, mem_limit: 768.0, mem_pct: 40.0,
        rx: 8.0e6, tx_ratio: 1.2, fs_read: 0.8, fs_write: 0.6,
        sawtooth: false, batch: false, leak_weight: 1.0,
    },
    Template {
        name: "postgres", namespace: "data", stateful: true, containers: &["postgres"],
        cpu: 20.0, cpu_limit: 200.0, mem_limit: 4096.0, mem_pct: 65.0,
        rx: 1.2e7, tx_ratio: 2.5, fs_read: 30.0, fs_write: 20.0,
        sawtooth: false, batch: false, leak_weight: 0.5,
    },
    Template {
        name: "redis", namespace: "data", stateful: true, containers: &["redis"],
        cpu: 8.0, cpu_limit: 100.0, mem_limit: 1024.0, mem_pct: 50.0,
        rx: 3.0e7, tx_ratio: 1.3, fs_read: 0.1, fs_write: 2.0,
        sawtooth: false, batch: false, leak_weight: 1.0,
    },
    Template {
        name: "prometheus", namespace: "monitoring", stateful: true, containers: &["prometheus", "config-reloader"],
        cpu: 22.0, cpu_limit: 200.0, mem_limit: 4096.0, mem_pct: 55.0,
        rx: 2.5e7, tx_ratio: 0.2, fs_read: 5.0, fs_write: 15.0,
        sawtooth: true, batch: false, leak_weight: 3.0,
    },
    Template {
        name: "coredns", namespace: "kube-system", stateful: false, containers: &["coredns"],
        cpu: 4.0, cpu_limit: 100.0, mem_limit: 170.0, mem_pct: 30.0,
        rx: 5.0e6, tx_ratio: 1.0, fs_read: 0.01, fs_write: 0.01,
        sawtooth: false, batch: false, leak_weight: 0.3,
    },
    Template {
        name: "report-worker", namespace: "batch", stateful: false, containers: &["worker"],
        cpu: 10.0, cpu_limit: 100.0, mem_limit: 1024.0, mem_pct: 40.0,
        rx: 3.0e6, tx_ratio: 0.5, fs_read: 4.0, fs_write: 3.0,
        sawtooth: false, batch: true, leak_weight: 1.5,
    },
    Template {
        name: "payment-service", namespace: "payments", stateful: false, containers: &["payments", "envoy", "log-shipper"],
        cpu: 14.0, cpu_limit: 150.0, mem_limit: 512.0, mem_pct: 45.0,
        rx: 1.0e7, tx_ratio: 1.0, fs_read: 0.2, fs_write: 0.5,
        sawtooth: false, batch: false, leak_weight: 1.0,
    },
    Template {
        name: "fluent-bit", namespace: "logging", stateful: false, containers: &["fluent-bit"],
        cpu: 6.0, cpu_limit: 100.0, mem_limit: 256.0, mem_pct: 40.0,
        rx: 2.0e6, tx_ratio: 3.0, fs_read: 5.0, fs_write: 0.5,
        sawtooth: false, batch: false, leak_weight: 0.5,
    },
];
