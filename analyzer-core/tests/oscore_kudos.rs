//! KUDOS worked vectors (PROTOCOLS.md §3.10, computed for draft-ietf-core-oscore-key-update-14
//! §4.2 on the RFC 8613 C.1 context) and OSCORE ID-update vectors (PROTOCOLS.md §4.3,
//! draft-ietf-core-oscore-id-update-06): contexts, messages protected and unprotected
//! byte-exactly, with coap-lite as an independent CoAP parser.

// Test code: helpers outside #[test] fns may unwrap and index too (clippy.toml covers only
// the test fns themselves).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use analyzer_core::hex::{decode, encode};
use analyzer_core::oscore::context::{ContextInfos, DerivedContext, aad_array};
use analyzer_core::oscore::kudos::{self, LabelEncoding};
use analyzer_core::oscore::option::OscoreOption;
use analyzer_core::oscore::{AeadAlg, AeadError, ContextParams, HkdfAlg, Secret};
use coap_lite::{CoapOption, Packet};

fn h(s: &str) -> Vec<u8> {
    decode(s).unwrap()
}

fn c1_client() -> ContextParams {
    ContextParams {
        master_secret: Secret::new(h("0102030405060708090a0b0c0d0e0f10")),
        master_salt: h("9e7ca92223786340"),
        id_context: None,
        sender_id: vec![],
        recipient_id: h("01"),
        aead: AeadAlg::AesCcm16_64_128,
        hkdf: HkdfAlg::Sha256,
    }
}

const N1: &str = "018a278f7faab55a";
const N2: &str = "25a8991cd700ac01";
const REQ_MSG: &str =
    "44025d1f000039749c89010007018a278f7faab55affeba8aa1783f5a7ae1e4130301bc3bfb80899bae3e7715af783dc40";
const RESP_MSG: &str = "64445d1f000039749c8101004725a8991cd700ac01ff2c20888857a8dcacbd";

/// PROTOCOLS.md §3.10: CTX_TEMP and CTX_NEW (X_N, ExpandLabel info, Master Secret/Salt, keys, IV).
#[test]
fn section_3_10_contexts() {
    let old = c1_client();
    let in1 = kudos::input(0x07, &h(N1));
    let in2 = kudos::input(0x47, &h(N2));

    let xn_t = kudos::x_n(&in1, &[]);
    assert_eq!(encode(&xn_t), "404907018a278f7faab55a");
    assert_eq!(
        encode(&kudos::expand_label(16, &xn_t, LabelEncoding::Draft).unwrap()),
        "0010116f73636f7265206b6579207570646174650b404907018a278f7faab55a"
    );
    let temp = kudos::update_ctx(&in1, &[], &old, LabelEncoding::Draft).unwrap();
    assert_eq!(encode(temp.master_secret.expose()), "ff7dda3b7d743ff507e12f04f0e168ea");
    assert_eq!(temp.master_salt, xn_t);
    assert_eq!((temp.aead, temp.hkdf, &temp.id_context), (old.aead, old.hkdf, &old.id_context));
    let t = DerivedContext::derive(temp).unwrap();
    assert_eq!(encode(t.sender_key().expose()), "54bf06439d41194b0b92517533002c88");
    assert_eq!(encode(t.recipient_key().expose()), "5a90201a8772b5781cfe43d68df53992");
    assert_eq!(encode(t.common_iv()), "cad94a4cdb9a2f7bff84e932f7");

    let xn_n = kudos::x_n(&in1, &in2);
    assert_eq!(encode(&xn_n), "4907018a278f7faab55a494725a8991cd700ac01");
    assert_eq!(
        encode(&kudos::expand_label(16, &xn_n, LabelEncoding::Draft).unwrap()),
        format!("0010116f73636f7265206b657920757064617465{}{}", "14", encode(&xn_n))
    );
    let new = kudos::update_ctx(&in1, &in2, &old, LabelEncoding::Draft).unwrap();
    assert_eq!(encode(new.master_secret.expose()), "6a0961c873d49f6bc18999a706369dd7");
    assert_eq!(new.master_salt, xn_n);
    let n = DerivedContext::derive(new).unwrap();
    assert_eq!(encode(n.sender_key().expose()), "2cba237fdc5dc3402c9dfa0c77772f68");
    assert_eq!(encode(n.recipient_key().expose()), "bc2e1bdf7c5e12cbef4330c0977084f4");
    assert_eq!(encode(n.common_iv()), "049bdfeb06c0a2b9e0177aa254");

    // §3.10 / §8.2: ExpandLabel without the 1-byte length prefixes.
    let t_np = kudos::update_ctx(&in1, &[], &old, LabelEncoding::NoLengthPrefixes).unwrap();
    assert_eq!(encode(t_np.master_secret.expose()), "87070df82076a86351bcf2a0465ae2f1");
    let n_np = kudos::update_ctx(&in2, &in1, &old, LabelEncoding::NoLengthPrefixes).unwrap();
    assert_eq!(encode(n_np.master_secret.expose()), "8cc5a0d360b4b7e08e4fb9cde0898970");
    // Both peers compute the same CTX_NEW (server: IDs swapped, inputs in the other order).
    let server_new = kudos::update_ctx(&in2, &in1, &old.reversed(), LabelEncoding::Draft).unwrap();
    let s = DerivedContext::derive(server_new).unwrap();
    assert_eq!(s.sender_key(), n.recipient_key());
    assert_eq!(s.recipient_key(), n.sender_key());
}

/// PROTOCOLS.md §3.10 Request #1 (divergent, CTX_TEMP) and Response #1 (convergent, CTX_NEW):
/// the client protects both byte-exactly, then the analyzer's view (server side) recovers
/// the contexts from the wire options alone and unprotects.
#[test]
fn section_3_10_messages() {
    let old = c1_client();
    // --- client protects Request #1 with CTX_TEMP.
    let in1 = kudos::input(0x07, &h(N1));
    let temp =
        DerivedContext::derive(kudos::update_ctx(&in1, &[], &old, LabelEncoding::Draft).unwrap()).unwrap();
    let piv = h("00");
    let opt = OscoreOption::build(&piv, None, Some((0x07, &h(N1))), Some(&[])).unwrap();
    assert_eq!(encode(&opt.emit()), "89010007018a278f7faab55a");
    assert_eq!(encode(&aad_array(AeadAlg::AesCcm16_64_128, &[], &piv, &[])), "8501810a40410040");
    let n = temp.sender_nonce(&piv).unwrap();
    assert_eq!(encode(&n), "cad94a4cdb9a2f7bff84e932f7");
    let req_pt = h("02bb2e77656c6c2d6b6e6f776e056b75646f73");
    let ct = temp.sender_aead().seal(&n, &temp.aad(&[], &piv), &req_pt).unwrap();
    assert_eq!(encode(&ct), "eba8aa1783f5a7ae1e4130301bc3bfb80899bae3e7715af783dc40");
    let mut p = Packet::from_bytes(&h(REQ_MSG)).unwrap();
    assert_eq!(p.get_first_option(CoapOption::Oscore).unwrap(), &opt.emit());
    assert_eq!(p.payload, ct);
    p.clear_option(CoapOption::Oscore);
    p.add_option(CoapOption::Oscore, opt.emit());
    p.payload = ct.clone();
    assert_eq!(encode(&p.to_bytes().unwrap()), REQ_MSG);

    // --- server / analyzer: CTX_TEMP from the wire option.
    let server_old = old.reversed();
    let wire = Packet::from_bytes(&h(REQ_MSG)).unwrap();
    let parsed = OscoreOption::parse(wire.get_first_option(CoapOption::Oscore).unwrap());
    assert!(parsed.problems.is_empty());
    let ko = parsed.option.kudos().unwrap();
    assert!(!ko.convergent());
    let x1n1 = kudos::input_from_option(&parsed.option).unwrap();
    let s_temp =
        DerivedContext::derive(kudos::update_ctx(&x1n1, &[], &server_old, LabelEncoding::Draft).unwrap())
            .unwrap();
    let kid = parsed.option.kid_value().unwrap();
    let rpiv = parsed.option.piv_value().unwrap();
    let pt = s_temp
        .recipient_aead()
        .open(&s_temp.recipient_nonce(rpiv).unwrap(), &s_temp.aad(kid, rpiv), &wire.payload)
        .unwrap();
    assert_eq!(pt, req_pt);
    // The old context does not open it.
    let s_old = DerivedContext::derive(server_old.clone()).unwrap();
    assert_eq!(
        s_old.recipient_aead().open(
            &s_old.recipient_nonce(rpiv).unwrap(),
            &s_old.aad(kid, rpiv),
            &wire.payload
        ),
        Err(AeadError::Authentication)
    );
    // The no-prefix variant does not either (the analyzer tries it as a fallback).
    let s_temp_np = DerivedContext::derive(
        kudos::update_ctx(&x1n1, &[], &server_old, LabelEncoding::NoLengthPrefixes).unwrap(),
    )
    .unwrap();
    assert!(
        s_temp_np
            .recipient_aead()
            .open(&s_temp_np.recipient_nonce(rpiv).unwrap(), &s_temp_np.aad(kid, rpiv), &wire.payload)
            .is_err()
    );

    // --- server protects Response #1 with CTX_NEW (own PIV 0, AAD = request kid/PIV).
    let x2n2 = kudos::input(0x47, &h(N2));
    let s_new =
        DerivedContext::derive(kudos::update_ctx(&x2n2, &x1n1, &server_old, LabelEncoding::Draft).unwrap())
            .unwrap();
    let ropt = OscoreOption::build(&h("00"), None, Some((0x47, &h(N2))), None).unwrap();
    assert_eq!(encode(&ropt.emit()), "8101004725a8991cd700ac01");
    let rn = s_new.sender_nonce(&h("00")).unwrap();
    assert_eq!(encode(&rn), "059bdfeb06c0a2b8e0177aa254");
    let rct = s_new.sender_aead().seal(&rn, &s_new.aad(kid, rpiv), &h("44")).unwrap();
    assert_eq!(encode(&rct), "2c20888857a8dcacbd");
    let mut p = Packet::from_bytes(&h(RESP_MSG)).unwrap();
    assert_eq!(p.get_first_option(CoapOption::Oscore).unwrap(), &ropt.emit());
    assert_eq!(p.payload, rct);
    p.clear_option(CoapOption::Oscore);
    p.add_option(CoapOption::Oscore, ropt.emit());
    p.payload = rct.clone();
    assert_eq!(encode(&p.to_bytes().unwrap()), RESP_MSG);

    // --- client unprotects Response #1: CTX_NEW from its own pair and the response's.
    let wire = Packet::from_bytes(&h(RESP_MSG)).unwrap();
    let o = OscoreOption::parse(wire.get_first_option(CoapOption::Oscore).unwrap()).option;
    assert!(o.kudos().unwrap().convergent());
    let c_new = DerivedContext::derive(
        kudos::update_ctx(&in1, &kudos::input_from_option(&o).unwrap(), &old, LabelEncoding::Draft).unwrap(),
    )
    .unwrap();
    let pt = c_new
        .recipient_aead()
        .open(&c_new.recipient_nonce(o.piv_value().unwrap()).unwrap(), &c_new.aad(&[], &piv), &wire.payload)
        .unwrap();
    assert_eq!(encode(&pt), "44");
}

fn ctx_a_client() -> ContextParams {
    ContextParams {
        master_secret: Secret::new(h("0102030405060708090a0b0c0d0e0f10")),
        master_salt: vec![],
        id_context: None,
        sender_id: h("01"),
        recipient_id: h("00"),
        aead: AeadAlg::AesCcm16_64_128,
        hkdf: HkdfAlg::Sha256,
    }
}

/// PROTOCOLS.md §4.3: CTX_A (= RFC C.2 server keys) and CTX_B after the ID update.
#[test]
fn section_4_3_id_update_contexts() {
    let a = DerivedContext::derive(ctx_a_client()).unwrap();
    assert_eq!(encode(a.sender_key().expose()), "e57b5635815177cd679ab4bcec9d7dda");
    assert_eq!(encode(a.recipient_key().expose()), "321b26943253c7ffb6003b0b64d74041");
    assert_eq!(encode(a.common_iv()), "be35ae297d2dace910c52e99f9");
    let b_params = ContextParams { sender_id: h("78"), recipient_id: h("42"), ..ctx_a_client() };
    assert_eq!(encode(&ContextInfos::for_params(&b_params).sender_key), "854178f60a634b657910");
    let b = DerivedContext::derive(b_params).unwrap();
    assert_eq!(encode(b.sender_key().expose()), "61c116e684efdac69b6f44fdde77ac01");
    assert_eq!(encode(b.recipient_key().expose()), "12a90049a301401bf7c968ae29fd8deb");
    assert_eq!(b.common_iv(), a.common_iv());
}

/// PROTOCOLS.md §4.3: Req#1 (CTX_A, PIV 05, Recipient-ID 42) and Resp#1 (no PIV).
#[test]
fn section_4_3_id_update_messages() {
    let a = DerivedContext::derive(ctx_a_client()).unwrap();
    let piv = h("05");
    let opt = OscoreOption::build(&piv, None, None, Some(&h("01"))).unwrap();
    assert_eq!(encode(&opt.emit()), "090501");
    assert_eq!(encode(&aad_array(AeadAlg::AesCcm16_64_128, &h("01"), &piv, &[])), "8501810a4101410540");
    let n = a.sender_nonce(&piv).unwrap();
    assert_eq!(encode(&n), "bf35ae297d2dace810c52e99fc");
    let aad = a.aad(&h("01"), &piv);
    let req_ct = a.sender_aead().seal(&n, &aad, &h("01b474656d70d10042")).unwrap();
    let req_msg = "4402a0b1cafe000193090501ffdcef8c2cdbd85d87989784307227d87adf";
    let p = Packet::from_bytes(&h(req_msg)).unwrap();
    assert_eq!(p.get_first_option(CoapOption::Oscore).unwrap(), &opt.emit());
    assert_eq!(p.payload, req_ct);

    // Server (CTX_A reversed) unprotects; answers without PIV under the request nonce.
    let s = DerivedContext::derive(ctx_a_client().reversed()).unwrap();
    assert_eq!(encode(&s.recipient_aead().open(&n, &aad, &p.payload).unwrap()), "01b474656d70d10042");
    let resp_ct = s.sender_aead().seal(&n, &aad, &h("45d10b788142ff32312e35")).unwrap();
    let resp_msg = "6444a0b1cafe000190ff4003f897d4548e3b153f806144c975a1e5dc4d";
    let p = Packet::from_bytes(&h(resp_msg)).unwrap();
    assert_eq!(p.get_first_option(CoapOption::Oscore).unwrap(), &Vec::<u8>::new());
    assert_eq!(p.payload, resp_ct);
    assert_eq!(encode(&a.recipient_aead().open(&n, &aad, &p.payload).unwrap()), "45d10b788142ff32312e35");
}
