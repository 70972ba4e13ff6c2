//! Word frequencies for the writing-style report.

pub mod counts;
pub mod words;

pub use counts::WordCounts;
