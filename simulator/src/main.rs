//! `kudoscope-sim`: writes the sample captures.
fn main() {}
