//! A local emulator of the Singing Cloning cloud API, built on the SDK's own wire model
//! and validators (`singing_cloning`), so that the two can never disagree.
//!
//! ```no_run
//! # async fn demo() -> Result<(), String> {
//! use singing_cloning_emulator::{Config, Emulator};
//! let emulator = Emulator::start(Config { port: 0, job_ms: 50, ..Config::default() }).await?;
//! println!("{}", emulator.api_url()); // http://127.0.0.1:PORT/release
//! emulator.stop().await;
//! # Ok(()) }
//! ```

pub mod audio;
pub mod blocking;
pub mod callbacks;
pub mod config;
pub mod errors;
pub mod faults;
pub mod inputs;
pub mod jobs;
pub mod models;
pub mod routes;
pub mod samples;
pub mod server;
pub mod sigv4;
pub mod state;
pub mod store;

pub use config::{Config, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY};
pub use server::Emulator;
