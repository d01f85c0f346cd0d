//! kudoscope-sim: a deterministic CoAP peer simulator that writes the sample captures.
//!
//! It is an implementation independent of analyzer-core on purpose: its own pcap/pcapng
//! writers, link/IP/UDP/6LoWPAN builders and a CoAP encoder from coap-lite, so that the
//! samples test the core's parsers instead of mirroring them.

pub mod big;
pub mod checksum;
pub mod coap;
pub mod idupdate_samples;
pub mod ip;
pub mod kudos;
pub mod kudos_samples;
pub mod link;
pub mod lowpan;
pub mod oscore;
pub mod oscore_samples;
pub mod pcap;
pub mod pcapng;
pub mod rng;
pub mod samples;
pub mod scenario;
