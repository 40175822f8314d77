//! Named limits on the size of domain values. Units last in the names.

/// Longest name, remark or free text field, in bytes.
pub const TEXT_BYTES_MAX: usize = 4096;
/// Longest single name as written, in bytes.
pub const NAME_BYTES_MAX: usize = 512;
/// Most names (primary and aliases) on one person alert.
pub const NAMES_PER_PERSON_MAX: usize = 64;
/// Most values in any other list of a person (birth dates, places, nationalities, documents).
pub const VALUES_PER_FIELD_MAX: usize = 64;
/// Longest document number, VIN or plate, in bytes.
pub const NUMBER_BYTES_MAX: usize = 64;
/// Most parties to one agreement.
pub const PARTIES_PER_AGREEMENT_MAX: usize = 256;
