//! Shared code lives in api/; this crate only hosts the test binary.
