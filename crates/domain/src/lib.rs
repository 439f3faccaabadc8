//! Ryoritsu's domain: the rules of 治療と仕事の両立支援, with no IO.
//!
//! Names follow the project glossary (docs/glossary.md).

pub mod account;
pub mod attachment;
pub mod audit;
pub mod case;
pub mod consent;
pub mod correction;
pub mod error;
pub mod fees;
pub mod forms;
pub mod guidance;
pub mod info;
pub mod org;
pub mod policy;
pub mod prefecture;
pub mod session;
pub mod support_task;
pub mod time_format;
pub mod totp;
pub mod wareki;

pub use error::{FieldError, ValidationErrors};
