//! The decomposition of one node snapshot: per connection, per node, and the
//! residual. All figures are bytes as `f64` (exact up to 2^53 bytes = 8 PiB).
//!
//! # Per connection (means over the `alive` connections)
//! ```text
//! process      = connections.process_bytes_total / alive          (exact: all measured)
//!   of which state  = mean of the state sample (an ESTIMATE, with a 95% CI)
//!   of which heap   = process - state  ("heap" in the seed record: stack, heap
//!                     words not reachable from the state, mailbox, control block)
//! off_heap_share = Σ over binaries of bytes × connection_holders / holders, / alive
//! native         = connections.native_bytes_total / alive
//! total          = process + off_heap_share + native              (never process + state)
//! ```
//! A refc binary held by k processes gives bytes/k to each holder, so the
//! shares of all holders add up to the binary's bytes exactly once.
//!
//! # Per node (the identity used; nothing is counted twice)
//! ```text
//! beam.total   = beam.processes + beam.system                      (erlang:memory identity)
//! beam.system ⊇ atom + binary + code + ets;  system_other = system − those four
//! beam.processes = connection processes + infrastructure + other processes
//! allocator_overhead = carriers − blocks    (free space inside carriers: not in beam.total)
//! native       = native.pool_bytes + native.other_bytes            (malloc'd outside the BEAM allocators)
//! os_mapped    = RssFile + RssShmem / v     (pages no allocator hands out: executable, libraries,
//!                                            mapped files; shared memory; v = 2 under the JIT, whose
//!                                            code area is mapped twice and already in beam.code once)
//! accounted    = beam.total + allocator_overhead + native + os_mapped
//! residual     = rss − accounted            (signed; first-class, also as % of RSS)
//! connections  = alive × per-connection total
//!              = process_bytes_total + off-heap share + native_bytes_total
//! base_overhead = accounted − connections   (everything measured that is not the connections')
//! so   rss = base_overhead + connections + residual   exactly.
//! ```
//! The connections' process bytes are inside `beam.processes`, their
//! off-heap share inside `beam.binary`, their native slots inside
//! `native.pool_bytes`: each appears once in `accounted`. When the snapshot
//! has no `native` object, the native pool is taken to be the connections'
//! own `native_bytes_total` (the least it can be). When it has no
//! `allocators`, the overhead is "not measured" (`None`) and counts as 0, so
//! it ends up in the residual; the same for `os_mapped` without the RSS split.
//!
//! # Allocated is not resident
//! `erlang:memory/0` and the carriers count bytes the VM has *allocated*;
//! the RSS counts pages something has *written*. A process heap grows into a
//! fresh block of which only the used part has been written, and a carrier's
//! free space may never have been touched. So a node full of freshly grown
//! heaps has a negative residual that no figure can pin down page by page
//! (the VM does not expose heap addresses). What can be measured is its
//! bound: `unwritten_bound = allocator_overhead + connections' heap reserve`
//! (allocated, not yet written by the VM's own books). Validation accepts a
//! residual in `[−(tolerance × rss + unwritten_bound), tolerance × rss]`,
//! and the report prints the bound next to the residual.

use serde::{Deserialize, Serialize};

use super::snapshot::Snapshot;
use super::stats::{estimate_mean, summarize, CiMethod, Estimate, Summary};

/// How to decompose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// The interval of the state estimate (default Student's t).
    pub ci_method: CiMethod,
}

/// The decomposition of one node snapshot (see the module docs for the identities).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decomposition {
    /// The node's name.
    pub node: String,
    /// When the snapshot was taken, Unix milliseconds.
    pub timestamp_ms: u64,
    /// Per-connection means.
    pub per_connection: PerConnection,
    /// The node's memory.
    pub per_node: PerNode,
    /// Counts from the snapshot.
    pub counts: Counts,
    /// Sampled connections whose state exceeds their process memory (only
    /// when the snapshot pairs them; see `state_sample.process_bytes`), or
    /// exceeds the largest measured process memory otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub state_over_process: Vec<StateOverProcess>,
}

/// Per-connection figures, means over the alive connections, in bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerConnection {
    /// Mean process memory (`process_info(P, memory)`): exact, every alive
    /// connection is measured. 0 when no connection is alive.
    pub process_bytes: f64,
    /// Live state, which lives *inside* the process memory: an estimate from
    /// the sample with its 95% confidence interval. `None` when no state was sampled.
    pub state: Option<Estimate>,
    /// `process_bytes − state.mean` (the seed record's "heap"): stack, heap
    /// not reachable from the state, mailbox and control block. Equals
    /// `process_bytes` when the state was not measured.
    pub heap_bytes: f64,
    /// Share of the off-heap refc binaries the connection references
    /// (bytes / holders per binary).
    pub off_heap_share_bytes: f64,
    /// Native pool slot bytes owned by the connection.
    pub native_bytes: f64,
    /// `process_bytes + off_heap_share_bytes + native_bytes`.
    pub total_bytes: f64,
    /// Distribution of `connections.process_bytes`, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_distribution: Option<Summary>,
}

impl PerConnection {
    /// The state's point estimate (mean), 0 when not measured.
    pub fn state_bytes(&self) -> f64 {
        self.state.as_ref().map_or(0.0, |e| e.mean)
    }
}

/// The node's memory, in bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerNode {
    /// The OS's resident set of the node.
    pub rss_bytes: f64,
    /// `erlang:memory/0` by category.
    pub beam: BeamBreakdown,
    /// Allocator carriers − blocks; `None` when not measured (then 0 in the sums).
    pub allocator_overhead_bytes: Option<f64>,
    /// memacct pools' bytes (outside the BEAM allocators).
    pub native_pool_bytes: f64,
    /// Other native memory known to the collector.
    pub native_other_bytes: f64,
    /// Resident pages no allocator hands out (`RssFile + RssShmem / views`,
    /// see the module docs); `None` when the snapshot has no RSS split
    /// (then 0 in the sums).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_mapped_bytes: Option<f64>,
    /// Bytes allocated but possibly never written, hence possibly not
    /// resident: allocator overhead (≥ 0) plus the connections' heap reserve,
    /// each when measured. An upper bound on how far the residual may be
    /// negative for that reason alone.
    #[serde(default)]
    pub unwritten_bound_bytes: f64,
    /// `beam.total + allocator_overhead + native_pool + native_other + os_mapped`.
    pub accounted_bytes: f64,
    /// `rss − accounted` (may be negative): what no component explains.
    pub residual_bytes: f64,
    /// `100 × residual / rss` (0 when rss is 0).
    pub residual_pct_of_rss: f64,
    /// `alive × per-connection total`.
    pub connections_bytes: f64,
    /// `accounted − connections`: infrastructure, other processes, ETS,
    /// atoms, code, other binaries, system, allocator overhead, other native.
    pub base_overhead_bytes: f64,
}

/// `erlang:memory/0` by category, with the parts memacct can split off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BeamBreakdown {
    /// `total` (= processes + system).
    pub total: f64,
    /// `processes`.
    pub processes: f64,
    /// `processes_used`.
    pub processes_used: f64,
    /// Of `processes`: the connections' (`process_bytes_total`).
    pub connection_processes: f64,
    /// Of `processes`: the infrastructure's.
    pub infrastructure_processes: f64,
    /// Of `processes`: the rest (`processes − connections − infrastructure`).
    pub other_processes: f64,
    /// `system`.
    pub system: f64,
    /// `ets` (in system).
    pub ets: f64,
    /// `atom` (in system).
    pub atom: f64,
    /// `atom_used`.
    pub atom_used: f64,
    /// `code` (in system).
    pub code: f64,
    /// `binary` (in system).
    pub binary: f64,
    /// Of `binary`: the whole bytes of the binaries connections reference.
    pub connection_binaries: f64,
    /// Of `binary`: the connections' share of them (see `PerConnection::off_heap_share_bytes`).
    pub connection_binaries_share: f64,
    /// `system − ets − atom − code − binary`.
    pub system_other: f64,
}

/// Counts from the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Connection pids given.
    pub connections: u64,
    /// Alive when measured (the per-connection means divide by this).
    pub alive: u64,
    /// Dead before or while measured.
    pub dead: u64,
    /// State calls that timed out.
    pub timeouts: u64,
    /// States sampled.
    pub state_samples: u64,
    /// Infrastructure pids.
    pub infrastructure_pids: u64,
    /// `erlang:system_info(process_count)`.
    pub process_count: u64,
    /// Freed carriers `mseg_alloc` still holds cached (resident, in no
    /// figure: part of the residual until released); 0 when not measured.
    #[serde(default)]
    pub cached_segments: u64,
    /// Processes the heap reserve was measured on (0: not measured; fewer
    /// than `alive`: the reserve is an estimate scaled from them).
    #[serde(default)]
    pub heap_reserve_sample_size: u64,
}

/// A sampled connection whose state exceeds its process memory.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StateOverProcess {
    /// Index in `state_sample.bytes`.
    pub index: u64,
    /// Its state bytes.
    pub state_bytes: f64,
    /// Its process bytes (paired), or the largest measured process memory.
    pub process_bytes: f64,
}

/// Decomposes one node snapshot (see the module docs). Never fails: a
/// snapshot that parsed is decomposable; inconsistencies show in
/// [`Decomposition::validate`].
pub fn decompose(snapshot: &Snapshot, options: &Options) -> Decomposition {
    let c = &snapshot.connections;
    let alive = c.alive as f64;
    let per = |total: f64| if c.alive == 0 { 0.0 } else { total / alive };

    let process_total = c.process_bytes_total as f64;
    let process_mean = per(process_total);

    let state = c.state_sample.as_ref().and_then(|s| {
        let xs: Vec<f64> = s.bytes.iter().map(|&b| b as f64).collect();
        estimate_mean(&xs, s.population, options.ci_method)
    });
    let state_mean = state.as_ref().map_or(0.0, |e| e.mean);

    let mut connection_binaries = 0.0;
    let mut share_total = 0.0;
    if let Some(off) = &c.off_heap {
        for b in &off.binaries {
            let bytes = b.bytes as f64;
            connection_binaries += bytes;
            share_total += bytes * b.connection_holders as f64 / b.holders as f64;
        }
    }
    let native_conn_total = c.native_bytes_total as f64;

    let per_connection = PerConnection {
        process_bytes: process_mean,
        heap_bytes: process_mean - state_mean,
        state,
        off_heap_share_bytes: per(share_total),
        native_bytes: per(native_conn_total),
        total_bytes: per(process_total + share_total + native_conn_total),
        process_distribution: c.process_bytes.as_ref().and_then(|p| {
            let xs: Vec<f64> = p.iter().map(|&b| b as f64).collect();
            summarize(&xs)
        }),
    };

    let mut state_over_process = Vec::new();
    if let Some(s) = &c.state_sample {
        let max_process = c
            .process_bytes
            .as_ref()
            .and_then(|p| p.iter().copied().max());
        for (i, &st) in s.bytes.iter().enumerate() {
            let bound = match &s.process_bytes {
                Some(p) => Some(p[i]),
                None => max_process,
            };
            if let Some(p) = bound {
                if st > p {
                    state_over_process.push(StateOverProcess {
                        index: i as u64,
                        state_bytes: st as f64,
                        process_bytes: p as f64,
                    });
                }
            }
        }
    }

    let b = &snapshot.beam;
    let infra = snapshot
        .infrastructure
        .map_or(0.0, |i| i.process_bytes_total as f64);
    let beam = BeamBreakdown {
        total: b.total as f64,
        processes: b.processes as f64,
        processes_used: b.processes_used as f64,
        connection_processes: process_total,
        infrastructure_processes: infra,
        other_processes: b.processes as f64 - process_total - infra,
        system: b.system as f64,
        ets: b.ets as f64,
        atom: b.atom as f64,
        atom_used: b.atom_used as f64,
        code: b.code as f64,
        binary: b.binary as f64,
        connection_binaries,
        connection_binaries_share: share_total,
        system_other: b.system as f64
            - b.ets as f64
            - b.atom as f64
            - b.code as f64
            - b.binary as f64,
    };

    let allocator_overhead = snapshot
        .allocators
        .map(|a| a.carriers_bytes as f64 - a.blocks_bytes as f64);
    let (native_pool, native_other) = match snapshot.native {
        Some(n) => (n.pool_bytes as f64, n.other_bytes as f64),
        None => (native_conn_total, 0.0),
    };
    let os_mapped = os_mapped_bytes(snapshot);
    let (heap_reserve, heap_reserve_measured_on) = heap_reserve(c);
    let unwritten_bound = allocator_overhead.unwrap_or(0.0).max(0.0) + heap_reserve;
    let accounted = beam.total
        + allocator_overhead.unwrap_or(0.0)
        + native_pool
        + native_other
        + os_mapped.unwrap_or(0.0);
    let rss = snapshot.os.rss_bytes as f64;
    let residual = rss - accounted;
    let connections_bytes = process_total + share_total + native_conn_total;

    let per_node = PerNode {
        rss_bytes: rss,
        beam,
        allocator_overhead_bytes: allocator_overhead,
        native_pool_bytes: native_pool,
        native_other_bytes: native_other,
        os_mapped_bytes: os_mapped,
        unwritten_bound_bytes: unwritten_bound,
        accounted_bytes: accounted,
        residual_bytes: residual,
        residual_pct_of_rss: if rss > 0.0 {
            100.0 * residual / rss
        } else {
            0.0
        },
        connections_bytes,
        base_overhead_bytes: accounted - connections_bytes,
    };

    Decomposition {
        node: snapshot.node.clone(),
        timestamp_ms: snapshot.timestamp_ms,
        per_connection,
        per_node,
        counts: Counts {
            connections: c.count,
            alive: c.alive,
            dead: c.dead,
            timeouts: c.timeouts,
            state_samples: c.state_sample.as_ref().map_or(0, |s| s.bytes.len() as u64),
            infrastructure_pids: snapshot.infrastructure.map_or(0, |i| i.pids),
            process_count: snapshot.process_count,
            cached_segments: snapshot
                .allocators
                .and_then(|a| a.cached_segments)
                .unwrap_or(0),
            heap_reserve_sample_size: heap_reserve_measured_on,
        },
        state_over_process,
    }
}

/// The connections' heap reserve and on how many processes it was
/// measured: the exact total (on `alive`), else the sample's mean scaled to
/// `alive` (an estimate), else `(0, 0)`: not measured.
fn heap_reserve(c: &super::snapshot::Connections) -> (f64, u64) {
    match (c.heap_reserve_bytes_total, c.heap_reserve_sample.as_deref()) {
        (Some(total), _) => (total as f64, c.alive),
        (None, Some(sample)) if !sample.is_empty() => {
            let mean = sample.iter().map(|&b| b as f64).sum::<f64>() / sample.len() as f64;
            (mean * c.alive as f64, sample.len() as u64)
        }
        _ => (0.0, 0),
    }
}

/// `RssFile + RssShmem / views` when the snapshot splits the RSS (both
/// parts given), where `views` is 2 under the JIT (`emu_flavor` `"jit"`: its
/// code area is one shared-memory object mapped writable and executable, the
/// kernel counts each page once per view, and `beam.code` has it once) and 1
/// otherwise.
fn os_mapped_bytes(snapshot: &Snapshot) -> Option<f64> {
    let os = &snapshot.os;
    let (file, shmem) = (os.rss_file_bytes?, os.rss_shmem_bytes?);
    let views = if snapshot.emu_flavor.as_deref() == Some("jit") {
        2.0
    } else {
        1.0
    };
    Some(file as f64 + shmem as f64 / views)
}

/// One mebibyte.
pub const MIB: f64 = 1024.0 * 1024.0;

/// What `erlmcp_memory_accounting:decompose/1` needs to fill the design.md
/// record `{memory_decomposition, PerConnHeapMiB, PerConnStateMiB,
/// PerConnTotalMiB, PerNodeBaseOverheadMiB, PerNodeTotalRssMiB,
/// PerNodeProcessCount, Connections, ClusterNodes, ClusterTotalRssMiB,
/// ScopePerNode, ScopePerCluster, Timestamp, Node, MeasuredPids}`, with
/// corrected semantics: `total = process memory + off-heap share + native`
/// (the state lives inside the process and is never added to it),
/// `heap + state = total` (heap is everything of the connection but its
/// state), and RSS is the OS's resident set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedRecord {
    /// Everything of a connection but its state, MiB: process memory minus
    /// state, plus its off-heap share and native bytes — so that, as the
    /// record's contract says, `heap + state = total` with nothing counted twice.
    pub per_conn_heap_mib: f64,
    /// State (estimate), MiB; 0.0 when not measured.
    pub per_conn_state_mib: f64,
    /// Per-connection total, MiB.
    pub per_conn_total_mib: f64,
    /// Per-node base overhead (accounted − connections), MiB.
    pub per_node_base_overhead_mib: f64,
    /// The node's RSS, MiB.
    pub per_node_total_rss_mib: f64,
    /// `process_count`.
    pub per_node_process_count: u64,
    /// Alive connections.
    pub connections: u64,
    /// Nodes that answered (1 for a single-node decomposition).
    pub cluster_nodes: u64,
    /// Sum of the RSS of the nodes that answered, MiB.
    pub cluster_total_rss_mib: f64,
    /// Always true: the per-node figures are one node's.
    pub scope_per_node: bool,
    /// True when the cluster figures come from a cluster decomposition.
    pub scope_per_cluster: bool,
    /// Snapshot time, Unix milliseconds.
    pub timestamp_ms: u64,
    /// The node.
    pub node: String,
    /// Connections measured (alive).
    pub measured_pids: u64,
}

/// One part of a node's RSS, for tables and plots ([`Decomposition::components`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Component {
    /// What it is (`connection_processes`, `ets`, ..., `residual`).
    pub name: &'static str,
    /// Its group (`processes`, `system`, `allocators`, `native`, `os`, `residual`).
    pub group: &'static str,
    /// Bytes (the residual may be negative).
    pub bytes: f64,
}

impl Decomposition {
    /// The node's figures as parts that add up to RSS: the BEAM's process and
    /// system categories, allocator overhead (when measured), memacct's
    /// native memory, the OS-mapped pages (when measured) and the residual. They sum to `rss_bytes` exactly when
    /// the BEAM total identity holds (`total = processes + system`; see the
    /// `beam_total_identity` rule).
    pub fn components(&self) -> Vec<Component> {
        let n = &self.per_node;
        let b = &n.beam;
        let part = |name, group, bytes| Component { name, group, bytes };
        let mut out = vec![
            part("connection_processes", "processes", b.connection_processes),
            part(
                "infrastructure_processes",
                "processes",
                b.infrastructure_processes,
            ),
            part("other_processes", "processes", b.other_processes),
            part("ets", "system", b.ets),
            part("atom", "system", b.atom),
            part("code", "system", b.code),
            part("binary", "system", b.binary),
            part("system_other", "system", b.system_other),
        ];
        if let Some(o) = n.allocator_overhead_bytes {
            out.push(part("allocator_overhead", "allocators", o));
        }
        out.extend([
            part("native_pool", "native", n.native_pool_bytes),
            part("native_other", "native", n.native_other_bytes),
        ]);
        if let Some(m) = n.os_mapped_bytes {
            out.push(part("os_mapped", "os", m));
        }
        out.push(part("residual", "residual", n.residual_bytes));
        out
    }

    /// The seed record's fields for this node alone (cluster = this node,
    /// `scope_per_cluster` false); see [`SeedRecord`].
    pub fn seed_record_fields(&self) -> SeedRecord {
        let pc = &self.per_connection;
        SeedRecord {
            per_conn_heap_mib: (pc.total_bytes - pc.state_bytes()) / MIB,
            per_conn_state_mib: pc.state_bytes() / MIB,
            per_conn_total_mib: pc.total_bytes / MIB,
            per_node_base_overhead_mib: self.per_node.base_overhead_bytes / MIB,
            per_node_total_rss_mib: self.per_node.rss_bytes / MIB,
            per_node_process_count: self.counts.process_count,
            connections: self.counts.alive,
            cluster_nodes: 1,
            cluster_total_rss_mib: self.per_node.rss_bytes / MIB,
            scope_per_node: true,
            scope_per_cluster: false,
            timestamp_ms: self.timestamp_ms,
            node: self.node.clone(),
            measured_pids: self.counts.alive,
        }
    }

    /// The decomposition as pretty JSON (every figure in bytes).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads [`Decomposition::to_json`] back. [`crate::Error::BadSnapshot`] on bad JSON.
    pub fn from_json(json: &str) -> crate::Result<Decomposition> {
        serde_json::from_str(json).map_err(|e| crate::Error::BadSnapshot {
            reason: format!("decomposition JSON: {e}"),
        })
    }
}
