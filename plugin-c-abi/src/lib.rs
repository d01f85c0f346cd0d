//! kudoscope as a Wireshark epan plugin.
//!
//! A Rust `cdylib` that Wireshark 4.0 loads from `plugins/4.0/epan/`: it registers the
//! protocol `kudoscope` (a postdissector), runs analyzer-core over the capture on Wireshark's
//! first pass (frame order) with the OSCORE keys named by the preference `kudoscope.keys`, and
//! shows the result in Wireshark's own tree (`kudoscope.*` fields, one per entry of
//! [`analyzer_core::fields`]), a "Decrypted OSCORE" data source, expert infos (one per
//! finding kind and severity) and the Info column. See docs/wireshark-plugin.md.
//!
//! Layout:
//! - [`ws40`] (re-exported as `ws`): the hand-written 4.0 C ABI, layout-checked; a later
//!   Wireshark gets a sibling module behind its own feature, the rest of the crate only uses
//!   the names re-exported as `ws`.
//! - [`session`]: per-capture analysis state and per-frame storage (no FFI).
//! - [`render`]: what to show and where, as plain data (no FFI).
//! - `plugin`: registration, preference, init/cleanup and the dissector (the only FFI glue).
//!
//! Every `extern "C"` entry point runs inside `catch_unwind`; epan functions that can throw
//! (longjmp) are only called with offsets checked against `tvb_captured_length`.

#[cfg(all(feature = "ws40", target_pointer_width = "64"))]
pub mod ws40;
#[cfg(all(feature = "ws40", target_pointer_width = "64"))]
pub use ws40 as ws;
#[cfg(not(feature = "ws40"))]
compile_error!("plugin-c-abi: select the Wireshark plugin ABI with a feature (ws40)");
#[cfg(not(target_pointer_width = "64"))]
compile_error!("plugin-c-abi: the ws40 layouts are checked for LP64 targets only");

mod plugin;
pub mod render;
pub mod session;

use std::ffi::c_int;

const VERSION_STR: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

#[allow(clippy::indexing_slicing)] // const fn over a length known at compile time
const fn c_chars<const N: usize>(s: &str) -> [u8; N] {
    let b = s.as_bytes();
    let mut a = [0u8; N];
    let mut i = 0;
    while i < N {
        a[i] = b[i];
        i += 1;
    }
    a
}

/// The plugin version as the 4.0 loader reads it: the symbol's address is used as a
/// `const char *`, so this is a NUL-terminated array, not a pointer.
#[unsafe(no_mangle)]
#[used]
pub static plugin_version: [u8; VERSION_STR.len()] = c_chars(VERSION_STR);

/// The Wireshark major version this plugin is built for (must equal the running one).
#[unsafe(no_mangle)]
#[used]
pub static plugin_want_major: c_int = ws::VERSION_MAJOR;

/// The Wireshark minor version this plugin is built for (must equal the running one).
#[unsafe(no_mangle)]
#[used]
pub static plugin_want_minor: c_int = ws::VERSION_MINOR;

/// Called by the loader right after `g_module_open`: registers the protocol callbacks.
#[unsafe(no_mangle)]
pub extern "C" fn plugin_register() {
    plugin::register();
}
