//! One chunk of a pull as a grid — per pod, its instants × columns — and its rendering as the
//! CSV rows ingest reads (instant-major, pods sorted, values in their shortest round-trip form).

use std::collections::HashMap;

use super::range::Range;
use crate::data::time::push_rfc3339;
use crate::{Error, Result};

/// One chunk's values: per pod, `(instants, columns)` row-major.
#[derive(Default)]
pub(super) struct Grid {
    pub keys: Vec<Vec<String>>,
    pub numeric: Vec<Vec<f64>>,
    pub present: Vec<Vec<bool>>,
    pub text: Vec<Vec<Option<String>>>,
}

impl Grid {
    pub fn id(
        &mut self,
        index: &mut HashMap<Vec<String>, usize>,
        key: Vec<String>,
        steps: usize,
        nn: usize,
        nt: usize,
    ) -> usize {
        if let Some(&id) = index.get(&key) {
            return id;
        }
        let id = self.keys.len();
        index.insert(key.clone(), id);
        self.keys.push(key);
        self.numeric.push(vec![f64::NAN; steps * nn]);
        self.present.push(vec![false; steps]);
        self.text.push(vec![None; steps * nt]);
        id
    }

    /// Writes the rows, instant-major with pods sorted; returns how many.
    pub fn render(
        &self,
        chunk: &Range,
        numeric: &[usize],
        texts: &[usize],
        width: usize,
        out: &mut Vec<u8>,
    ) -> Result<u64> {
        let mut order: Vec<usize> = (0..self.keys.len()).collect();
        order.sort_by(|&a, &b| self.keys[a].cmp(&self.keys[b]));
        let (nn, nt) = (numeric.len(), texts.len());
        // Header position of each numeric and text column.
        let mut place = vec![(false, 0usize); width];
        for (j, &c) in numeric.iter().enumerate() {
            place[c] = (false, j);
        }
        for (j, &c) in texts.iter().enumerate() {
            place[c] = (true, j);
        }
        let mut writer = csv::WriterBuilder::new().from_writer(out);
        let mut record = csv::StringRecord::new();
        let mut cell = String::new();
        let mut rows = 0;
        for k in 0..chunk.points() as usize {
            let t = chunk.start + k as i64 * chunk.step as i64;
            for &id in &order {
                if !self.present[id][k] {
                    continue;
                }
                record.clear();
                cell.clear();
                push_rfc3339(&mut cell, t);
                record.push_field(&cell);
                for g in &self.keys[id] {
                    record.push_field(g);
                }
                for &(is_text, j) in &place {
                    if is_text {
                        record.push_field(self.text[id][k * nt + j].as_deref().unwrap_or(""));
                    } else {
                        let v = self.numeric[id][k * nn + j];
                        cell.clear();
                        if v.is_finite() {
                            use std::fmt::Write as _;
                            // Display: the shortest text that parses back to the same f64.
                            let _ = write!(cell, "{v}");
                        }
                        record.push_field(&cell);
                    }
                }
                writer.write_record(&record).map_err(|e| Error::data(format!("cannot render a row: {e}")))?;
                rows += 1;
            }
        }
        writer.flush().map_err(|e| Error::data(format!("cannot render a row: {e}")))?;
        Ok(rows)
    }
}
