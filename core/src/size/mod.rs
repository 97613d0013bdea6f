//! Exact heap sizes of terms: the report types and the ETF walker.

mod etf_walk;
mod report;

pub use etf_walk::{flat_size, term_size, term_size_with, term_size_within};
pub use report::{FieldSize, Kind, KindWords, TermSize};
