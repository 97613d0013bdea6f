//! Serde types for the snapshot JSON format v1 (`docs/SNAPSHOT.md`, the
//! contract), parsing with checks of required fields and of the few
//! constraints without which the model is undefined, and serialization.
//!
//! Every size is bytes (`u64`), every time Unix milliseconds. A negative,
//! fractional or overflowing number where a size belongs, a missing required
//! field, another `format`/`version`, or an impossible combination (a binary
//! with zero holders, a state sample larger than its population) is
//! [`Error::BadSnapshot`]. Inconsistencies *between* figures that a real
//! collector can produce (RSS below the BEAM total, `alive + dead != count`)
//! are not parse errors: [`super::Decomposition::validate`] reports them.
//! Unknown fields are ignored (forward compatible).

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The `format` of a node snapshot.
pub const SNAPSHOT_FORMAT: &str = "memacct-snapshot";
/// The `format` of a cluster snapshot.
pub const CLUSTER_FORMAT: &str = "memacct-cluster";
/// The only format version this build reads and writes.
pub const SNAPSHOT_VERSION: u64 = 1;

fn default_word_bytes() -> u64 {
    8
}

/// What a collector measured on one node at one moment (`docs/SNAPSHOT.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Always [`SNAPSHOT_FORMAT`].
    pub format: String,
    /// Always [`SNAPSHOT_VERSION`].
    pub version: u64,
    /// The node's name, e.g. `app@host`.
    pub node: String,
    /// When it was measured, Unix milliseconds.
    pub timestamp_ms: u64,
    /// `erlang:system_info(otp_release)`, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otp_release: Option<String>,
    /// Bytes per heap word (8 on 64-bit; 4 accepted). Optional, default 8.
    #[serde(default = "default_word_bytes")]
    pub word_bytes: u64,
    /// `erlang:system_info(emu_flavor)`: `"jit"` or `"emu"`, if given. Under
    /// the JIT the code area is one shared-memory object mapped twice (a
    /// writable and an executable view), which decides how `os.rss_shmem_bytes`
    /// is counted (see `docs/SNAPSHOT.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emu_flavor: Option<String>,
    /// The operating system's view.
    pub os: OsMemory,
    /// `erlang:memory/0`.
    pub beam: BeamMemory,
    /// Allocator carriers and blocks, if measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocators: Option<Allocators>,
    /// Memory outside the BEAM allocators that memacct knows of, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native: Option<NativeMemory>,
    /// The connection processes.
    pub connections: Connections,
    /// Server, registry, supervisors, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infrastructure: Option<Infrastructure>,
    /// `erlang:system_info(process_count)`.
    pub process_count: u64,
}

/// The OS view of the node's process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsMemory {
    /// Resident set size (VmRSS) in bytes. Required.
    pub rss_bytes: u64,
    /// Where it came from (e.g. `/proc/self/status`). Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Of the RSS, anonymous pages (`RssAnon`), if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_anon_bytes: Option<u64>,
    /// Of the RSS, file-backed pages (`RssFile`): the emulator's executable,
    /// shared libraries (NIFs included) and mapped files, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_file_bytes: Option<u64>,
    /// Of the RSS, shared-memory pages (`RssShmem`), counted by the kernel
    /// once per mapping, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_shmem_bytes: Option<u64>,
}

/// `erlang:memory/0`: every key is required. `total = processes + system`;
/// `system` contains `atom`, `binary`, `code` and `ets`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeamMemory {
    /// `total`.
    pub total: u64,
    /// `processes`.
    pub processes: u64,
    /// `processes_used`.
    pub processes_used: u64,
    /// `system`.
    pub system: u64,
    /// `atom`.
    pub atom: u64,
    /// `atom_used`.
    pub atom_used: u64,
    /// `binary`.
    pub binary: u64,
    /// `code`.
    pub code: u64,
    /// `ets`.
    pub ets: u64,
}

/// Allocator carriers and blocks summed over every allocator and instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocators {
    /// Sum of carrier sizes (mbcs + sbcs).
    pub carriers_bytes: u64,
    /// Sum of allocated block sizes.
    pub blocks_bytes: u64,
    /// Segments `mseg_alloc` keeps cached: freed carriers still mapped (and
    /// resident) for reuse, in no carrier figure, so in the residual until
    /// the cache releases them (within seconds). Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_segments: Option<u64>,
}

/// Native memory outside the BEAM allocators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NativeMemory {
    /// memacct pools' `bytes_allocated`.
    #[serde(default)]
    pub pool_bytes: u64,
    /// Anything else known (other NIF libraries' memory).
    #[serde(default)]
    pub other_bytes: u64,
}

/// The connection processes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connections {
    /// Connection pids given.
    pub count: u64,
    /// Of which alive when measured.
    pub alive: u64,
    /// Skipped: dead before or while measured. Optional, default 0.
    #[serde(default)]
    pub dead: u64,
    /// State calls that timed out. Optional, default 0.
    #[serde(default)]
    pub timeouts: u64,
    /// Sum of `process_info(P, memory)` over the alive ones.
    pub process_bytes_total: u64,
    /// Optional per-connection process memory (all alive, or a sample).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_bytes: Option<Vec<u64>>,
    /// States measured on a random sample. Optional: without it the state
    /// figure is "not measured" (reported as 0 in the seed record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_sample: Option<StateSample>,
    /// Refc binaries referenced by connection processes. Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub off_heap: Option<OffHeap>,
    /// Bytes of pool slots owned by connection processes. Optional, default 0.
    #[serde(default)]
    pub native_bytes_total: u64,
    /// Heap the alive connection processes have allocated but not written
    /// yet, summed (`garbage_collection_info`: young heap block − used −
    /// stack, plus old heap block − used, in bytes), if measured. It is in
    /// `process_bytes_total` and `beam.processes`, but a page of it is in
    /// the RSS only once something wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heap_reserve_bytes_total: Option<u64>,
    /// The heap reserve of a random sample of the alive connections, one
    /// figure per process (bytes), when it was not measured on all of them:
    /// the decomposition scales its mean to `alive` (an estimate). Ignored
    /// when `heap_reserve_bytes_total` is given. Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heap_reserve_sample: Option<Vec<u64>>,
}

/// States measured on a random sample of the alive connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateSample {
    /// How many connections the sample was drawn from (≥ the sample size).
    pub population: u64,
    /// `flat_size * word_bytes` of each sampled state.
    pub bytes: Vec<u64>,
    /// Optional extension (documented in docs/SNAPSHOT.md): the process
    /// memory of the *same* sampled connections, in the same order as
    /// `bytes` (same length), so that "state ≤ process" is checked per sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_bytes: Option<Vec<u64>>,
}

/// Refc binaries referenced by connection processes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OffHeap {
    /// One entry per distinct binary.
    #[serde(default)]
    pub binaries: Vec<OffHeapBinary>,
}

/// One distinct refc binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffHeapBinary {
    /// Payload size.
    pub bytes: u64,
    /// How many processes of the whole node hold it (≥ 1).
    pub holders: u64,
    /// How many of them are connection processes (1 ..= holders).
    pub connection_holders: u64,
}

/// Server, registry, supervisors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Infrastructure {
    /// How many infrastructure pids.
    #[serde(default)]
    pub pids: u64,
    /// Sum of their `process_info(P, memory)`.
    #[serde(default)]
    pub process_bytes_total: u64,
}

fn bad(reason: impl Into<String>) -> Error {
    Error::BadSnapshot {
        reason: reason.into(),
    }
}

fn json_error(e: serde_json::Error) -> Error {
    bad(e.to_string())
}

impl Snapshot {
    /// Parses and checks one node snapshot. [`Error::BadSnapshot`] (naming
    /// the field or position) for anything that is not a v1 snapshot.
    pub fn from_json(json: &str) -> Result<Snapshot> {
        let snapshot: Snapshot = serde_json::from_str(json).map_err(json_error)?;
        snapshot.check()?;
        Ok(snapshot)
    }

    /// [`Snapshot::from_json`] from bytes (which must be UTF-8).
    pub fn from_json_bytes(json: &[u8]) -> Result<Snapshot> {
        let snapshot: Snapshot = serde_json::from_slice(json).map_err(json_error)?;
        snapshot.check()?;
        Ok(snapshot)
    }

    /// The snapshot as pretty JSON (v1); [`Snapshot::from_json`] reads it back equal.
    pub fn to_json(&self) -> String {
        // Serializing plain structs of strings and integers cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Checks what serde cannot: format, version, word size, and the
    /// constraints without which the decomposition is undefined.
    pub fn check(&self) -> Result<()> {
        if self.format != SNAPSHOT_FORMAT {
            return Err(bad(format!(
                "format is {:?}, expected {SNAPSHOT_FORMAT:?}",
                self.format
            )));
        }
        if self.version != SNAPSHOT_VERSION {
            return Err(bad(format!(
                "version {} is not supported (this build reads {SNAPSHOT_VERSION})",
                self.version
            )));
        }
        check_node_name(&self.node, "node")?;
        if self.word_bytes != 8 && self.word_bytes != 4 {
            return Err(bad(format!(
                "word_bytes is {}, expected 8 or 4",
                self.word_bytes
            )));
        }
        let c = &self.connections;
        if let Some(sample) = &c.state_sample {
            let n = sample.bytes.len() as u64;
            if sample.population < n {
                return Err(bad(format!(
                    "connections.state_sample: {n} samples from a population of {}",
                    sample.population
                )));
            }
            if let Some(p) = &sample.process_bytes {
                if p.len() != sample.bytes.len() {
                    return Err(bad(format!(
                        "connections.state_sample.process_bytes has {} entries, bytes has {}",
                        p.len(),
                        sample.bytes.len()
                    )));
                }
            }
        }
        if let Some(sample) = &c.heap_reserve_sample {
            if sample.len() as u64 > c.alive {
                return Err(bad(format!(
                    "connections.heap_reserve_sample: {} samples from {} alive connections",
                    sample.len(),
                    c.alive
                )));
            }
        }
        if let Some(off) = &c.off_heap {
            for (i, b) in off.binaries.iter().enumerate() {
                if b.holders == 0 || b.connection_holders == 0 || b.connection_holders > b.holders {
                    return Err(bad(format!(
                        "connections.off_heap.binaries[{i}]: connection_holders {} and holders {} \
                         (need 1 <= connection_holders <= holders)",
                        b.connection_holders, b.holders
                    )));
                }
            }
        }
        Ok(())
    }
}

/// A node that did not answer the cluster collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingNode {
    /// The node's name.
    pub node: String,
    /// Why (e.g. `timeout`, `nodedown`). Optional.
    #[serde(default)]
    pub reason: String,
}

/// Snapshots of several nodes (`{"format": "memacct-cluster", ...}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterSnapshot {
    /// Always [`CLUSTER_FORMAT`].
    pub format: String,
    /// Always [`SNAPSHOT_VERSION`].
    pub version: u64,
    /// The nodes that answered.
    pub nodes: Vec<Snapshot>,
    /// The nodes that did not (never counted as zero). Optional.
    #[serde(default)]
    pub missing: Vec<MissingNode>,
}

/// A snapshot file of either kind, told apart by its `format` field.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum SnapshotDocument {
    /// `"format": "memacct-snapshot"`: one node.
    Node(Snapshot),
    /// `"format": "memacct-cluster"`: several nodes and the missing ones.
    Cluster(ClusterSnapshot),
}

impl SnapshotDocument {
    /// Parses a node or cluster snapshot (by its `format`, read in the same
    /// parse) and checks it as [`Snapshot::from_json`] or
    /// [`ClusterSnapshot::from_json`] would. A document without the cluster
    /// format is read as a node snapshot, whose error then says what is wrong.
    pub fn from_json_bytes(json: &[u8]) -> Result<SnapshotDocument> {
        /// Only the `format` field; every other field is skipped unread.
        #[derive(Deserialize)]
        struct Format {
            format: Option<String>,
        }
        let format = serde_json::from_slice::<Format>(json)
            .ok()
            .and_then(|f| f.format);
        if format.as_deref() == Some(CLUSTER_FORMAT) {
            let c: ClusterSnapshot = serde_json::from_slice(json).map_err(json_error)?;
            c.check()?;
            Ok(SnapshotDocument::Cluster(c))
        } else {
            Snapshot::from_json_bytes(json).map(SnapshotDocument::Node)
        }
    }
}

impl ClusterSnapshot {
    /// Parses and checks a cluster snapshot (each node as [`Snapshot::check`];
    /// a node named twice, or both present and missing, is an error).
    pub fn from_json(json: &str) -> Result<ClusterSnapshot> {
        let cluster: ClusterSnapshot = serde_json::from_str(json).map_err(json_error)?;
        cluster.check()?;
        Ok(cluster)
    }

    /// The cluster snapshot as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// See [`ClusterSnapshot::from_json`].
    pub fn check(&self) -> Result<()> {
        if self.format != CLUSTER_FORMAT {
            return Err(bad(format!(
                "format is {:?}, expected {CLUSTER_FORMAT:?}",
                self.format
            )));
        }
        if self.version != SNAPSHOT_VERSION {
            return Err(bad(format!(
                "version {} is not supported (this build reads {SNAPSHOT_VERSION})",
                self.version
            )));
        }
        let mut names = std::collections::HashSet::new();
        for (i, n) in self.nodes.iter().enumerate() {
            n.check()
                .map_err(|e| bad(format!("nodes[{i}]: {}", strip(&e))))?;
            if !names.insert(n.node.as_str()) {
                return Err(bad(format!("node {:?} appears twice", n.node)));
            }
        }
        for m in &self.missing {
            check_node_name(&m.node, "missing: a node name")?;
            if !names.insert(m.node.as_str()) {
                return Err(bad(format!("node {:?} appears twice", m.node)));
            }
        }
        Ok(())
    }
}

/// A node name is an Erlang node atom (`app@host`): not empty, and no NUL,
/// which would cut the name short in every C string it is written to.
fn check_node_name(name: &str, what: &str) -> Result<()> {
    if name.is_empty() {
        return Err(bad(format!("{what} is empty")));
    }
    if name.contains('\0') {
        return Err(bad(format!("{what} contains a NUL character: {name:?}")));
    }
    Ok(())
}

fn strip(e: &Error) -> String {
    match e {
        Error::BadSnapshot { reason } => reason.clone(),
        other => other.to_string(),
    }
}
