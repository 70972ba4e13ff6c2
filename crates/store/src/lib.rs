//! Persistent state for suit (the "disk").
//!
//! Not built yet. This crate will own a SQLite store behind one trait:
//! sessions, an append-only event journal, memories across sessions and an
//! embedding index, so that a server database can replace SQLite.
