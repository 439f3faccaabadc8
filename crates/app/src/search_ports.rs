//! The storage ports for the full-text search index (each backend's own full-text engine).

pub trait SearchReads: Send {}

pub trait SearchWrites: SearchReads {}
