//! The decomposition against the committed snapshot vectors
//! (tests/vectors/snapshots/), hostile JSON, round trips, reports, trend,
//! aggregate and property tests of the identities and of validation.

use std::collections::BTreeSet;
use std::path::PathBuf;

use memacct_core::decompose::*;
use proptest::prelude::*;

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/snapshots")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(vectors().join(name)).unwrap()
}

fn small() -> Snapshot {
    Snapshot::from_json(&read("node_small.json")).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

macro_rules! assert_close {
    ($a:expr, $b:expr) => {{
        let (a, b): (f64, f64) = ($a, $b);
        assert!(close(a, b), "{} = {a}, expected {b}", stringify!($a));
    }};
}

fn rules(v: &[Violation]) -> BTreeSet<&'static str> {
    v.iter().map(|v| v.rule).collect()
}

#[test]
fn node_small_figures() {
    let d = decompose(&small(), &Options::default());
    let pc = &d.per_connection;
    assert_close!(pc.process_bytes, 2800.0);
    assert_close!(pc.state_bytes(), 1100.0);
    assert_close!(pc.heap_bytes, 1700.0);
    assert_close!(pc.off_heap_share_bytes, 300.2048);
    assert_close!(pc.native_bytes, 300.0);
    assert_close!(pc.total_bytes, 3400.2048);
    let e = pc.state.unwrap();
    assert!(!e.exact);
    assert_eq!((e.sample_size, e.population), (5, 10000));
    let half = 2.776445 * 6250f64.sqrt() / 5f64.sqrt() * (9995.0f64 / 9999.0).sqrt();
    assert!((e.half_width.unwrap() - half).abs() < 1e-9);
    let pn = &d.per_node;
    assert_close!(pn.rss_bytes, 215e6);
    assert_close!(pn.accounted_bytes, 211e6);
    assert_close!(pn.allocator_overhead_bytes.unwrap(), 17e6);
    assert_close!(pn.residual_bytes, 4e6);
    assert_close!(pn.residual_pct_of_rss, 400.0 / 215.0);
    assert_close!(pn.connections_bytes, 34_002_048.0);
    assert_close!(pn.base_overhead_bytes, 176_997_952.0);
    assert_close!(pn.beam.other_processes, 91.1e6);
    assert_close!(pn.beam.system_other, 45e6);
    assert_close!(pn.beam.connection_binaries, 3_004_096.0);
    assert_eq!(d.counts.alive, 10000);
    assert!(d.state_over_process.is_empty());
    assert_eq!(d.validate(&ValidationOptions::default()), vec![]);
    // A tighter residual tolerance flags the 1.86 % residual, and only that.
    let tight = ValidationOptions {
        residual_tolerance: 0.01,
        ..ValidationOptions::default()
    };
    let v = d.validate(&tight);
    assert_eq!(rules(&v), BTreeSet::from(["residual_within_tolerance"]));
    assert!(v[0].figures.contains(&("residual_bytes", 4e6)));
}

#[test]
fn expected_txt_matches() {
    let text = read("expected.txt");
    let mut checked = 0;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let (file, key, value) = (parts[0], parts[1], parts[2].parse::<f64>().unwrap());
        let got = if file.starts_with("cluster") {
            let c = decompose_cluster(
                &ClusterSnapshot::from_json(&read(file)).unwrap(),
                &Options::default(),
            );
            match key {
                "node_count" => c.node_count as f64,
                "missing" => c.missing.len() as f64,
                "total_rss_bytes" => c.total_rss_bytes,
                "total_connections" => c.total_connections as f64,
                _ => panic!("unknown key {key}"),
            }
        } else {
            let d = decompose(
                &Snapshot::from_json(&read(file)).unwrap(),
                &Options::default(),
            );
            let json: serde_json::Value = serde_json::from_str(&d.to_json()).unwrap();
            match key {
                "violations" => d.validate(&ValidationOptions::default()).len() as f64,
                "per_connection.state_bytes" => d.per_connection.state_bytes(),
                _ => {
                    let mut v = &json;
                    for k in key.split('.') {
                        v = &v[k];
                    }
                    v.as_f64().unwrap_or_else(|| panic!("{file} {key}: {v}"))
                }
            }
        };
        assert!(close(got, value), "{file} {key}: {got} != {value}");
        checked += 1;
    }
    assert!(checked >= 20);
}

#[test]
fn node_inconsistent_flags_every_broken_rule() {
    let d = decompose(
        &Snapshot::from_json(&read("node_inconsistent.json")).unwrap(),
        &Options::default(),
    );
    let v = d.validate(&ValidationOptions::default());
    assert_eq!(
        rules(&v),
        BTreeSet::from([
            "connection_counts",
            "beam_total_identity",
            "residual_within_tolerance",
            "node_rss_covers_connections"
        ])
    );
    for x in &v {
        assert!(!x.message.is_empty() && !x.figures.is_empty());
        assert!(RULES.contains(&x.rule));
    }
}

#[test]
fn cluster_with_a_missing_node() {
    let c = ClusterSnapshot::from_json(&read("cluster_missing_node.json")).unwrap();
    let d = decompose_cluster(&c, &Options::default());
    assert_eq!(d.node_count, 2);
    assert_eq!(d.missing.len(), 1);
    assert_eq!(d.missing[0].node, "c@host");
    assert_close!(d.total_rss_bytes, 335e6);
    assert_eq!(d.total_connections, 15000);
    assert_close!(d.total_connections_bytes, 34_002_048.0 + 14e6);
    let v = d.validate(&ValidationOptions::default());
    assert_eq!(rules(&v), BTreeSet::from(["residual_within_tolerance"]));
    assert!(v[0].message.starts_with("b@host: "), "{}", v[0].message);
    let r = d.seed_record_fields("a@host").unwrap();
    assert_eq!(r.cluster_nodes, 2);
    assert!(r.scope_per_cluster);
    assert_close!(r.cluster_total_rss_mib, 335e6 / MIB);
    assert!(d.seed_record_fields("c@host").is_none());
    // b@host has no state sample: state is 0.0 in the record, heap = total.
    let b = d.seed_record_fields("b@host").unwrap();
    assert_eq!(b.per_conn_state_mib, 0.0);
    assert_close!(b.per_conn_heap_mib, 2800.0 / MIB);
    // Tampering with the cluster total is caught.
    let mut bad = d.clone();
    bad.total_rss_bytes -= 1e6;
    bad.node_count = 3;
    let v = bad.validate(&ValidationOptions::default());
    assert!(rules(&v).contains("cluster_total_ge_nodes"));
    assert!(rules(&v).contains("cluster_node_count"));
    // The report: both nodes' reports, the totals, the missing node and why.
    let text = cluster_report_text(&d);
    assert!(text.contains("Node: a@host") && text.contains("Node: b@host"));
    assert!(
        text.contains("Nodes missing:             1 c@host (timeout)"),
        "{text}"
    );
    assert!(text.contains("Connections:               15000"), "{text}");
    assert!(text.contains(&format!(
        "Cluster total RSS:         {:.3} MiB",
        335e6 / MIB
    )));
}

#[test]
fn a_cluster_where_no_node_answered() {
    let c = ClusterSnapshot::from_json(
        r#"{"format": "memacct-cluster", "version": 1, "nodes": [],
            "missing": [{"node": "a@host", "reason": "timeout"}]}"#,
    )
    .unwrap();
    let d = decompose_cluster(&c, &Options::default());
    for total in [
        d.total_rss_bytes,
        d.total_accounted_bytes,
        d.total_residual_bytes,
        d.total_connections_bytes,
    ] {
        // Not -0.0 (what `Sum` gives for nothing), which JSON and text show as "-0".
        assert!(total == 0.0 && total.is_sign_positive(), "{total}");
    }
    assert!(!d.to_json().contains("-0"), "{}", d.to_json());
    let text = cluster_report_text(&d);
    assert!(text.contains("Nodes answered:            0"), "{text}");
    assert!(
        text.contains("Nodes missing:             1 a@host (timeout)"),
        "{text}"
    );
}

#[test]
fn seed_record_has_no_double_counting() {
    let d = decompose(&small(), &Options::default());
    let r = d.seed_record_fields();
    // The record's contract: heap + state = total (nothing counted twice).
    assert_close!(
        r.per_conn_heap_mib + r.per_conn_state_mib,
        r.per_conn_total_mib
    );
    assert_close!(r.per_conn_total_mib, 3400.2048 / MIB);
    assert_close!(r.per_node_total_rss_mib, 215e6 / MIB);
    assert_close!(r.per_node_base_overhead_mib, 176_997_952.0 / MIB);
    assert_eq!(
        (
            r.per_node_process_count,
            r.connections,
            r.cluster_nodes,
            r.measured_pids
        ),
        (10250, 10000, 1, 10000)
    );
    assert!(r.scope_per_node && !r.scope_per_cluster);
    assert_eq!(r.node, "app@host");
    assert_eq!(r.timestamp_ms, 1763900000000);
}

#[test]
fn json_round_trips() {
    let s = small();
    assert_eq!(Snapshot::from_json(&s.to_json()).unwrap(), s);
    let c = ClusterSnapshot::from_json(&read("cluster_missing_node.json")).unwrap();
    assert_eq!(ClusterSnapshot::from_json(&c.to_json()).unwrap(), c);
    let d = decompose(&s, &Options::default());
    assert_eq!(Decomposition::from_json(&d.to_json()).unwrap(), d);
    // A single-sample estimate has no interval: null in JSON, and back.
    let mut one = s.clone();
    one.connections.state_sample = Some(StateSample {
        population: 10,
        bytes: vec![100],
        process_bytes: None,
    });
    let d1 = decompose(&one, &Options::default());
    assert_eq!(d1.per_connection.state.unwrap().half_width, None);
    assert_eq!(Decomposition::from_json(&d1.to_json()).unwrap(), d1);
}

#[test]
fn hostile_json_is_a_typed_error() {
    let good: serde_json::Value = serde_json::from_str(&read("node_small.json")).unwrap();
    let mutate = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = good.clone();
        f(&mut v);
        Snapshot::from_json(&v.to_string())
    };
    type Mutation = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "missing rss",
            Box::new(|v| {
                v["os"].as_object_mut().unwrap().remove("rss_bytes");
            }),
        ),
        (
            "missing beam key",
            Box::new(|v| {
                v["beam"].as_object_mut().unwrap().remove("ets");
            }),
        ),
        (
            "missing connections",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("connections");
            }),
        ),
        ("negative", Box::new(|v| v["os"]["rss_bytes"] = (-1).into())),
        (
            "overflow",
            Box::new(|v| {
                v["beam"]["total"] =
                    serde_json::Value::Number(serde_json::Number::from_f64(1e30).unwrap())
            }),
        ),
        ("fraction", Box::new(|v| v["beam"]["total"] = 1.5.into())),
        ("string", Box::new(|v| v["process_count"] = "12".into())),
        (
            "format",
            Box::new(|v| v["format"] = "memacct-cluster".into()),
        ),
        ("version", Box::new(|v| v["version"] = 2.into())),
        ("word", Box::new(|v| v["word_bytes"] = 7.into())),
        ("empty node", Box::new(|v| v["node"] = "".into())),
        // A NUL would cut the name short in every C string it is written to.
        (
            "NUL in node",
            Box::new(|v| v["node"] = "a\u{0}b@host".into()),
        ),
        (
            "zero holders",
            Box::new(|v| v["connections"]["off_heap"]["binaries"][0]["holders"] = 0.into()),
        ),
        (
            "holders",
            Box::new(|v| {
                v["connections"]["off_heap"]["binaries"][0]["connection_holders"] = 3.into()
            }),
        ),
        (
            "population",
            Box::new(|v| v["connections"]["state_sample"]["population"] = 2.into()),
        ),
        (
            "pairing",
            Box::new(|v| {
                v["connections"]["state_sample"]["process_bytes"] = serde_json::json!([1, 2]);
            }),
        ),
    ];
    for (name, f) in &cases {
        let e = mutate(f.as_ref()).unwrap_err();
        assert_eq!(e.code(), "bad_snapshot", "{name}: {e}");
    }
    for junk in [
        "",
        "null",
        "[]",
        "{",
        "{\"format\": \"memacct-snapshot\"}",
        "\u{0}",
        &"[".repeat(100_000),
        &"{\"a\":".repeat(50_000),
    ] {
        assert_eq!(
            Snapshot::from_json(junk).unwrap_err().code(),
            "bad_snapshot"
        );
        assert_eq!(
            ClusterSnapshot::from_json(junk).unwrap_err().code(),
            "bad_snapshot"
        );
    }
    assert_eq!(
        Snapshot::from_json_bytes(b"\xff\xfe").unwrap_err().code(),
        "bad_snapshot"
    );
    // Unknown fields are ignored; optional ones may be absent.
    let mut v = good.clone();
    v["future_field"] = serde_json::json!({"x": [1, 2, 3]});
    let o = v.as_object_mut().unwrap();
    for k in [
        "allocators",
        "native",
        "infrastructure",
        "otp_release",
        "word_bytes",
    ] {
        o.remove(k);
    }
    let s = Snapshot::from_json(&v.to_string()).unwrap();
    assert_eq!(s.word_bytes, 8);
    let d = decompose(&s, &Options::default());
    assert_eq!(d.per_node.allocator_overhead_bytes, None);
    // Without `native`, the pools are taken to be the connections' own bytes.
    assert_close!(d.per_node.native_pool_bytes, 3e6);
    // Cluster: duplicate node names, a NUL in a missing node's name.
    let c = serde_json::json!({"format": "memacct-cluster", "version": 1,
        "nodes": [good, good]});
    let nul = serde_json::json!({"format": "memacct-cluster", "version": 1,
        "nodes": [good], "missing": [{"node": "c\u{0}@host", "reason": "timeout"}]});
    for cluster in [c, nul] {
        assert_eq!(
            ClusterSnapshot::from_json(&cluster.to_string())
                .unwrap_err()
                .code(),
            "bad_snapshot",
            "{cluster}"
        );
    }
}

#[test]
fn extreme_values_do_not_panic() {
    let mut s = small();
    s.os.rss_bytes = u64::MAX;
    s.beam.total = u64::MAX;
    s.connections.process_bytes_total = u64::MAX;
    s.connections.alive = 0;
    s.connections.state_sample = Some(StateSample {
        population: u64::MAX,
        bytes: vec![u64::MAX, 0],
        process_bytes: None,
    });
    let d = decompose(&s, &Options::default());
    let _ = d.validate(&ValidationOptions::default());
    let _ = report_text(&d);
    let _ = compact(&d);
    assert_eq!(d.per_connection.process_bytes, 0.0);
    let mut z = small();
    z.os.rss_bytes = 0;
    let d = decompose(&z, &Options::default());
    assert_eq!(d.per_node.residual_pct_of_rss, 0.0);
    assert!(rules(&d.validate(&ValidationOptions::default())).contains("residual_within_tolerance"));
}

#[test]
fn reports() {
    let d = decompose(&small(), &Options::default());
    let text = report_text(&d);
    for needle in [
        "=== MEMORY DECOMPOSITION REPORT ===",
        "Node: app@host",
        "of which state:",
        "ESTIMATE, 95% CI",
        "Residual (unexplained):",
        "1.86% of RSS",
        "Total per connection:",
        "0.003 MiB",
        "=== END REPORT ===",
    ] {
        assert!(text.contains(needle), "{needle} not in\n{text}");
    }
    let c = compact(&d);
    let get = |k: &str| c.iter().find(|(key, _)| *key == k).map(|(_, v)| v.clone());
    for k in [
        "per_connection_heap_mib",
        "per_connection_state_mib",
        "per_connection_total_mib",
        "per_node_base_overhead_mib",
        "per_node_total_rss_mib",
        "connections",
        "cluster_nodes",
        "cluster_total_rss_mib",
        "scope_per_node",
        "scope_per_cluster",
        "per_node_residual_mib",
        "per_node_residual_pct_of_rss",
    ] {
        assert!(get(k).is_some(), "{k}");
    }
    assert_eq!(
        get("per_node_residual_mib"),
        Some(CompactValue::Float(4e6 / MIB))
    );
    assert_eq!(get("connections"), Some(CompactValue::Int(10000)));
    assert_eq!(get("scope_per_cluster"), Some(CompactValue::Bool(false)));
}

fn at(d: &Decomposition, minutes: u64, rss: f64, total: f64) -> Decomposition {
    let mut d = d.clone();
    d.timestamp_ms = 1_000_000 + minutes * 60_000;
    d.per_node.rss_bytes = rss;
    d.per_connection.total_bytes = total;
    d
}

#[test]
fn trend_and_leak_flag() {
    let base = decompose(&small(), &Options::default());
    // RSS grows 10 MB/h on 200 MB (5%/h), linearly: a leak.
    let growing: Vec<Decomposition> = (0..6)
        .rev()
        .map(|i| at(&base, i * 10, 200e6 + i as f64 * 10e6 / 6.0, 3400.0))
        .collect();
    let t = trend(&growing);
    assert_eq!(t.points, 6);
    assert_close!(t.span_hours, 50.0 / 60.0);
    let rss = t.rss.unwrap();
    assert!(
        (rss.slope_per_hour - 10e6).abs() < 1e-3,
        "{}",
        rss.slope_per_hour
    );
    assert!((rss.r_squared - 1.0).abs() < 1e-12);
    assert!(t.leak_suspected);
    assert_eq!(t.reasons.len(), 1);
    assert!(t.reasons[0].starts_with("rss grows"));
    // Flat but noisy: no leak.
    let flat: Vec<Decomposition> = [0.0, 1e6, -1e6, 0.5e6, -0.5e6, 0.0]
        .iter()
        .enumerate()
        .map(|(i, n)| at(&base, i as u64 * 10, 200e6 + n, 3400.0))
        .collect();
    assert!(!trend(&flat).leak_suspected);
    // Too few points: no verdict.
    assert!(!trend(&growing[..4]).leak_suspected);
    // One point: no fit.
    let one = trend(&growing[..1]);
    assert!(one.rss.is_none() && !one.leak_suspected);
    assert!(trend(&[]).rss.is_none());
}

/// One series under the same rule: the same fit and verdict as `trend`
/// gives the RSS of the same decompositions.
#[test]
fn series_trend_follows_the_leak_rule() {
    let base = decompose(&small(), &Options::default());
    let growing: Vec<Decomposition> = (0..6)
        .map(|i| at(&base, i * 10, 200e6 + i as f64 * 10e6 / 6.0, 3400.0))
        .collect();
    let points: Vec<(i64, f64)> = growing
        .iter()
        .rev()
        .map(|d| (d.timestamp_ms as i64, d.per_node.rss_bytes))
        .collect();
    let o = TrendOptions::default();
    let s = series_trend("total_memory", &points, &o);
    let t = trend(&growing);
    assert_eq!(s.fit, t.rss);
    assert_eq!(s.points, 6);
    assert_close!(s.span_hours, 50.0 / 60.0);
    assert!(s.enough_data && s.leak_suspected);
    assert!(s
        .reason
        .unwrap()
        .starts_with("total_memory grows 10000000 bytes/h"));
    // Too few points: a fit, no verdict.
    let few = series_trend("x", &points[..4], &o);
    assert!(few.fit.is_some() && !few.enough_data && !few.leak_suspected && few.reason.is_none());
    // Shrinking, constant, one point, none.
    let shrinking: Vec<(i64, f64)> = points.iter().map(|&(t, v)| (t, 1e9 - v)).collect();
    assert!(!series_trend("x", &shrinking, &o).leak_suspected);
    let flat: Vec<(i64, f64)> = points.iter().map(|&(t, _)| (t, 5.0)).collect();
    let f = series_trend("x", &flat, &o);
    assert_eq!(f.fit.unwrap().r_squared, 0.0);
    assert!(!f.leak_suspected);
    assert!(series_trend("x", &points[..1], &o).fit.is_none());
    let none = series_trend("x", &[], &o);
    assert!(none.fit.is_none() && none.points == 0 && none.span_hours == 0.0);
}

#[test]
fn aggregate_over_decompositions() {
    let base = decompose(&small(), &Options::default());
    let ds: Vec<Decomposition> = (1..=100)
        .map(|i| at(&base, i, i as f64 * 1e6, i as f64))
        .collect();
    let a = aggregate(&ds);
    assert_eq!(a.count, 100);
    let rss = a.node_rss.unwrap();
    assert_eq!((rss.min, rss.max), (1e6, 100e6));
    assert_close!(rss.mean, 50.5e6);
    assert_close!(rss.p50, 50.5e6);
    assert_close!(rss.p95, 95.05e6);
    assert_close!(rss.p99, 99.01e6);
    assert_eq!(a.per_connection_total.unwrap().max, 100.0);
    assert_close!(a.per_connection_state.unwrap().mean, 1100.0);
    assert!(aggregate(&[]).node_rss.is_none());
}

// ---- property tests ----------------------------------------------------------

#[derive(Debug, Clone)]
struct Gen {
    s: Snapshot,
}

fn consistent() -> impl Strategy<Value = Gen> {
    (
        (1u64..200_000, 0u64..10, 1000u64..100_000, 0u64..10_000_000),
        (
            0u64..100_000_000,
            0u64..50_000_000,
            0u64..5_000_000,
            0u64..60_000_000,
        ),
        (0u64..20_000_000, 0u64..100_000_000),
        prop::collection::vec((65u64..1_000_000, 1u64..10, 0u64..10), 0..20),
        (0u64..10_000_000, 0u64..5_000_000, 0u64..5_000_000),
        (0u64..=1000, any::<bool>(), 0u64..=1000),
        prop::collection::vec((0u64..=1000, 0u64..5000), 1..20),
        (
            0u64..20_000_000,
            0u64..20_000_000,
            any::<bool>(),
            0u64..=1000,
        ),
    )
        .prop_map(
            |(
                (alive, dead, per_proc, infra),
                (other_procs, ets, atom, code),
                (binary_other, system_other),
                bins,
                (conn_native, extra_pool, native_other),
                (res_permille_x, res_negative, over_permille_x),
                states,
                (rss_file, rss_shmem, jit, reserve_permille),
            )| {
                let process_total = alive * per_proc;
                let processes = process_total + infra + other_procs;
                let binaries: Vec<OffHeapBinary> = bins
                    .iter()
                    .map(|&(bytes, holders, ch)| OffHeapBinary {
                        bytes,
                        holders,
                        connection_holders: 1 + ch % holders,
                    })
                    .collect();
                let conn_bins: u64 = binaries.iter().map(|b| b.bytes).sum();
                let binary = conn_bins + binary_other;
                let system = ets + atom + code + binary + system_other;
                let total = processes + system;
                let overhead = total / 100 * over_permille_x / 1000; // ≤ 1% of total
                let pool = conn_native + extra_pool;
                let os_mapped = rss_file + if jit { rss_shmem / 2 } else { rss_shmem };
                let rss_shmem = if jit { rss_shmem / 2 * 2 } else { rss_shmem };
                let heap_reserve = process_total / 100 * reserve_permille / 1000; // ≤ 1%
                let accounted = total + overhead + pool + native_other + os_mapped;
                let res = accounted / 100 * res_permille_x / 1000; // ≤ 1%
                let rss = if res_negative {
                    accounted - res
                } else {
                    accounted + res
                };
                let n = (states.len() as u64).min(alive) as usize;
                let states = &states[..n];
                // state ≤ its process memory, and mean state ≤ mean process
                let sample: Vec<u64> = states.iter().map(|&(s, _)| s * per_proc / 1000).collect();
                let paired: Vec<u64> = states
                    .iter()
                    .map(|&(s, extra)| s * per_proc / 1000 + extra)
                    .collect();
                Gen {
                    s: Snapshot {
                        format: SNAPSHOT_FORMAT.into(),
                        version: 1,
                        node: "p@h".into(),
                        timestamp_ms: 1,
                        otp_release: None,
                        word_bytes: 8,
                        emu_flavor: Some(if jit { "jit" } else { "emu" }.into()),
                        os: OsMemory {
                            rss_bytes: rss,
                            source: None,
                            rss_anon_bytes: Some(rss.saturating_sub(rss_file + rss_shmem)),
                            rss_file_bytes: Some(rss_file),
                            rss_shmem_bytes: Some(rss_shmem),
                        },
                        beam: BeamMemory {
                            total,
                            processes,
                            processes_used: processes / 2,
                            system,
                            atom,
                            atom_used: atom / 2,
                            binary,
                            code,
                            ets,
                        },
                        allocators: Some(Allocators {
                            carriers_bytes: total + overhead,
                            blocks_bytes: total,
                            cached_segments: Some(0),
                        }),
                        native: Some(NativeMemory {
                            pool_bytes: pool,
                            other_bytes: native_other,
                        }),
                        connections: Connections {
                            count: alive + dead,
                            alive,
                            dead,
                            timeouts: 0,
                            process_bytes_total: process_total,
                            process_bytes: None,
                            state_sample: Some(StateSample {
                                population: alive,
                                bytes: sample,
                                process_bytes: Some(paired),
                            }),
                            off_heap: Some(OffHeap { binaries }),
                            native_bytes_total: conn_native,
                            heap_reserve_bytes_total: Some(heap_reserve),
                            heap_reserve_sample: None,
                        },
                        infrastructure: Some(Infrastructure {
                            pids: 3,
                            process_bytes_total: infra,
                        }),
                        process_count: alive + 100,
                    },
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn identities_hold_for_consistent_snapshots(g in consistent()) {
        let d = decompose(&g.s, &Options::default());
        let v = d.validate(&ValidationOptions::default());
        prop_assert!(v.is_empty(), "{:?}", v);
        let pc = &d.per_connection;
        let pn = &d.per_node;
        prop_assert!(close(pc.heap_bytes + pc.state_bytes(), pc.process_bytes));
        prop_assert!(close(pc.total_bytes, pc.process_bytes + pc.off_heap_share_bytes + pc.native_bytes));
        prop_assert!(close(pn.base_overhead_bytes + pn.connections_bytes + pn.residual_bytes, pn.rss_bytes));
        prop_assert!(pc.state_bytes() <= pc.process_bytes);
        prop_assert!(pn.beam.connection_binaries_share <= pn.beam.connection_binaries + 1e-6);
        let r = d.seed_record_fields();
        prop_assert!(close(r.per_conn_heap_mib + r.per_conn_state_mib, r.per_conn_total_mib));
        // JSON round trips
        prop_assert_eq!(Snapshot::from_json(&g.s.to_json()).unwrap(), g.s.clone());
        prop_assert_eq!(Decomposition::from_json(&d.to_json()).unwrap(), d);
    }

    #[test]
    fn validation_flags_exactly_the_injected_rules(
        g in consistent(),
        rss_up in any::<bool>(), rss_down in any::<bool>(),
        beam_total in any::<bool>(), count in any::<bool>(),
        sample in any::<bool>(), carriers in any::<bool>(), used in any::<bool>(),
    ) {
        let mut s = g.s.clone();
        let mut expected = BTreeSet::new();
        if beam_total {
            s.beam.total += 1000 + s.beam.total / 1000;
            expected.insert("beam_total_identity");
        }
        if count {
            s.connections.count += 1;
            expected.insert("connection_counts");
        }
        let ss = s.connections.state_sample.as_mut().unwrap();
        if sample && ss.bytes[0] > 0 {
            ss.process_bytes.as_mut().unwrap()[0] = ss.bytes[0] - 1;
            expected.insert("state_le_process_sample");
        }
        if carriers {
            let a = s.allocators.as_mut().unwrap();
            a.carriers_bytes = a.blocks_bytes.saturating_sub(1);
            if a.blocks_bytes > 0 {
                expected.insert("allocator_carriers_ge_blocks");
            }
        }
        if used {
            s.beam.processes_used = s.beam.processes + s.beam.processes / 100 + 1;
            expected.insert("beam_used_within_allocated");
        }
        if rss_up && !rss_down {
            s.os.rss_bytes *= 3;
            expected.insert("residual_within_tolerance");
        } else if rss_down && !rss_up {
            s.os.rss_bytes /= 3;
            expected.insert("residual_within_tolerance");
            expected.insert("node_rss_covers_connections");
        }
        let d = decompose(&s, &Options::default());
        let got = rules(&d.validate(&ValidationOptions::default()));
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn tampered_decompositions_are_caught(g in consistent(), which in 0u8..3) {
        let mut d = decompose(&g.s, &Options::default());
        let expected: BTreeSet<&str> = match which {
            0 => {
                d.per_connection.total_bytes += 1.0;
                BTreeSet::from(["per_connection_total_identity", "node_identity"])
            }
            1 => {
                d.per_node.residual_bytes += 1.0 + d.per_node.rss_bytes * 1e-6;
                BTreeSet::from(["node_identity"])
            }
            _ => {
                let pc = &mut d.per_connection;
                let e = pc.state.as_mut().unwrap();
                e.mean = pc.process_bytes + 1.0;
                pc.heap_bytes = pc.process_bytes - e.mean;
                BTreeSet::from(["state_le_process_mean"])
            }
        };
        prop_assert_eq!(rules(&d.validate(&ValidationOptions::default())), expected);
    }

    #[test]
    fn arbitrary_text_never_panics(s in ".{0,200}") {
        let _ = Snapshot::from_json(&s);
        let _ = ClusterSnapshot::from_json(&s);
    }
}

#[test]
fn components_add_up_to_rss() {
    let d = decompose(&small(), &Options::default());
    let parts = d.components();
    let sum: f64 = parts.iter().map(|c| c.bytes).sum();
    assert!(
        (sum - d.per_node.rss_bytes).abs() < 1e-3,
        "{sum} vs {}",
        d.per_node.rss_bytes
    );
    assert_eq!(parts.last().map(|c| c.name), Some("residual"));
}

#[test]
fn snapshot_documents_are_told_apart_by_format() {
    let node = read("node_small.json");
    let cluster = read("cluster_missing_node.json");
    assert!(matches!(
        SnapshotDocument::from_json_bytes(node.as_bytes()).unwrap(),
        SnapshotDocument::Node(s) if s == Snapshot::from_json(&node).unwrap()
    ));
    assert!(matches!(
        SnapshotDocument::from_json_bytes(cluster.as_bytes()).unwrap(),
        SnapshotDocument::Cluster(c) if c == ClusterSnapshot::from_json(&cluster).unwrap()
    ));
    // Not JSON, or no format: the node reader's error.
    for bad in ["", "[1]", "{\"version\": 1}"] {
        assert_eq!(
            SnapshotDocument::from_json_bytes(bad.as_bytes())
                .unwrap_err()
                .code(),
            "bad_snapshot"
        );
    }
}

#[test]
fn unwritten_heap_bounds_a_negative_residual() {
    let s = Snapshot::from_json(&read("node_resident.json")).unwrap();
    let d = decompose(&s, &Options::default());
    let pn = &d.per_node;
    assert_close!(pn.os_mapped_bytes.unwrap(), 11.5e6);
    assert_close!(pn.unwritten_bound_bytes, 826e6);
    assert_close!(pn.residual_bytes, -158.5e6);
    assert!(pn.residual_pct_of_rss < -5.0);
    assert_eq!(d.validate(&ValidationOptions::default()), vec![]);
    // The same node without the measured reserve: the negative residual is
    // beyond the tolerance, and the seed's RSS rule fails with it.
    let mut bare = s.clone();
    bare.connections.heap_reserve_bytes_total = None;
    let d = decompose(&bare, &Options::default());
    assert_eq!(
        rules(&d.validate(&ValidationOptions::default())),
        BTreeSet::from(["residual_within_tolerance", "node_rss_covers_connections"])
    );
    // A sample of the reserve instead of its total: scaled to `alive`, and
    // counted as measured on the sample only (an estimate).
    let mut sampled = bare.clone();
    sampled.connections.heap_reserve_sample = Some(vec![7000, 9000]);
    let d = decompose(&sampled, &Options::default());
    assert_close!(d.per_node.unwritten_bound_bytes, 826e6);
    assert_eq!(d.counts.heap_reserve_sample_size, 2);
    assert!(report_text(&d).contains("ESTIMATED from 2 of 100000"));
    assert_eq!(d.validate(&ValidationOptions::default()), vec![]);
    sampled.connections.heap_reserve_sample = Some(vec![1; 100_001]);
    assert!(matches!(
        Snapshot::from_json(&sampled.to_json()),
        Err(memacct_core::Error::BadSnapshot { .. })
    ));
    // The bound never excuses a positive residual.
    let mut high = s.clone();
    high.os.rss_bytes = 2_000_000_000;
    let d = decompose(&high, &Options::default());
    assert_eq!(
        rules(&d.validate(&ValidationOptions::default())),
        BTreeSet::from(["residual_within_tolerance"])
    );
    // Without the JIT the shared memory is counted once in full.
    let mut emu = s;
    emu.emu_flavor = Some("emu".into());
    let d = decompose(&emu, &Options::default());
    assert_close!(d.per_node.os_mapped_bytes.unwrap(), 16e6);
}
