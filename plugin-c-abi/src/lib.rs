//! Wireshark plugin (stub).
