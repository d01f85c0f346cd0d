//! kudoscope's desktop app (egui / eframe) over analyzer-core. The app paints what the core
//! computed; it never parses bytes itself.
//!
//! - [`model`]: the view model (compact rows, filtering, sorting, selection, hex highlights),
//!   tested without a window;
//! - [`loader`]: long work on named worker threads, streamed through a bounded channel;
//! - [`timeline`]: the timeline as plain data, and its painter;
//! - [`app`]: settings (persisted) + runtime state + commands; [`views`]: the painters.

pub mod app;
pub mod loader;
pub mod model;
pub mod settings;
pub mod timeline;
pub mod views;

pub use app::{App, Command, View};
