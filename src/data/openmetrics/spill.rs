//! Pass 1 of the export: the generator runs once, each row becomes a fixed-size [`Record`] at
//! its pod-major place in a spill file; pass 2 reads the spill back with [`SpillReader`].

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::{phase_of, reason_code, Layout, Pod, Record, BLOCK_BYTES, MIB, RECORD, TERMINATED, VALUES, WAITING};
use super::{CPU_LIMIT_CORES, CPU_SECONDS, MEMORY_BYTES, MEMORY_LIMIT_BYTES, RESTARTS};
use super::{FS_READ_BYTES, FS_WRITE_BYTES, RX_BYTES, RX_DROPPED, TX_BYTES, TX_DROPPED};
use crate::data::schema;
use crate::data::synthetic::{self, GeneratedRow, SyntheticConfig};
use crate::{Error, Result};

/// The CSV columns the exporter reads, by index into [`synthetic::header`].
struct Columns {
    pod: usize,
    namespace: usize,
    status: usize,
    event: usize,
    cpu: usize,
    restarts: usize,
    memory: usize,
    rx: usize,
    tx: usize,
    fs_read: usize,
    fs_write: usize,
    rx_dropped: usize,
    tx_dropped: usize,
    ready: usize,
    total: usize,
    cpu_limit: usize,
    memory_limit: usize,
}

impl Columns {
    fn new() -> Columns {
        let header = synthetic::header();
        let at = |name: &str| header.iter().position(|c| *c == name).expect("the generator writes every column");
        Columns {
            pod: at(schema::POD_NAME),
            namespace: at(schema::NAMESPACE),
            status: at(schema::POD_STATUS),
            event: at(schema::EVENT_REASON),
            cpu: at(schema::CPU_USAGE),
            restarts: at(schema::POD_RESTARTS),
            memory: at(schema::MEMORY_MB),
            rx: at(schema::NET_RX_BYTES),
            tx: at(schema::NET_TX_BYTES),
            fs_read: at(schema::FS_READS),
            fs_write: at(schema::FS_WRITES),
            rx_dropped: at(schema::NET_RX_DROPPED),
            tx_dropped: at(schema::NET_TX_DROPPED),
            ready: at(schema::READY_CONTAINERS),
            total: at(schema::TOTAL_CONTAINERS),
            cpu_limit: at(schema::CPU_LIMITS),
            memory_limit: at(schema::MEMORY_LIMITS),
        }
    }
}

/// A cell of a generated row, parsed: the value as printed, so the CSV's rounding carries over.
fn cell<T: std::str::FromStr>(row: &GeneratedRow<'_>, column: usize) -> Result<T> {
    let text = &row.record[column];
    text.parse().map_err(|_| {
        Error::data(format!(
            "the generator wrote {text:?} in column '{}' at step {}, which the exporter cannot read",
            synthetic::header()[column],
            row.step
        ))
    })
}

impl Pod {
    fn new(row: &GeneratedRow<'_>, cols: &Columns) -> Pod {
        Pod {
            name: row.record[cols.pod].to_string(),
            namespace: row.record[cols.namespace].to_string(),
            node: row.node(),
            containers: row.containers(),
            max_total: 0,
            rows: 0,
            totals: [0.0; VALUES],
            last_terminated: 0,
            terminated_so_far: 0,
            waiting_seen: 0,
            terminated_seen: 0,
        }
    }

    /// The record of `row`, one of this pod's, and the pod's state after it.
    fn update(&mut self, row: &GeneratedRow<'_>, cols: &Columns, interval: f64) -> Result<Record> {
        // One series per pod slot: the exporter's series keys assume these never change.
        if row.record[cols.pod] != *self.name
            || row.record[cols.namespace] != *self.namespace
            || row.node() != self.node
        {
            return Err(Error::data(format!(
                "pod slot {} changed name, namespace or node at step {}: the exporter keeps one series per slot",
                row.pod, row.step
            )));
        }
        let mut add = |slot: usize, amount: f64| {
            self.totals[slot] += amount;
            self.totals[slot]
        };
        let mut values = [0.0; VALUES];
        values[CPU_SECONDS] = add(CPU_SECONDS, cell::<f64>(row, cols.cpu)? / 100.0 * interval);
        values[RX_BYTES] = add(RX_BYTES, cell(row, cols.rx)?);
        values[TX_BYTES] = add(TX_BYTES, cell(row, cols.tx)?);
        values[RX_DROPPED] = add(RX_DROPPED, cell::<f64>(row, cols.rx_dropped)? * interval);
        values[TX_DROPPED] = add(TX_DROPPED, cell::<f64>(row, cols.tx_dropped)? * interval);
        values[FS_READ_BYTES] = add(FS_READ_BYTES, cell::<f64>(row, cols.fs_read)? * MIB);
        values[FS_WRITE_BYTES] = add(FS_WRITE_BYTES, cell::<f64>(row, cols.fs_write)? * MIB);
        values[MEMORY_BYTES] = cell::<f64>(row, cols.memory)? * MIB;
        values[MEMORY_LIMIT_BYTES] = cell::<f64>(row, cols.memory_limit)? * MIB;
        values[CPU_LIMIT_CORES] = cell::<f64>(row, cols.cpu_limit)? / 100.0;
        values[RESTARTS] = cell(row, cols.restarts)?;

        let status = &row.record[cols.status];
        let phase = phase_of(status)
            .ok_or_else(|| Error::data(format!("the generator wrote Pod Status {status:?}, which has no pod phase")))?;
        let waiting = reason_code(&WAITING, status);
        let terminated = reason_code(&TERMINATED, status);
        // kube-state-metrics keeps the latest termination's reason; an OOMKilling event is one.
        let ended = match terminated {
            0 if &row.record[cols.event] == "OOMKilling" => reason_code(&TERMINATED, "OOMKilled"),
            code => code,
        };
        if ended > 0 {
            self.last_terminated = ended;
            self.terminated_so_far |= 1 << (ended - 1);
        }
        if waiting > 0 {
            self.waiting_seen |= 1 << (waiting - 1);
        }
        if terminated > 0 {
            self.terminated_seen |= 1 << (terminated - 1);
        }
        let (ready, total): (u16, u16) = (cell(row, cols.ready)?, cell(row, cols.total)?);
        self.max_total = self.max_total.max(total);
        self.rows += 1;
        Ok(Record {
            values,
            ready,
            total,
            phase,
            waiting,
            terminated,
            last_terminated: self.last_terminated,
            terminated_so_far: self.terminated_so_far,
        })
    }
}

/// The spill file of pass 1, removed when dropped (at once on Unix, where the open file outlives
/// its name, so not even a crash leaves it behind).
pub(super) struct Spill {
    file: File,
    path: PathBuf,
    named: bool,
}

impl Spill {
    pub(super) fn create(dir: &Path) -> Result<Spill> {
        let mut attempt = 0;
        loop {
            let path = dir.join(format!(".kubelstm-openmetrics-{}-{attempt}.spill", std::process::id()));
            // `create_new`: never follow a planted symlink or reuse someone else's file.
            match OpenOptions::new().read(true).write(true).create_new(true).open(&path) {
                Ok(file) => {
                    let named = !(cfg!(unix) && std::fs::remove_file(&path).is_ok());
                    return Ok(Spill { file, path, named });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
                Err(e) => return Err(Error::io("create", &path, e)),
            }
        }
    }

    fn write_at(&mut self, offset: u64, bytes: &[u8]) -> Result<()> {
        self.file.seek(SeekFrom::Start(offset)).and_then(|_| self.file.write_all(bytes)).map_err(|e| self.error(e))
    }

    fn error(&self, e: std::io::Error) -> Error {
        Error::io("write the temporary file", &self.path, e)
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        if self.named {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Pass 1: runs the generator once and spills every row's record at its pod-major place.
/// Returns the pods with rows and the node names.
pub(super) fn collect(cfg: &SyntheticConfig, layout: &Layout, spill: &mut Spill) -> Result<(Vec<Pod>, Vec<String>)> {
    let cols = Columns::new();
    let interval = cfg.interval_seconds as f64;
    let block_steps = (BLOCK_BYTES / (layout.pods * RECORD + layout.nodes)).clamp(1, layout.steps);
    let mut block = vec![0u8; block_steps * layout.pods * RECORD];
    let mut node_block = vec![0u8; block_steps * layout.nodes];
    let mut block_start = 0;
    let mut pods: Vec<Pod> = Vec::with_capacity(layout.pods);
    let mut nodes = Vec::with_capacity(layout.nodes);
    synthetic::for_each_row(cfg, |row| {
        if row.step == block_start + block_steps {
            write_block(spill, layout, &pods, &block, &node_block, block_start, block_steps)?;
            block_start = row.step;
        }
        let k = row.step - block_start;
        if row.pod == 0 {
            // The first row of a step: every node's condition at this step.
            for n in 0..layout.nodes {
                node_block[n * block_steps + k] = u8::from(row.node_not_ready(n));
            }
        }
        if row.step == 0 {
            if row.pod == 0 {
                nodes.extend((0..layout.nodes).map(|n| row.node_name(n).to_string()));
            }
            pods.push(Pod::new(row, &cols));
        }
        let record = pods[row.pod].update(row, &cols, interval)?;
        record.encode(&mut block[(row.pod * block_steps + k) * RECORD..][..RECORD]);
        Ok(())
    })?;
    write_block(spill, layout, &pods, &block, &node_block, block_start, block_steps)?;
    for (p, pod) in pods.iter().enumerate() {
        if pod.rows != layout.rows_of(p) {
            return Err(Error::data(format!("pod slot {p} has {} rows, the layout {}", pod.rows, layout.rows_of(p))));
        }
    }
    Ok((pods, nodes))
}

/// Writes the block of steps from `start` (each pod's part, then each node's, at its place).
fn write_block(
    spill: &mut Spill,
    layout: &Layout,
    pods: &[Pod],
    block: &[u8],
    node_block: &[u8],
    start: usize,
    block_steps: usize,
) -> Result<()> {
    let steps = block_steps.min(layout.steps - start);
    for p in 0..pods.len() {
        let rows = layout.rows_of(p).min(start + steps) - start;
        spill.write_at(layout.record_offset(p, start), &block[p * block_steps * RECORD..][..rows * RECORD])?;
    }
    for n in 0..layout.nodes {
        spill.write_at(layout.node_offset(n, start), &node_block[n * block_steps..][..steps])?;
    }
    Ok(())
}

/// Sequential reads of the spill, keeping the buffer across short hops (`seek_relative`).
pub(super) struct SpillReader<'a> {
    reader: BufReader<&'a File>,
    pos: u64,
    path: &'a Path,
}

impl SpillReader<'_> {
    pub(super) fn new(spill: &Spill) -> Result<SpillReader<'_>> {
        // Pass 1 left the file's position at its last write.
        let mut file = &spill.file;
        file.seek(SeekFrom::Start(0)).map_err(|e| Error::io("read the temporary file", &spill.path, e))?;
        Ok(SpillReader { reader: BufReader::with_capacity(1 << 20, file), pos: 0, path: &spill.path })
    }

    pub(super) fn goto(&mut self, offset: u64) -> Result<()> {
        let path = self.path;
        self.reader
            .seek_relative(offset as i64 - self.pos as i64)
            .map_err(|e| Error::io("read the temporary file", path, e))?;
        self.pos = offset;
        Ok(())
    }

    pub(super) fn read(&mut self, buf: &mut [u8]) -> Result<()> {
        let path = self.path;
        self.reader.read_exact(buf).map_err(|e| Error::io("read the temporary file", path, e))?;
        self.pos += buf.len() as u64;
        Ok(())
    }
}
