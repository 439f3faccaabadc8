//! The storage ports for outbox of e-mail notices (no health information, only a link).

pub trait NoticeReads: Send {}

pub trait NoticeWrites: NoticeReads {}
