//! Honest memory decomposition (issue 5): per connection, per node and per
//! cluster, from the snapshots of `docs/SNAPSHOT.md`, with a first-class
//! residual (RSS minus every measured component), validation that reports
//! every broken rule, statistics over many decompositions, a trend with a
//! leak flag, and reports (text, compact key/value, JSON).
//!
//! ```
//! use memacct_core::decompose::{decompose, Options, Snapshot, ValidationOptions};
//! let json = std::fs::read_to_string(concat!(
//!     env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/snapshots/node_small.json")).unwrap();
//! let snapshot = Snapshot::from_json(&json).unwrap();
//! let d = decompose(&snapshot, &Options::default());
//! // state lives inside the process: heap + state = process, never process + state
//! let pc = &d.per_connection;
//! assert!((pc.heap_bytes + pc.state_bytes() - pc.process_bytes).abs() < 1e-6);
//! assert!(d.validate(&ValidationOptions::default()).is_empty());
//! ```
//!
//! Identities and rules: [`model`] (the decomposition), [`validate`] (the
//! rules), [`stats`] (the estimate and percentiles), [`mod@trend`] (the leak rule).

mod cluster;
pub mod model;
mod report;
pub mod snapshot;
pub mod stats;
pub mod trend;
pub mod validate;

pub use cluster::{decompose_cluster, ClusterDecomposition};
pub use model::{
    decompose, BeamBreakdown, Component, Counts, Decomposition, Options, PerConnection, PerNode,
    SeedRecord, StateOverProcess, MIB,
};
pub use report::{cluster_report_text, compact, report_text, CompactValue};
pub use snapshot::{
    Allocators, BeamMemory, ClusterSnapshot, Connections, Infrastructure, MissingNode,
    NativeMemory, OffHeap, OffHeapBinary, OsMemory, Snapshot, SnapshotDocument, StateSample,
    CLUSTER_FORMAT, SNAPSHOT_FORMAT, SNAPSHOT_VERSION,
};
pub use stats::{aggregate, summarize, Aggregate, CiMethod, Estimate, Summary};
pub use trend::{series_trend, trend, trend_with, SeriesTrend, Trend, TrendOptions};
pub use validate::{ValidationOptions, Violation, RULES};
