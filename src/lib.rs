//! SDK for the Singing Cloning API: the wire model, validation and response parsing
//! of every action (`model`), and their JavaScript face (`js`, feature `js`).

extern crate alloc;

pub mod error;
pub mod model;

#[cfg(feature = "js")]
pub mod js;

pub use error::{Error, Issue, IssueCode};
pub use model::*;
