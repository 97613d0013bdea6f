//! The cluster: node decompositions summed, with the node count; a node that
//! did not answer is listed as missing and never counted as zero.

use serde::{Deserialize, Serialize};

use super::model::{decompose, Decomposition, Options, SeedRecord, MIB};
use super::snapshot::{ClusterSnapshot, MissingNode};
use super::stats::{summarize, Summary};
use super::validate::{close, Checker, ValidationOptions, Violation};

/// The decomposition of a cluster snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterDecomposition {
    /// One decomposition per node that answered, in the snapshot's order.
    pub nodes: Vec<Decomposition>,
    /// The nodes that did not answer (not in any sum).
    pub missing: Vec<MissingNode>,
    /// How many nodes answered (`nodes.len()`).
    pub node_count: u64,
    /// Σ RSS of the nodes that answered.
    pub total_rss_bytes: f64,
    /// Σ accounted bytes.
    pub total_accounted_bytes: f64,
    /// Σ residuals (signed).
    pub total_residual_bytes: f64,
    /// Σ alive connections.
    pub total_connections: u64,
    /// Σ bytes attributed to connections.
    pub total_connections_bytes: f64,
    /// `total_connections_bytes / total_connections` (0 without connections).
    pub per_connection_total_bytes: f64,
    /// Distribution of the nodes' RSS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_rss: Option<Summary>,
}

/// The sum of `figures`, 0.0 (not `Sum`'s -0.0) when there are none.
fn total(figures: impl Iterator<Item = f64>) -> f64 {
    figures.fold(0.0, |sum, x| sum + x)
}

/// Decomposes every node of a cluster snapshot and sums them.
pub fn decompose_cluster(cluster: &ClusterSnapshot, options: &Options) -> ClusterDecomposition {
    let nodes: Vec<Decomposition> = cluster
        .nodes
        .iter()
        .map(|s| decompose(s, options))
        .collect();
    let total_connections: u64 = nodes.iter().map(|d| d.counts.alive).sum();
    let total_connections_bytes = total(nodes.iter().map(|d| d.per_node.connections_bytes));
    let rss: Vec<f64> = nodes.iter().map(|d| d.per_node.rss_bytes).collect();
    ClusterDecomposition {
        node_count: nodes.len() as u64,
        total_rss_bytes: total(rss.iter().copied()),
        total_accounted_bytes: total(nodes.iter().map(|d| d.per_node.accounted_bytes)),
        total_residual_bytes: total(nodes.iter().map(|d| d.per_node.residual_bytes)),
        total_connections,
        total_connections_bytes,
        per_connection_total_bytes: if total_connections == 0 {
            0.0
        } else {
            total_connections_bytes / total_connections as f64
        },
        node_rss: summarize(&rss),
        missing: cluster.missing.clone(),
        nodes,
    }
}

impl ClusterDecomposition {
    /// Every violated rule: each node's (messages prefixed with the node's
    /// name), then `cluster_node_count` and `cluster_total_ge_nodes`.
    pub fn validate(&self, options: &ValidationOptions) -> Vec<Violation> {
        let mut c = Checker::default();
        for d in &self.nodes {
            let mut inner = Checker::default();
            d.check_into(&mut inner, options);
            for mut v in inner.out {
                v.message = format!("{}: {}", d.node, v.message);
                c.out.push(v);
            }
        }
        if self.node_count != self.nodes.len() as u64 {
            c.push(
                "cluster_node_count",
                format!(
                    "cluster node count {} != {} nodes present",
                    self.node_count,
                    self.nodes.len()
                ),
                vec![
                    ("node_count", self.node_count as f64),
                    ("nodes_present", self.nodes.len() as f64),
                ],
            );
        }
        let sum = total(self.nodes.iter().map(|d| d.per_node.rss_bytes));
        if self.total_rss_bytes < sum && !close(self.total_rss_bytes, sum, options.epsilon) {
            c.push(
                "cluster_total_ge_nodes",
                format!(
                    "cluster total RSS {} is below the sum of the nodes present {}",
                    self.total_rss_bytes, sum
                ),
                vec![
                    ("cluster_total_rss_bytes", self.total_rss_bytes),
                    ("sum_node_rss_bytes", sum),
                ],
            );
        }
        c.out
    }

    /// The seed record's fields for `node` (one of `nodes`), with the cluster
    /// figures of this cluster (`scope_per_cluster` true); `None` when the
    /// node is not present.
    pub fn seed_record_fields(&self, node: &str) -> Option<SeedRecord> {
        let d = self.nodes.iter().find(|d| d.node == node)?;
        let mut r = d.seed_record_fields();
        r.cluster_nodes = self.node_count;
        r.cluster_total_rss_mib = self.total_rss_bytes / MIB;
        r.scope_per_cluster = true;
        Some(r)
    }

    /// The cluster decomposition as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
