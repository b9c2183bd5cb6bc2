//! [`RowParser`]: one CSV record of a resolved header → a [`RawRow`].

use std::sync::Arc;

use super::{is_missing_token, BadRow, RawRow, KEY_SEPARATOR};
use crate::data::features::{FeatureBuilder, FeaturePlan};
use crate::data::labels::{LabelRules, Labeler, TextFlags};
use crate::data::options::{FeatureColumns, LabelSource, LoadOptions, MissingPolicy, SchemaMode};
use crate::data::report::SkipReason;
use crate::data::schema::{self, LabelChoice, ResolvedSchema, SchemaKind};
use crate::data::time;
use crate::{Error, Result};

/// Parses records of one file into raw rows, after the header has been resolved.
#[derive(Clone, Debug)]
pub struct RowParser {
    source: String,
    schema: ResolvedSchema,
    /// The features to compute (the model's selection when scoring).
    plan: Arc<FeaturePlan>,
    rules: LabelRules,
    labeler: Option<Labeler>,
    missing: MissingPolicy,
}

impl RowParser {
    /// Resolves `header` (cleaned names) for `options`. `sample`: the first data records, only
    /// looked at by `--feature-columns all`.
    pub fn new(
        source: &str,
        header: &[String],
        options: &LoadOptions,
        sample: &[csv::StringRecord],
    ) -> Result<RowParser> {
        let label = LabelChoice { name: options.label_column.as_deref(), optional: options.label_column_optional };
        let schema = schema::resolve(source, header, &options.schema, label, sample)?;
        let raw_names = schema.raw_names();
        let full = match (&options.schema, schema.kind) {
            (SchemaMode::Generic(spec), _) => FeaturePlan::generic(&raw_names, spec.derived, options.missing)?,
            (SchemaMode::Auto, _) => FeaturePlan::kubernetes(&raw_names, options.missing),
        };
        let plan = match &options.select_features {
            Some(names) => full.select(source, names)?,
            None => full,
        };
        let labeler = match (&options.rules, schema.kind, schema.label) {
            (Some(rules), SchemaKind::Kubernetes, None) => Some(Labeler::new(rules.clone(), &raw_names)),
            _ => None,
        };
        Ok(RowParser {
            source: source.to_owned(),
            schema,
            plan: Arc::new(plan),
            rules: options.rules.clone().unwrap_or_default(),
            labeler,
            missing: options.missing,
        })
    }

    /// Reads the header record and builds the parser (for streams: the header is the first
    /// record). Errors on an empty input.
    pub fn from_header_record(source: &str, header: &csv::StringRecord, options: &LoadOptions) -> Result<RowParser> {
        if matches!(&options.schema, SchemaMode::Generic(g) if g.features == FeatureColumns::All) {
            return Err(Error::config(
                "--feature-columns all needs sample rows to find the numeric columns; name the columns when streaming",
            ));
        }
        RowParser::new(source, &schema::clean_header(source, header)?, options, &[])
    }

    /// This parser for another file with the same header: messages name `source`.
    pub fn for_source(&self, source: &str) -> RowParser {
        RowParser { source: source.to_owned(), ..self.clone() }
    }

    pub fn schema(&self) -> &ResolvedSchema {
        &self.schema
    }
    pub fn source(&self) -> &str {
        &self.source
    }
    /// The feature plan (shared by every builder of this load).
    pub fn plan(&self) -> &Arc<FeaturePlan> {
        &self.plan
    }
    pub fn feature_names(&self) -> &[String] {
        self.plan.names()
    }
    /// The numeric rules, when labels come from rules.
    pub fn labeler(&self) -> Option<&Labeler> {
        self.labeler.as_ref()
    }
    pub fn has_labels(&self) -> bool {
        self.labeler.is_some() || self.schema.label.is_some()
    }
    pub fn label_source(&self) -> LabelSource {
        match (&self.labeler, self.schema.label) {
            (Some(l), _) => LabelSource::Rules { rules: l.rules().clone() },
            (None, Some(c)) => LabelSource::Column { name: self.schema.header[c].clone() },
            (None, None) => LabelSource::None,
        }
    }
    /// A fresh per-series feature builder.
    pub fn new_builder(&self) -> FeatureBuilder {
        FeatureBuilder::new(self.plan.clone())
    }
    /// The label of an accepted row: the label cell, else the rules on the builder's current
    /// neighbourhood. Returns (label, rule mask).
    pub fn label_of(&self, row_label: Option<u8>, text: TextFlags, builder: &FeatureBuilder) -> Option<(u8, u16)> {
        if let Some(l) = row_label {
            return Some((l, 0));
        }
        self.labeler.as_ref().map(|lab| {
            let m = lab.rule_mask(text, &builder.neighbourhood());
            ((m != 0) as u8, m)
        })
    }

    fn bad(&self, reason: SkipReason, line: u64, column: Option<&str>, msg: String) -> BadRow {
        BadRow { reason, error: Error::input(&self.source, Some(line), column, msg) }
    }

    /// Parses `record` (at file line `line`) into `out`, reusing its buffers.
    pub fn parse(&self, record: &csv::StringRecord, line: u64, out: &mut RawRow) -> std::result::Result<(), BadRow> {
        let s = &self.schema;
        if record.len() != s.header.len() {
            return Err(self.bad(
                SkipReason::RaggedRow,
                line,
                None,
                format!("this row has {} fields but the header has {}", record.len(), s.header.len()),
            ));
        }
        out.key.clear();
        for (k, &g) in s.groups.iter().enumerate() {
            let v = &record[g];
            if v.is_empty() {
                return Err(self.bad(
                    SkipReason::BadLabelOrKey,
                    line,
                    Some(s.name(g)),
                    "empty series name: every row needs one".into(),
                ));
            }
            if k > 0 {
                out.key.push(KEY_SEPARATOR);
            }
            out.key.push_str(v);
        }
        out.timestamp = match s.time {
            Some(c) => {
                let t = &record[c];
                match time::parse_timestamp(t) {
                    Some(v) => Some(v),
                    None => {
                        return Err(self.bad(
                            SkipReason::BadTimestamp,
                            line,
                            Some(s.name(c)),
                            format!("cannot parse timestamp '{t}': {}", time::EXPECTED_FORMS),
                        ))
                    }
                }
            }
            None => None,
        };
        out.values.clear();
        for (k, &c) in s.raw.iter().enumerate() {
            let v = self.parse_number(&record[c], line, c, s.non_negative[k])?;
            out.values.push(v);
        }
        out.text = match (s.status, s.reason, s.node) {
            (Some(a), Some(b), Some(c)) if self.labeler.is_some() => {
                self.rules.text_flags(&record[a], &record[b], &record[c])
            }
            _ => 0,
        };
        out.label = match s.label {
            Some(c) => Some(parse_label(&record[c]).ok_or_else(|| {
                self.bad(
                    SkipReason::BadLabelOrKey,
                    line,
                    Some(s.name(c)),
                    format!("label '{}' is not 0 or 1", &record[c]),
                )
            })?),
            None => None,
        };
        Ok(())
    }

    fn parse_number(&self, text: &str, line: u64, col: usize, non_negative: bool) -> std::result::Result<f32, BadRow> {
        let name = self.schema.name(col);
        if is_missing_token(text) {
            if self.missing == MissingPolicy::Error {
                return Err(self.bad(
                    SkipReason::BadValue,
                    line,
                    Some(name),
                    format!("missing value '{text}' (--missing error; forward-fill, zero or drop would accept it)"),
                ));
            }
            return Ok(f32::NAN);
        }
        let v: f64 = match text.parse() {
            Ok(v) => v,
            Err(_) => {
                return Err(self.bad(SkipReason::BadValue, line, Some(name), format!("'{text}' is not a number")))
            }
        };
        if v.is_nan() {
            return Ok(f32::NAN); // spelled differently, e.g. "+nan"
        }
        if v.is_infinite() {
            return Err(self.bad(
                SkipReason::BadValue,
                line,
                Some(name),
                format!("infinite value '{text}': only finite numbers can be used"),
            ));
        }
        if v.abs() > f32::MAX as f64 {
            return Err(self.bad(
                SkipReason::BadValue,
                line,
                Some(name),
                format!("value {text} is beyond the f32 range (±3.4e38)"),
            ));
        }
        if non_negative && v < 0.0 {
            return Err(self.bad(
                SkipReason::BadValue,
                line,
                Some(name),
                format!("negative value {text}: this column counts or measures something and cannot be negative"),
            ));
        }
        Ok(v as f32)
    }
}

fn parse_label(text: &str) -> Option<u8> {
    match text {
        "0" | "0.0" => Some(0),
        "1" | "1.0" => Some(1),
        t if t.eq_ignore_ascii_case("false") => Some(0),
        t if t.eq_ignore_ascii_case("true") => Some(1),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_parse() {
        assert_eq!(parse_label("1"), Some(1));
        assert_eq!(parse_label("TRUE"), Some(1));
        assert_eq!(parse_label("0.0"), Some(0));
        assert_eq!(parse_label("2"), None);
        assert_eq!(parse_label(""), None);
    }
}
