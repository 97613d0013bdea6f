//! Honest memory decomposition (`memacct_core::decompose`) as NIFs.
//!
//! The Erlang collector (`memacct_collect.erl`) measures a node and encodes
//! the snapshot as JSON (`docs/SNAPSHOT.md`); these NIFs parse it with the
//! core, decompose, validate, and hand back Erlang terms. Every core result
//! type is `serde::Serialize`, so one generic conversion (through
//! `serde_json::Value`) maps them all: objects become maps with atom keys
//! (the core's field names, a fixed set), `null` becomes `undefined`,
//! floats stay floats (a `*_bytes` figure is a float even when whole) and
//! integers stay integers.
//!
//! Scheduling: parsing a snapshot is linear in its JSON (about 10 ns/byte;
//! a 100K-connection snapshot with per-connection figures is ~1 MB), so
//! every NIF here runs on a dirty CPU scheduler.

use memacct_core::decompose::{
    self as dc, ClusterSnapshot, Decomposition, Options, Snapshot, TrendOptions, ValidationOptions,
    Violation,
};
use memacct_core::Error;
use rustler::{Atom, Binary, Encoder, Env, Error as NifError, NifResult, OwnedBinary, Term};
use serde_json::Value;

use crate::{error_term, ok};

rustler::atoms! {
    undefined,
    decomposition,
    cluster,
    violations,
    report,
    cluster_report,
    compact,
    seed,
    json_key = "json",
    rule,
    message,
    figures,
    student_t,
    normal,
}

fn binary<'a>(env: Env<'a>, bytes: &[u8]) -> Term<'a> {
    let mut out = OwnedBinary::new(bytes.len());
    out.as_mut_slice().copy_from_slice(bytes);
    out.release(env).encode(env)
}

/// A JSON value as an Erlang term (see the module docs).
fn value_term<'a>(env: Env<'a>, v: &Value) -> NifResult<Term<'a>> {
    Ok(match v {
        Value::Null => undefined().encode(env),
        Value::Bool(b) => b.encode(env),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                u.encode(env)
            } else if let Some(i) = n.as_i64() {
                i.encode(env)
            } else {
                n.as_f64().unwrap_or(f64::NAN).encode(env)
            }
        }
        Value::String(s) => binary(env, s.as_bytes()),
        Value::Array(items) => {
            let terms = items
                .iter()
                .map(|i| value_term(env, i))
                .collect::<NifResult<Vec<Term>>>()?;
            terms.encode(env)
        }
        Value::Object(fields) => {
            let mut keys = Vec::with_capacity(fields.len());
            let mut values = Vec::with_capacity(fields.len());
            for (k, v) in fields {
                keys.push(Atom::from_str(env, k)?.encode(env));
                values.push(value_term(env, v)?);
            }
            Term::map_from_term_arrays(env, &keys, &values)?
        }
    })
}

/// Any core result as a term.
fn to_term<'a, T: serde::Serialize>(env: Env<'a>, v: &T) -> NifResult<Term<'a>> {
    let value = serde_json::to_value(v).map_err(|_| NifError::BadArg)?;
    value_term(env, &value)
}

/// `#{rule => Atom, message => Binary, figures => #{Name => Float}}`.
fn violation_term<'a>(env: Env<'a>, v: &Violation) -> NifResult<Term<'a>> {
    let mut figs = Term::map_new(env);
    for (name, value) in &v.figures {
        figs = figs.map_put(Atom::from_str(env, name)?, *value)?;
    }
    let keys = [
        rule().encode(env),
        message().encode(env),
        figures().encode(env),
    ];
    let values = [
        Atom::from_str(env, v.rule)?.encode(env),
        binary(env, v.message.as_bytes()),
        figs,
    ];
    Term::map_from_term_arrays(env, &keys, &values)
}

fn violations_term<'a>(env: Env<'a>, vs: &[Violation]) -> NifResult<Term<'a>> {
    let terms = vs
        .iter()
        .map(|v| violation_term(env, v))
        .collect::<NifResult<Vec<Term>>>()?;
    Ok(terms.encode(env))
}

/// `{ResidualTolerance, Epsilon, CiMethod}` as `memacct_decompose.erl` passes them.
fn options(t: Term) -> NifResult<(Options, ValidationOptions)> {
    let (residual_tolerance, epsilon, method): (f64, f64, Atom) = t.decode()?;
    let ci_method = if method == student_t() {
        dc::CiMethod::StudentT
    } else if method == normal() {
        dc::CiMethod::Normal
    } else {
        return Err(NifError::BadArg);
    };
    Ok((
        Options { ci_method },
        ValidationOptions {
            residual_tolerance,
            epsilon,
        },
    ))
}

/// The report, the compact map and JSON of one node decomposition.
fn node_result<'a>(env: Env<'a>, d: &Decomposition, vo: &ValidationOptions) -> NifResult<Term<'a>> {
    let vs = d.validate(vo);
    let keys = [
        decomposition().encode(env),
        violations().encode(env),
        report().encode(env),
        compact().encode(env),
        seed().encode(env),
        json_key().encode(env),
    ];
    let values = [
        to_term(env, d)?,
        violations_term(env, &vs)?,
        binary(env, dc::report_text(d).as_bytes()),
        compact_term(env, d)?,
        to_term(env, &d.seed_record_fields())?,
        binary(env, d.to_json().as_bytes()),
    ];
    Term::map_from_term_arrays(env, &keys, &values)
}

/// The compact key/value report as a map `#{Key => Number | Boolean | Binary}`.
fn compact_term<'a>(env: Env<'a>, d: &Decomposition) -> NifResult<Term<'a>> {
    let mut map = Term::map_new(env);
    for (key, value) in dc::compact(d) {
        map = map.map_put(Atom::from_str(env, key)?, to_term(env, &value)?)?;
    }
    Ok(map)
}

/// `decompose(SnapshotJson, Opts)`: `{ok, #{decomposition, violations,
/// report, compact, seed, json}}` or `{error, {bad_snapshot, Msg}}`.
#[rustler::nif(schedule = "DirtyCpu")]
fn decompose_snapshot<'a>(env: Env<'a>, json: Binary, opts: Term<'a>) -> NifResult<Term<'a>> {
    let (o, vo) = options(opts)?;
    let snapshot = match Snapshot::from_json_bytes(json.as_slice()) {
        Ok(s) => s,
        Err(e) => return Ok(error_term(env, &e)),
    };
    let d = dc::decompose(&snapshot, &o);
    Ok((ok(), node_result(env, &d, &vo)?).encode(env))
}

/// `decompose_cluster(ClusterJson, Opts)`: `{ok, #{cluster, violations,
/// report, cluster_report, seed => [{NodeBinary, SeedMap}], json}}` or
/// `{error, {bad_snapshot, Msg}}`.
#[rustler::nif(schedule = "DirtyCpu")]
fn decompose_cluster<'a>(env: Env<'a>, json: Binary, opts: Term<'a>) -> NifResult<Term<'a>> {
    let (o, vo) = options(opts)?;
    let text = match std::str::from_utf8(json.as_slice()) {
        Ok(t) => t,
        Err(e) => {
            let err = Error::BadSnapshot {
                reason: format!("not UTF-8: {e}"),
            };
            return Ok(error_term(env, &err));
        }
    };
    let snapshot = match ClusterSnapshot::from_json(text) {
        Ok(s) => s,
        Err(e) => return Ok(error_term(env, &e)),
    };
    let c = dc::decompose_cluster(&snapshot, &o);
    let vs = c.validate(&vo);
    let seeds = c
        .nodes
        .iter()
        .filter_map(|d| c.seed_record_fields(&d.node))
        .map(|r| Ok((binary(env, r.node.as_bytes()), to_term(env, &r)?).encode(env)))
        .collect::<NifResult<Vec<Term>>>()?;
    let node_reports = c
        .nodes
        .iter()
        .map(|d| binary(env, dc::report_text(d).as_bytes()))
        .collect::<Vec<Term>>();
    let keys = [
        cluster().encode(env),
        violations().encode(env),
        report().encode(env),
        cluster_report().encode(env),
        seed().encode(env),
        json_key().encode(env),
    ];
    let values = [
        to_term(env, &c)?,
        violations_term(env, &vs)?,
        node_reports.encode(env),
        binary(env, dc::cluster_report_text(&c).as_bytes()),
        seeds.encode(env),
        binary(env, c.to_json().as_bytes()),
    ];
    Ok((ok(), Term::map_from_term_arrays(env, &keys, &values)?).encode(env))
}

/// Decompositions from their JSON (`json` of a decompose result).
fn decompositions(jsons: Vec<Binary>) -> Result<Vec<Decomposition>, Error> {
    jsons
        .iter()
        .map(|j| {
            let text = std::str::from_utf8(j.as_slice()).map_err(|e| Error::BadSnapshot {
                reason: format!("decomposition JSON is not UTF-8: {e}"),
            })?;
            Decomposition::from_json(text)
        })
        .collect()
}

/// `decompose_aggregate([DecompositionJson])`: `{ok, Map}` (min, max, mean,
/// p50, p95, p99 of every figure) or `{error, {bad_snapshot, Msg}}`.
#[rustler::nif(schedule = "DirtyCpu")]
fn decompose_aggregate<'a>(env: Env<'a>, jsons: Term<'a>) -> NifResult<Term<'a>> {
    match decompositions(crate::binaries(jsons)?) {
        Ok(ds) => Ok((ok(), to_term(env, &dc::aggregate(&ds))?).encode(env)),
        Err(e) => Ok(error_term(env, &e)),
    }
}

/// The leak rule's thresholds from `{MinPoints, MinSpanHours, MinRSquared,
/// MinGrowthPctPerHour}`.
fn trend_options(opts: Term<'_>) -> NifResult<TrendOptions> {
    let (min_points, min_span_hours, min_r_squared, min_growth_pct_per_hour) = opts.decode()?;
    Ok(TrendOptions {
        min_points,
        min_span_hours,
        min_r_squared,
        min_growth_pct_per_hour,
    })
}

/// `decompose_trend([DecompositionJson], {MinPoints, MinSpanHours,
/// MinRSquared, MinGrowthPctPerHour})`: `{ok, Map}` or `{error, ...}`.
#[rustler::nif(schedule = "DirtyCpu")]
fn decompose_trend<'a>(env: Env<'a>, jsons: Term<'a>, opts: Term<'a>) -> NifResult<Term<'a>> {
    let jsons = crate::binaries(jsons)?;
    let to = trend_options(opts)?;
    match decompositions(jsons) {
        Ok(ds) => Ok((ok(), to_term(env, &dc::trend_with(&ds, &to))?).encode(env)),
        Err(e) => Ok(error_term(env, &e)),
    }
}

/// A number (integer or float) as f64; `badarg` for anything else.
fn number(t: Term<'_>) -> NifResult<f64> {
    match t.decode::<f64>() {
        Ok(f) => Ok(f),
        Err(_) => Ok(t.decode::<i64>()? as f64),
    }
}

/// `decompose_summary([Number])`: `{ok, Map}` (count, min, max, mean, p50,
/// p95, p99 — core's summary), `undefined` for no values.
#[rustler::nif(schedule = "DirtyCpu")]
fn decompose_summary<'a>(env: Env<'a>, values: Term<'a>) -> NifResult<Term<'a>> {
    let values = crate::proper_list(values)?
        .into_iter()
        .map(number)
        .collect::<NifResult<Vec<f64>>>()?;
    match dc::summarize(&values) {
        Some(s) => Ok((ok(), to_term(env, &s)?).encode(env)),
        None => Ok(undefined().encode(env)),
    }
}

/// `decompose_series_trend(Name, [{TimestampMs, Value}], TrendOpts)`:
/// `{ok, Map}`, the fit and leak verdict of one series (any figure), under
/// the same rule as `decompose_trend/2`. Values are integers or floats;
/// anything else is `badarg`.
#[rustler::nif(schedule = "DirtyCpu")]
fn decompose_series_trend<'a>(
    env: Env<'a>,
    name: Binary<'a>,
    points: Term<'a>,
    opts: Term<'a>,
) -> NifResult<Term<'a>> {
    let name = std::str::from_utf8(name.as_slice()).map_err(|_| NifError::BadArg)?;
    let to = trend_options(opts)?;
    let points = crate::proper_list(points)?
        .into_iter()
        .map(|p| {
            let (t, v): (i64, Term) = p.decode()?;
            Ok((t, number(v)?))
        })
        .collect::<NifResult<Vec<(i64, f64)>>>()?;
    Ok((ok(), to_term(env, &dc::series_trend(name, &points, &to))?).encode(env))
}
