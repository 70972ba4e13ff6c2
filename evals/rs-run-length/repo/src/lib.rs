//! Small codecs for the sync protocol.

pub mod checksum;
pub mod rle;
