//! Memory decomposition: `Snapshot` (a node or cluster snapshot with its
//! decomposition), `Violation`, `load_snapshot`, `aggregate` and `trend`
//! (bindings of [`memacct_core::decompose`]; every figure comes from the
//! core). `Snapshot.to_pandas` and `Snapshot.plot` are presentation only and
//! live in the pure-Python module `memacct._present` (pandas and matplotlib
//! are optional and imported there, lazily).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use memacct_core::decompose::trend::Fit;
use memacct_core::decompose::{
    aggregate as core_aggregate, cluster_report_text, compact, decompose, decompose_cluster,
    report_text, trend_with, Aggregate, CiMethod, ClusterDecomposition, ClusterSnapshot,
    CompactValue, Decomposition, Options, Snapshot, SnapshotDocument, Summary, Trend, TrendOptions,
    ValidationOptions, Violation, RULES, SNAPSHOT_VERSION,
};
use memacct_core::Error;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::{buffer_bytes, io_err, mapping_items, option_args, to_py_err};

option_args! {
    min_points_arg: int usize = "min_points";
    tolerance_arg: float f64 = "tolerance";
    epsilon_arg: float f64 = "epsilon";
    min_span_hours_arg: float f64 = "min_span_hours";
    min_r_squared_arg: float f64 = "min_r_squared";
    min_growth_pct_per_hour_arg: float f64 = "min_growth_pct_per_hour";
}

fn invalid(py: Python<'_>, name: &'static str, reason: String) -> PyErr {
    to_py_err(py, &Error::InvalidOption { name, reason })
}

fn ci_method_arg(py: Python<'_>, name: &str) -> PyResult<CiMethod> {
    match name {
        "student_t" => Ok(CiMethod::StudentT),
        "normal" => Ok(CiMethod::Normal),
        _ => Err(invalid(
            py,
            "ci_method",
            format!("{name:?} is neither \"student_t\" nor \"normal\""),
        )),
    }
}

fn ci_method_name(m: CiMethod) -> &'static str {
    match m {
        CiMethod::StudentT => "student_t",
        CiMethod::Normal => "normal",
    }
}

/// A non-negative, finite option.
fn non_negative(py: Python<'_>, name: &'static str, x: f64) -> PyResult<f64> {
    if x.is_finite() && x >= 0.0 {
        Ok(x)
    } else {
        Err(invalid(py, name, format!("{x}: a finite number >= 0")))
    }
}

/// A parsed snapshot and its decomposition.
// Always behind an `Arc`, built once per load: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
enum Parsed {
    Node(Snapshot, Decomposition),
    Cluster(ClusterSnapshot, ClusterDecomposition),
}

/// Parses JSON text as a node or cluster snapshot (by its `format`) and
/// decomposes it, with the GIL released for the core's work.
fn parse(py: Python<'_>, json: &[u8], method: CiMethod) -> PyResult<Parsed> {
    let options = Options { ci_method: method };
    let parsed = py.detach(|| -> memacct_core::Result<Parsed> {
        Ok(match SnapshotDocument::from_json_bytes(json)? {
            SnapshotDocument::Cluster(s) => {
                let d = decompose_cluster(&s, &options);
                Parsed::Cluster(s, d)
            }
            SnapshotDocument::Node(s) => {
                let d = decompose(&s, &options);
                Parsed::Node(s, d)
            }
        })
    });
    parsed.map_err(|e| to_py_err(py, &e))
}

/// The JSON text of `data`: a `str` (UTF-8 encoded) or a bytes-like object.
fn json_bytes<'py>(data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    if let Ok(s) = data.cast::<PyString>() {
        return s.encode_utf8();
    }
    buffer_bytes(data, "data").map_err(|_| {
        let name = data
            .get_type()
            .name()
            .map_or_else(|_| "?".to_owned(), |n| n.to_string());
        PyTypeError::new_err(format!(
            "data must be str or a bytes-like object of JSON text, not '{name}'"
        ))
    })
}

/// A memory snapshot (``docs/SNAPSHOT.md``, format v1) of one node or of a
/// cluster, decomposed by the core when loaded.
///
/// ``memacct.load_snapshot(path)`` or ``Snapshot.from_json(text)`` make one.
/// Per connection: process memory (exact), of which state (an estimate from
/// the sample, with a 95% interval) and heap; the off-heap binary share; native
/// pool bytes. Per node: ``erlang:memory`` by category, allocator overhead,
/// native memory, accounted, and the residual (RSS minus accounted), so that
/// ``rss = base overhead + connections + residual`` exactly. A cluster
/// snapshot holds one such decomposition per node that answered, sums them,
/// and lists the nodes that did not answer (never counted as zero).
///
/// Immutable; compares equal when the snapshots are equal; pickles by its JSON.
#[pyclass(module = "memacct", name = "Snapshot", frozen, eq)]
pub(crate) struct PySnapshot {
    parsed: Arc<Parsed>,
    ci_method: CiMethod,
}

/// Equal when the snapshots are (their decompositions then are too, up to
/// `ci_method`); `eq` makes `==` with any other type `NotImplemented`.
impl PartialEq for PySnapshot {
    fn eq(&self, other: &Self) -> bool {
        match (&*self.parsed, &*other.parsed) {
            (Parsed::Node(a, _), Parsed::Node(b, _)) => a == b,
            (Parsed::Cluster(a, _), Parsed::Cluster(b, _)) => a == b,
            _ => false,
        }
    }
}

impl PySnapshot {
    fn node_parts(&self) -> Vec<(&Snapshot, &Decomposition)> {
        match &*self.parsed {
            Parsed::Node(s, d) => vec![(s, d)],
            Parsed::Cluster(s, d) => s.nodes.iter().zip(&d.nodes).collect(),
        }
    }

    fn snapshot_json(&self) -> String {
        match &*self.parsed {
            Parsed::Node(s, _) => s.to_json(),
            Parsed::Cluster(s, _) => s.to_json(),
        }
    }

    fn decompositions(&self) -> Vec<Decomposition> {
        self.node_parts()
            .into_iter()
            .map(|(_, d)| d.clone())
            .collect()
    }
}

#[pymethods]
impl PySnapshot {
    /// Reads a node or cluster snapshot from JSON text (``str``, or UTF-8
    /// bytes-like) and decomposes it. ``ci_method`` is the quantile of the
    /// state estimate's 95% interval: ``"student_t"`` (default) or
    /// ``"normal"``. ``BadSnapshotError`` if the text is not a v1 snapshot
    /// (the message names the field or position).
    #[staticmethod]
    #[pyo3(signature = (data, *, ci_method="student_t"))]
    fn from_json(py: Python<'_>, data: &Bound<'_, PyAny>, ci_method: &str) -> PyResult<Self> {
        let method = ci_method_arg(py, ci_method)?;
        let bytes = json_bytes(data)?;
        let parsed = parse(py, bytes.as_bytes(), method)?;
        Ok(PySnapshot {
            parsed: Arc::new(parsed),
            ci_method: method,
        })
    }

    /// True for a cluster snapshot (``"format": "memacct-cluster"``).
    #[getter]
    fn is_cluster(&self) -> bool {
        matches!(&*self.parsed, Parsed::Cluster(..))
    }

    /// The node's name (None for a cluster snapshot).
    #[getter]
    fn node(&self) -> Option<&str> {
        match &*self.parsed {
            Parsed::Node(s, _) => Some(&s.node),
            Parsed::Cluster(..) => None,
        }
    }

    /// When the node snapshot was taken, Unix milliseconds (None for a cluster snapshot).
    #[getter]
    fn timestamp_ms(&self) -> Option<u64> {
        match &*self.parsed {
            Parsed::Node(s, _) => Some(s.timestamp_ms),
            Parsed::Cluster(..) => None,
        }
    }

    /// Names of the nodes that answered, in the snapshot's order (one for a node snapshot).
    #[getter]
    fn node_names(&self) -> Vec<String> {
        self.node_parts()
            .into_iter()
            .map(|(s, _)| s.node.clone())
            .collect()
    }

    /// The nodes of a cluster snapshot that did not answer, as
    /// ``[{'node': ..., 'reason': ...}]`` (empty for a node snapshot).
    #[getter]
    fn missing<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        if let Parsed::Cluster(s, _) = &*self.parsed {
            for m in &s.missing {
                let d = PyDict::new(py);
                d.set_item(intern!(py, "node"), &m.node)?;
                d.set_item(intern!(py, "reason"), &m.reason)?;
                out.append(d)?;
            }
        }
        Ok(out)
    }

    /// The quantile of the state estimate's interval: ``"student_t"`` or ``"normal"``.
    #[getter]
    fn ci_method(&self) -> &'static str {
        ci_method_name(self.ci_method)
    }

    /// Per-connection process memory as measured (``connections.process_bytes``
    /// of a node snapshot: every alive connection or a sample); None when not
    /// given or for a cluster snapshot (see ``node_snapshots()``).
    #[getter]
    fn process_bytes(&self) -> Option<Vec<u64>> {
        match &*self.parsed {
            Parsed::Node(s, _) => s.connections.process_bytes.clone(),
            Parsed::Cluster(..) => None,
        }
    }

    /// The sampled connection states, bytes (``connections.state_sample.bytes``
    /// of a node snapshot); None when not sampled or for a cluster snapshot.
    #[getter]
    fn state_sample_bytes(&self) -> Option<Vec<u64>> {
        match &*self.parsed {
            Parsed::Node(s, _) => s.connections.state_sample.as_ref().map(|x| x.bytes.clone()),
            Parsed::Cluster(..) => None,
        }
    }

    /// One node ``Snapshot`` per node that answered (a node snapshot gives ``[self]``).
    fn node_snapshots(slf: &Bound<'_, Self>) -> PyResult<Vec<Py<PySnapshot>>> {
        let py = slf.py();
        let this = slf.get();
        match &*this.parsed {
            Parsed::Node(..) => Ok(vec![slf.clone().unbind()]),
            Parsed::Cluster(..) => this
                .node_parts()
                .into_iter()
                .map(|(s, d)| {
                    Py::new(
                        py,
                        PySnapshot {
                            parsed: Arc::new(Parsed::Node(s.clone(), d.clone())),
                            ci_method: this.ci_method,
                        },
                    )
                })
                .collect(),
        }
    }

    /// Every violated rule, each a ``Violation`` with the figures that break
    /// it (empty when the decomposition is consistent). ``tolerance`` is the
    /// largest accepted ``|residual| / rss`` (0.05 = 5% of RSS); ``epsilon``
    /// the relative tolerance of sum identities (float rounding). A cluster
    /// checks every node (messages prefixed with the node's name) and the
    /// cluster rules. Rule codes are ``memacct.VALIDATION_RULES``.
    #[pyo3(signature = (tolerance=0.05, *, epsilon=1e-9))]
    fn validate(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = tolerance_arg)] tolerance: f64,
        #[pyo3(from_py_with = epsilon_arg)] epsilon: f64,
    ) -> PyResult<Vec<PyViolation>> {
        let options = ValidationOptions {
            residual_tolerance: non_negative(py, "tolerance", tolerance)?,
            epsilon: non_negative(py, "epsilon", epsilon)?,
        };
        let parsed = &self.parsed;
        let violations = py.detach(|| match &**parsed {
            Parsed::Node(_, d) => d.validate(&options),
            Parsed::Cluster(_, d) => d.validate(&options),
        });
        Ok(violations.iter().map(PyViolation::from_core).collect())
    }

    /// The core's human text report. For a cluster: each answering node's
    /// report, in order, then a ``=== CLUSTER ===`` section with the totals
    /// over the nodes that answered and every node that did not, with its
    /// reason (never counted as zero).
    fn report(&self) -> String {
        match &*self.parsed {
            Parsed::Node(_, d) => report_text(d),
            Parsed::Cluster(_, c) => cluster_report_text(c),
        }
    }

    /// The compact key/value report (the seed's ``format_compact`` keys with
    /// corrected meanings, plus residual and the state's interval) as a dict
    /// in the core's order; for a cluster, a dict from node name to its dict.
    fn compact<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let one = |d: &Decomposition| -> PyResult<Bound<'py, PyDict>> {
            let out = PyDict::new(py);
            for (key, value) in compact(d) {
                match value {
                    CompactValue::Float(x) => out.set_item(key, x)?,
                    CompactValue::Int(n) => out.set_item(key, n)?,
                    CompactValue::Bool(b) => out.set_item(key, b)?,
                    CompactValue::Text(t) => out.set_item(key, t)?,
                }
            }
            Ok(out)
        };
        match &*self.parsed {
            Parsed::Node(_, d) => one(d),
            Parsed::Cluster(_, c) => {
                let out = PyDict::new(py);
                for d in &c.nodes {
                    out.set_item(&d.node, one(d)?)?;
                }
                Ok(out)
            }
        }
    }

    /// The node's memory as a partition of its RSS, bottom to top:
    /// ``[(component, group, bytes)]`` — connection, infrastructure and other
    /// processes; ets, atom, code, binary (the connections' off-heap share is
    /// inside it) and other system memory; allocator overhead (absent when not
    /// measured: it is then in the residual); native pool (the connections'
    /// slots are inside it) and other native memory; and the residual
    /// (``rss - accounted``, may be negative). The bytes add up to the RSS
    /// whenever ``erlang:memory``'s ``total = processes + system`` holds (else
    /// ``validate()`` reports ``beam_total_identity``).
    /// For a cluster, the components of each node in turn (see ``node_snapshots()``).
    fn components(&self) -> Vec<(&'static str, &'static str, f64)> {
        // These are the core's figures as they are, in one list: no arithmetic here.
        self.node_parts()
            .into_iter()
            .flat_map(|(_, d)| d.components())
            .map(|c| (c.name, c.group, c.bytes))
            .collect()
    }

    /// The decomposition as plain Python data (dicts, lists, numbers,
    /// strings, None), every figure in bytes: the core's JSON, parsed. A
    /// cluster gives ``nodes`` (one node decomposition each), ``missing`` and
    /// the cluster sums.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let json = self.to_json();
        py.import(intern!(py, "json"))?
            .call_method1(intern!(py, "loads"), (json,))
    }

    /// The decomposition as the core's (pretty) JSON text, bytes throughout.
    fn to_json(&self) -> String {
        match &*self.parsed {
            Parsed::Node(_, d) => d.to_json(),
            Parsed::Cluster(_, d) => d.to_json(),
        }
    }

    /// The snapshot itself as v1 JSON (normalised; ``from_json`` reads it back equal).
    #[pyo3(name = "snapshot_json")]
    fn py_snapshot_json(&self) -> String {
        self.snapshot_json()
    }

    /// The components as a pandas ``DataFrame`` (pandas is optional and
    /// imported now): for a node one row per component (``component``,
    /// ``group``, ``bytes``, ``mib``); for a cluster one row per node
    /// (``node``, a bytes column per component, ``rss_bytes``, ``rss_mib``,
    /// ``connections``, ``per_connection_total_bytes``, ``residual_pct_of_rss``).
    /// ``ImportError`` saying how to install pandas if it is missing.
    fn to_pandas<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        py.import(intern!(py, "memacct._present"))?
            .call_method1(intern!(py, "to_pandas"), (slf,))
    }

    /// Writes a PNG to ``path`` (matplotlib is optional, imported now with
    /// the Agg backend): a stacked bar of each node's decomposition, residual
    /// included, and the per-connection distribution (process bytes
    /// histogram and state sample) in a second panel. Returns the path (a
    /// ``pathlib.Path``). ``ImportError`` saying how to install matplotlib if
    /// it is missing; ``MemacctIoError`` (also the ``OSError`` subclass of
    /// its ``errno``, ``filename`` set) if the file cannot be written.
    #[pyo3(signature = (path, *, title=None))]
    fn plot(slf: &Bound<'_, Self>, path: PathBuf, title: Option<&str>) -> PyResult<PathBuf> {
        let py = slf.py();
        // Drawn in Python (presentation only), written here: the package's one
        // shape of file errors.
        let png = py
            .import(intern!(py, "memacct._present"))?
            .call_method1(intern!(py, "png"), (slf, title))?
            .cast_into::<PyBytes>()?;
        let data = png.as_bytes();
        py.detach(|| std::fs::write(&path, data))
            .map_err(|e| io_err(py, "writing plot", &e, &path))?;
        Ok(path)
    }

    fn __repr__(&self) -> String {
        match &*self.parsed {
            Parsed::Node(s, d) => format!(
                "Snapshot(node={:?}, timestamp_ms={}, alive={}, rss_bytes={}, residual_bytes={})",
                s.node, s.timestamp_ms, d.counts.alive, d.per_node.rss_bytes, d.per_node.residual_bytes
            ),
            Parsed::Cluster(_, d) => format!(
                "Snapshot(cluster, nodes={:?}, missing={:?}, total_rss_bytes={}, total_connections={})",
                d.nodes.iter().map(|n| n.node.as_str()).collect::<Vec<_>>(),
                d.missing.iter().map(|m| m.node.as_str()).collect::<Vec<_>>(),
                d.total_rss_bytes,
                d.total_connections
            ),
        }
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let this = slf.get();
        let from_json = slf.get_type().getattr(intern!(py, "_from_pickle"))?;
        (
            from_json,
            (this.snapshot_json(), ci_method_name(this.ci_method)),
        )
            .into_pyobject(py)
    }

    /// Unpickling helper: ``from_json(data, ci_method=ci_method)``.
    #[staticmethod]
    fn _from_pickle(py: Python<'_>, data: &Bound<'_, PyAny>, ci_method: &str) -> PyResult<Self> {
        Self::from_json(py, data, ci_method)
    }
}

/// Loads a node or cluster snapshot file (``docs/SNAPSHOT.md``) and
/// decomposes it (see ``Snapshot``). ``MemacctIoError`` if the file cannot
/// be read (also the ``OSError`` subclass of its ``errno``, e.g.
/// ``FileNotFoundError``, with ``filename`` set), ``BadSnapshotError`` if it
/// is not a v1 snapshot.
#[pyfunction]
#[pyo3(signature = (path, *, ci_method="student_t"))]
fn load_snapshot(py: Python<'_>, path: PathBuf, ci_method: &str) -> PyResult<PySnapshot> {
    let method = ci_method_arg(py, ci_method)?;
    let data = py
        .detach(|| std::fs::read(&path))
        .map_err(|e| io_err(py, "reading snapshot", &e, &path))?;
    let parsed = parse(py, &data, method)?;
    Ok(PySnapshot {
        parsed: Arc::new(parsed),
        ci_method: method,
    })
}

/// One violated rule: its ``rule`` code (one of ``memacct.VALIDATION_RULES``),
/// a human ``message`` with the figures, and ``figures`` (name -> value;
/// bytes unless the name says otherwise). Immutable; compares by value.
#[pyclass(module = "memacct", name = "Violation", frozen, eq)]
#[derive(Clone)]
pub(crate) struct PyViolation {
    rule: String,
    message: String,
    /// In the core's (or the given mapping's) order, which `figures` keeps.
    figures: Vec<(String, f64)>,
}

/// By value, the figures as a mapping: the same names with the same values,
/// in any order (as the dicts `figures` returns compare).
impl PartialEq for PyViolation {
    fn eq(&self, other: &Self) -> bool {
        self.rule == other.rule
            && self.message == other.message
            && self.figure_map() == other.figure_map()
    }
}

impl PyViolation {
    fn from_core(v: &Violation) -> Self {
        PyViolation {
            rule: v.rule.to_owned(),
            message: v.message.clone(),
            figures: v
                .figures
                .iter()
                .map(|(k, x)| ((*k).to_owned(), *x))
                .collect(),
        }
    }

    fn figure_map(&self) -> HashMap<&str, f64> {
        self.figures.iter().map(|(k, x)| (k.as_str(), *x)).collect()
    }

    fn figures_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, x) in &self.figures {
            d.set_item(k, x)?;
        }
        Ok(d)
    }
}

#[pymethods]
impl PyViolation {
    /// Builds a violation from its parts (used by pickle).
    #[new]
    #[pyo3(signature = (rule, message, figures))]
    fn new(rule: String, message: String, figures: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(PyViolation {
            rule,
            message,
            figures: mapping_items::<String, f64>(figures, "figures")?,
        })
    }

    /// The rule's stable code (one of ``memacct.VALIDATION_RULES``).
    #[getter]
    fn rule(&self) -> &str {
        &self.rule
    }

    /// A human sentence with the figures.
    #[getter]
    fn message(&self) -> &str {
        &self.message
    }

    /// The figures involved, by name (a new dict, in the core's order).
    #[getter]
    fn figures<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.figures_dict(py)
    }

    /// ``{'rule': ..., 'message': ..., 'figures': {...}}``.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item(intern!(py, "rule"), &self.rule)?;
        d.set_item(intern!(py, "message"), &self.message)?;
        d.set_item(intern!(py, "figures"), self.figures_dict(py)?)?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Violation(rule={}, message={}, figures={})",
            PyString::new(py, &self.rule).repr()?,
            PyString::new(py, &self.message).repr()?,
            self.figures_dict(py)?.repr()?
        ))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let v = slf.get();
        let args = (v.rule.as_str(), v.message.as_str(), v.figures_dict(py)?);
        (slf.get_type(), args).into_pyobject(py)
    }
}

/// The node decompositions of `items`: `Snapshot`s (a cluster gives each of
/// its nodes) or decompositions as plain data (`Snapshot.to_dict()` output,
/// e.g. read back from JSON; a cluster's gives each of its `nodes`).
fn collect_decompositions(
    py: Python<'_>,
    items: &Bound<'_, PyAny>,
    clusters: bool,
) -> PyResult<Vec<Decomposition>> {
    let dumps = py
        .import(intern!(py, "json"))?
        .getattr(intern!(py, "dumps"))?;
    let mut out = Vec::new();
    for item in items.try_iter()? {
        let item = item?;
        if let Ok(s) = item.cast::<PySnapshot>() {
            let s = s.get();
            if !clusters && s.is_cluster() {
                return Err(PyValueError::new_err(
                    "a trend is of one node: pass node snapshots (Snapshot.node_snapshots())",
                ));
            }
            out.extend(s.decompositions());
            continue;
        }
        if !item.hasattr(intern!(py, "items"))? {
            return Err(PyTypeError::new_err(format!(
                "expected Snapshot objects or decomposition dicts (Snapshot.to_dict()), not '{}'",
                item.get_type().name()?
            )));
        }
        let nodes = item.get_item(intern!(py, "nodes")).ok();
        let dicts: Vec<Bound<'_, PyAny>> = match nodes {
            Some(nodes) if !nodes.is_none() => {
                if !clusters {
                    return Err(PyValueError::new_err(
                        "a trend is of one node: pass node decompositions, not a cluster's",
                    ));
                }
                nodes.try_iter()?.collect::<PyResult<_>>()?
            }
            _ => vec![item],
        };
        for d in dicts {
            let json: String = dumps.call1((d,))?.extract()?;
            out.push(Decomposition::from_json(&json).map_err(|e| to_py_err(py, &e))?);
        }
    }
    Ok(out)
}

fn summary_dict<'py>(py: Python<'py>, s: &Option<Summary>) -> PyResult<Bound<'py, PyAny>> {
    let Some(s) = s else {
        return Ok(py.None().into_bound(py));
    };
    let d = PyDict::new(py);
    d.set_item(intern!(py, "count"), s.count)?;
    d.set_item(intern!(py, "min"), s.min)?;
    d.set_item(intern!(py, "max"), s.max)?;
    d.set_item(intern!(py, "mean"), s.mean)?;
    d.set_item(intern!(py, "p50"), s.p50)?;
    d.set_item(intern!(py, "p95"), s.p95)?;
    d.set_item(intern!(py, "p99"), s.p99)?;
    Ok(d.into_any())
}

fn aggregate_dict<'py>(py: Python<'py>, a: &Aggregate) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item(intern!(py, "count"), a.count)?;
    for (name, s) in [
        ("per_connection_process", &a.per_connection_process),
        ("per_connection_state", &a.per_connection_state),
        ("per_connection_heap", &a.per_connection_heap),
        ("per_connection_off_heap", &a.per_connection_off_heap),
        ("per_connection_native", &a.per_connection_native),
        ("per_connection_total", &a.per_connection_total),
        ("node_rss", &a.node_rss),
        ("node_accounted", &a.node_accounted),
        ("node_residual", &a.node_residual),
        ("node_residual_pct", &a.node_residual_pct),
        ("node_base_overhead", &a.node_base_overhead),
        ("connections", &a.connections),
    ] {
        d.set_item(name, summary_dict(py, s)?)?;
    }
    Ok(d)
}

/// Distributions over many decompositions (repeated runs, or many nodes): for
/// each figure a dict of ``count``, ``min``, ``max``, ``mean``, ``p50``,
/// ``p95``, ``p99`` (bytes; ``node_residual_pct`` percent, ``connections`` a
/// count), or None when no decomposition has it (``per_connection_state``
/// skips those without a state sample). ``items`` are ``Snapshot`` objects (a
/// cluster contributes each node) or decomposition dicts
/// (``Snapshot.to_dict()``). Keys: ``count`` and the figures
/// ``per_connection_{process,state,heap,off_heap,native,total}``,
/// ``node_{rss,accounted,residual,residual_pct,base_overhead}``, ``connections``.
#[pyfunction]
#[pyo3(signature = (items))]
fn aggregate<'py>(py: Python<'py>, items: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
    let ds = collect_decompositions(py, items, true)?;
    let a = py.detach(|| core_aggregate(&ds));
    aggregate_dict(py, &a)
}

fn fit_dict<'py>(py: Python<'py>, f: &Option<Fit>) -> PyResult<Bound<'py, PyAny>> {
    let Some(f) = f else {
        return Ok(py.None().into_bound(py));
    };
    let d = PyDict::new(py);
    d.set_item(intern!(py, "slope_per_hour"), f.slope_per_hour)?;
    d.set_item(intern!(py, "intercept"), f.intercept)?;
    d.set_item(intern!(py, "r_squared"), f.r_squared)?;
    d.set_item(intern!(py, "mean"), f.mean)?;
    d.set_item(intern!(py, "growth_pct_per_hour"), f.growth_pct_per_hour)?;
    Ok(d.into_any())
}

fn trend_dict<'py>(py: Python<'py>, t: &Trend) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item(intern!(py, "points"), t.points)?;
    d.set_item(intern!(py, "span_hours"), t.span_hours)?;
    d.set_item(intern!(py, "rss"), fit_dict(py, &t.rss)?)?;
    d.set_item(
        intern!(py, "per_connection_total"),
        fit_dict(py, &t.per_connection_total)?,
    )?;
    d.set_item(intern!(py, "leak_suspected"), t.leak_suspected)?;
    d.set_item(intern!(py, "reasons"), PyList::new(py, &t.reasons)?)?;
    Ok(d)
}

/// The trend of snapshots of one node (any order; sorted by timestamp):
/// least-squares growth per hour of the RSS and of the per-connection total,
/// and whether a leak is suspected. Returns ``{'points', 'span_hours', 'rss',
/// 'per_connection_total', 'leak_suspected', 'reasons'}``, each fit a dict of
/// ``slope_per_hour`` (bytes/h), ``intercept``, ``r_squared``, ``mean``,
/// ``growth_pct_per_hour`` (None with fewer than two distinct timestamps).
/// A series is suspect with at least ``min_points`` snapshots over at least
/// ``min_span_hours``, growth of at least ``min_growth_pct_per_hour`` percent
/// of its mean per hour and a fit with R² of at least ``min_r_squared``.
/// ``items`` are node ``Snapshot`` objects or node decomposition dicts.
#[pyfunction]
#[pyo3(signature = (items, *, min_points=5, min_span_hours=0.25, min_r_squared=0.8, min_growth_pct_per_hour=1.0))]
fn trend<'py>(
    py: Python<'py>,
    items: &Bound<'py, PyAny>,
    #[pyo3(from_py_with = min_points_arg)] min_points: usize,
    #[pyo3(from_py_with = min_span_hours_arg)] min_span_hours: f64,
    #[pyo3(from_py_with = min_r_squared_arg)] min_r_squared: f64,
    #[pyo3(from_py_with = min_growth_pct_per_hour_arg)] min_growth_pct_per_hour: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let options = TrendOptions {
        min_points,
        min_span_hours: non_negative(py, "min_span_hours", min_span_hours)?,
        min_r_squared: non_negative(py, "min_r_squared", min_r_squared)?,
        min_growth_pct_per_hour: non_negative(
            py,
            "min_growth_pct_per_hour",
            min_growth_pct_per_hour,
        )?,
    };
    let ds = collect_decompositions(py, items, false)?;
    let t = py.detach(|| trend_with(&ds, &options));
    trend_dict(py, &t)
}

/// Adds the decomposition's classes, functions and constants to the module.
pub(crate) fn add_decompose(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<PySnapshot>()?;
    m.add_class::<PyViolation>()?;
    m.add_function(wrap_pyfunction!(load_snapshot, m)?)?;
    m.add_function(wrap_pyfunction!(aggregate, m)?)?;
    m.add_function(wrap_pyfunction!(trend, m)?)?;
    m.add("VALIDATION_RULES", PyTuple::new(py, RULES)?)?;
    m.add("SNAPSHOT_VERSION", SNAPSHOT_VERSION)?;
    Ok(())
}
