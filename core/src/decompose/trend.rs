//! Trend over snapshots of one node, ordered by timestamp: growth per hour
//! (least-squares slope) of RSS and of the per-connection total, and a leak
//! suspicion flag.
//!
//! # Leak rule
//! A series (RSS, or the per-connection total) is *suspect* when all hold:
//! - at least [`TrendOptions::min_points`] snapshots (default 5) spanning at
//!   least [`TrendOptions::min_span_hours`] (default 0.25 h);
//! - its least-squares slope is positive and at least
//!   [`TrendOptions::min_growth_pct_per_hour`] percent of the series' mean per
//!   hour (default 1 %/h);
//! - the linear fit explains the data: R² ≥ [`TrendOptions::min_r_squared`]
//!   (default 0.8) — sustained growth, not noise or one step.
//!
//! `leak_suspected` is true when either series is suspect; `reasons` says which.

use serde::{Deserialize, Serialize};

use super::model::Decomposition;

/// Thresholds of the leak rule (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrendOptions {
    /// Fewest snapshots for a verdict (default 5).
    pub min_points: usize,
    /// Shortest time span, hours (default 0.25).
    pub min_span_hours: f64,
    /// Smallest R² of the fit (default 0.8).
    pub min_r_squared: f64,
    /// Smallest growth, percent of the series' mean per hour (default 1.0).
    pub min_growth_pct_per_hour: f64,
}

impl Default for TrendOptions {
    fn default() -> Self {
        TrendOptions {
            min_points: 5,
            min_span_hours: 0.25,
            min_r_squared: 0.8,
            min_growth_pct_per_hour: 1.0,
        }
    }
}

/// A least-squares line `y = intercept + slope × hours since the first snapshot`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    /// Bytes per hour.
    pub slope_per_hour: f64,
    /// Bytes at the first snapshot's time.
    pub intercept: f64,
    /// Coefficient of determination (0 when the series is constant).
    pub r_squared: f64,
    /// Mean of the series, bytes.
    pub mean: f64,
    /// `100 × slope / mean` (0 when the mean is 0).
    pub growth_pct_per_hour: f64,
}

/// The trend of a series of decompositions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    /// Snapshots used.
    pub points: u64,
    /// From the first to the last timestamp, hours.
    pub span_hours: f64,
    /// Fit of the node's RSS; `None` with fewer than two distinct timestamps.
    pub rss: Option<Fit>,
    /// Fit of the per-connection total.
    pub per_connection_total: Option<Fit>,
    /// Whether the leak rule holds for either series.
    pub leak_suspected: bool,
    /// Which series are suspect and why (empty when none).
    pub reasons: Vec<String>,
}

/// Least-squares fit of `(x, y)`; `None` when x has no spread.
pub fn fit(points: &[(f64, f64)]) -> Option<Fit> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let syy: f64 = points.iter().map(|p| (p.1 - my) * (p.1 - my)).sum();
    let slope = sxy / sxx;
    let r_squared = if syy > 0.0 {
        ((sxy * sxy) / (sxx * syy)).clamp(0.0, 1.0)
    } else {
        0.0
    };
    Some(Fit {
        slope_per_hour: slope,
        intercept: my - slope * mx,
        r_squared,
        mean: my,
        growth_pct_per_hour: if my != 0.0 { 100.0 * slope / my } else { 0.0 },
    })
}

/// [`trend_with`] with the default thresholds.
pub fn trend(decompositions: &[Decomposition]) -> Trend {
    trend_with(decompositions, &TrendOptions::default())
}

/// The trend of `decompositions` (of one node; any order: they are sorted by timestamp).
pub fn trend_with(decompositions: &[Decomposition], options: &TrendOptions) -> Trend {
    let mut ds: Vec<&Decomposition> = decompositions.iter().collect();
    ds.sort_by_key(|d| d.timestamp_ms);
    let t0 = ds.first().map_or(0, |d| d.timestamp_ms);
    let hours = |d: &Decomposition| (d.timestamp_ms - t0) as f64 / 3_600_000.0;
    let span_hours = ds.last().map_or(0.0, |d| hours(d));
    let rss: Vec<(f64, f64)> = ds
        .iter()
        .map(|d| (hours(d), d.per_node.rss_bytes))
        .collect();
    let conn: Vec<(f64, f64)> = ds
        .iter()
        .map(|d| (hours(d), d.per_connection.total_bytes))
        .collect();
    let rss = fit(&rss);
    let per_connection_total = fit(&conn);
    let reasons: Vec<String> = [("rss", rss), ("per_connection_total", per_connection_total)]
        .into_iter()
        .filter_map(|(name, f)| suspect(name, f, ds.len(), span_hours, options))
        .collect();
    Trend {
        points: ds.len() as u64,
        span_hours,
        rss,
        per_connection_total,
        leak_suspected: !reasons.is_empty(),
        reasons,
    }
}

/// Why a series is suspect under the leak rule (see the module docs), or
/// `None`: too few points or too short a span, or a fit that does not show
/// sustained growth.
fn suspect(
    name: &str,
    fit: Option<Fit>,
    points: usize,
    span_hours: f64,
    options: &TrendOptions,
) -> Option<String> {
    let f = fit?;
    let grows = f.slope_per_hour > 0.0
        && f.growth_pct_per_hour >= options.min_growth_pct_per_hour
        && f.r_squared >= options.min_r_squared;
    (enough_data(points, span_hours, options) && grows).then(|| {
        format!(
            "{name} grows {:.0} bytes/h ({:.2}%/h of its mean) with R² {:.3} over {points} snapshots ({span_hours:.2} h)",
            f.slope_per_hour, f.growth_pct_per_hour, f.r_squared
        )
    })
}

/// Whether `points` snapshots over `span_hours` are enough for a verdict.
fn enough_data(points: usize, span_hours: f64, options: &TrendOptions) -> bool {
    points >= options.min_points && span_hours >= options.min_span_hours
}

/// The trend of one series of any figure (not only a decomposition's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesTrend {
    /// Points used.
    pub points: u64,
    /// From the first to the last timestamp, hours.
    pub span_hours: f64,
    /// Least-squares fit of the values over hours since the first point;
    /// `None` with fewer than two distinct timestamps.
    pub fit: Option<Fit>,
    /// Whether there are enough points over a long enough span for a
    /// verdict ([`TrendOptions::min_points`], [`TrendOptions::min_span_hours`]).
    pub enough_data: bool,
    /// Whether the leak rule holds for the series.
    pub leak_suspected: bool,
    /// Why, when it does.
    pub reason: Option<String>,
}

/// The trend of `points`, `(timestamp_ms, value)` in any order, under the
/// same leak rule as [`trend_with`]; `name` names the series in the reason.
pub fn series_trend(name: &str, points: &[(i64, f64)], options: &TrendOptions) -> SeriesTrend {
    let t0 = points.iter().map(|p| p.0).min().unwrap_or(0);
    let t1 = points.iter().map(|p| p.0).max().unwrap_or(0);
    let hours = |t: i64| (t as f64 - t0 as f64) / 3_600_000.0;
    let span_hours = hours(t1);
    let xy: Vec<(f64, f64)> = points.iter().map(|&(t, v)| (hours(t), v)).collect();
    let f = fit(&xy);
    let reason = suspect(name, f, points.len(), span_hours, options);
    SeriesTrend {
        points: points.len() as u64,
        span_hours,
        fit: f,
        enough_data: enough_data(points.len(), span_hours, options),
        leak_suspected: reason.is_some(),
        reason,
    }
}
