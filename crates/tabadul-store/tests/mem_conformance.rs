//! The in-memory twin passes the store conformance suite.

tabadul_store::conformance_suite!(Box::new(tabadul_store::MemStore::new()));
