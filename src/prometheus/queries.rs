//! The columns a pull makes: one PromQL expression per numeric column, alternatives with label
//! templates per text column, and the labels that name a series.
//!
//! The Kubernetes schema ships as [`KUBERNETES_TOML`] (`src/prometheus/kubernetes.toml`); a
//! user's `--queries FILE` has the same form, and `--query NAME=PROMQL` builds a generic set.
//! A set is saved in the model, so `detect` pulls the same columns the model was trained on.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::artifacts::bounded::{read_bounded_string, TOML_LIMIT};
use crate::data::schema;
use crate::{Error, Result};

/// The Kubernetes schema's queries, as shipped.
pub const KUBERNETES_TOML: &str = include_str!("kubernetes.toml");

/// The name of the time column of the rows a pull makes.
pub const TIME_COLUMN: &str = "Timestamp";

/// A query set: what to ask Prometheus for, and the columns the answers become.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuerySet {
    /// Labels whose values name a series (`namespace`, `pod`).
    pub group_labels: Vec<String>,
    /// The CSV columns those labels become (default: the label names).
    #[serde(default)]
    pub group_columns: Vec<String>,
    #[serde(rename = "column")]
    pub columns: Vec<Column>,
}

/// One output column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    pub name: String,
    /// A numeric column: one series per group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// A text column: alternatives tried in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub text: Vec<TextChoice>,
}

/// One alternative of a text column: where `query` has a series with a value > 0 for the
/// group, the text is `template` with `{label}` filled from that series' labels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextChoice {
    pub template: String,
    pub query: String,
}

impl Column {
    pub fn is_text(&self) -> bool {
        self.query.is_none()
    }
}

/// Fills `{window}` and `{step}` in a query.
pub fn expand(query: &str, window: &str, step: u64) -> String {
    query.replace("{window}", window).replace("{step}", &step.to_string())
}

/// Fills `{label}` placeholders of a template from a series' labels (missing labels: empty).
pub fn fill_template(template: &str, labels: &[(String, String)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        match rest[open..].find('}') {
            Some(close) => {
                let name = &rest[open + 1..open + close];
                if let Some((_, v)) = labels.iter().find(|(k, _)| k == name) {
                    out.push_str(v);
                }
                rest = &rest[open + close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

impl QuerySet {
    /// The shipped Kubernetes set.
    pub fn kubernetes() -> QuerySet {
        QuerySet::parse(KUBERNETES_TOML, "the built-in Kubernetes queries").expect("kubernetes.toml is valid")
    }

    /// Reads a `--queries` file.
    pub fn from_file(path: &Path) -> Result<QuerySet> {
        let text = read_bounded_string(path, TOML_LIMIT).map_err(|e| Error::io("read", path, e))?;
        QuerySet::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, source: &str) -> Result<QuerySet> {
        let mut set: QuerySet = toml::from_str(text).map_err(|e| {
            Error::config(format!("{source}: not a valid queries file: {}", crate::error::toml_error(text, &e)))
        })?;
        if set.group_columns.is_empty() {
            set.group_columns = set.group_labels.clone();
        }
        set.validate(source)?;
        Ok(set)
    }

    /// A generic set from `--query NAME=PROMQL` flags, grouped by `group_labels`.
    pub fn generic(queries: &[String], group_labels: &[String]) -> Result<QuerySet> {
        let mut columns = Vec::new();
        for q in queries {
            let (name, query) = q.split_once('=').ok_or_else(|| {
                Error::config(format!("--query '{q}' needs the form NAME=PROMQL, e.g. cpu=sum by (pod) (rate(x[5m]))"))
            })?;
            columns.push(Column { name: name.trim().to_owned(), query: Some(query.trim().to_owned()), text: vec![] });
        }
        let set = QuerySet { group_labels: group_labels.to_vec(), group_columns: group_labels.to_vec(), columns };
        set.validate("--query")?;
        Ok(set)
    }

    fn validate(&self, source: &str) -> Result<()> {
        let bad = |m: String| Err(Error::config(format!("{source}: {m}")));
        if self.columns.is_empty() {
            return bad("no columns: name at least one query".into());
        }
        if self.group_columns.len() != self.group_labels.len() {
            return bad(format!(
                "group_columns names {} columns for {} group_labels",
                self.group_columns.len(),
                self.group_labels.len()
            ));
        }
        let mut names: Vec<&str> = vec![TIME_COLUMN];
        names.extend(self.group_columns.iter().map(String::as_str));
        for c in &self.columns {
            if c.name.is_empty() || c.name.contains(',') || c.name.contains('\n') || c.name.contains('"') {
                return bad(format!("column name '{}' must be non-empty, without commas, quotes or newlines", c.name));
            }
            if names.contains(&c.name.as_str()) {
                return bad(format!("column '{}' is named twice", c.name));
            }
            names.push(&c.name);
            match (&c.query, c.text.is_empty()) {
                (Some(q), true) if !q.trim().is_empty() => {}
                (None, false) if c.text.iter().all(|t| !t.query.trim().is_empty()) => {}
                _ => return bad(format!("column '{}' needs either a query or a list of text alternatives", c.name)),
            }
        }
        Ok(())
    }

    /// Whether the columns are the Kubernetes schema (its required columns, grouped by
    /// namespace and pod), so the Kubernetes features and labelling rules apply.
    pub fn is_kubernetes(&self) -> bool {
        self.group_columns == [schema::NAMESPACE, schema::POD_NAME]
            && schema::REQUIRED
                .iter()
                .filter(|c| ![schema::TIMESTAMP, schema::NAMESPACE, schema::POD_NAME].contains(c))
                .all(|c| self.columns.iter().any(|col| col.name == *c))
    }

    /// Whether a column may be left out when the server has no series for it.
    pub fn is_optional(&self, column: &Column) -> bool {
        !self.is_kubernetes() || !schema::REQUIRED.contains(&column.name.as_str()) || column.is_text()
    }

    /// Numeric column names in order (the generic mode's feature columns).
    pub fn numeric_names(&self) -> Vec<String> {
        self.columns.iter().filter(|c| !c.is_text()).map(|c| c.name.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_set_is_the_kubernetes_schema() {
        let set = QuerySet::kubernetes();
        assert!(set.is_kubernetes());
        for c in schema::REQUIRED.iter().chain(&[schema::CPU_LIMITS, schema::MEMORY_LIMITS]) {
            if ![schema::TIMESTAMP, schema::NAMESPACE, schema::POD_NAME].contains(c) {
                assert!(set.columns.iter().any(|col| col.name == *c), "{c} has no query");
            }
        }
        let cpu = set.columns.iter().find(|c| c.name == schema::CPU_USAGE).unwrap();
        assert!(!set.is_optional(cpu));
        let limits = set.columns.iter().find(|c| c.name == schema::CPU_LIMITS).unwrap();
        assert!(set.is_optional(limits));
    }

    #[test]
    fn templates_and_placeholders() {
        let labels = vec![("node".to_string(), "n1".to_string()), ("phase".to_string(), "Running".to_string())];
        assert_eq!(fill_template("{node} (NodeNotReady)", &labels), "n1 (NodeNotReady)");
        assert_eq!(fill_template("{phase}", &labels), "Running");
        assert_eq!(fill_template("{absent}x", &labels), "x");
        assert_eq!(fill_template("a{b", &labels), "a{b");
        assert_eq!(expand("rate(x[{window}]) * {step}", "2m", 60), "rate(x[2m]) * 60");
    }

    #[test]
    fn generic_sets_and_bad_files() {
        let set = QuerySet::generic(&["cpu=sum by (pod) (rate(x[5m]))".into()], &["pod".into()]).unwrap();
        assert!(!set.is_kubernetes());
        assert_eq!(set.numeric_names(), ["cpu"]);
        assert_eq!(set.columns[0].query.as_deref(), Some("sum by (pod) (rate(x[5m]))"));
        assert!(QuerySet::generic(&["cpu".into()], &["pod".into()]).is_err());
        assert!(QuerySet::generic(&["a=x".into(), "a=y".into()], &["pod".into()]).is_err());
        assert!(QuerySet::generic(&["pod=x".into()], &["pod".into()]).is_err());
        let err = QuerySet::parse("group_labels = [\"pod\"]\n[[column]]\nname = \"x\"\n", "q.toml").unwrap_err();
        assert!(err.to_string().contains("needs either a query"), "{err}");
        let err = QuerySet::parse("group_labels = 3", "q.toml").unwrap_err();
        assert!(err.to_string().starts_with("q.toml: not a valid queries file: line 1, column 16: "), "{err}");
        assert!(!err.to_string().contains('\n'), "{err}");
    }
}
