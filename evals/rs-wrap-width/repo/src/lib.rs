//! Word wrapping for the terminal UI's help screens.

pub mod width;
pub mod wrap;

pub use width::{center, display_width};
pub use wrap::{wrap, wrap_paragraphs};
