//! `kudoscope audit` over scripted ID-update captures (tests/audit_support): the careful
//! migration is unlinkable on every item it controls; each careless one is linkable by the
//! item it left continuous, with the right evidence frames, and raises the draft's rule
//! violations as high-severity findings.
//!
//! Frame layout of every scenario (client 192.0.2.1:40000 -> server 192.0.2.2:5683, one
//! exchange every 10 s): 1-4 two exchanges under CTX_A (kid 01); 5-12 the ID update
//! (Recipient-ID 42 / 78, Acks; client done at 10, server at 11); 13-14 one more exchange;
//! then the scenario's own steps from frame 15 on.

mod audit_support;
mod support;

use audit_support::{Plan, Scenario};
use serde_json::Value;

fn audit_json(how: Plan, name: &str) -> Value {
    let dir = support::tempdir(&format!("audit-{name}"));
    let cap = Scenario::build(how).write(&dir, name);
    let out = support::kudoscope(&["audit", "--format", "json", cap.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The migrations of the only association.
fn migrations(doc: &Value) -> &Vec<Value> {
    let a = doc["associations"].as_array().unwrap();
    assert_eq!(a.len(), 1, "one association");
    a[0]["migrations"].as_array().unwrap()
}

fn migration<'a>(doc: &'a Value, peer: &str, frame: u64) -> &'a Value {
    migrations(doc)
        .iter()
        .find(|m| m["peer"] == peer && m["frame"] == frame)
        .unwrap_or_else(|| panic!("no {peer} migration at frame {frame}: {:#}", doc["associations"]))
}

/// (linked, frames) of one item.
fn item(m: &Value, name: &str) -> (Value, Vec<u64>) {
    let i = m["items"].as_array().unwrap().iter().find(|i| i["item"] == name).unwrap();
    (i["linked"].clone(), i["frames"].as_array().unwrap().iter().map(|f| f.as_u64().unwrap()).collect())
}

fn kinds(doc: &Value) -> Vec<(String, String, Vec<u64>)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["frames"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).collect(),
            )
        })
        .collect()
}

const CONTROLLED: [&str; 5] = ["kid", "piv", "mid", "token", "address"];

#[test]
fn careful_migration_is_unlinkable_on_what_it_controls() {
    let doc = audit_json(Plan::Careful, "careful");
    let m = migration(&doc, "client", 15);
    assert_eq!(m["kind"], "both");
    assert_eq!(m["before"]["kid"], "01");
    assert_eq!(m["after"]["kid"], "78");
    for name in CONTROLLED {
        let (linked, frames) = item(m, name);
        assert_eq!(linked, Value::Bool(false), "{name}: {m:#}");
        assert_eq!(frames, vec![13, 15], "{name}: last request before, first after");
    }
    assert_eq!(item(m, "mac").0, Value::Bool(false));
    assert_eq!(item(m, "token_reuse").0, Value::Null, "no observation");
    assert_eq!(item(m, "edhoc").0, Value::Null, "no EDHOC in the capture");
    // The period is the application's: still linked, and reported.
    assert_eq!(item(m, "cadence").0, Value::Bool(true));
    assert_eq!(m["observer_linked"], false);
    // The server's ID change is invisible (no kid on the wire): n/a, and no finding.
    let s = migration(&doc, "server", 16);
    assert_eq!(s["kind"], "id_change");
    assert_eq!(item(s, "kid").0, Value::Null);
    assert!(kinds(&doc).is_empty(), "no finding: {:?}", kinds(&doc));
    let o = &doc["observer_view"];
    assert_eq!((o["flows"].as_u64(), o["clusters"].as_u64()), (Some(2), Some(2)));
    assert_eq!((o["id_changes"].as_u64(), o["id_changes_linked"].as_u64()), (Some(2), Some(0)));
    assert_eq!(o["split_associations"].as_u64(), Some(1));
}

#[test]
fn new_ids_before_migration_are_linked_by_the_address() {
    let doc = audit_json(Plan::NewIdsBeforeMigration, "newids");
    // 15: first kid 78 on the old endpoint; 19: the move with kid 78.
    let id = migration(&doc, "client", 15);
    assert_eq!(id["kind"], "id_change");
    assert_eq!(item(id, "address"), (Value::Bool(true), vec![13, 15]));
    assert_eq!(item(id, "kid").0, Value::Bool(false));
    let mv = migration(&doc, "client", 19);
    assert_eq!(mv["kind"], "address_change");
    assert_eq!(item(mv, "kid"), (Value::Bool(true), vec![17, 19]));
    assert_eq!(item(mv, "address").0, Value::Bool(false));
    let k = kinds(&doc);
    assert!(k.contains(&("audit.new_ids_on_old_network".into(), "high".into(), vec![15, 13, 19])), "{k:?}");
    assert_eq!(doc["observer_view"]["clusters"].as_u64(), Some(1), "the observer links all three flows");
}

#[test]
fn old_kid_after_migration_is_linked_by_the_kid() {
    let doc = audit_json(Plan::OldKidAfterMigration, "oldkid");
    let mv = migration(&doc, "client", 15);
    assert_eq!(mv["kind"], "address_change");
    assert_eq!(mv["after"]["kid"], "01");
    assert_eq!(item(mv, "kid"), (Value::Bool(true), vec![13, 15]));
    let id = migration(&doc, "client", 19);
    assert_eq!(id["kind"], "id_change");
    assert_eq!(item(id, "address"), (Value::Bool(true), vec![17, 19]));
    let k = kinds(&doc);
    assert!(k.contains(&("audit.old_ids_on_new_network".into(), "high".into(), vec![15, 19])), "{k:?}");
    assert!(!k.iter().any(|(kind, _, _)| kind == "audit.new_ids_on_old_network"), "{k:?}");
}

#[test]
fn ssn_continuing_is_linked_by_the_partial_iv() {
    let doc = audit_json(Plan::SsnContinuing, "ssn");
    let m = migration(&doc, "client", 15);
    assert_eq!(m["kind"], "both");
    assert_eq!(item(m, "piv"), (Value::Bool(true), vec![13, 15]));
    for name in ["kid", "mid", "token", "address"] {
        assert_eq!(item(m, name).0, Value::Bool(false), "{name}");
    }
    let k = kinds(&doc);
    assert!(k.contains(&("audit.ssn_not_restarted".into(), "high".into(), vec![15, 13])), "{k:?}");
    assert!(k.contains(&("audit.linkable_migration".into(), "medium".into(), vec![15, 13])), "{k:?}");
    assert_eq!(m["observer_linked"], true);
}

#[test]
fn counters_continuing_are_linked_by_mid_and_token() {
    let doc = audit_json(Plan::CountersContinuing, "counters");
    let m = migration(&doc, "client", 15);
    assert_eq!(item(m, "mid"), (Value::Bool(true), vec![13, 15]));
    assert_eq!(item(m, "token"), (Value::Bool(true), vec![13, 15]));
    for name in ["kid", "piv", "address"] {
        assert_eq!(item(m, name).0, Value::Bool(false), "{name}");
    }
    let k = kinds(&doc);
    assert_eq!(k, vec![("audit.linkable_migration".into(), "medium".into(), vec![15, 13])]);
    assert_eq!(m["observer_linked"], true);
}

#[test]
fn id_change_in_place_is_low() {
    let doc = audit_json(Plan::NoMigration, "nomig");
    let m = migration(&doc, "client", 15);
    assert_eq!(m["kind"], "id_change");
    assert_eq!(item(m, "address").0, Value::Bool(true));
    let k = kinds(&doc);
    assert_eq!(k, vec![("audit.linkable_migration".into(), "low".into(), vec![15, 13])]);
}

/// Golden text and JSON reports of every scenario (regenerate with UPDATE_GOLDEN=1 and review
/// the diff). The captures are written under target/audit-scenarios/ and named by a
/// repository-relative path, so the reports do not depend on the checkout's location.
#[test]
fn golden_reports_of_the_scenarios() {
    let dir = support::root().join("target/audit-scenarios");
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    for (how, name) in [
        (Plan::Careful, "careful"),
        (Plan::NewIdsBeforeMigration, "new-ids-before-migration"),
        (Plan::OldKidAfterMigration, "old-kid-after-migration"),
        (Plan::SsnContinuing, "ssn-continuing"),
        (Plan::CountersContinuing, "counters-continuing"),
        (Plan::NoMigration, "no-migration"),
        (Plan::InsideKudos, "inside-kudos"),
    ] {
        Scenario::build(how).write(&dir, name);
        let cap = format!("target/audit-scenarios/{name}.pcap");
        for (ext, args) in [("txt", vec!["audit", &cap]), ("json", vec!["audit", "--format", "json", &cap])] {
            let out = support::kudoscope(&args);
            assert!(out.status.success());
            let actual = String::from_utf8(out.stdout).unwrap();
            let golden = support::root().join(format!("tests/golden/audit/scenario-{name}.{ext}"));
            if std::env::var_os("UPDATE_GOLDEN").is_some() {
                std::fs::write(&golden, &actual).unwrap();
            } else if std::fs::read_to_string(&golden).ok().as_deref() != Some(actual.as_str()) {
                failures.push(golden.display().to_string());
            }
        }
    }
    assert!(failures.is_empty(), "golden mismatches (UPDATE_GOLDEN=1 to rewrite): {failures:?}");
}

/// Memory follows identity changes, not messages: 600 exchanges around one careful migration
/// still make two segments per peer, and the boundary compares the right ends.
#[test]
fn segments_grow_with_identity_changes_not_messages() {
    let mut s = Scenario::new(false);
    for _ in 0..300 {
        s.exchange(vec![], vec![]);
    }
    s.id_update();
    s.switch_ids(false);
    s.move_client(audit_support::NEW_NET);
    s.rerandomise();
    for _ in 0..300 {
        s.exchange(vec![], vec![]);
    }
    let dir = support::tempdir("audit-long");
    let cap = s.write(&dir, "long");
    let out = support::kudoscope(&["audit", "--format", "json", cap.to_str().unwrap()]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["frames"].as_u64(), Some(1208));
    assert_eq!(doc["associations"][0]["segments"].as_u64(), Some(4));
    // 300 exchanges + 4 ID-update exchanges = frames 1..=608; the move at 609.
    let m = migration(&doc, "client", 609);
    assert_eq!(m["kind"], "both");
    assert_eq!(item(m, "piv"), (Value::Bool(false), vec![607, 609]));
    assert_eq!(m["before"]["messages"].as_u64(), Some(304));
}

/// Frames: 1-4 two exchanges under CTX_A; 5 divergent KUDOS request (CTX_TEMP, Recipient-ID
/// 42); 6 convergent response (CTX_NEW g1, Recipient-ID 78 + Ack 42); 7-10 the client on the
/// new network with CTX_NEW-with-new-IDs (g1-id1).
#[test]
fn id_update_inside_kudos_then_careful_migration() {
    let doc = audit_json(Plan::InsideKudos, "kudos");
    // The KUDOS contexts (g0-temp1, g1) keep the IDs: no boundary until the new IDs.
    assert_eq!(migrations(&doc).len(), 2, "{:#}", doc["associations"]);
    let m = migration(&doc, "client", 7);
    assert_eq!(m["kind"], "both");
    assert_eq!(
        (m["before"]["context"].as_str(), m["after"]["context"].as_str()),
        (Some("g0-temp1"), Some("g1-id1"))
    );
    for name in CONTROLLED {
        assert_eq!(item(m, name), (Value::Bool(false), vec![5, 7]), "{name}");
    }
    assert_eq!(item(m, "kudos").0, Value::Null, "KUDOS only before");
    assert_eq!(m["observer_linked"], false);
    let s = migration(&doc, "server", 8);
    assert_eq!((s["kind"].as_str(), s["before"]["context"].as_str()), (Some("id_change"), Some("g1")));
    assert!(kinds(&doc).is_empty(), "{:?}", kinds(&doc));
}
