//! tabadul-store-sqlite
