//! E-mail notices through SMTP, against an in-process SMTP sink.
