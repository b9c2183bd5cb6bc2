//! Labels from rules, for Kubernetes data without a label column.
//!
//! A row is anomalous when any enabled rule fires (the original project's nine rules; their
//! defaults are in `rules.toml` beside this file, which doubles as the documented example for
//! `--rules FILE`). The three text rules are decided while parsing a row and kept as bits
//! ([`TextFlags`]); the numeric ones are evaluated on the row's filled neighbourhood with the
//! same [`Derivation`]s the features use, so `CPU Usage (%)_rate > 0.5` means exactly the
//! feature value the model sees.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::features::{Derivation, Neighbourhood};
use super::schema;
use crate::artifacts::bounded::{read_bounded_string, TOML_LIMIT};
use crate::{Error, Result};

/// The default rules file (also the documented example).
pub const DEFAULT_RULES_TOML: &str = include_str!("rules.toml");

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValuesRule {
    #[serde(default = "yes")]
    pub enabled: bool,
    pub values: Vec<String>,
}
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainsRule {
    #[serde(default = "yes")]
    pub enabled: bool,
    pub contains: String,
}
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AboveRule {
    #[serde(default = "yes")]
    pub enabled: bool,
    pub above: f64,
}
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BelowRule {
    #[serde(default = "yes")]
    pub enabled: bool,
    pub below: f64,
}
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchRule {
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// What a rules file says about one rule, laid over the rule's default.
trait Over<R> {
    fn over(self, rule: R) -> R;
}

/// `rule` with what `file` (if the rule is in the file) sets.
fn over<P: Over<R>, R>(file: Option<P>, rule: R) -> R {
    match file {
        Some(p) => p.over(rule),
        None => rule,
    }
}

/// A rule as a rules file spells it: every key optional; what is left out keeps the default.
macro_rules! partial_rule {
    ($name:ident, $rule:ident $(, $field:ident: $ty:ty)?) => {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct $name {
            enabled: Option<bool>,
            $($field: Option<$ty>,)?
        }
        impl Over<$rule> for $name {
            fn over(self, mut rule: $rule) -> $rule {
                if let Some(enabled) = self.enabled {
                    rule.enabled = enabled;
                }
                $(if let Some(v) = self.$field {
                    rule.$field = v;
                })?
                rule
            }
        }
    };
}
partial_rule!(PartialValues, ValuesRule, values: Vec<String>);
partial_rule!(PartialContains, ContainsRule, contains: String);
partial_rule!(PartialAbove, AboveRule, above: f64);
partial_rule!(PartialBelow, BelowRule, below: f64);
partial_rule!(PartialSwitch, SwitchRule);

/// A `--rules` file: every rule optional.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    pod_status: Option<PartialValues>,
    event_reason: Option<PartialValues>,
    node_not_ready: Option<PartialContains>,
    packets_dropped: Option<PartialAbove>,
    containers_not_ready: Option<PartialSwitch>,
    cpu_spike: Option<PartialAbove>,
    memory_high: Option<PartialAbove>,
    readiness_low: Option<PartialBelow>,
    restarts_high: Option<PartialAbove>,
}

impl RulesFile {
    /// `defaults` with what the file sets.
    fn over(self, d: LabelRules) -> LabelRules {
        LabelRules {
            pod_status: over(self.pod_status, d.pod_status),
            event_reason: over(self.event_reason, d.event_reason),
            node_not_ready: over(self.node_not_ready, d.node_not_ready),
            packets_dropped: over(self.packets_dropped, d.packets_dropped),
            containers_not_ready: over(self.containers_not_ready, d.containers_not_ready),
            cpu_spike: over(self.cpu_spike, d.cpu_spike),
            memory_high: over(self.memory_high, d.memory_high),
            readiness_low: over(self.readiness_low, d.readiness_low),
            restarts_high: over(self.restarts_high, d.restarts_high),
        }
    }
}

/// The labelling rules and their thresholds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LabelRules {
    pub pod_status: ValuesRule,
    pub event_reason: ValuesRule,
    pub node_not_ready: ContainsRule,
    pub packets_dropped: AboveRule,
    pub containers_not_ready: SwitchRule,
    pub cpu_spike: AboveRule,
    pub memory_high: AboveRule,
    pub readiness_low: BelowRule,
    pub restarts_high: AboveRule,
}

impl Default for LabelRules {
    fn default() -> Self {
        let values = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        LabelRules {
            pod_status: ValuesRule { enabled: true, values: values(&["CrashLoopBackOff", "Error", "Unknown"]) },
            event_reason: ValuesRule { enabled: true, values: values(&["OOMKilling"]) },
            node_not_ready: ContainsRule { enabled: true, contains: "NodeNotReady".into() },
            packets_dropped: AboveRule { enabled: true, above: 0.0 },
            containers_not_ready: SwitchRule { enabled: true },
            cpu_spike: AboveRule { enabled: true, above: 0.5 },
            memory_high: AboveRule { enabled: true, above: 95.0 },
            readiness_low: BelowRule { enabled: true, below: 0.5 },
            restarts_high: AboveRule { enabled: true, above: 5.0 },
        }
    }
}

/// Rule names, in report order (bit `i` of a rule mask is rule `RULE_NAMES[i]`).
pub const RULE_NAMES: [&str; 9] = [
    "pod_status",
    "event_reason",
    "node_not_ready",
    "packets_dropped",
    "containers_not_ready",
    "cpu_spike",
    "memory_high",
    "readiness_low",
    "restarts_high",
];

impl LabelRules {
    /// Parses a rules file. A rule left out keeps its default, and so does a key left out of
    /// a rule: `[cpu_spike]` with only `enabled = false` switches the rule off, and one with
    /// only `above = 0.8` changes its threshold.
    pub fn from_toml(text: &str, file: &str) -> Result<LabelRules> {
        let parsed: RulesFile = toml::from_str(text).map_err(|e| {
            Error::input(file, None, None, format!("bad rules file: {}", crate::error::toml_error(text, &e)))
        })?;
        let rules = parsed.over(LabelRules::default());
        rules.validate(file)?;
        Ok(rules)
    }

    pub fn from_file(path: &Path) -> Result<LabelRules> {
        let text = read_bounded_string(path, TOML_LIMIT).map_err(|e| Error::io("read the rules file", path, e))?;
        Self::from_toml(&text, &path.display().to_string())
    }

    fn validate(&self, file: &str) -> Result<()> {
        for (name, v) in [
            ("packets_dropped.above", self.packets_dropped.above),
            ("cpu_spike.above", self.cpu_spike.above),
            ("memory_high.above", self.memory_high.above),
            ("readiness_low.below", self.readiness_low.below),
            ("restarts_high.above", self.restarts_high.above),
        ] {
            if !v.is_finite() {
                return Err(Error::input(file, None, None, format!("rule threshold {name} must be a finite number")));
            }
        }
        Ok(())
    }

    /// One line per rule: what it tests, for reports.
    pub fn descriptions(&self) -> [String; 9] {
        let onoff = |e: bool, s: String| if e { s } else { format!("{s} (disabled)") };
        [
            onoff(self.pod_status.enabled, format!("{} in {:?}", schema::POD_STATUS, self.pod_status.values)),
            onoff(self.event_reason.enabled, format!("{} in {:?}", schema::EVENT_REASON, self.event_reason.values)),
            onoff(
                self.node_not_ready.enabled,
                format!("{} contains {:?}", schema::NODE_NAME, self.node_not_ready.contains),
            ),
            onoff(self.packets_dropped.enabled, format!("{} > {}", schema::NET_RX_DROPPED, self.packets_dropped.above)),
            onoff(
                self.containers_not_ready.enabled,
                format!("{} < {}", schema::READY_CONTAINERS, schema::TOTAL_CONTAINERS),
            ),
            onoff(self.cpu_spike.enabled, format!("{}_rate > {}", schema::CPU_USAGE, self.cpu_spike.above)),
            onoff(self.memory_high.enabled, format!("{} > {}", schema::MEMORY_PERCENT, self.memory_high.above)),
            onoff(self.readiness_low.enabled, format!("Container_Readiness_Ratio < {}", self.readiness_low.below)),
            onoff(self.restarts_high.enabled, format!("{} > {}", schema::POD_RESTARTS, self.restarts_high.above)),
        ]
    }

    /// Bits 0..3 of a rule mask, decided from the row's text cells.
    pub fn text_flags(&self, status: &str, reason: &str, node: &str) -> TextFlags {
        let mut f = 0u16;
        if self.pod_status.enabled && self.pod_status.values.iter().any(|v| v == status) {
            f |= 1 << 0;
        }
        if self.event_reason.enabled && self.event_reason.values.iter().any(|v| v == reason) {
            f |= 1 << 1;
        }
        if self.node_not_ready.enabled
            && !self.node_not_ready.contains.is_empty()
            && node.contains(&self.node_not_ready.contains)
        {
            f |= 1 << 2;
        }
        f
    }
}

/// Rule bits decided from text cells (bits 0, 1, 2 of a rule mask).
pub type TextFlags = u16;

/// The numeric rules bound to the raw columns of a Kubernetes load.
#[derive(Clone, Debug)]
pub struct Labeler {
    rules: LabelRules,
    rx_dropped: usize,
    ready: usize,
    total: usize,
    cpu: usize,
    memory: usize,
    restarts: usize,
}

impl Labeler {
    /// `raw_names`: the raw numeric columns `(R,)` of a Kubernetes load.
    pub fn new(rules: LabelRules, raw_names: &[String]) -> Labeler {
        let col = |n: &str| raw_names.iter().position(|r| r == n).unwrap_or_else(|| panic!("{n} is required"));
        Labeler {
            rx_dropped: col(schema::NET_RX_DROPPED),
            ready: col(schema::READY_CONTAINERS),
            total: col(schema::TOTAL_CONTAINERS),
            cpu: col(schema::CPU_USAGE),
            memory: col(schema::MEMORY_PERCENT),
            restarts: col(schema::POD_RESTARTS),
            rules,
        }
    }

    pub fn rules(&self) -> &LabelRules {
        &self.rules
    }

    /// The mask of rules that fire on the neighbourhood's current row; the label is `mask != 0`.
    pub fn rule_mask(&self, text: TextFlags, nb: &Neighbourhood<'_>) -> u16 {
        let r = &self.rules;
        let val = |d: Derivation| d.eval(nb) as f64;
        let mut m = text;
        if r.packets_dropped.enabled && val(Derivation::Raw(self.rx_dropped)) > r.packets_dropped.above {
            m |= 1 << 3;
        }
        if r.containers_not_ready.enabled && val(Derivation::Raw(self.ready)) < val(Derivation::Raw(self.total)) {
            m |= 1 << 4;
        }
        if r.cpu_spike.enabled && val(Derivation::Rate(self.cpu)) > r.cpu_spike.above {
            m |= 1 << 5;
        }
        if r.memory_high.enabled && val(Derivation::Raw(self.memory)) > r.memory_high.above {
            m |= 1 << 6;
        }
        if r.readiness_low.enabled
            && val(Derivation::Ratio { num: self.ready, den: self.total }) < r.readiness_low.below
        {
            m |= 1 << 7;
        }
        if r.restarts_high.enabled && val(Derivation::Raw(self.restarts)) > r.restarts_high.above {
            m |= 1 << 8;
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_file_is_the_default() {
        assert_eq!(LabelRules::from_toml(DEFAULT_RULES_TOML, "rules.toml").unwrap(), LabelRules::default());
    }

    #[test]
    fn partial_file_keeps_defaults() {
        let r = LabelRules::from_toml("[cpu_spike]\nabove = 2.5\n[restarts_high]\nenabled = false\nabove = 5\n", "r")
            .unwrap();
        assert_eq!(r.cpu_spike.above, 2.5);
        assert!(!r.restarts_high.enabled);
        assert_eq!(r.memory_high, LabelRules::default().memory_high);
    }

    #[test]
    fn unknown_keys_are_errors() {
        let e = LabelRules::from_toml("[cpu_spik]\nabove = 1\n", "rules.toml").unwrap_err().to_string();
        assert!(e.contains("rules.toml") && e.contains("cpu_spik"), "{e}");
        let e = LabelRules::from_toml("[cpu_spike]\nabove = nan\n", "r.toml").unwrap_err().to_string();
        assert!(e.contains("finite"), "{e}");
        let e = LabelRules::from_toml("[cpu_spike]\nabov = 1\n", "r.toml").unwrap_err().to_string();
        assert!(e.starts_with("r.toml: bad rules file: line 2, column 1: unknown field `abov`"), "{e}");
        assert!(!e.contains('\n'), "{e}");
        let e = LabelRules::from_toml("[memory_high]\nabove = \"high\"\n", "r.toml").unwrap_err().to_string();
        assert!(e.starts_with("r.toml: bad rules file: line 2, column 9:"), "{e}");
    }

    #[test]
    fn a_rule_switched_off_needs_no_threshold() {
        let r = LabelRules::from_toml("[cpu_spike]\nenabled = false\n[containers_not_ready]\nenabled = false\n", "r")
            .unwrap();
        let want = LabelRules {
            cpu_spike: AboveRule { enabled: false, above: 0.5 },
            containers_not_ready: SwitchRule { enabled: false },
            ..LabelRules::default()
        };
        assert_eq!(r, want);
        let r = LabelRules::from_toml("[pod_status]\nvalues = [\"Error\"]\n[readiness_low]\n", "r").unwrap();
        assert_eq!(r.pod_status, ValuesRule { enabled: true, values: vec!["Error".into()] });
        assert_eq!(r.readiness_low, LabelRules::default().readiness_low);
    }

    #[test]
    fn rules_fire() {
        let raw: Vec<String> = schema::NUMERIC[..12].iter().map(|s| s.to_string()).collect();
        let lab = Labeler::new(LabelRules::default(), &raw);
        // cpu, mem%, restarts, memMB, rx, tx, fsr, fsw, rxdrop, txdrop, ready, total
        let quiet = [10.0, 50.0, 0.0, 100.0, 1e6, 1e6, 1.0, 1.0, 0.0, 0.0, 2.0, 2.0];
        assert_eq!(lab.rule_mask(0, &Neighbourhood::from_rows(&[&quiet])), 0);
        let mut hot = quiet;
        hot[0] = 10.6;
        hot[1] = 95.5;
        hot[2] = 6.0;
        hot[8] = 0.1;
        hot[10] = 0.0;
        let m = lab.rule_mask(0, &Neighbourhood::from_rows(&[&hot, &quiet]));
        assert_eq!(m, 0b1_1111_1000);
        let flags = LabelRules::default().text_flags("CrashLoopBackOff", "OOMKilling", "worker-1 (NodeNotReady)");
        assert_eq!(flags, 0b111);
        assert_eq!(LabelRules::default().text_flags("Running", "BackOff", "worker-1"), 0);
    }
}
