//! Passive, sans-IO observers of key-management procedures: message + time + decryption
//! result in, events, timeline procedures and findings out. No clock, no I/O, no globals.

pub mod kudos;
