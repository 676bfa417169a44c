//! Fuzz harnesses for the fastsse core; see `harness.rs`.
pub mod harness;
