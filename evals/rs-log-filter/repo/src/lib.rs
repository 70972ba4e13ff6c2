//! Log levels and the filter that decides which records get written.

pub mod filter;
pub mod level;

pub use filter::Filter;
pub use level::Level;
