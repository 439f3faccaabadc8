//! The storage ports for scanned documents the worker uploads (紙の意見書など).

pub trait AttachmentReads: Send {}

pub trait AttachmentWrites: AttachmentReads {}
