//! kudoscope's core library.
//!
//! Everything that understands bytes, keys and protocols lives here; the front ends (CLI, GUI,
//! Wireshark plugin) only read what this crate computes.
//!
//! Data flow: [`capture`] (pcap/pcapng frames) -> [`net`] (link layers, IP, reassembly, UDP
//! datagrams) -> [`coap`] (messages, exchanges) -> [`oscore`] (unprotect with the context store)
//! -> procedure observers -> findings. [`analysis::Analyzer`] drives one pass in frame order and
//! yields one [`analysis::FrameRecord`] per frame; [`dissect`] turns a frame plus its record into
//! a display tree.

pub mod analysis;
pub mod audit;
pub mod bytes;
pub mod capture;
pub mod coap;
mod collections;
pub mod dissect;
pub mod fields;
pub mod filter;
pub mod finding;
pub mod hex;
pub mod keys;
pub mod net;
pub mod oscore;
pub mod procedures;
pub mod time;
pub mod timeline;

pub use finding::{Finding, FindingKind, Layer, Severity, Span};
pub use time::Timestamp;
