//! `kudoscope`: a tshark-like command line over analyzer-core.
fn main() {}
