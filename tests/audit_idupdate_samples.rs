//! `kudoscope audit` over the simulator's ID-update captures (samples/idupdate/, written by
//! kudoscope-sim): the careful migration is unlinkable on the items it controls (kid, PIV/SSN,
//! MID, token, address); each careless one is linkable by the item it left continuous, the
//! evidence frames end at the first frame after the boundary, and the draft's rule violations
//! are high-severity findings attached to the right frame.
//!
//! The captures land with the simulator's branch; until samples/idupdate/ exists this test
//! says so and checks nothing.

mod support;

use serde_json::Value;

fn audit(name: &str) -> Value {
    let cap = format!("samples/idupdate/{name}.pcapng");
    let out = support::kudoscope(&["audit", "--format", "json", &cap]);
    assert!(out.status.success(), "{cap}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn client_migrations(doc: &Value) -> Vec<&Value> {
    doc["associations"][0]["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["peer"] == "client")
        .collect()
}

fn item<'a>(m: &'a Value, name: &str) -> &'a Value {
    m["items"].as_array().unwrap().iter().find(|i| i["item"] == name).unwrap()
}

/// linked, and evidence frames that end at the first frame after the boundary.
fn assert_item(m: &Value, name: &str, linked: Option<bool>) {
    let i = item(m, name);
    assert_eq!(i["linked"].as_bool(), linked, "{name} at frame {}: {i}", m["frame"]);
    if linked.is_some() && name != "unprotected_errors" {
        let frames: Vec<u64> = i["frames"].as_array().unwrap().iter().map(|f| f.as_u64().unwrap()).collect();
        assert_eq!(
            frames.last().copied(),
            m["frame"].as_u64(),
            "{name}: evidence ends at the first frame after"
        );
        assert!(frames.len() == 2 && frames[0] < frames[1], "{name}: last before, first after: {frames:?}");
    }
}

fn audit_findings(doc: &Value) -> Vec<(String, String, u64)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"].as_str().unwrap().starts_with("audit."))
        .map(|f| {
            (
                f["kind"].as_str().unwrap().into(),
                f["severity"].as_str().unwrap().into(),
                f["frames"][0].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn simulator_id_update_samples() {
    if !support::root().join("samples/idupdate").is_dir() {
        println!("samples/idupdate/ not present yet (kudoscope-sim ID-update captures): nothing checked");
        return;
    }
    // Careful: new IDs first used on the new network, SSN from 0, fresh MID and token.
    let doc = audit("idupdate-migration-careful");
    let m = client_migrations(&doc);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0]["kind"], "both");
    for name in ["kid", "piv", "mid", "token", "address"] {
        assert_item(m[0], name, Some(false));
    }
    assert_eq!(m[0]["observer_linked"], false);
    assert!(audit_findings(&doc).is_empty());

    // New IDs on the old network, then the move: linked by the address, then by the kid.
    let doc = audit("idupdate-careless-early-ids");
    let m = client_migrations(&doc);
    let (id, mv) = (m[0], m[1]);
    assert_eq!((id["kind"].as_str(), mv["kind"].as_str()), (Some("id_change"), Some("address_change")));
    assert_item(id, "address", Some(true));
    assert_item(mv, "kid", Some(true));
    assert!(audit_findings(&doc).contains(&(
        "audit.new_ids_on_old_network".into(),
        "high".into(),
        id["frame"].as_u64().unwrap()
    )));

    // The move with the old kid, then the new IDs: linked by the kid.
    let doc = audit("idupdate-careless-old-kid");
    let m = client_migrations(&doc);
    let (mv, id) = (m[0], m[1]);
    assert_eq!((mv["kind"].as_str(), id["kind"].as_str()), (Some("address_change"), Some("id_change")));
    assert_item(mv, "kid", Some(true));
    assert!(audit_findings(&doc).contains(&(
        "audit.old_ids_on_new_network".into(),
        "high".into(),
        mv["frame"].as_u64().unwrap()
    )));

    // SSN continuing under CTX_B.
    let doc = audit("idupdate-careless-ssn");
    let m = client_migrations(&doc);
    assert_eq!(m[0]["kind"], "both");
    assert_item(m[0], "piv", Some(true));
    for name in ["kid", "address"] {
        assert_item(m[0], name, Some(false));
    }
    assert!(audit_findings(&doc).contains(&(
        "audit.ssn_not_restarted".into(),
        "high".into(),
        m[0]["frame"].as_u64().unwrap()
    )));

    // MID and token counters continuing across the move.
    let doc = audit("idupdate-careless-counters");
    let m = client_migrations(&doc);
    assert_eq!(m[0]["kind"], "both");
    assert_item(m[0], "mid", Some(true));
    assert_item(m[0], "token", Some(true));
    assert_item(m[0], "address", Some(false));
    assert!(audit_findings(&doc).contains(&(
        "audit.linkable_migration".into(),
        "medium".into(),
        m[0]["frame"].as_u64().unwrap()
    )));

    // In place (success, inside KUDOS): an ID change without migration, low.
    for name in ["idupdate-success", "idupdate-in-kudos"] {
        let doc = audit(name);
        let m = client_migrations(&doc);
        assert_eq!(m.len(), 1, "{name}");
        assert_eq!(m[0]["kind"], "id_change", "{name}");
        assert_item(m[0], "address", Some(true));
        assert_eq!(
            audit_findings(&doc),
            vec![("audit.linkable_migration".into(), "low".into(), m[0]["frame"].as_u64().unwrap())],
            "{name}"
        );
    }
    // Failed and aborted updates keep the old IDs: no boundary.
    for name in ["idupdate-failure-acks", "idupdate-abort-too-long"] {
        let doc = audit(name);
        assert!(client_migrations(&doc).is_empty(), "{name}");
    }
}
