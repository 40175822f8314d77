//! tabadul-store
