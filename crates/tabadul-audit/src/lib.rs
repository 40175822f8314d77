//! tabadul-audit
