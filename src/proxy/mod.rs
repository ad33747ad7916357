//! The credential-holding proxy (feature `proxy`, edge build only): one standard fetch
//! handler that stands between pages and the upstream API, adding the credentials the
//! pages never see.
//!
//! Every decision is pure Rust in the submodules below, tested natively
//! (`cargo test --features proxy --lib proxy::`); `handler` is the thin JavaScript face
//! over `Request`/`Response`, built for wasm32 only.

pub mod admission;
pub mod base64;
pub mod callback;
pub mod config;
pub mod cors;
pub mod error_code;
pub mod events;
pub mod idempotency;
pub mod identity;
pub mod inbound;
pub mod listing;
pub mod plan;
pub mod policy;
pub mod rate_limit;
pub mod recent;
pub mod reply;
pub mod route;
pub mod scope;
pub mod scrub;
pub mod session;
pub mod shared;
pub mod signing;
pub mod storage;
pub mod uploads;
pub mod upstream;
pub mod webhook;

pub use error_code::ProxyErrorCode;

#[cfg(target_arch = "wasm32")]
mod handler;
#[cfg(target_arch = "wasm32")]
mod outbound;
