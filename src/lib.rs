//! SDK for the Singing Cloning API: the wire model, validation and response parsing
//! of every action (`model`), and their JavaScript face (`js`, feature `js`).

extern crate alloc;

pub mod error;
pub mod http_date;
pub mod model;
pub mod retry;

#[cfg(feature = "js")]
pub mod js;

#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "client")]
pub mod transport;

#[cfg(feature = "proxy")]
pub mod proxy;

pub use error::{Error, Issue, IssueCode};

/// A free-list allocator for the page build: some 5 KB smaller than the default dlmalloc,
/// and the package's WebAssembly is single-threaded. Not for the proxy (the edge build),
/// a server whose many allocations a free list serves several times slower than dlmalloc.
#[cfg(all(feature = "js", not(feature = "proxy"), target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    // SAFETY: wasm32-unknown-unknown without the atomics feature has one thread.
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
pub use model::*;
