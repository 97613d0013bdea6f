//! Validation: every violated rule, each with the figures that break it.
//!
//! A rule is named by a stable snake_case code (the list is [`RULES`]);
//! bindings may switch on it. Rules check the figures stored in the
//! [`Decomposition`] (so a hand-built or edited decomposition is checked
//! too). Sums are compared with a relative tolerance of
//! [`ValidationOptions::epsilon`] (float rounding), the residual with
//! [`ValidationOptions::residual_tolerance`].
//!
//! | code | rule |
//! |---|---|
//! | `non_negative` | every figure is finite and ≥ 0, except the residual (signed by design) and the derived differences that other rules own (heap, other processes, system other, allocator overhead, base overhead) |
//! | `connection_counts` | `alive + dead = count` |
//! | `beam_total_identity` | `beam.total = beam.processes + beam.system` |
//! | `beam_used_within_allocated` | `processes_used ≤ processes`, `atom_used ≤ atom` |
//! | `beam_system_components` | `ets + atom + code + binary ≤ system` |
//! | `processes_components` | connections' + infrastructure process bytes `≤ beam.processes` |
//! | `binaries_within_beam` | bytes of the binaries connections reference `≤ beam.binary` |
//! | `native_within_pools` | connections' native bytes `≤` native pool bytes |
//! | `allocator_carriers_ge_blocks` | `carriers ≥ blocks` (overhead ≥ 0) |
//! | `state_le_process_sample` | each sampled state ≤ its process memory |
//! | `state_le_process_mean` | mean state ≤ mean process memory (heap ≥ 0) |
//! | `per_connection_total_identity` | `total = heap + state + off-heap share + native` and `heap + state = process` (seed rule 1, corrected) |
//! | `node_identity` | `accounted = beam.total + overhead + native + os_mapped`, `residual = rss − accounted`, `base_overhead + connections = accounted`, `connections = alive × per-connection total` |
//! | `residual_within_tolerance` | `−(tolerance × rss + unwritten_bound) ≤ residual ≤ tolerance × rss`: allocated bytes never written are not resident, and `unwritten_bound` (measured, see [`super::model`]) bounds them |
//! | `node_rss_covers_connections` | `rss ≥ base_overhead + alive × per-connection total − tolerance × rss − unwritten_bound` (seed rule 2; it fails exactly when the residual is below the lower bound above) |
//! | `cluster_total_ge_nodes` | cluster RSS `≥` the sum of the RSS of the nodes present (seed rule 3, corrected: missing nodes are not zeros) |
//! | `cluster_node_count` | the cluster's node count = the nodes present |

use serde::Serialize;

use super::model::Decomposition;

/// Every rule code, in the order they are checked.
pub const RULES: &[&str] = &[
    "non_negative",
    "connection_counts",
    "beam_total_identity",
    "beam_used_within_allocated",
    "beam_system_components",
    "processes_components",
    "binaries_within_beam",
    "native_within_pools",
    "allocator_carriers_ge_blocks",
    "state_le_process_sample",
    "state_le_process_mean",
    "per_connection_total_identity",
    "node_identity",
    "residual_within_tolerance",
    "node_rss_covers_connections",
    "cluster_total_ge_nodes",
    "cluster_node_count",
];

/// Tolerances of the validation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidationOptions {
    /// Largest accepted `|residual| / rss` (default 0.05 = 5% of RSS).
    pub residual_tolerance: f64,
    /// Relative tolerance of sum identities (float rounding; default 1e-9).
    pub epsilon: f64,
}

impl Default for ValidationOptions {
    fn default() -> Self {
        ValidationOptions {
            residual_tolerance: 0.05,
            epsilon: 1e-9,
        }
    }
}

/// One violated rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// The rule's code (one of [`RULES`]).
    pub rule: &'static str,
    /// A human sentence with the figures.
    pub message: String,
    /// The figures involved, by name (bytes unless the name says otherwise).
    pub figures: Vec<(&'static str, f64)>,
}

/// Collects violations.
#[derive(Default)]
pub(crate) struct Checker {
    pub(crate) out: Vec<Violation>,
}

impl Checker {
    pub(crate) fn push(
        &mut self,
        rule: &'static str,
        message: String,
        figures: Vec<(&'static str, f64)>,
    ) {
        self.out.push(Violation {
            rule,
            message,
            figures,
        });
    }
}

/// `a = b` within a relative `eps` (absolute for tiny values).
pub(crate) fn close(a: f64, b: f64, eps: f64) -> bool {
    (a - b).abs() <= eps * a.abs().max(b.abs()).max(1.0)
}

/// `a ≤ b` within a relative `eps`.
fn le(a: f64, b: f64, eps: f64) -> bool {
    a <= b || close(a, b, eps)
}

impl Decomposition {
    /// Every violated rule (empty when the decomposition is consistent); see
    /// the module docs for the rules.
    pub fn validate(&self, options: &ValidationOptions) -> Vec<Violation> {
        let mut c = Checker::default();
        self.check_into(&mut c, options);
        c.out
    }

    pub(crate) fn check_into(&self, c: &mut Checker, o: &ValidationOptions) {
        let eps = o.epsilon;
        let pc = &self.per_connection;
        let pn = &self.per_node;
        let b = &pn.beam;
        let n = &self.counts;

        // non_negative
        let mut figures: Vec<(&'static str, f64)> = vec![
            ("per_connection.process_bytes", pc.process_bytes),
            ("per_connection.state_bytes", pc.state_bytes()),
            (
                "per_connection.off_heap_share_bytes",
                pc.off_heap_share_bytes,
            ),
            ("per_connection.native_bytes", pc.native_bytes),
            ("per_connection.total_bytes", pc.total_bytes),
            ("rss_bytes", pn.rss_bytes),
            ("native_pool_bytes", pn.native_pool_bytes),
            ("native_other_bytes", pn.native_other_bytes),
            ("os_mapped_bytes", pn.os_mapped_bytes.unwrap_or(0.0)),
            ("unwritten_bound_bytes", pn.unwritten_bound_bytes),
            ("accounted_bytes", pn.accounted_bytes),
            ("connections_bytes", pn.connections_bytes),
            ("beam.total", b.total),
            ("beam.processes", b.processes),
            ("beam.processes_used", b.processes_used),
            ("beam.connection_processes", b.connection_processes),
            ("beam.infrastructure_processes", b.infrastructure_processes),
            ("beam.system", b.system),
            ("beam.ets", b.ets),
            ("beam.atom", b.atom),
            ("beam.atom_used", b.atom_used),
            ("beam.code", b.code),
            ("beam.binary", b.binary),
            ("beam.connection_binaries", b.connection_binaries),
            (
                "beam.connection_binaries_share",
                b.connection_binaries_share,
            ),
        ];
        figures.retain(|&(_, v)| !(v >= 0.0 && v.is_finite()));
        if let Some(x) = pc.state.as_ref().map(|e| e.mean) {
            if x.is_nan() {
                figures.push(("per_connection.state.mean", x));
            }
        }
        if !pn.residual_bytes.is_finite() {
            figures.push(("residual_bytes", pn.residual_bytes));
        }
        if !figures.is_empty() {
            let names: Vec<String> = figures.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            c.push(
                "non_negative",
                format!("negative or non-finite figures: {}", names.join(", ")),
                figures,
            );
        }

        // connection_counts
        if n.alive.checked_add(n.dead) != Some(n.connections) {
            c.push(
                "connection_counts",
                format!(
                    "alive {} + dead {} != connections given {}",
                    n.alive, n.dead, n.connections
                ),
                vec![
                    ("alive", n.alive as f64),
                    ("dead", n.dead as f64),
                    ("connections", n.connections as f64),
                ],
            );
        }

        // beam_total_identity
        if !close(b.total, b.processes + b.system, eps) {
            c.push(
                "beam_total_identity",
                format!(
                    "beam total {} != processes {} + system {}",
                    b.total, b.processes, b.system
                ),
                vec![
                    ("beam.total", b.total),
                    ("beam.processes", b.processes),
                    ("beam.system", b.system),
                ],
            );
        }

        // beam_used_within_allocated
        if !le(b.processes_used, b.processes, eps) || !le(b.atom_used, b.atom, eps) {
            c.push(
                "beam_used_within_allocated",
                format!(
                    "used exceeds allocated: processes_used {} / processes {}, atom_used {} / atom {}",
                    b.processes_used, b.processes, b.atom_used, b.atom
                ),
                vec![
                    ("beam.processes_used", b.processes_used),
                    ("beam.processes", b.processes),
                    ("beam.atom_used", b.atom_used),
                    ("beam.atom", b.atom),
                ],
            );
        }

        // beam_system_components
        let parts = b.ets + b.atom + b.code + b.binary;
        if !le(parts, b.system, eps) || !close(b.system_other, b.system - parts, eps) {
            c.push(
                "beam_system_components",
                format!(
                    "ets {} + atom {} + code {} + binary {} = {} exceeds system {} (system_other {})",
                    b.ets, b.atom, b.code, b.binary, parts, b.system, b.system_other
                ),
                vec![
                    ("beam.ets", b.ets),
                    ("beam.atom", b.atom),
                    ("beam.code", b.code),
                    ("beam.binary", b.binary),
                    ("beam.system", b.system),
                    ("beam.system_other", b.system_other),
                ],
            );
        }

        // processes_components
        let procs = b.connection_processes + b.infrastructure_processes;
        if !le(procs, b.processes, eps) || !close(b.other_processes, b.processes - procs, eps) {
            c.push(
                "processes_components",
                format!(
                    "connection processes {} + infrastructure {} = {} exceed beam processes {}",
                    b.connection_processes, b.infrastructure_processes, procs, b.processes
                ),
                vec![
                    ("beam.connection_processes", b.connection_processes),
                    ("beam.infrastructure_processes", b.infrastructure_processes),
                    ("beam.processes", b.processes),
                    ("beam.other_processes", b.other_processes),
                ],
            );
        }

        // binaries_within_beam
        if !le(b.connection_binaries, b.binary, eps)
            || !le(b.connection_binaries_share, b.connection_binaries, eps)
        {
            c.push(
                "binaries_within_beam",
                format!(
                    "binaries referenced by connections {} (their share {}) exceed beam binary {}",
                    b.connection_binaries, b.connection_binaries_share, b.binary
                ),
                vec![
                    ("beam.connection_binaries", b.connection_binaries),
                    (
                        "beam.connection_binaries_share",
                        b.connection_binaries_share,
                    ),
                    ("beam.binary", b.binary),
                ],
            );
        }

        // native_within_pools
        let conn_native = pc.native_bytes * n.alive as f64;
        if !le(conn_native, pn.native_pool_bytes, eps) {
            c.push(
                "native_within_pools",
                format!(
                    "connections own {} native bytes, more than the pools' {}",
                    conn_native, pn.native_pool_bytes
                ),
                vec![
                    ("connections_native_bytes", conn_native),
                    ("native_pool_bytes", pn.native_pool_bytes),
                ],
            );
        }

        // allocator_carriers_ge_blocks
        if let Some(over) = pn.allocator_overhead_bytes {
            if over < 0.0 || !over.is_finite() {
                c.push(
                    "allocator_carriers_ge_blocks",
                    format!("allocator carriers are {} bytes smaller than blocks", -over),
                    vec![("allocator_overhead_bytes", over)],
                );
            }
        }

        // state_le_process_sample
        if !self.state_over_process.is_empty() {
            let worst = self
                .state_over_process
                .iter()
                .max_by(|a, b| {
                    (a.state_bytes - a.process_bytes).total_cmp(&(b.state_bytes - b.process_bytes))
                })
                .copied();
            let mut figures = vec![("samples_over", self.state_over_process.len() as f64)];
            if let Some(w) = worst {
                figures.push(("worst_index", w.index as f64));
                figures.push(("worst_state_bytes", w.state_bytes));
                figures.push(("worst_process_bytes", w.process_bytes));
            }
            c.push(
                "state_le_process_sample",
                format!(
                    "{} sampled state(s) exceed their process memory (state lives inside the process)",
                    self.state_over_process.len()
                ),
                figures,
            );
        }

        // state_le_process_mean
        if let Some(e) = &pc.state {
            if !le(e.mean, pc.process_bytes, eps) {
                c.push(
                    "state_le_process_mean",
                    format!(
                        "mean state {} exceeds mean process memory {}",
                        e.mean, pc.process_bytes
                    ),
                    vec![
                        ("state_mean_bytes", e.mean),
                        ("process_mean_bytes", pc.process_bytes),
                    ],
                );
            }
        }

        // per_connection_total_identity
        let sum = pc.heap_bytes + pc.state_bytes() + pc.off_heap_share_bytes + pc.native_bytes;
        if !close(pc.total_bytes, sum, eps)
            || !close(pc.heap_bytes + pc.state_bytes(), pc.process_bytes, eps)
        {
            c.push(
                "per_connection_total_identity",
                format!(
                    "per-connection total {} != heap {} + state {} + off-heap share {} + native {} \
                     (or heap + state != process {})",
                    pc.total_bytes,
                    pc.heap_bytes,
                    pc.state_bytes(),
                    pc.off_heap_share_bytes,
                    pc.native_bytes,
                    pc.process_bytes
                ),
                vec![
                    ("total_bytes", pc.total_bytes),
                    ("heap_bytes", pc.heap_bytes),
                    ("state_bytes", pc.state_bytes()),
                    ("off_heap_share_bytes", pc.off_heap_share_bytes),
                    ("native_bytes", pc.native_bytes),
                    ("process_bytes", pc.process_bytes),
                ],
            );
        }

        // node_identity
        let overhead = pn.allocator_overhead_bytes.unwrap_or(0.0);
        let os_mapped = pn.os_mapped_bytes.unwrap_or(0.0);
        let accounted =
            b.total + overhead + pn.native_pool_bytes + pn.native_other_bytes + os_mapped;
        let conns = n.alive as f64 * pc.total_bytes;
        if !close(pn.accounted_bytes, accounted, eps)
            || !close(pn.residual_bytes, pn.rss_bytes - pn.accounted_bytes, eps)
            || !close(
                pn.base_overhead_bytes + pn.connections_bytes,
                pn.accounted_bytes,
                eps,
            )
            || !close(pn.connections_bytes, conns, eps)
        {
            c.push(
                "node_identity",
                format!(
                    "node components do not sum: accounted {} (beam {} + overhead {} + native {} + {} \
                     + os mapped {}), residual {} (rss {}), base overhead {} + connections {} \
                     (alive x per-connection {})",
                    pn.accounted_bytes,
                    b.total,
                    overhead,
                    pn.native_pool_bytes,
                    pn.native_other_bytes,
                    os_mapped,
                    pn.residual_bytes,
                    pn.rss_bytes,
                    pn.base_overhead_bytes,
                    pn.connections_bytes,
                    conns
                ),
                vec![
                    ("accounted_bytes", pn.accounted_bytes),
                    ("beam.total", b.total),
                    ("allocator_overhead_bytes", overhead),
                    ("native_pool_bytes", pn.native_pool_bytes),
                    ("native_other_bytes", pn.native_other_bytes),
                    ("os_mapped_bytes", os_mapped),
                    ("residual_bytes", pn.residual_bytes),
                    ("rss_bytes", pn.rss_bytes),
                    ("base_overhead_bytes", pn.base_overhead_bytes),
                    ("connections_bytes", pn.connections_bytes),
                ],
            );
        }

        // residual_within_tolerance
        let slack = o.residual_tolerance * pn.rss_bytes;
        let unwritten = pn.unwritten_bound_bytes;
        if pn.residual_bytes > slack || pn.residual_bytes < -(slack + unwritten) {
            c.push(
                "residual_within_tolerance",
                format!(
                    "residual {} bytes is {:.2}% of RSS {}, outside [-({:.2}% of RSS + {} bytes \
                     allocated but possibly unwritten), +{:.2}% of RSS]",
                    pn.residual_bytes,
                    pn.residual_pct_of_rss,
                    pn.rss_bytes,
                    100.0 * o.residual_tolerance,
                    unwritten,
                    100.0 * o.residual_tolerance
                ),
                vec![
                    ("residual_bytes", pn.residual_bytes),
                    ("residual_pct_of_rss", pn.residual_pct_of_rss),
                    ("rss_bytes", pn.rss_bytes),
                    ("tolerance_fraction", o.residual_tolerance),
                    ("unwritten_bound_bytes", unwritten),
                ],
            );
        }

        // node_rss_covers_connections
        let needed = pn.base_overhead_bytes + conns;
        if pn.rss_bytes + slack + unwritten < needed {
            c.push(
                "node_rss_covers_connections",
                format!(
                    "RSS {} is below base overhead {} + {} connections x {} per connection = {}",
                    pn.rss_bytes, pn.base_overhead_bytes, n.alive, pc.total_bytes, needed
                ),
                vec![
                    ("rss_bytes", pn.rss_bytes),
                    ("base_overhead_bytes", pn.base_overhead_bytes),
                    ("connections", n.alive as f64),
                    ("per_connection_total_bytes", pc.total_bytes),
                    ("tolerance_bytes", slack),
                    ("unwritten_bound_bytes", unwritten),
                ],
            );
        }
    }
}
