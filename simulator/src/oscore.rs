//! OSCORE message protection (RFC 8613 §4, §5, §6, §8.1, §8.3) as the simulated peers do it.
//!
//! Only the cryptographic primitives come from analyzer-core (context derivation, nonce, AAD,
//! AEAD seal, the OSCORE option encoder; all anchored by RFC 8613 Appendix C vectors there).
//! Everything a *peer* decides is written here, independently of analyzer-core's decryption
//! engine:
//!
//! * which options go inside the ciphertext (class E) and which stay outside (class U), with
//!   Observe in both (RFC 8613 §4.1, Figure 5);
//! * the outer code: POST / 2.04 Changed, or FETCH / 2.05 Content when Observe is present
//!   (§4.2);
//! * the plaintext `code || inner options || 0xFF payload` (§5.3);
//! * Sender Sequence Numbers per sender and context, the Partial IV as their minimal encoding
//!   (§6.1); requests always carry a Partial IV and the kid (plus the kid context when the
//!   context is configured to send it); responses carry nothing and reuse the request nonce,
//!   unless they use their own Partial IV (Observe notifications, the B.1.2 Echo challenge);
//! * the AAD of responses built from the request's kid and Partial IV (§5.4).

use crate::coap::{CoapMsg, MsgType, code, opt};
use analyzer_core::oscore::context::{DerivedContext, aad, nonce, piv_from_ssn};
use analyzer_core::oscore::option::OscoreOption;
use analyzer_core::oscore::{AeadAlg, ContextParams, HkdfAlg, Secret};

/// The OSCORE option number (RFC 8613 §2).
pub const OPT_OSCORE: u16 = 9;
/// Echo (RFC 9175 §2.2), class E.
pub const OPT_ECHO: u16 = 252;

/// Options that are only ever outer (class U, RFC 8613 §4.1 Figure 5 and §4.1.3): Uri-Host,
/// Uri-Port, Proxy-Uri, Proxy-Scheme, Hop-Limit (RFC 8768 §3) and OSCORE itself. Observe is
/// both inner and outer and handled apart; every other option, known or not, is class E.
pub fn is_class_u_only(number: u16) -> bool {
    matches!(number, opt::URI_HOST | opt::URI_PORT | 16 | 35 | 39 | OPT_OSCORE)
}

/// The two ends of a context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Client,
    Server,
}

/// Key-usage limits written to the keys file (draft-ietf-core-oscore-key-limits; `l` in
/// cipher blocks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    pub q: Option<u64>,
    pub v: Option<u64>,
    pub l: Option<u64>,
}

/// What a context is made of, as the keys file states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtxDef {
    pub name: String,
    pub master_secret: Vec<u8>,
    pub master_salt: Vec<u8>,
    /// `None` = no ID Context; `Some(vec![])` = present and empty.
    pub id_context: Option<Vec<u8>>,
    pub alg: AeadAlg,
    pub hkdf: HkdfAlg,
    pub client_id: Vec<u8>,
    pub server_id: Vec<u8>,
    /// The client puts the ID Context in its requests as `kid context`.
    pub send_kid_context: bool,
    /// Endpoint hints for the keys file (`192.0.2.1`, `192.0.2.1:5683`).
    pub client_endpoints: Vec<String>,
    pub server_endpoints: Vec<String>,
    pub limits: Option<Limits>,
    /// One line for the keys file (`# ...`).
    pub comment: String,
    /// A KUDOS bootstrap context (`role = "kudos-bootstrap"`) for the named initial context.
    pub bootstrap_for: Option<String>,
}

impl CtxDef {
    /// A context with AES-CCM-16-64-128, HKDF-SHA-256, no ID Context, no hints, no limits.
    pub fn new(
        name: &str,
        master_secret: Vec<u8>,
        master_salt: Vec<u8>,
        client_id: &[u8],
        server_id: &[u8],
    ) -> Self {
        CtxDef {
            name: name.to_string(),
            master_secret,
            master_salt,
            id_context: None,
            alg: AeadAlg::AesCcm16_64_128,
            hkdf: HkdfAlg::Sha256,
            client_id: client_id.to_vec(),
            server_id: server_id.to_vec(),
            send_kid_context: false,
            client_endpoints: Vec::new(),
            server_endpoints: Vec::new(),
            limits: None,
            comment: String::new(),
            bootstrap_for: None,
        }
    }

    /// RFC 8613 §3.2 inputs from `role`'s point of view.
    pub fn params(&self, role: Role) -> ContextParams {
        let (sender_id, recipient_id) = match role {
            Role::Client => (self.client_id.clone(), self.server_id.clone()),
            Role::Server => (self.server_id.clone(), self.client_id.clone()),
        };
        ContextParams {
            master_secret: Secret::new(self.master_secret.clone()),
            master_salt: self.master_salt.clone(),
            id_context: self.id_context.clone(),
            sender_id,
            recipient_id,
            aead: self.alg,
            hkdf: self.hkdf,
        }
    }

    pub fn sender_id(&self, role: Role) -> &[u8] {
        match role {
            Role::Client => &self.client_id,
            Role::Server => &self.server_id,
        }
    }
}

/// What a client remembers of a protected request for its responses (RFC 8613 §8.3, §8.4):
/// the AAD inputs and the nonce a response without Partial IV reuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestState {
    pub kid: Vec<u8>,
    pub piv: Vec<u8>,
    pub nonce: Vec<u8>,
}

/// One protected message with everything needed to check it independently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protected {
    /// The outer message as it goes on the wire.
    pub msg: CoapMsg,
    /// Code || inner options || 0xFF payload (RFC 8613 §5.3).
    pub plaintext: Vec<u8>,
    pub sender: Role,
    /// Nonce inputs: the ID of the endpoint that generated the Partial IV, and that PIV.
    pub nonce_id: Vec<u8>,
    pub nonce_piv: Vec<u8>,
    pub nonce: Vec<u8>,
    /// AAD inputs (the request's kid and Partial IV).
    pub request_kid: Vec<u8>,
    pub request_piv: Vec<u8>,
    /// For requests: what their responses need.
    pub request: Option<RequestState>,
}

/// A security context in use by both of its peers, with their Sender Sequence Numbers.
#[derive(Debug, Clone)]
pub struct SecCtx {
    pub def: CtxDef,
    client: DerivedContext,
    server: DerivedContext,
    /// Next SSN of each sender (RFC 8613 §3.1: starts at 0).
    pub client_ssn: u64,
    pub server_ssn: u64,
}

/// CoAP options as (number, value).
pub type Options = Vec<(u16, Vec<u8>)>;

/// The unprotected message split into what goes in the plaintext and what stays outside.
pub fn split(plain: &CoapMsg, is_request: bool) -> (Options, Options) {
    let mut inner = Vec::new();
    let mut outer = Vec::new();
    for (n, v) in &plain.options {
        if *n == opt::OBSERVE {
            // RFC 8613 §4.1.3.5: the request's inner and outer Observe are the same; in
            // responses the outer Observe carries the sequence number and the inner one is
            // left empty (what aiocoap and libcoap send).
            outer.push((*n, v.clone()));
            inner.push((*n, if is_request { v.clone() } else { Vec::new() }));
        } else if is_class_u_only(*n) {
            outer.push((*n, v.clone()));
        } else {
            inner.push((*n, v.clone()));
        }
    }
    (inner, outer)
}

/// The OSCORE plaintext: code, the class E options delta-encoded from 0, payload marker and
/// payload (RFC 8613 §5.3). Encoded with coap-lite as a token-less message whose 4-byte header
/// is then replaced by the code byte.
pub fn plaintext(code: u8, inner: &[(u16, Vec<u8>)], payload: &[u8]) -> Vec<u8> {
    let m = CoapMsg {
        ty: MsgType::Con,
        code,
        mid: 0,
        token: Vec::new(),
        options: inner.to_vec(),
        payload: payload.to_vec(),
    };
    let bytes = m.encode();
    let mut out = Vec::with_capacity(bytes.len() - 3);
    out.push(code);
    out.extend_from_slice(&bytes[4..]);
    out
}

/// Outer code for a protected message (RFC 8613 §4.2).
pub fn outer_code(is_request: bool, observe: bool) -> u8 {
    match (is_request, observe) {
        (true, false) => code::POST,
        (true, true) => code::FETCH,
        (false, false) => code::CHANGED,
        (false, true) => code::CONTENT,
    }
}

impl SecCtx {
    pub fn new(def: CtxDef) -> Self {
        let client = DerivedContext::derive(def.params(Role::Client))
            .unwrap_or_else(|e| panic!("context {}: cannot derive: {e}", def.name));
        let server = client.reversed();
        SecCtx { def, client, server, client_ssn: 0, server_ssn: 0 }
    }

    fn view(&self, role: Role) -> &DerivedContext {
        match role {
            Role::Client => &self.client,
            Role::Server => &self.server,
        }
    }

    pub fn common_iv(&self) -> &[u8] {
        self.client.common_iv()
    }

    fn next_ssn(&mut self, role: Role) -> u64 {
        let c = match role {
            Role::Client => &mut self.client_ssn,
            Role::Server => &mut self.server_ssn,
        };
        let s = *c;
        *c += 1;
        s
    }

    /// Protects a request with the client's next SSN.
    pub fn protect_request(&mut self, plain: &CoapMsg) -> Protected {
        let ssn = self.next_ssn(Role::Client);
        self.protect_request_at(plain, ssn)
    }

    /// Protects a request with SSN `ssn` (a rebooted client that lost its counter uses an
    /// old one); the client's counter continues after it.
    pub fn protect_request_with_ssn(&mut self, plain: &CoapMsg, ssn: u64) -> Protected {
        self.client_ssn = ssn + 1;
        self.protect_request_at(plain, ssn)
    }

    fn protect_request_at(&self, plain: &CoapMsg, ssn: u64) -> Protected {
        assert!(plain.code != 0 && plain.code < 0x20, "not a request: {plain:?}");
        let piv = piv_from_ssn(ssn).expect("SSN below 2^40");
        let kid = self.def.client_id.clone();
        let kid_context = if self.def.send_kid_context { self.def.id_context.clone() } else { None };
        let option = OscoreOption::build(&piv, kid_context.as_deref(), None, Some(&kid))
            .expect("valid OSCORE option fields")
            .emit();
        let n = nonce(&kid, &piv, self.common_iv()).expect("IDs fit the nonce").to_vec();
        let mut p = seal(self.view(Role::Client), Role::Client, plain, true, option, n, &kid, &piv);
        p.nonce_id = kid.clone();
        p.nonce_piv = piv.clone();
        p.request = Some(RequestState { kid, piv, nonce: p.nonce.clone() });
        p
    }

    /// Protects a response to `req`. `own_piv`: with the server's next SSN as Partial IV
    /// (notifications, B.1.2), else without Partial IV, reusing the request nonce (§5.2).
    pub fn protect_response(&mut self, plain: &CoapMsg, req: &RequestState, own_piv: bool) -> Protected {
        assert!(plain.code >= 0x40, "not a response: {plain:?}");
        let (option, n, nonce_id, nonce_piv) = if own_piv {
            let ssn = self.next_ssn(Role::Server);
            let piv = piv_from_ssn(ssn).expect("SSN below 2^40");
            let n = nonce(&self.def.server_id, &piv, self.common_iv()).expect("IDs fit the nonce").to_vec();
            let o = OscoreOption::build(&piv, None, None, None).expect("valid option").emit();
            (o, n, self.def.server_id.clone(), piv)
        } else {
            (Vec::new(), req.nonce.clone(), req.kid.clone(), req.piv.clone())
        };
        let mut p = seal(self.view(Role::Server), Role::Server, plain, false, option, n, &req.kid, &req.piv);
        p.nonce_id = nonce_id;
        p.nonce_piv = nonce_piv;
        p
    }
}

/// Splits, encrypts under `ctx` (the sender's view) and builds the outer message (RFC 8613 §4,
/// §5).
#[allow(clippy::too_many_arguments)]
pub fn seal(
    ctx: &DerivedContext,
    sender: Role,
    plain: &CoapMsg,
    is_request: bool,
    option: Vec<u8>,
    n: Vec<u8>,
    request_kid: &[u8],
    request_piv: &[u8],
) -> Protected {
    let (inner, outer) = split(plain, is_request);
    let observe = outer.iter().any(|(num, _)| *num == opt::OBSERVE);
    let pt = plaintext(plain.code, &inner, &plain.payload);
    let a = aad(ctx.alg(), request_kid, request_piv);
    let ct = ctx.sender_aead().seal(&n, &a, &pt).expect("AEAD seal");
    let mut msg = CoapMsg::new(plain.ty, outer_code(is_request, observe), plain.mid, &plain.token);
    msg.options = outer;
    msg.options.push((OPT_OSCORE, option));
    msg.payload = ct;
    Protected {
        msg,
        plaintext: pt,
        sender,
        nonce_id: Vec::new(),
        nonce_piv: Vec::new(),
        nonce: n,
        request_kid: request_kid.to_vec(),
        request_piv: request_piv.to_vec(),
        request: None,
    }
}

// ---- keys file (docs/keys-format.md) -----------------------------------------------------

pub fn hex(b: &[u8]) -> String {
    crate::scenario::hex(b)
}

/// The AEAD as the keys file names it (COSE name).
pub fn aead_name(alg: AeadAlg) -> &'static str {
    alg.name()
}

pub fn hkdf_name(h: HkdfAlg) -> &'static str {
    match h {
        HkdfAlg::Sha256 => "HKDF-SHA-256",
        HkdfAlg::Sha384 => "HKDF-SHA-384",
        HkdfAlg::Sha512 => "HKDF-SHA-512",
    }
}

fn endpoints(e: &[String]) -> String {
    if e.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = e.iter().map(|s| format!("\"{s}\"")).collect();
        format!(", endpoints = [{}]", list.join(", "))
    }
}

/// kudoscope's TOML keys format for `defs`, in order.
pub fn keys_toml(header: &str, defs: &[CtxDef]) -> String {
    let mut s = String::new();
    for line in header.lines() {
        s.push_str(&format!("# {line}\n"));
    }
    s.push_str("version = 1\n");
    for d in defs {
        s.push('\n');
        for line in d.comment.lines() {
            s.push_str(&format!("# {line}\n"));
        }
        s.push_str("[[context]]\n");
        s.push_str(&format!("name = \"{}\"\n", d.name));
        if let Some(b) = &d.bootstrap_for {
            s.push_str("role = \"kudos-bootstrap\"\n");
            s.push_str(&format!("bootstrap_for = \"{b}\"\n"));
        }
        s.push_str(&format!("master_secret = \"{}\"\n", hex(&d.master_secret)));
        if !d.master_salt.is_empty() {
            s.push_str(&format!("master_salt = \"{}\"\n", hex(&d.master_salt)));
        }
        if let Some(ic) = &d.id_context {
            s.push_str(&format!("id_context = \"{}\"\n", hex(ic)));
        }
        s.push_str(&format!("aead = \"{}\"\n", aead_name(d.alg)));
        s.push_str(&format!("hkdf = \"{}\"\n", hkdf_name(d.hkdf)));
        s.push_str(&format!(
            "client = {{ sender_id = \"{}\"{} }}\n",
            hex(&d.client_id),
            endpoints(&d.client_endpoints)
        ));
        s.push_str(&format!(
            "server = {{ sender_id = \"{}\"{} }}\n",
            hex(&d.server_id),
            endpoints(&d.server_endpoints)
        ));
        if let Some(l) = d.limits {
            let mut parts = Vec::new();
            for (k, v) in [("q", l.q), ("v", l.v), ("l", l.l)] {
                if let Some(v) = v {
                    parts.push(format!("{k} = {v}"));
                }
            }
            s.push_str(&format!("limits = {{ {} }}\n", parts.join(", ")));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coap::{CoapMsg, MsgType::*};

    fn h(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// RFC 8613 C.1.1 (client h'', server 01, salt, no ID Context).
    fn c1() -> SecCtx {
        SecCtx::new(CtxDef::new(
            "c1",
            h("0102030405060708090a0b0c0d0e0f10"),
            h("9e7ca92223786340"),
            &[],
            &[1],
        ))
    }

    /// RFC 8613 C.4: request with the C.1 context at SSN 20.
    fn c4(ctx: &mut SecCtx) -> Protected {
        let plain = CoapMsg::new(Con, code::GET, 0x5d1f, &h("00003974"))
            .opt(opt::URI_HOST, &b"localhost"[..])
            .path("/tv1");
        assert_eq!(hex(&plain.encode()), "44015d1f00003974396c6f63616c686f737483747631");
        ctx.protect_request_with_ssn(&plain, 20)
    }

    #[test]
    fn rfc8613_c4_request() {
        let mut ctx = c1();
        let p = c4(&mut ctx);
        assert_eq!(hex(&p.plaintext), "01b3747631");
        assert_eq!(hex(&p.nonce), "4622d4dd6d944168eefb549868");
        assert_eq!(
            hex(&p.msg.encode()),
            "44025d1f00003974396c6f63616c686f7374620914ff612f1092f1776f1c1668b3825e"
        );
        assert_eq!(ctx.client_ssn, 21);
    }

    #[test]
    fn rfc8613_c5_request_with_kid() {
        // C.2 context: client 00, server 01, no salt.
        let mut ctx =
            SecCtx::new(CtxDef::new("c2", h("0102030405060708090a0b0c0d0e0f10"), Vec::new(), &[0], &[1]));
        let plain = CoapMsg::new(Con, code::GET, 0x71c3, &h("0000b932"))
            .opt(opt::URI_HOST, &b"localhost"[..])
            .path("/tv1");
        let p = ctx.protect_request_with_ssn(&plain, 20);
        assert_eq!(hex(&p.nonce), "bf35ae297d2dace910c52e99ed");
        assert_eq!(
            hex(&p.msg.encode()),
            "440271c30000b932396c6f63616c686f737463091400ff4ed339a5a379b0b8bc731fffb0"
        );
    }

    #[test]
    fn rfc8613_c6_request_with_kid_context() {
        let mut d =
            CtxDef::new("c3", h("0102030405060708090a0b0c0d0e0f10"), h("9e7ca92223786340"), &[], &[1]);
        d.id_context = Some(h("37cbf3210017a2d3"));
        d.send_kid_context = true;
        let mut ctx = SecCtx::new(d);
        let plain = CoapMsg::new(Con, code::GET, 0x2f8e, &h("ef9bbf7a"))
            .opt(opt::URI_HOST, &b"localhost"[..])
            .path("/tv1");
        let p = ctx.protect_request_with_ssn(&plain, 20);
        assert_eq!(
            hex(&p.msg.encode()),
            "44022f8eef9bbf7a396c6f63616c686f73746b19140837cbf3210017a2d3ff72cd7273fd331ac45cffbe55c3"
        );
    }

    #[test]
    fn rfc8613_c7_c8_responses() {
        let mut ctx = c1();
        let req = c4(&mut ctx).request.unwrap();
        let plain = CoapMsg::new(Ack, code::CONTENT, 0x5d1f, &h("00003974")).payload(&b"Hello World!"[..]);
        assert_eq!(hex(&plain.encode()), "64455d1f00003974ff48656c6c6f20576f726c6421");
        // C.7: no Partial IV, the request nonce.
        let p = ctx.protect_response(&plain, &req, false);
        assert_eq!(hex(&p.plaintext), "45ff48656c6c6f20576f726c6421");
        assert_eq!(hex(&p.nonce), "4622d4dd6d944168eefb549868");
        assert_eq!(hex(&p.msg.encode()), "64445d1f0000397490ffdbaad1e9a7e7b2a813d3c31524378303cdafae119106");
        assert_eq!(ctx.server_ssn, 0);
        // C.8: the server's own Partial IV 0.
        let p = ctx.protect_response(&plain, &req, true);
        assert_eq!(hex(&p.nonce), "4722d4dd6d944169eefb54987c");
        assert_eq!(
            hex(&p.msg.encode()),
            "64445d1f00003974920100ff4d4c13669384b67354b2b6175ff4b8658c666a6cf88e"
        );
        assert_eq!(ctx.server_ssn, 1);
    }

    #[test]
    fn observe_is_inner_and_outer_and_changes_the_outer_code() {
        let mut ctx = c1();
        let plain = CoapMsg::new(Con, code::GET, 1, &[7]).opt_uint(opt::OBSERVE, 0).path("/door");
        let p = ctx.protect_request(&plain);
        assert_eq!(p.msg.code, code::FETCH);
        // Outer: Observe (empty = 0), OSCORE 09 00 (PIV 0, kid h'').
        assert_eq!(p.msg.options, vec![(opt::OBSERVE, vec![]), (OPT_OSCORE, vec![0x09, 0x00])]);
        // Plaintext: GET, Observe (delta 6, empty), Uri-Path (delta 5) "door".
        assert_eq!(hex(&p.plaintext), "016054646f6f72");
        let req = p.request.unwrap();
        let n = CoapMsg::new(Non, code::CONTENT, 9, &[7]).opt_uint(opt::OBSERVE, 5).payload(&b"open"[..]);
        let r = ctx.protect_response(&n, &req, true);
        assert_eq!(r.msg.code, code::CONTENT);
        assert_eq!(r.msg.options, vec![(opt::OBSERVE, vec![5]), (OPT_OSCORE, vec![0x01, 0x00])]);
        // Inner Observe empty in the notification.
        assert_eq!(hex(&r.plaintext), "4560ff6f70656e");
    }

    #[test]
    fn class_u_options_stay_outside() {
        let plain = CoapMsg::new(Con, code::PUT, 1, &[])
            .opt(opt::URI_HOST, &b"h"[..])
            .opt_uint(opt::URI_PORT, 5683)
            .path("/a")
            .opt_uint(opt::CONTENT_FORMAT, 0)
            .opt(OPT_ECHO, vec![1, 2]);
        let (inner, outer) = split(&plain, true);
        assert_eq!(outer.iter().map(|o| o.0).collect::<Vec<_>>(), [opt::URI_HOST, opt::URI_PORT]);
        assert_eq!(
            inner.iter().map(|o| o.0).collect::<Vec<_>>(),
            [opt::URI_PATH, opt::CONTENT_FORMAT, OPT_ECHO]
        );
    }

    #[test]
    fn keys_toml_shape() {
        let mut d = CtxDef::new("x", vec![1; 16], vec![], &[], &[1]);
        d.id_context = Some(vec![]);
        d.client_endpoints = vec!["192.0.2.1".into()];
        d.limits = Some(Limits { q: Some(8), v: None, l: Some(4) });
        let t = keys_toml("test", &[d]);
        assert!(t.starts_with("# test\nversion = 1\n"));
        assert!(t.contains("id_context = \"\"\n"));
        assert!(!t.contains("master_salt"));
        assert!(t.contains("client = { sender_id = \"\", endpoints = [\"192.0.2.1\"] }\n"));
        assert!(t.contains("server = { sender_id = \"01\" }\n"));
        assert!(t.contains("limits = { q = 8, l = 4 }\n"));
    }
}
