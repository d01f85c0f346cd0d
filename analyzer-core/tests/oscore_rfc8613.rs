//! RFC 8613 Appendix C test vectors C.1-C.8 (PROTOCOLS.md §2.13): info bytes, keys, Common IV,
//! nonces, AADs, ciphertexts, and the protected messages (OSCORE option + payload) checked
//! byte-exactly, with coap-lite as an independent CoAP parser/serialiser.

// Test code: helpers outside #[test] fns may unwrap and index too (clippy.toml covers only
// the test fns themselves).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use analyzer_core::hex::{decode, encode};
use analyzer_core::oscore::context::{ContextInfos, DerivedContext, aad, aad_array, nonce};
use analyzer_core::oscore::option::OscoreOption;
use analyzer_core::oscore::{AeadAlg, AeadError, ContextParams, HkdfAlg, Secret};
use coap_lite::{CoapOption, Packet};

fn h(s: &str) -> Vec<u8> {
    decode(s).unwrap()
}

fn params(salt: &str, id_context: Option<&str>, sid: &str, rid: &str) -> ContextParams {
    ContextParams {
        master_secret: Secret::new(h("0102030405060708090a0b0c0d0e0f10")),
        master_salt: h(salt),
        id_context: id_context.map(h),
        sender_id: h(sid),
        recipient_id: h(rid),
        aead: AeadAlg::AesCcm16_64_128,
        hkdf: HkdfAlg::Sha256,
    }
}

fn c1_client() -> ContextParams {
    params("9e7ca92223786340", None, "", "01")
}
fn c2_client() -> ContextParams {
    params("", None, "00", "01")
}
fn c3_client() -> ContextParams {
    params("9e7ca92223786340", Some("37cbf3210017a2d3"), "", "01")
}

struct Ctx {
    info_s: &'static str,
    info_r: &'static str,
    info_iv: &'static str,
    sk: &'static str,
    rk: &'static str,
    iv: &'static str,
    sender_nonce: &'static str,
    recipient_nonce: &'static str,
}

fn check_context(client: ContextParams, v: Ctx) {
    let infos = ContextInfos::for_params(&client);
    assert_eq!(encode(&infos.sender_key), v.info_s);
    assert_eq!(encode(&infos.recipient_key), v.info_r);
    assert_eq!(encode(&infos.common_iv), v.info_iv);
    let c = DerivedContext::derive(client.clone()).unwrap();
    assert_eq!(encode(c.sender_key().expose()), v.sk);
    assert_eq!(encode(c.recipient_key().expose()), v.rk);
    assert_eq!(encode(c.common_iv()), v.iv);
    // PIV 0
    assert_eq!(encode(&c.sender_nonce(&[0]).unwrap()), v.sender_nonce);
    assert_eq!(encode(&c.recipient_nonce(&[0]).unwrap()), v.recipient_nonce);
    // Server side: derived independently from the reversed parameters.
    let s = DerivedContext::derive(client.reversed()).unwrap();
    assert_eq!(encode(s.sender_key().expose()), v.rk);
    assert_eq!(encode(s.recipient_key().expose()), v.sk);
    assert_eq!(encode(s.common_iv()), v.iv);
    assert_eq!(encode(&s.sender_nonce(&[0]).unwrap()), v.recipient_nonce);
    assert_eq!(encode(&s.recipient_nonce(&[0]).unwrap()), v.sender_nonce);
    // Sender info of the server = recipient info of the client.
    assert_eq!(encode(&ContextInfos::for_params(&client.reversed()).sender_key), v.info_r);
}

/// RFC 8613 C.1.1 / C.1.2.
#[test]
fn c1_context() {
    check_context(
        c1_client(),
        Ctx {
            info_s: "8540f60a634b657910",
            info_r: "854101f60a634b657910",
            info_iv: "8540f60a6249560d",
            sk: "f0910ed7295e6ad4b54fc793154302ff",
            rk: "ffb14e093c94c9cac9471648b4f98710",
            iv: "4622d4dd6d944168eefb54987c",
            sender_nonce: "4622d4dd6d944168eefb54987c",
            recipient_nonce: "4722d4dd6d944169eefb54987c",
        },
    );
}

/// RFC 8613 C.2.1 / C.2.2 (no Master Salt).
#[test]
fn c2_context() {
    check_context(
        c2_client(),
        Ctx {
            info_s: "854100f60a634b657910",
            info_r: "854101f60a634b657910",
            info_iv: "8540f60a6249560d",
            sk: "321b26943253c7ffb6003b0b64d74041",
            rk: "e57b5635815177cd679ab4bcec9d7dda",
            iv: "be35ae297d2dace910c52e99f9",
            sender_nonce: "bf35ae297d2dace910c52e99f9",
            recipient_nonce: "bf35ae297d2dace810c52e99f9",
        },
    );
}

/// RFC 8613 C.3.1 / C.3.2 (ID Context).
#[test]
fn c3_context() {
    check_context(
        c3_client(),
        Ctx {
            info_s: "85404837cbf3210017a2d30a634b657910",
            info_r: "8541014837cbf3210017a2d30a634b657910",
            info_iv: "85404837cbf3210017a2d30a6249560d",
            sk: "af2a1300a5e95788b356336eeecd2b92",
            rk: "e39a0c7c77b43f03b4b39ab9a268699f",
            iv: "2ca58fb85ff1b81c0b7181b85e",
            sender_nonce: "2ca58fb85ff1b81c0b7181b85e",
            recipient_nonce: "2da58fb85ff1b81d0b7181b85e",
        },
    );
}

/// Checks that `protected` carries exactly `option` and `payload` (coap-lite parse), and that
/// putting our option and payload into the message re-serialises to the RFC bytes.
fn check_protected_message(protected: &str, option: &[u8], payload: &[u8]) {
    let wire = h(protected);
    let mut p = Packet::from_bytes(&wire).unwrap();
    assert_eq!(p.get_first_option(CoapOption::Oscore).unwrap(), option);
    assert_eq!(p.payload, payload);
    p.clear_option(CoapOption::Oscore);
    p.add_option(CoapOption::Oscore, option.to_vec());
    p.payload = payload.to_vec();
    assert_eq!(encode(&p.to_bytes().unwrap()), protected);
}

struct Request {
    piv: &'static str,
    kid: &'static str,
    kid_context: Option<&'static str>,
    aad_array: &'static str,
    aad: &'static str,
    plaintext: &'static str,
    nonce: &'static str,
    option: &'static str,
    ciphertext: &'static str,
    protected: &'static str,
}

/// Client protects the request; server unprotects it from the wire bytes.
fn check_request(client: ContextParams, r: Request) {
    let c = DerivedContext::derive(client.clone()).unwrap();
    let (piv, kid) = (h(r.piv), h(r.kid));
    assert_eq!(encode(&aad_array(AeadAlg::AesCcm16_64_128, &kid, &piv, &[])), r.aad_array);
    assert_eq!(encode(&c.aad(&kid, &piv)), r.aad);
    let n = c.sender_nonce(&piv).unwrap();
    assert_eq!(encode(&n), r.nonce);
    let opt = OscoreOption::build(&piv, r.kid_context.map(h).as_deref(), None, Some(&kid)).unwrap();
    assert_eq!(encode(&opt.emit()), r.option);
    let ct = c.sender_aead().seal(&n, &h(r.aad), &h(r.plaintext)).unwrap();
    assert_eq!(encode(&ct), r.ciphertext);
    check_protected_message(r.protected, &opt.emit(), &ct);

    // Server: parse the option from the wire, rebuild nonce and AAD from it, open.
    let s = DerivedContext::derive(client.reversed()).unwrap();
    let wire = Packet::from_bytes(&h(r.protected)).unwrap();
    let parsed = OscoreOption::parse(wire.get_first_option(CoapOption::Oscore).unwrap());
    assert!(parsed.problems.is_empty());
    let o = parsed.option;
    assert_eq!(o.kid_value().unwrap(), kid.as_slice());
    assert_eq!(o.piv_value().unwrap(), piv.as_slice());
    assert_eq!(o.kid_context_value().map(encode).as_deref(), r.kid_context);
    let n2 = s.recipient_nonce(o.piv_value().unwrap()).unwrap();
    assert_eq!(n2, n);
    let a2 = s.aad(o.kid_value().unwrap(), o.piv_value().unwrap());
    let pt = s.recipient_aead().open(&n2, &a2, &wire.payload).unwrap();
    assert_eq!(encode(&pt), r.plaintext);
}

/// RFC 8613 C.4: request, C.1 client, SSN 20.
#[test]
fn c4_request() {
    check_request(
        c1_client(),
        Request {
            piv: "14",
            kid: "",
            kid_context: None,
            aad_array: "8501810a40411440",
            aad: "8368456e63727970743040488501810a40411440",
            plaintext: "01b3747631",
            nonce: "4622d4dd6d944168eefb549868",
            option: "0914",
            ciphertext: "612f1092f1776f1c1668b3825e",
            protected: "44025d1f00003974396c6f63616c686f7374620914ff612f1092f1776f1c1668b3825e",
        },
    );
}

/// RFC 8613 C.5: request, C.2 client, SSN 20, kid 00.
#[test]
fn c5_request() {
    check_request(
        c2_client(),
        Request {
            piv: "14",
            kid: "00",
            kid_context: None,
            aad_array: "8501810a4100411440",
            aad: "8368456e63727970743040498501810a4100411440",
            plaintext: "01b3747631",
            nonce: "bf35ae297d2dace910c52e99ed",
            option: "091400",
            ciphertext: "4ed339a5a379b0b8bc731fffb0",
            protected: "440271c30000b932396c6f63616c686f737463091400ff4ed339a5a379b0b8bc731fffb0",
        },
    );
}

/// RFC 8613 C.6: request, C.3 client, SSN 20, kid context sent.
#[test]
fn c6_request() {
    check_request(
        c3_client(),
        Request {
            piv: "14",
            kid: "",
            kid_context: Some("37cbf3210017a2d3"),
            aad_array: "8501810a40411440",
            aad: "8368456e63727970743040488501810a40411440",
            plaintext: "01b3747631",
            nonce: "2ca58fb85ff1b81c0b7181b84a",
            option: "19140837cbf3210017a2d3",
            ciphertext: "72cd7273fd331ac45cffbe55c3",
            protected: "44022f8eef9bbf7a396c6f63616c686f73746b19140837cbf3210017a2d3ff72cd7273fd331ac45cffbe55c3",
        },
    );
}

/// RFC 8613 C.7: response to C.4 without PIV (request nonce reused).
#[test]
fn c7_response_without_piv() {
    let server = DerivedContext::derive(c1_client().reversed()).unwrap();
    assert_eq!(encode(server.sender_key().expose()), "ffb14e093c94c9cac9471648b4f98710");
    assert_eq!(server.params().sender_id, h("01"));
    let aad = aad(AeadAlg::AesCcm16_64_128, &[], &h("14"));
    assert_eq!(encode(&aad_array(AeadAlg::AesCcm16_64_128, &[], &h("14"), &[])), "8501810a40411440");
    // Nonce = the request's nonce (ID_PIV = client Sender ID h'', PIV 14).
    let n = server.recipient_nonce(&h("14")).unwrap();
    assert_eq!(encode(&n), "4622d4dd6d944168eefb549868");
    let opt = OscoreOption::build(&[], None, None, None).unwrap();
    assert!(opt.emit().is_empty());
    let ct = server.sender_aead().seal(&n, &aad, &h("45ff48656c6c6f20576f726c6421")).unwrap();
    assert_eq!(encode(&ct), "dbaad1e9a7e7b2a813d3c31524378303cdafae119106");
    check_protected_message("64445d1f0000397490ffdbaad1e9a7e7b2a813d3c31524378303cdafae119106", &[], &ct);
    let client = DerivedContext::derive(c1_client()).unwrap();
    let pt = client.recipient_aead().open(&n, &aad, &ct).unwrap();
    assert_eq!(encode(&pt), "45ff48656c6c6f20576f726c6421");
}

/// RFC 8613 C.8: response to C.4 with PIV 00 (server SSN 0).
#[test]
fn c8_response_with_piv() {
    let server = DerivedContext::derive(c1_client().reversed()).unwrap();
    let aad = aad(AeadAlg::AesCcm16_64_128, &[], &h("14"));
    let n = server.sender_nonce(&h("00")).unwrap();
    assert_eq!(encode(&n), "4722d4dd6d944169eefb54987c");
    let opt = OscoreOption::build(&h("00"), None, None, None).unwrap();
    assert_eq!(encode(&opt.emit()), "0100");
    let ct = server.sender_aead().seal(&n, &aad, &h("45ff48656c6c6f20576f726c6421")).unwrap();
    assert_eq!(encode(&ct), "4d4c13669384b67354b2b6175ff4b8658c666a6cf88e");
    check_protected_message(
        "64445d1f00003974920100ff4d4c13669384b67354b2b6175ff4b8658c666a6cf88e",
        &h("0100"),
        &ct,
    );
    // Client: nonce from the response's own PIV with ID_PIV = server Sender ID.
    let client = DerivedContext::derive(c1_client()).unwrap();
    let o = OscoreOption::parse(&h("0100")).option;
    let n2 = client.recipient_nonce(o.piv_value().unwrap()).unwrap();
    assert_eq!(n2, n);
    assert_eq!(
        encode(&client.recipient_aead().open(&n2, &aad, &ct).unwrap()),
        "45ff48656c6c6f20576f726c6421"
    );
    // The request nonce does NOT open it (a response with PIV uses its own nonce).
    let req_nonce = nonce(&[], &h("14"), client.common_iv()).unwrap();
    assert_eq!(client.recipient_aead().open(&req_nonce, &aad, &ct), Err(AeadError::Authentication));
}
