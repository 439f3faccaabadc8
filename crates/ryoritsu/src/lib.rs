//! The binary's parts: configuration, the command line, and start-up wiring. Only this
//! crate knows every other crate; it picks the storage backend from the URL scheme once,
//! at start-up, and hands a concrete store to the generic app and router.

pub mod cli;
pub mod config;
pub mod mailer;
pub mod server;
