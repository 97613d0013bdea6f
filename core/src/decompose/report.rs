//! Reports: a human text report (the seed's layout, corrected semantics, the
//! residual) and a compact key/value list (the seed's `format_compact` keys
//! with corrected meanings, plus the residual and the state's interval).
//! JSON is [`Decomposition::to_json`].

use std::fmt::Write as _;

use serde::Serialize;

use super::cluster::ClusterDecomposition;
use super::model::{Decomposition, MIB};

/// A value of the compact report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CompactValue {
    /// A figure (MiB, percent or fraction as the key says).
    Float(f64),
    /// A count or a timestamp.
    Int(u64),
    /// A flag.
    Bool(bool),
    /// A name.
    Text(String),
}

fn mib(bytes: f64) -> CompactValue {
    CompactValue::Float(bytes / MIB)
}

/// The compact key/value report, in a stable order. The seed's keys keep
/// their names with corrected meanings: `per_connection_heap_mib` is process
/// memory minus state, `per_connection_state_mib` the state estimate (inside
/// the process), `per_connection_total_mib` process + off-heap share + native
/// (never process + state), `per_node_base_overhead_mib` everything measured
/// that is not the connections', `per_node_total_rss_mib` the OS's RSS.
/// Added: process, off-heap, native per connection, the state's 95% interval
/// (absent when undefined), accounted, residual (MiB and % of RSS),
/// allocator overhead and OS-mapped pages (each absent when not measured),
/// the bound on allocated-but-unwritten bytes, counts, node and timestamp.
pub fn compact(d: &Decomposition) -> Vec<(&'static str, CompactValue)> {
    use CompactValue::*;
    let pc = &d.per_connection;
    let pn = &d.per_node;
    let r = d.seed_record_fields();
    let mut out = vec![
        ("per_connection_heap_mib", Float(r.per_conn_heap_mib)),
        ("per_connection_state_mib", Float(r.per_conn_state_mib)),
        ("per_connection_total_mib", Float(r.per_conn_total_mib)),
        (
            "per_node_base_overhead_mib",
            Float(r.per_node_base_overhead_mib),
        ),
        ("per_node_total_rss_mib", Float(r.per_node_total_rss_mib)),
        ("connections", Int(r.connections)),
        ("cluster_nodes", Int(r.cluster_nodes)),
        ("cluster_total_rss_mib", Float(r.cluster_total_rss_mib)),
        ("scope_per_node", Bool(r.scope_per_node)),
        ("scope_per_cluster", Bool(r.scope_per_cluster)),
        ("per_connection_process_mib", mib(pc.process_bytes)),
        ("per_connection_off_heap_mib", mib(pc.off_heap_share_bytes)),
        ("per_connection_native_mib", mib(pc.native_bytes)),
        (
            "per_connection_state_estimated",
            Bool(pc.state.is_some_and(|e| !e.exact)),
        ),
        ("per_connection_state_samples", Int(d.counts.state_samples)),
    ];
    if let Some(e) = &pc.state {
        if let (Some(lo), Some(hi)) = (e.ci_low, e.ci_high) {
            out.push(("per_connection_state_ci95_low_mib", mib(lo)));
            out.push(("per_connection_state_ci95_high_mib", mib(hi)));
        }
    }
    out.extend([
        ("per_node_beam_total_mib", mib(pn.beam.total)),
        (
            "per_node_native_mib",
            mib(pn.native_pool_bytes + pn.native_other_bytes),
        ),
        ("per_node_accounted_mib", mib(pn.accounted_bytes)),
        ("per_node_residual_mib", mib(pn.residual_bytes)),
        (
            "per_node_residual_pct_of_rss",
            Float(pn.residual_pct_of_rss),
        ),
    ]);
    if let Some(o) = pn.allocator_overhead_bytes {
        out.push(("per_node_allocator_overhead_mib", mib(o)));
    }
    if let Some(o) = pn.os_mapped_bytes {
        out.push(("per_node_os_mapped_mib", mib(o)));
    }
    out.push((
        "per_node_unwritten_bound_mib",
        mib(pn.unwritten_bound_bytes),
    ));
    out.extend([
        ("per_node_process_count", Int(d.counts.process_count)),
        ("measured_pids", Int(d.counts.alive)),
        ("timestamp_ms", Int(d.timestamp_ms)),
        ("node", Text(d.node.clone())),
    ]);
    out
}

fn m(bytes: f64) -> String {
    format!("{:.3} MiB", bytes / MIB)
}

/// The human text report: per connection (process, of which state with its
/// interval, of which heap; off-heap share; native; total), per node (BEAM by
/// category, allocator overhead, native, accounted, RSS, residual), and the
/// identities it rests on.
pub fn report_text(d: &Decomposition) -> String {
    let pc = &d.per_connection;
    let pn = &d.per_node;
    let b = &pn.beam;
    let n = &d.counts;
    let mut s = String::new();
    let _ = writeln!(s, "=== MEMORY DECOMPOSITION REPORT ===");
    let _ = writeln!(s, "Timestamp: {}", d.timestamp_ms);
    let _ = writeln!(s, "Node: {}", d.node);
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "--- Per-Connection Memory (mean over {} alive connections) ---",
        n.alive
    );
    let _ = writeln!(
        s,
        "  Process memory:            {:>14}",
        m(pc.process_bytes)
    );
    match &pc.state {
        Some(e) => {
            let ci = match (e.ci_low, e.ci_high) {
                (Some(lo), Some(hi)) if e.exact => {
                    format!(
                        "exact: all {} states measured [{} .. {}]",
                        e.sample_size,
                        m(lo),
                        m(hi)
                    )
                }
                (Some(lo), Some(hi)) => format!(
                    "ESTIMATE, 95% CI {} .. {}, n = {} of {}",
                    m(lo),
                    m(hi),
                    e.sample_size,
                    e.population
                ),
                _ => format!(
                    "ESTIMATE from 1 sample of {}: interval undefined",
                    e.population
                ),
            };
            let _ = writeln!(s, "    of which state:          {:>14}  ({ci})", m(e.mean));
        }
        None => {
            let _ = writeln!(
                s,
                "    of which state:          not measured (no state sample)"
            );
        }
    }
    let _ = writeln!(
        s,
        "    of which heap/other:     {:>14}  (process - state: stack, mailbox, heap not in state)",
        m(pc.heap_bytes)
    );
    let _ = writeln!(
        s,
        "  Off-heap binaries (share): {:>14}",
        m(pc.off_heap_share_bytes)
    );
    let _ = writeln!(s, "  Native pool slots:         {:>14}", m(pc.native_bytes));
    let _ = writeln!(
        s,
        "  Total per connection:      {:>14}  (process + off-heap share + native; state is inside process)",
        m(pc.total_bytes)
    );
    if let Some(p) = &pc.process_distribution {
        let _ = writeln!(
            s,
            "  Process memory spread:     min {} p50 {} p95 {} p99 {} max {}",
            m(p.min),
            m(p.p50),
            m(p.p95),
            m(p.p99),
            m(p.max)
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "--- Per-Node Memory ---");
    let _ = writeln!(s, "  BEAM total (erlang:memory): {:>13}", m(b.total));
    let _ = writeln!(s, "    processes:               {:>14}", m(b.processes));
    let _ = writeln!(
        s,
        "      connections:           {:>14}",
        m(b.connection_processes)
    );
    let _ = writeln!(
        s,
        "      infrastructure:        {:>14}",
        m(b.infrastructure_processes)
    );
    let _ = writeln!(
        s,
        "      other processes:       {:>14}",
        m(b.other_processes)
    );
    let _ = writeln!(s, "    system:                  {:>14}", m(b.system));
    let _ = writeln!(s, "      ets:                   {:>14}", m(b.ets));
    let _ = writeln!(s, "      atoms:                 {:>14}", m(b.atom));
    let _ = writeln!(s, "      code:                  {:>14}", m(b.code));
    let _ = writeln!(
        s,
        "      binaries:              {:>14}  (connections' share {})",
        m(b.binary),
        m(b.connection_binaries_share)
    );
    let _ = writeln!(s, "      other system:          {:>14}", m(b.system_other));
    match pn.allocator_overhead_bytes {
        Some(o) => {
            let _ = writeln!(
                s,
                "  Allocator overhead:        {:>14}  (carriers - blocks)",
                m(o)
            );
        }
        None => {
            let _ = writeln!(
                s,
                "  Allocator overhead:        not measured (in the residual)"
            );
        }
    }
    let _ = writeln!(
        s,
        "  Native (memacct pools):    {:>14}",
        m(pn.native_pool_bytes)
    );
    let _ = writeln!(
        s,
        "  Native (other):            {:>14}",
        m(pn.native_other_bytes)
    );
    match pn.os_mapped_bytes {
        Some(o) => {
            let _ = writeln!(
                s,
                "  OS-mapped pages:           {:>14}  (executable, libraries, shared memory)",
                m(o)
            );
        }
        None => {
            let _ = writeln!(
                s,
                "  OS-mapped pages:           not measured (in the residual)"
            );
        }
    }
    let _ = writeln!(
        s,
        "  Accounted:                 {:>14}  (BEAM total + allocator overhead + native + OS-mapped)",
        m(pn.accounted_bytes)
    );
    let _ = writeln!(s, "  Total RSS (OS view):       {:>14}", m(pn.rss_bytes));
    let _ = writeln!(
        s,
        "  Residual (unexplained):    {:>14}  ({:.2}% of RSS; RSS - accounted)",
        m(pn.residual_bytes),
        pn.residual_pct_of_rss
    );
    let reserve = if n.heap_reserve_sample_size == 0 {
        "heap reserve not measured".to_string()
    } else if n.heap_reserve_sample_size < n.alive {
        format!(
            "heap reserve ESTIMATED from {} of {} processes",
            n.heap_reserve_sample_size, n.alive
        )
    } else {
        "heap reserve of every connection".to_string()
    };
    let _ = writeln!(
        s,
        "  Allocated, maybe unwritten:{:>14}  (carrier free space + {reserve}: not resident until written)",
        m(pn.unwritten_bound_bytes)
    );
    if n.cached_segments > 0 {
        let _ = writeln!(
            s,
            "  Cached carrier segments:   {:>14}  (freed, still resident until mseg_alloc releases them: in the residual)",
            n.cached_segments
        );
    }
    let _ = writeln!(
        s,
        "  Base overhead:             {:>14}  (accounted - connections)",
        m(pn.base_overhead_bytes)
    );
    let _ = writeln!(s, "  Process count:             {:>14}", n.process_count);
    let _ = writeln!(
        s,
        "  Connections:               {:>14}  (given {}, dead {}, state timeouts {})",
        n.alive, n.connections, n.dead, n.timeouts
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "--- Calculations ---");
    let _ = writeln!(
        s,
        "  Connections total:         {:>14}  ({} x {})",
        m(pn.connections_bytes),
        n.alive,
        m(pc.total_bytes)
    );
    let _ = writeln!(
        s,
        "  Base + connections:        {:>14}  (= accounted)",
        m(pn.base_overhead_bytes + pn.connections_bytes)
    );
    let _ = writeln!(
        s,
        "  + residual = RSS:          {:>14}",
        m(pn.base_overhead_bytes + pn.connections_bytes + pn.residual_bytes)
    );
    let _ = writeln!(s, "=== END REPORT ===");
    s
}

/// The human text report of a cluster: each answering node's
/// [`report_text`], in order, then the cluster's totals over the nodes that
/// answered, and every node that did not answer with its reason (never
/// counted as zero).
pub fn cluster_report_text(c: &ClusterDecomposition) -> String {
    let mut s = String::new();
    for d in &c.nodes {
        s.push_str(&report_text(d));
        s.push('\n');
    }
    let mut missing = c.missing.len().to_string();
    for node in &c.missing {
        let _ = write!(missing, " {} ({})", node.node, node.reason);
    }
    let rows = [
        ("Nodes answered:", c.node_count.to_string()),
        ("Nodes missing:", missing),
        (
            "Cluster total RSS:",
            format!("{} (nodes that answered)", m(c.total_rss_bytes)),
        ),
        ("Cluster accounted:", m(c.total_accounted_bytes)),
        ("Cluster residual:", m(c.total_residual_bytes)),
        ("Connections:", c.total_connections.to_string()),
        (
            "Per connection total:",
            format!("{:.6} MiB", c.per_connection_total_bytes / MIB),
        ),
    ];
    let _ = writeln!(s, "=== CLUSTER ===");
    for (label, value) in rows {
        let _ = writeln!(s, "{label:<27}{value}");
    }
    let _ = writeln!(s, "=== END CLUSTER ===");
    s
}
