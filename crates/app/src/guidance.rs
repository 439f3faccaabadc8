//! Guidance sessions recorded on a case by the hospital, and the fee engine's verdicts.
