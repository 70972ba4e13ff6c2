//! Just enough CSV for the export and import screens: one record per line,
//! fields separated by commas, fields quoted with '"' when needed.

pub mod read;
pub mod write;

pub use read::{read_record, ReadError};
pub use write::{write_field, write_record};
