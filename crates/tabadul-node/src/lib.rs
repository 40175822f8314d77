//! tabadul-node
