//! The KUDOS worked example of PROTOCOLS.md §3.10 (RFC 8613 C.1 context, N1/N2) as a capture:
//! the CLI must open the divergent request with CTX_TEMP and the convergent response with
//! CTX_NEW, and draw the execution (client confirmed, server still waiting).

mod support;

use support::{kudoscope, tempdir};

fn pcap_raw_ipv4(frames: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [0xa1b2c3d4u32.to_le_bytes().to_vec(), 2u16.to_le_bytes().to_vec(), 4u16.to_le_bytes().to_vec()]
    {
        v.extend(x);
    }
    v.extend(0i32.to_le_bytes());
    v.extend(0u32.to_le_bytes());
    v.extend(65535u32.to_le_bytes());
    v.extend(101u32.to_le_bytes());
    for (usec, f) in frames {
        v.extend(1_767_225_600u32.to_le_bytes());
        v.extend(usec.to_le_bytes());
        v.extend((f.len() as u32).to_le_bytes());
        v.extend((f.len() as u32).to_le_bytes());
        v.extend(f);
    }
    v
}

fn udp(src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16, payload: &[u8]) -> Vec<u8> {
    let ul = 8 + payload.len();
    let tl = 20 + ul;
    let mut f = vec![0x45, 0, (tl >> 8) as u8, tl as u8, 0, 1, 0, 0, 64, 17, 0, 0];
    f.extend(src);
    f.extend(dst);
    f.extend(sp.to_be_bytes());
    f.extend(dp.to_be_bytes());
    f.extend((ul as u16).to_be_bytes());
    f.extend([0, 0]);
    f.extend(payload);
    f
}

#[test]
fn section_3_10_exchange_as_a_capture() {
    let h = |s: &str| analyzer_core::hex::decode(s).unwrap();
    let req = h(
        "44025d1f000039749c89010007018a278f7faab55affeba8aa1783f5a7ae1e4130301bc3bfb80899bae3e7715af783dc40",
    );
    let resp = h("64445d1f000039749c8101004725a8991cd700ac01ff2c20888857a8dcacbd");
    let (c, s) = ([192, 0, 2, 1], [192, 0, 2, 2]);
    let dir = tempdir("kudos310");
    let cap = dir.join("kudos310.pcap");
    std::fs::write(
        &cap,
        pcap_raw_ipv4(&[(0, udp(c, s, 40000, 5683, &req)), (1500, udp(s, c, 5683, 40000, &resp))]),
    )
    .unwrap();
    std::fs::write(
        dir.join("kudos310.keys.toml"),
        "[[context]]\nname = \"c1\"\nmaster_secret = \"0102030405060708090a0b0c0d0e0f10\"\nmaster_salt = \"9e7ca92223786340\"\nclient = { sender_id = \"\" }\nserver = { sender_id = \"01\" }\n",
    )
    .unwrap();
    let cap = cap.to_str().unwrap();

    let out = kudoscope(&["--format", "json", cap]);
    assert!(out.status.success());
    let frames: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let o1 = &frames[0]["oscore"];
    assert_eq!(o1["status"], "decrypted");
    assert_eq!(o1["context"]["generation"], "g0-temp1");
    assert_eq!(o1["kudos"]["z"], "divergent");
    assert_eq!(o1["kudos"]["nonce"], "018a278f7faab55a");
    assert_eq!(o1["nonce"], "cad94a4cdb9a2f7bff84e932f7");
    assert_eq!(o1["inner"]["uri"], "/.well-known/kudos");
    let o2 = &frames[1]["oscore"];
    assert_eq!(o2["status"], "decrypted");
    assert_eq!(o2["context"]["generation"], "g1");
    assert_eq!(o2["kudos"]["z"], "convergent");
    assert_eq!(o2["nonce"], "059bdfeb06c0a2b8e0177aa254");
    assert_eq!(o2["inner"]["code"], "2.04 Changed");

    let out = kudoscope(&["timeline", "--format", "json", "--show-secrets", cap]);
    assert!(out.status.success());
    let t: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lane = &t["associations"][0];
    assert_eq!(lane["name"], "c1");
    let p = &lane["procedures"][0];
    assert_eq!(p["kind"], "kudos");
    assert_eq!(p["initiator"], "client");
    assert_eq!(p["initiated_by"], "request");
    assert_eq!(p["mode"], "fs");
    assert_eq!(p["outcome"], "incomplete");
    assert_eq!(p["outcome_detail"], "key confirmation of the server");
    assert_eq!(p["messages"][0]["frame"], 1);
    assert_eq!(p["messages"][0]["x"]["value"], 7);
    assert_eq!(p["messages"][1]["x"]["z"], "convergent");
    // §3.10 master secrets and salts of CTX_TEMP and CTX_NEW, shown with --show-secrets.
    assert_eq!(p["derived"][0]["generation"], "g0-temp1");
    assert_eq!(p["derived"][0]["master_secret"], "ff7dda3b7d743ff507e12f04f0e168ea");
    assert_eq!(p["derived"][0]["master_salt"], "404907018a278f7faab55a");
    assert_eq!(p["derived"][1]["generation"], "g1");
    assert_eq!(p["derived"][1]["master_secret"], "6a0961c873d49f6bc18999a706369dd7");
    assert_eq!(p["derived"][1]["master_salt"], "4907018a278f7faab55a494725a8991cd700ac01");
    assert_eq!(p["derived"][1]["parent"], "c1");
    assert_eq!(p["key_confirmation"][0]["peer"], "client");
    assert_eq!(p["key_confirmation"][0]["after"], 0.0015);
    assert!(p["key_confirmation"][1]["after"].is_null());

    // Without --show-secrets only fingerprints appear.
    let out = kudoscope(&["timeline", "--format", "json", cap]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("6a0961c873d49f6bc18999a706369dd7"));
    assert!(text.contains("master_secret_fingerprint"));
    // The text ladder names both messages and the derivations.
    let out = kudoscope(&["timeline", cap]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("KUDOS #1: request-initiated by client, FS mode, incomplete"), "{text}");
    assert!(text.contains("CTX_NEW g1 derived from g0"), "{text}");
    assert!(text.contains("client has key confirmation"), "{text}");
}
