//! tabadul-ftm
