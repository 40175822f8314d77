//! UN/EDIFACT for tabadul: the ISO 9735 syntax ([`syntax`]) and PAXLST passenger manifests
//! ([`paxlst`]), read from untidy carrier traffic without losing a traveller that parsed and
//! with a clear report of what did not; and the interactive answer to a manifest, a CUSRES
//! board / no-board message ([`cusres`]). Pure: bytes in, values out.

pub mod cusres;
pub mod paxlst;
pub mod syntax;

pub use paxlst::{Document, Leg, Manifest, Role, Stop, Traveller, manifests};
pub use syntax::{EdifactError, INTERCHANGE_BYTES_MAX, Interchange, Message, Problem, Segment, Separators, parse};
