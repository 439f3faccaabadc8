//! The worker's request for correction and the employer's answer.
