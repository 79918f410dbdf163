//! Stored settlement runs.
