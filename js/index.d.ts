// Types generated from the Rust crate by wasm-bindgen and tsify.
export * from '../pkg/singing_cloning.js';
