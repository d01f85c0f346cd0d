//! Cross-check against an independent implementation: `oscore_vectors.json` is written by
//! tools/vectors/gen_oscore_vectors.py (Python `cryptography` = OpenSSL AEADs and HKDF, CBOR
//! by hand), which first reproduces RFC 8613 C.1-C.8 and PROTOCOLS.md §3.10. It covers every
//! OSCORE AEAD (COSE 10-13, 30-33, 1-3, 24) and HKDF-SHA-256/384/512, none of which (except
//! 10 + SHA-256) has published OSCORE vectors.
//!
//! Regenerate: `python3 tools/vectors/gen_oscore_vectors.py` (check: `--check`).

// Test code: helpers outside #[test] fns may unwrap and index too (clippy.toml covers only
// the test fns themselves).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use analyzer_core::hex::{decode, encode};
use analyzer_core::oscore::context::{ContextInfos, DerivedContext, aad, aad_array};
use analyzer_core::oscore::kudos::{self, LabelEncoding};
use analyzer_core::oscore::option::OscoreOption;
use analyzer_core::oscore::{AeadAlg, ContextParams, HkdfAlg, Secret};
use serde_json::Value;
use std::collections::BTreeSet;

const VECTORS: &str = include_str!("oscore_vectors.json");

fn vectors() -> Value {
    serde_json::from_str(VECTORS).unwrap()
}

fn hx(v: &Value) -> Vec<u8> {
    decode(v.as_str().unwrap()).unwrap()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

fn alg(v: &Value) -> AeadAlg {
    AeadAlg::from_cose_id(v.as_i64().unwrap()).unwrap()
}

fn hkdf(v: &Value) -> HkdfAlg {
    HkdfAlg::parse(s(v)).unwrap()
}

fn params(c: &Value) -> ContextParams {
    ContextParams {
        master_secret: Secret::new(hx(&c["master_secret"])),
        master_salt: hx(&c["master_salt"]),
        id_context: if c["id_context"].is_null() { None } else { Some(hx(&c["id_context"])) },
        sender_id: hx(&c["sender_id"]),
        recipient_id: hx(&c["recipient_id"]),
        aead: alg(&c["aead"]),
        hkdf: hkdf(&c["hkdf"]),
    }
}

#[test]
fn derivations_and_messages_match_python() {
    let v = vectors();
    let contexts = v["contexts"].as_array().unwrap();
    let mut covered = BTreeSet::new();
    for c in contexts {
        let p = params(c);
        let what = format!("{} {} {}", s(&c["inputs"]), p.aead, p.hkdf);
        covered.insert((p.aead, p.hkdf));
        let infos = ContextInfos::for_params(&p);
        assert_eq!(encode(&infos.sender_key), s(&c["info_sender_key"]), "{what}");
        assert_eq!(encode(&infos.recipient_key), s(&c["info_recipient_key"]), "{what}");
        assert_eq!(encode(&infos.common_iv), s(&c["info_common_iv"]), "{what}");
        let d = DerivedContext::derive(p.clone()).unwrap();
        assert_eq!(encode(d.sender_key().expose()), s(&c["sender_key"]), "{what}");
        assert_eq!(encode(d.recipient_key().expose()), s(&c["recipient_key"]), "{what}");
        assert_eq!(encode(d.common_iv()), s(&c["common_iv"]), "{what}");

        // Request (client -> server).
        let r = &c["request"];
        let (piv, kid) = (hx(&r["piv"]), hx(&r["kid"]));
        assert_eq!(encode(&aad_array(p.aead, &kid, &piv, &[])), s(&r["aad_array"]), "{what}");
        let a = aad(p.aead, &kid, &piv);
        assert_eq!(encode(&a), s(&r["aad"]), "{what}");
        let n = d.sender_nonce(&piv).unwrap();
        assert_eq!(encode(&n), s(&r["nonce"]), "{what}");
        let opt = OscoreOption::build(
            &piv,
            p.id_context.as_deref().filter(|_| s(&c["inputs"]) == "C.3"),
            None,
            Some(&kid),
        )
        .unwrap();
        assert_eq!(encode(&opt.emit()), s(&r["option"]), "{what}");
        let ct = d.sender_aead().seal(&n, &a, &hx(&r["plaintext"])).unwrap();
        assert_eq!(encode(&ct), s(&r["ciphertext"]), "{what}");
        // Server view opens it.
        let srv = DerivedContext::derive(p.reversed()).unwrap();
        assert_eq!(srv.recipient_aead().open(&n, &a, &ct).unwrap(), hx(&r["plaintext"]), "{what}");

        // Response without PIV: the request nonce, server Sender Key.
        let r0 = &c["response_without_piv"];
        assert_eq!(s(&r0["nonce"]), encode(&n));
        let ct = srv.sender_aead().seal(&n, &a, &hx(&r0["plaintext"])).unwrap();
        assert_eq!(encode(&ct), s(&r0["ciphertext"]), "{what}");
        assert_eq!(d.recipient_aead().open(&n, &a, &ct).unwrap(), hx(&r0["plaintext"]));

        // Response with PIV: server's own nonce.
        let r1 = &c["response_with_piv"];
        let rpiv = hx(&r1["piv"]);
        let rn = srv.sender_nonce(&rpiv).unwrap();
        assert_eq!(encode(&rn), s(&r1["nonce"]), "{what}");
        assert_eq!(rn, d.recipient_nonce(&rpiv).unwrap());
        assert_eq!(encode(&OscoreOption::build(&rpiv, None, None, None).unwrap().emit()), s(&r1["option"]));
        let ct = srv.sender_aead().seal(&rn, &a, &hx(&r1["plaintext"])).unwrap();
        assert_eq!(encode(&ct), s(&r1["ciphertext"]), "{what}");
        assert_eq!(d.recipient_aead().open(&rn, &a, &ct).unwrap(), hx(&r1["plaintext"]));
    }
    // Every AEAD with every HKDF was covered.
    for a in AeadAlg::ALL {
        for h in HkdfAlg::ALL {
            assert!(covered.contains(&(a, h)), "{a} {h} not covered");
        }
    }
    assert_eq!(contexts.len(), 64);
}

#[test]
fn kudos_matches_python() {
    let v = vectors();
    let entries = v["kudos"].as_array().unwrap();
    let base_secret = decode("0102030405060708090a0b0c0d0e0f10").unwrap();
    let in1 = kudos::input(0x07, &decode("018a278f7faab55a").unwrap());
    let in2 = kudos::input(0x47, &decode("25a8991cd700ac01").unwrap());
    let mut n_draft = 0;
    for k in entries {
        let enc = match s(&k["encoding"]) {
            "draft" => LabelEncoding::Draft,
            "no_length_prefixes" => LabelEncoding::NoLengthPrefixes,
            other => panic!("{other}"),
        };
        if enc == LabelEncoding::Draft {
            n_draft += 1;
        }
        let old = ContextParams {
            master_secret: Secret::new(base_secret.clone()),
            master_salt: decode("9e7ca92223786340").unwrap(),
            id_context: None,
            sender_id: vec![],
            recipient_id: vec![1],
            aead: alg(&k["aead"]),
            hkdf: hkdf(&k["hkdf"]),
        };
        let what = format!("{} {} {:?}", old.aead, old.hkdf, enc);
        assert_eq!(encode(&kudos::x_n(&in1, &[])), s(&k["x_n_temp"]));
        assert_eq!(
            encode(&kudos::expand_label(16, &kudos::x_n(&in1, &[]), enc).unwrap()),
            s(&k["info_temp"])
        );
        assert_eq!(encode(&kudos::x_n(&in2, &in1)), s(&k["x_n_new"]));
        assert_eq!(
            encode(&kudos::expand_label(16, &kudos::x_n(&in1, &in2), enc).unwrap()),
            s(&k["info_new"])
        );
        let temp_p = kudos::update_ctx(&in1, &[], &old, enc).unwrap();
        assert_eq!(encode(temp_p.master_secret.expose()), s(&k["master_secret_temp"]), "{what}");
        let new_p = kudos::update_ctx(&in1, &in2, &old, enc).unwrap();
        assert_eq!(encode(new_p.master_secret.expose()), s(&k["master_secret_new"]), "{what}");
        let t = DerivedContext::derive(temp_p).unwrap();
        let n = DerivedContext::derive(new_p).unwrap();
        assert_eq!(encode(t.sender_key().expose()), s(&k["temp_sender_key"]), "{what}");
        assert_eq!(encode(t.recipient_key().expose()), s(&k["temp_recipient_key"]), "{what}");
        assert_eq!(encode(t.common_iv()), s(&k["temp_common_iv"]), "{what}");
        assert_eq!(encode(n.sender_key().expose()), s(&k["new_sender_key"]), "{what}");
        assert_eq!(encode(n.recipient_key().expose()), s(&k["new_recipient_key"]), "{what}");
        assert_eq!(encode(n.common_iv()), s(&k["new_common_iv"]), "{what}");

        let piv = [0u8];
        let a = t.aad(&[], &piv);
        let rq = &k["request"];
        assert_eq!(encode(&a), s(&rq["aad"]));
        let rn = t.sender_nonce(&piv).unwrap();
        assert_eq!(encode(&rn), s(&rq["nonce"]), "{what}");
        let o = OscoreOption::parse(&hx(&rq["option"]));
        assert!(o.problems.is_empty());
        assert_eq!(kudos::input_from_option(&o.option).unwrap(), in1);
        let ct = t.sender_aead().seal(&rn, &a, &hx(&rq["plaintext"])).unwrap();
        assert_eq!(encode(&ct), s(&rq["ciphertext"]), "{what}");

        let rs = &k["response"];
        let sn = n.recipient_nonce(&piv).unwrap();
        assert_eq!(encode(&sn), s(&rs["nonce"]), "{what}");
        let ct = hx(&rs["ciphertext"]);
        assert_eq!(n.recipient_aead().open(&sn, &a, &ct).unwrap(), hx(&rs["plaintext"]), "{what}");
        let o = OscoreOption::parse(&hx(&rs["option"]));
        assert_eq!(kudos::input_from_option(&o.option).unwrap(), in2);
    }
    assert_eq!(n_draft, 36);
    assert_eq!(entries.len(), 39);
}
