//! All integration tests in one binary (each file under tests/ would be its own link).

// In tests a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod attachments;
mod audit_cli;
mod auth;
mod backup_cli;
mod browser;
mod cases_api;
mod cases_pages;
mod cli;
mod corrections;
mod csrf;
mod csv;
mod demo_roles;
mod fhir;
mod guidance;
mod harness;
mod headers;
mod idempotency;
mod layout;
mod loader;
mod mail;
mod openapi;
mod organisations;
mod paths_pages;
mod printing;
mod router_walk;
mod search;
mod support_tasks;
