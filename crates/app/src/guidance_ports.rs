//! The storage ports for guidance sessions (療養・就労両立支援指導) recorded by hospitals.

pub trait GuidanceReads: Send {}

pub trait GuidanceWrites: GuidanceReads {}
