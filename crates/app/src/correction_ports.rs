//! The storage ports for the worker's requests for correction (訂正の請求).

pub trait CorrectionReads: Send {}

pub trait CorrectionWrites: CorrectionReads {}
