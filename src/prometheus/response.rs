//! Prometheus's JSON answers, parsed as they stream in (`serde_json::from_reader`): a range
//! query's matrix becomes compact `(time, value)` pairs per series, and the JSON text is never
//! held whole.
//!
//! ```text
//! {"status":"success","data":{"resultType":"matrix","result":[
//!    {"metric":{"namespace":"shop","pod":"cart-0"},"values":[[1709510400,"1.5"],…]}, …]},
//!  "warnings":[…]}
//! {"status":"error","errorType":"bad_data","error":"1:5: parse error: …"}
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

/// One series of a range query's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct RangeSeries {
    /// Its labels, sorted by name.
    pub labels: Vec<(String, String)>,
    /// `(epoch seconds, value)` in time order; NaN and ±infinity are kept as Prometheus sent them.
    pub samples: Vec<(i64, f64)>,
}

impl RangeSeries {
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// What a successful answer holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RangeAnswer {
    pub series: Vec<RangeSeries>,
    /// Prometheus's own warnings (e.g. a partial answer).
    pub warnings: Vec<String>,
}

/// An answer with `"status": "error"`.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorAnswer {
    pub error_type: String,
    pub error: String,
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    /// A matrix entry.
    #[serde(default)]
    values: Vec<Sample>,
    /// A vector entry (an instant query's answer).
    #[serde(default)]
    value: Option<Sample>,
}

/// `[1709510400.5, "1.25"]`.
struct Sample(i64, f64);

impl<'de> Deserialize<'de> for Sample {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Sample, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Sample;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a [time, \"value\"] pair")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Sample, A::Error> {
                let t: f64 = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let v: std::borrow::Cow<'de, str> =
                    seq.next_element()?.ok_or_else(|| de::Error::invalid_length(1, &self))?;
                if seq.next_element::<de::IgnoredAny>()?.is_some() {
                    return Err(de::Error::invalid_length(3, &self));
                }
                let value =
                    parse_value(&v).ok_or_else(|| de::Error::custom(format!("sample value '{v}' is not a number")))?;
                if !t.is_finite() {
                    return Err(de::Error::custom("sample time is not finite"));
                }
                Ok(Sample(t.round() as i64, value))
            }
        }
        d.deserialize_seq(V)
    }
}

/// A sample value as Prometheus writes it (Go's float formatting, `NaN`, `+Inf`, `-Inf`).
pub fn parse_value(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        t => t.parse::<f64>().ok(),
    }
}

/// Why an answer could not be used.
#[derive(Debug, PartialEq)]
pub enum ParseError {
    /// `"status": "error"`, with Prometheus's own message.
    Refused(ErrorAnswer),
    /// Not the JSON of the Prometheus HTTP API, or not a matrix.
    Unusable(String),
}

/// Parses a range query's answer from `reader`.
pub fn parse_range<R: std::io::Read>(reader: R) -> Result<RangeAnswer, ParseError> {
    let env: Envelope = serde_json::from_reader(std::io::BufReader::with_capacity(1 << 16, reader))
        .map_err(|e| ParseError::Unusable(format!("the answer is not the JSON of the Prometheus HTTP API ({e})")))?;
    if env.status != "success" {
        return Err(ParseError::Refused(ErrorAnswer {
            error_type: env.error_type.unwrap_or_else(|| "unknown".into()),
            error: env.error.unwrap_or_else(|| format!("status '{}' without a message", env.status)),
        }));
    }
    let data = env.data.ok_or_else(|| ParseError::Unusable("a successful answer without data".into()))?;
    if data.result_type != "matrix" {
        return Err(ParseError::Unusable(format!(
            "expected a range query's matrix, got a {} (is the URL the server's base URL?)",
            data.result_type
        )));
    }
    let series = data
        .result
        .into_iter()
        .map(|e| {
            let mut samples: Vec<(i64, f64)> = e.values.into_iter().map(|s| (s.0, s.1)).collect();
            if let Some(s) = e.value {
                samples.push((s.0, s.1));
            }
            RangeSeries { labels: e.metric.into_iter().collect(), samples }
        })
        .collect();
    Ok(RangeAnswer { series, warnings: env.warnings })
}

/// Parses an error body (HTTP 4xx/5xx); `None` when it is not Prometheus's JSON.
pub fn parse_error(body: &[u8]) -> Option<ErrorAnswer> {
    let env: Envelope = serde_json::from_slice(body).ok()?;
    (env.status == "error").then(|| ErrorAnswer {
        error_type: env.error_type.unwrap_or_else(|| "unknown".into()),
        error: env.error.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Recorded from Prometheus 2.42 (`/api/v1/query_range`), trimmed.
    const MATRIX: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[
        {"metric":{"namespace":"shop","pod":"cart-0"},"values":[[1709510400,"1.5"],[1709510460,"NaN"],[1709510520,"+Inf"]]},
        {"metric":{"pod":"b","namespace":"n"},"values":[[1709510400.0,"-2e-7"]]}]}}"#;

    #[test]
    fn a_matrix() {
        let a = parse_range(MATRIX.as_bytes()).unwrap();
        assert_eq!(a.series.len(), 2);
        let s = &a.series[0];
        assert_eq!(s.labels, vec![("namespace".into(), "shop".into()), ("pod".into(), "cart-0".into())]);
        assert_eq!(s.samples[0], (1_709_510_400, 1.5));
        assert!(s.samples[1].1.is_nan());
        assert_eq!(s.samples[2].1, f64::INFINITY);
        assert_eq!(a.series[1].label("namespace"), Some("n"));
        assert_eq!(a.series[1].samples, vec![(1_709_510_400, -2e-7)]);
    }

    #[test]
    fn errors_and_other_answers() {
        let e = r#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected \")\""}"#;
        match parse_range(e.as_bytes()) {
            Err(ParseError::Refused(a)) => {
                assert_eq!(a.error_type, "bad_data");
                assert!(a.error.contains("parse error"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(parse_error(e.as_bytes()).unwrap().error_type, "bad_data");
        assert!(parse_error(b"<html>404</html>").is_none());
        let vector = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert!(matches!(parse_range(vector.as_bytes()), Err(ParseError::Unusable(m)) if m.contains("vector")));
        assert!(matches!(parse_range(&b"<html>"[..]), Err(ParseError::Unusable(_))));
        let bad_value =
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"x"]]}]}}"#;
        assert!(matches!(parse_range(bad_value.as_bytes()), Err(ParseError::Unusable(m)) if m.contains("'x'")));
        let warn = r#"{"status":"success","warnings":["partial"],"data":{"resultType":"matrix","result":[]}}"#;
        assert_eq!(parse_range(warn.as_bytes()).unwrap().warnings, ["partial"]);
    }
}
