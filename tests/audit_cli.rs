//! `kudoscope audit` as a CI gate: exit status 0 without --fail-on or below it, 1 when a
//! finding is at or above --fail-on, 2 when the capture cannot be read (whatever --fail-on
//! says) or the arguments are wrong; the JSON document has the documented keys.

mod audit_support;
mod support;

use audit_support::{Plan, Scenario};
use support::kudoscope;

fn code(args: &[&str]) -> i32 {
    let out = kudoscope(args);
    out.status.code().unwrap_or(-1)
}

#[test]
fn fail_on_thresholds_over_samples() {
    // oscore-nonce-reuse: 2 critical (oscore.nonce_reuse) + 1 low.
    let cap = "samples/oscore-nonce-reuse.pcapng";
    assert_eq!(code(&["audit", cap]), 0, "no --fail-on: report only");
    assert_eq!(code(&["audit", "--fail-on", "critical", cap]), 1);
    assert_eq!(code(&["audit", "--fail-on", "info", cap]), 1);
    // oscore-replay: the worst is high (oscore.replay).
    let cap = "samples/oscore-replay.pcapng";
    assert_eq!(code(&["audit", "--fail-on", "critical", cap]), 0);
    assert_eq!(code(&["audit", "--fail-on", "high", cap]), 1);
    assert_eq!(code(&["audit", "--fail-on", "HIGH", "--format", "json", cap]), 1, "case-insensitive");
    // d01 (real aiocoap capture): no finding at all.
    let d01 = "samples/real/d01_aiocoap_aiocoap/d01_aiocoap_aiocoap.pcapng";
    assert_eq!(code(&["audit", "--fail-on", "info", d01]), 0);
}

#[test]
fn fail_on_thresholds_over_scripted_migrations() {
    let dir = support::tempdir("audit-cli");
    let careful = Scenario::build(Plan::Careful).write(&dir, "careful");
    let ssn = Scenario::build(Plan::SsnContinuing).write(&dir, "ssn");
    let (careful, ssn) = (careful.to_str().unwrap(), ssn.to_str().unwrap());
    assert_eq!(code(&["audit", "--fail-on", "info", careful]), 0, "the careful migration has no finding");
    assert_eq!(code(&["audit", "--fail-on", "high", ssn]), 1, "audit.ssn_not_restarted is high");
    assert_eq!(code(&["audit", "--fail-on", "critical", ssn]), 0);
}

#[test]
fn unreadable_capture_and_bad_arguments_exit_2() {
    assert_eq!(code(&["audit", "--fail-on", "info", "samples/corrupt/bad-magic.pcap"]), 2);
    assert_eq!(code(&["audit", "--fail-on", "info", "samples/does-not-exist.pcap"]), 2);
    let out = kudoscope(&["audit", "--fail-on", "severe", "samples/oscore-replay.pcapng"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown severity 'severe'"));
}

#[test]
fn json_document_shape() {
    let out = kudoscope(&["audit", "--format", "json", "samples/oscore-nonce-reuse.pcapng"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "one JSON object on one line");
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["capture"], "samples/oscore-nonce-reuse.pcapng");
    let a = &doc["associations"][0];
    assert_eq!(a["name"], "meter");
    let m = &a["migrations"][0];
    assert_eq!(
        (m["frame"].as_u64(), m["kind"].as_str(), m["peer"].as_str()),
        (Some(7), Some("address_change"), Some("client"))
    );
    let items: Vec<&str> =
        m["items"].as_array().unwrap().iter().map(|i| i["item"].as_str().unwrap()).collect();
    assert_eq!(
        items,
        [
            "kid",
            "piv",
            "observe",
            "mid",
            "token",
            "token_reuse",
            "address",
            "mac",
            "kudos",
            "edhoc",
            "unprotected_errors",
            "sizes",
            "cadence"
        ]
    );
    let kid = &m["items"][0];
    assert_eq!((kid["linked"].as_bool(), kid["frames"].to_string()), (Some(true), "[5,7]".to_string()));
    assert!(m["items"][2]["linked"].is_null(), "observe: not applicable");
    assert!(a["observer"]["clusters"].is_u64());
    assert_eq!(doc["observer_view"]["flows"].as_u64(), Some(3));
    let f = &doc["findings"][0];
    assert_eq!((f["kind"].as_str(), f["severity"].as_str()), (Some("oscore.nonce_reuse"), Some("critical")));
    assert_eq!(f["frames"].to_string(), "[7,1]");
    assert!(f["explanation"].as_str().unwrap().starts_with("AEAD nonce reuse"));
    let s = &doc["summary"];
    assert_eq!(s[0]["count"].as_u64(), Some(2));
}

/// The audit gathers every finding of every layer: its counts per (severity, kind) equal
/// `kudoscope stats` over the same capture (late and earlier-frame findings included).
#[test]
fn audit_counts_equal_stats_counts() {
    let counts = |v: &serde_json::Value| {
        let mut c: Vec<(String, String, u64)> = v
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| !c["kind"].as_str().unwrap().starts_with("audit."))
            .map(|c| {
                (
                    c["severity"].as_str().unwrap().into(),
                    c["kind"].as_str().unwrap().into(),
                    c["count"].as_u64().unwrap(),
                )
            })
            .collect();
        c.sort();
        c
    };
    for cap in [
        "samples/oscore-failures.pcapng",
        "samples/oscore-key-limits.pcapng",
        "samples/oscore-nonce-reuse.pcapng",
        "samples/corrupt/bad-layers.pcap",
        "samples/real/d02_libcoap_libcoap/d02_libcoap_libcoap.pcapng",
    ] {
        let a: serde_json::Value =
            serde_json::from_slice(&kudoscope(&["audit", "--format", "json", cap]).stdout).unwrap();
        let s: serde_json::Value =
            serde_json::from_slice(&kudoscope(&["stats", "--format", "json", cap]).stdout).unwrap();
        let (ca, cs) = (counts(&a["summary"]), counts(&s["findings"]));
        assert!(!cs.is_empty() || cap.contains("d02"), "{cap}: some findings expected");
        assert_eq!(ca, cs, "{cap}");
        let listed = a["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| !f["kind"].as_str().unwrap().starts_with("audit."))
            .count();
        assert_eq!(listed as u64, ca.iter().map(|c| c.2).sum::<u64>(), "{cap}: every finding listed");
    }
}
