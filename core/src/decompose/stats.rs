//! Statistics: the sampling estimate of a mean with a 95% confidence interval
//! (finite-population corrected), and distribution summaries (min, max, mean,
//! p50, p95, p99).
//!
//! # The estimate
//! For a simple random sample of n values from a population of N:
//! ```text
//! mean  = Σx / n
//! s     = sqrt(Σ(x − mean)² / (n − 1))                 (sample standard deviation)
//! fpc   = sqrt((N − n) / (N − 1))                       (finite-population correction; 1 when N = 1)
//! se    = s / sqrt(n) × fpc
//! half  = q × se,  q = t(0.975, n − 1) (default) or z = 1.959964 (normal)
//! CI    = [mean − half, mean + half]
//! ```
//! With n = N the sample is the population: fpc = 0 and the interval is the
//! mean itself (`exact` is true). With n = 1 < N the spread is unknown: the
//! interval is undefined (`None`), reported honestly rather than as zero width.
//!
//! # Percentiles
//! Linear interpolation between closest ranks (R's type 7, numpy's default):
//! `p` at rank `h = (n − 1) × p`, value `x[⌊h⌋] + (h − ⌊h⌋)(x[⌊h⌋+1] − x[⌊h⌋])`.

use serde::{Deserialize, Serialize};

/// How the confidence interval's quantile is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CiMethod {
    /// Student's t with n − 1 degrees of freedom (right for small samples).
    #[default]
    StudentT,
    /// The normal quantile 1.96 (large samples).
    Normal,
}

/// A mean estimated from a sample, with its 95% confidence interval.
/// It is an estimate: `exact` is true only when the whole population was measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Sample mean (the point estimate).
    pub mean: f64,
    /// Lower bound of the 95% interval; `None` when undefined (n = 1 < N).
    pub ci_low: Option<f64>,
    /// Upper bound of the 95% interval; `None` when undefined.
    pub ci_high: Option<f64>,
    /// Half the interval's width; `None` when undefined.
    pub half_width: Option<f64>,
    /// The confidence level: 0.95.
    pub confidence: f64,
    /// The quantile's distribution.
    pub method: CiMethod,
    /// The quantile used (t or z).
    pub quantile: f64,
    /// Sample size n.
    pub sample_size: u64,
    /// Population size N.
    pub population: u64,
    /// Sample standard deviation (0 when n = 1).
    pub std_dev: f64,
    /// The finite-population correction factor applied to the standard error.
    pub fpc: f64,
    /// Whether n = N (the figure is a census, not an estimate).
    pub exact: bool,
}

/// Two-sided 95% quantiles of Student's t for 1..=30 degrees of freedom.
const T975: [f64; 30] = [
    12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157,
    2.228139, 2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922,
    2.093024, 2.085963, 2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831,
    2.048407, 2.045230, 2.042272,
];

/// The normal 97.5% quantile.
pub const Z975: f64 = 1.959_963_984_540_054;

/// The 97.5% quantile of Student's t with `df` degrees of freedom (`df ≥ 1`):
/// a table up to 30, then the Cornish-Fisher expansion (error < 1e-4).
pub fn t975(df: u64) -> f64 {
    if df == 0 {
        return f64::INFINITY;
    }
    if df <= 30 {
        return T975[(df - 1) as usize];
    }
    let z = Z975;
    let v = df as f64;
    let z3 = z * z * z;
    let z5 = z3 * z * z;
    let z7 = z5 * z * z;
    z + (z3 + z) / (4.0 * v)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * v * v * v)
}

/// Estimates the population mean from `sample` (a simple random sample of a
/// population of `population` values); `None` for an empty sample. A
/// population smaller than the sample is treated as equal to it.
pub fn estimate_mean(sample: &[f64], population: u64, method: CiMethod) -> Option<Estimate> {
    let n = sample.len() as u64;
    if n == 0 {
        return None;
    }
    let big_n = population.max(n);
    let nf = n as f64;
    let mean = sample.iter().sum::<f64>() / nf;
    let std_dev = if n > 1 {
        (sample.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (nf - 1.0)).sqrt()
    } else {
        0.0
    };
    let fpc = if big_n > 1 {
        ((big_n - n) as f64 / (big_n - 1) as f64).sqrt()
    } else {
        0.0
    };
    let exact = n == big_n;
    let quantile = match method {
        CiMethod::StudentT => t975(n - 1),
        CiMethod::Normal => Z975,
    };
    let half_width = if exact {
        Some(0.0)
    } else if n == 1 {
        None
    } else {
        Some(quantile * std_dev / nf.sqrt() * fpc)
    };
    Some(Estimate {
        mean,
        ci_low: half_width.map(|h| mean - h),
        ci_high: half_width.map(|h| mean + h),
        half_width,
        confidence: 0.95,
        method,
        quantile: if quantile.is_finite() { quantile } else { 0.0 },
        sample_size: n,
        population: big_n,
        std_dev,
        fpc,
        exact,
    })
}

/// The distribution of a set of values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// How many values.
    pub count: u64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median (type-7 interpolation).
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// The `p`-quantile (0..=1) of sorted values, type 7; `None` when empty.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// Summarizes `values` (NaNs are ignored); `None` when there is none.
pub fn summarize(values: &[f64]) -> Option<Summary> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(Summary {
        count: v.len() as u64,
        min: v[0],
        max: v[v.len() - 1],
        mean: v.iter().sum::<f64>() / v.len() as f64,
        p50: percentile(&v, 0.50)?,
        p95: percentile(&v, 0.95)?,
        p99: percentile(&v, 0.99)?,
    })
}

/// Distributions of the per-connection and per-node figures over many
/// decompositions (e.g. repeated runs or many nodes), in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    /// How many decompositions.
    pub count: u64,
    /// Per-connection process memory.
    pub per_connection_process: Option<Summary>,
    /// Per-connection state (point estimates; decompositions without a state sample are skipped).
    pub per_connection_state: Option<Summary>,
    /// Per-connection heap (process − state).
    pub per_connection_heap: Option<Summary>,
    /// Per-connection off-heap share.
    pub per_connection_off_heap: Option<Summary>,
    /// Per-connection native bytes.
    pub per_connection_native: Option<Summary>,
    /// Per-connection total.
    pub per_connection_total: Option<Summary>,
    /// Node RSS.
    pub node_rss: Option<Summary>,
    /// Node accounted bytes.
    pub node_accounted: Option<Summary>,
    /// Node residual (signed).
    pub node_residual: Option<Summary>,
    /// Node residual, % of RSS.
    pub node_residual_pct: Option<Summary>,
    /// Node base overhead.
    pub node_base_overhead: Option<Summary>,
    /// Alive connections per decomposition.
    pub connections: Option<Summary>,
}

/// Summarizes many decompositions (min, max, mean, p50, p95, p99 of each figure).
pub fn aggregate(decompositions: &[super::Decomposition]) -> Aggregate {
    let of = |f: &dyn Fn(&super::Decomposition) -> Option<f64>| -> Option<Summary> {
        let xs: Vec<f64> = decompositions.iter().filter_map(f).collect();
        summarize(&xs)
    };
    Aggregate {
        count: decompositions.len() as u64,
        per_connection_process: of(&|d| Some(d.per_connection.process_bytes)),
        per_connection_state: of(&|d| d.per_connection.state.map(|e| e.mean)),
        per_connection_heap: of(&|d| Some(d.per_connection.heap_bytes)),
        per_connection_off_heap: of(&|d| Some(d.per_connection.off_heap_share_bytes)),
        per_connection_native: of(&|d| Some(d.per_connection.native_bytes)),
        per_connection_total: of(&|d| Some(d.per_connection.total_bytes)),
        node_rss: of(&|d| Some(d.per_node.rss_bytes)),
        node_accounted: of(&|d| Some(d.per_node.accounted_bytes)),
        node_residual: of(&|d| Some(d.per_node.residual_bytes)),
        node_residual_pct: of(&|d| Some(d.per_node.residual_pct_of_rss)),
        node_base_overhead: of(&|d| Some(d.per_node.base_overhead_bytes)),
        connections: of(&|d| Some(d.counts.alive as f64)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_join_the_table_smoothly() {
        assert!((t975(1) - 12.706205).abs() < 1e-6);
        assert!((t975(30) - 2.042272).abs() < 1e-6);
        // Reference values: t(0.975, 40) = 2.021075, 60 = 2.000298, 120 = 1.979930.
        assert!((t975(40) - 2.021075).abs() < 2e-4, "{}", t975(40));
        assert!((t975(60) - 2.000298).abs() < 1e-4);
        assert!((t975(120) - 1.979930).abs() < 1e-4);
        assert!((t975(1_000_000) - Z975).abs() < 1e-5);
    }

    #[test]
    fn estimate_with_finite_population_correction() {
        let xs = [10.0, 12.0, 14.0, 16.0, 18.0];
        let e = estimate_mean(&xs, 10, CiMethod::StudentT).unwrap();
        assert_eq!(e.mean, 14.0);
        let s = (40.0f64 / 4.0).sqrt();
        assert!((e.std_dev - s).abs() < 1e-12);
        let fpc = (5.0f64 / 9.0).sqrt();
        assert!((e.fpc - fpc).abs() < 1e-12);
        let half = 2.776445 * s / 5f64.sqrt() * fpc;
        assert!((e.half_width.unwrap() - half).abs() < 1e-9);
        assert!((e.ci_low.unwrap() - (14.0 - half)).abs() < 1e-9);
        assert!(!e.exact);
        let normal = estimate_mean(&xs, 10, CiMethod::Normal).unwrap();
        assert!(normal.half_width.unwrap() < e.half_width.unwrap());
    }

    #[test]
    fn census_is_exact_and_single_sample_is_unbounded() {
        let e = estimate_mean(&[3.0, 5.0], 2, CiMethod::StudentT).unwrap();
        assert!(e.exact);
        assert_eq!((e.ci_low, e.ci_high), (Some(4.0), Some(4.0)));
        let one = estimate_mean(&[7.0], 100, CiMethod::StudentT).unwrap();
        assert_eq!(one.mean, 7.0);
        assert_eq!(one.half_width, None);
        assert!(estimate_mean(&[], 10, CiMethod::Normal).is_none());
        let census_of_one = estimate_mean(&[7.0], 1, CiMethod::StudentT).unwrap();
        assert!(census_of_one.exact && census_of_one.half_width == Some(0.0));
    }

    #[test]
    fn summary_percentiles_interpolate() {
        let xs: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = summarize(&xs).unwrap();
        assert_eq!((s.count, s.min, s.max, s.mean), (100, 1.0, 100.0, 50.5));
        assert!((s.p50 - 50.5).abs() < 1e-12);
        assert!((s.p95 - 95.05).abs() < 1e-9);
        assert!((s.p99 - 99.01).abs() < 1e-9);
        let one = summarize(&[4.0]).unwrap();
        assert_eq!((one.p50, one.p99), (4.0, 4.0));
        assert!(summarize(&[]).is_none());
        assert!(summarize(&[f64::NAN]).is_none());
    }
}
