//! The OSCORE ID update sample captures (samples/idupdate/, issue 5 item 6;
//! draft-ietf-core-oscore-id-update-06, PROTOCOLS.md §4).
//!
//! Every capture follows the -06 example: client Sender ID 01, server Sender ID 00; the client
//! offers Recipient ID 42 (the server's new Sender ID), the server offers 78 (the client's new
//! Sender ID, hence the new kid). Recipient-ID (24) and Recipient-ID-Ack (32) are class E: they
//! travel inside the ciphertext. The peers count acknowledgements themselves
//! (simulator/src/kudos.rs): success needs at least 3 verified messages carrying the Ack
//! received and at least 2 sent. CTX_B keeps Master Secret, Salt, ID Context and Common IV, takes the new IDs,
//! restarts the SSN at 0 and gets a fresh replay window.
//!
//! Each capture has application exchanges before and after, so an on-path observer could try
//! to link the old and the new identities (kid, Partial IV, MID and token counters, addresses).

use crate::coap::{CoapMsg, MsgType, cf, code, opt};
use crate::kudos::{KUDOS_PATH, OPT_RECIPIENT_ID as RID, OPT_RECIPIENT_ID_ACK as ACK, Send};
use crate::kudos_samples::{C, Kx, S};
use crate::samples::{SampleFile, piggy, req};

use MsgType::{Con, Non};

/// One request/response pair of an ID update run: the request's and the response's inner
/// (option, one-byte value) pairs, and a note.
type Step<'a> = (&'a [(u16, u8)], &'a [(u16, u8)], &'a str);

const CLIENT_OFFER: u8 = 0x42;
const SERVER_OFFER: u8 = 0x78;
const HEADER: &str = "(kudoscope-sim test keys, not secret).";

fn text(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn setup(seed: u64, name: &str) -> Kx {
    Kx::pair(
        seed,
        name,
        &[0x01],
        &[0x00],
        "client 01, server 00 (the draft-ietf-core-oscore-id-update-06 example IDs)",
    )
}

/// A GET of `path` carrying `req_opts`, answered by 2.05 `body` carrying `resp_opts`.
fn get_with(
    k: &mut Kx,
    path: &str,
    req_opts: &[(u16, u8)],
    resp_opts: &[(u16, u8)],
    body: &str,
    what: &str,
) -> (u64, u64) {
    let mut r = req(&mut k.s, k.net[C], Con, code::GET, path);
    for (n, v) in req_opts {
        r = r.opt(*n, vec![*v]);
    }
    let mut a = piggy(&r, code::CONTENT).opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN).payload(text(body));
    for (n, v) in resp_opts {
        a = a.opt(*n, vec![*v]);
    }
    let f1 = k.request(C, &r, Send::Auto, what);
    k.s.jitter_us(500, 1500);
    let f2 = k.response(S, &a, Send::Auto, false, "");
    (f1, f2)
}

/// The -06 exchange: Req#1 {Recipient-ID 42}; Resp#1 {Recipient-ID 78, Ack 42};
/// Req#2..#4 {Ack 78}; Resp#2..#3 {Ack 42}; Resp#4 without Ack. The client succeeds after
/// Resp#3, the server after Req#4. Returns the frames of the 8 messages.
fn run_id_update(k: &mut Kx, gap_ms: u64) -> Vec<u64> {
    let mut frames = Vec::new();
    let steps: [Step<'_>; 4] = [
        (&[(RID, CLIENT_OFFER)], &[(RID, SERVER_OFFER), (ACK, CLIENT_OFFER)], "Req#1: Recipient-ID 42"),
        (&[(ACK, SERVER_OFFER)], &[(ACK, CLIENT_OFFER)], "Req#2: Recipient-ID-Ack 78"),
        (&[(ACK, SERVER_OFFER)], &[(ACK, CLIENT_OFFER)], "Req#3: Recipient-ID-Ack 78"),
        (&[(ACK, SERVER_OFFER)], &[], "Req#4: Recipient-ID-Ack 78"),
    ];
    for (i, (q, a, what)) in steps.into_iter().enumerate() {
        k.s.wait_ms(gap_ms);
        let (f1, f2) = get_with(k, "/sensors/temp", q, a, &format!("2{}.{} C", i, i + 3), what);
        frames.extend([f1, f2]);
        let (c, s) = (k.peers[C].idu.done, k.peers[S].idu.done);
        match i {
            0..=1 => assert!(!c && !s),
            2 => assert!(c && !s, "the client is done after Resp#3"),
            _ => assert!(c && s, "the server is done after Req#4"),
        }
    }
    frames
}

/// Every ID update sample, in a fixed order.
pub fn all() -> Vec<SampleFile> {
    vec![
        success(),
        failure_acks(),
        abort_too_long(),
        in_kudos(),
        careful(),
        early_ids(),
        old_kid(),
        ssn(),
        counters(),
    ]
}

fn success() -> SampleFile {
    let mut k = setup(0x1d00_0001, "sensor");
    k.app(3, 2_000);
    let f = run_id_update(&mut k, 5_000);
    k.id_update_proc("completed", C, f);
    // New IDs right away, on the same addresses.
    k.peers[C].switch_ids(false);
    k.app(3, 2_000);
    k.finish(
        "idupdate/idupdate-success.pcapng",
        "Stand-alone OSCORE ID update (draft -06 example): Recipient-ID 42 / 78 and their Acks in 8 messages under the old IDs, then the new IDs at once on the same addresses (kid 78, SSN from 0)",
        &format!("Keys of idupdate-success.pcapng {HEADER}"),
    )
}

fn failure_acks() -> SampleFile {
    let mut k = setup(0x1d00_0002, "sensor");
    k.app(3, 2_000);
    let mut frames = Vec::new();
    let steps: [Step<'_>; 4] = [
        (&[(RID, CLIENT_OFFER)], &[(RID, SERVER_OFFER), (ACK, CLIENT_OFFER)], "Req#1: Recipient-ID 42"),
        (&[(ACK, SERVER_OFFER)], &[], "Req#2: Ack 78; the server never acknowledges again"),
        (&[(ACK, SERVER_OFFER)], &[], "Req#3: Ack 78"),
        (
            &[(RID, CLIENT_OFFER), (ACK, SERVER_OFFER)],
            &[],
            "Req#4: Recipient-ID repeated (repeat counter), Ack 78",
        ),
    ];
    for (q, a, what) in steps {
        k.s.wait_ms(5_000);
        let (f1, f2) = get_with(&mut k, "/sensors/temp", q, a, "22.0 C", what);
        frames.extend([f1, f2]);
    }
    assert!(!k.peers[C].idu.done && !k.peers[S].idu.done, "too few Acks: nobody succeeds");
    assert_eq!((k.peers[C].idu.acks_received, k.peers[S].idu.acks_sent), (1, 1));
    // The ending counter expires: both keep the old IDs. kudoscope cannot see the peers'
    // counters; it declares the run failed after 4 messages without Recipient-ID or Ack
    // (IdUpdateConfig::quiet_messages): Resp#4 (14) and the next three (15-17).
    let last = *frames.last().expect("frames");
    frames.extend(last + 1..=last + 3);
    k.id_update_proc("failed", C, frames);
    k.app(3, 2_000);
    k.finish(
        "idupdate/idupdate-failure-acks.pcapng",
        "Failed OSCORE ID update: the server acknowledges only once (Resp#1), so neither peer reaches 3 received / 2 sent Acks; the ending counter expires and both keep the old IDs",
        &format!("Keys of idupdate-failure-acks.pcapng {HEADER}"),
    )
}

fn abort_too_long() -> SampleFile {
    let mut k = setup(0x1d00_0003, "sensor");
    k.app(3, 2_000);
    k.s.wait_ms(5_000);
    let r = req(&mut k.s, k.net[C], Con, code::GET, "/sensors/temp").opt(RID, (1..=8).collect::<Vec<u8>>());
    let f1 = k.request(C, &r, Send::Auto, "Req#1: Recipient-ID of 8 bytes (AES-CCM-16-64-128 allows 7)");
    assert!(k.peers[S].idu.aborted, "the server aborts");
    // The inner option is longer than any Recipient ID can be (nonce length - 6 = 7 bytes).
    k.exp(f1).findings.push("coap.option_value");
    k.s.jitter_us(500, 1500);
    let a = piggy(&r, 0xa3).opt_uint(opt::CONTENT_FORMAT, cf::TEXT_PLAIN).payload(text("ID update aborted"));
    let f2 = k.response(S, &a, Send::Auto, false, "protected 5.03 without Recipient-ID: abort");
    assert!(k.peers[C].idu.aborted);
    k.id_update_proc("aborted", C, vec![f1, f2]);
    k.app(3, 2_000);
    k.finish(
        "idupdate/idupdate-abort-too-long.pcapng",
        "Aborted OSCORE ID update: the client offers an 8-byte Recipient ID (longer than nonce length - 6 = 7), the server answers a protected 5.03 without Recipient-ID; the old IDs stay",
        &format!("Keys of idupdate-abort-too-long.pcapng {HEADER}"),
    )
}

fn in_kudos() -> SampleFile {
    let mut k = setup(0x1d00_0004, "sensor");
    k.app(3, 2_000);
    k.s.wait_ms(20_000);
    k.begin(C, true, "fs", false);
    let r = req(&mut k.s, k.net[C], Con, code::POST, KUDOS_PATH).opt(RID, vec![CLIENT_OFFER]);
    let f1 = k.request(
        C,
        &r,
        Send::Divergent { flags: 0, nonce: None },
        "divergent with Recipient-ID 42 (old IDs)",
    );
    k.s.jitter_us(800, 2500);
    let a = piggy(&r, code::CHANGED).opt(RID, vec![SERVER_OFFER]).opt(ACK, vec![CLIENT_OFFER]);
    let f2 =
        k.response(S, &a, Send::Convergent, false, "convergent with Recipient-ID 78 and Ack 42 (old IDs)");
    k.s.wait_ms(300);
    // From the next message on: CTX_NEW with the new IDs, SSN from 0.
    k.confirm_get("/sensors/temp", "21.0 C");
    k.id_update_proc("completed", C, vec![f1, f2]);
    k.app(3, 2_000);
    k.finish(
        "idupdate/idupdate-in-kudos.pcapng",
        "OSCORE ID update inside KUDOS: Recipient-ID in the divergent request, Recipient-ID + Ack in the convergent response (both with the old IDs); from the next message on CTX_NEW with the new IDs (kid 78), SSN from 0",
        &format!("Keys of idupdate-in-kudos.pcapng {HEADER}"),
    )
}

fn careful() -> SampleFile {
    let mut k = setup(0x1d00_0005, "tag");
    k.app(3, 2_000);
    let f = run_id_update(&mut k, 5_000);
    k.id_update_proc("completed", C, f);
    k.s.wait_ms(60_000);
    // The client moves (new address and port, fresh MID/token counters) and only then uses the
    // new IDs, with a fresh SSN.
    k.migrate(C, 51, false);
    k.peers[C].switch_ids(false);
    k.app(4, 2_000);
    k.finish(
        "idupdate/idupdate-migration-careful.pcapng",
        "Careful migration: the ID update completes under the old IDs on the old address; the client then moves to 192.0.2.51 (new port) and its first message there uses the new kid 78, SSN 0, fresh random MID and token counters",
        &format!("Keys of idupdate-migration-careful.pcapng {HEADER}"),
    )
}

fn early_ids() -> SampleFile {
    let mut k = setup(0x1d00_0006, "tag");
    k.app(3, 2_000);
    let f = run_id_update(&mut k, 5_000);
    k.id_update_proc("completed", C, f);
    k.peers[C].switch_ids(false);
    k.app(2, 2_000);
    k.s.wait_ms(60_000);
    k.migrate(C, 51, false);
    k.app(3, 2_000);
    k.finish(
        "idupdate/idupdate-careless-early-ids.pcapng",
        "Careless migration: the new kid 78 is used on the OLD address before the client moves (old and new identity linked by the 5-tuple)",
        &format!("Keys of idupdate-careless-early-ids.pcapng {HEADER}"),
    )
}

fn old_kid() -> SampleFile {
    let mut k = setup(0x1d00_0007, "tag");
    k.app(3, 2_000);
    let f = run_id_update(&mut k, 5_000);
    k.id_update_proc("completed", C, f);
    k.s.wait_ms(60_000);
    k.migrate(C, 51, false);
    k.app(2, 2_000);
    k.peers[C].switch_ids(false);
    k.app(3, 2_000);
    k.finish(
        "idupdate/idupdate-careless-old-kid.pcapng",
        "Careless migration: after moving to 192.0.2.51 the client still uses the old kid 01 (and its SSN) for two exchanges before switching to kid 78",
        &format!("Keys of idupdate-careless-old-kid.pcapng {HEADER}"),
    )
}

fn ssn() -> SampleFile {
    let mut k = setup(0x1d00_0008, "tag");
    k.app(3, 2_000);
    let f = run_id_update(&mut k, 5_000);
    k.id_update_proc("completed", C, f);
    k.s.wait_ms(60_000);
    k.migrate(C, 51, false);
    k.peers[C].switch_ids(true);
    k.app(4, 2_000);
    k.finish(
        "idupdate/idupdate-careless-ssn.pcapng",
        "Careless migration: new address and new kid 78, but the client's Partial IVs continue from the old context instead of restarting at 0",
        &format!("Keys of idupdate-careless-ssn.pcapng {HEADER}"),
    )
}

fn counters() -> SampleFile {
    let mut k = setup(0x1d00_0009, "tag");
    k.app(2, 2_000);
    k.s.wait_ms(2_000);
    let reg = req(&mut k.s, k.net[C], Con, code::GET, "/tag/position").opt_uint(opt::OBSERVE, 0);
    k.request(C, &reg, Send::Auto, "Observe registration (kid 01)");
    k.s.jitter_us(500, 1500);
    let a = piggy(&reg, code::CONTENT).opt_uint(opt::OBSERVE, 1).payload(text("hall"));
    k.response(S, &a, Send::Auto, false, "first notification");
    let mut obs = 2;
    let mut notify = |k: &mut Kx, body: &str, what: &str| {
        k.s.wait_ms(15_000);
        let mid = k.s.mid(k.net[S]);
        let n =
            CoapMsg::new(Non, code::CONTENT, mid, &reg.token).opt_uint(opt::OBSERVE, obs).payload(text(body));
        obs += 1;
        k.response(S, &n, Send::Auto, true, what)
    };
    notify(&mut k, "lab", "notification");
    let f = run_id_update(&mut k, 5_000);
    k.id_update_proc("completed", C, f);
    notify(&mut k, "office", "notification (old IDs)");
    k.s.wait_ms(30_000);
    // The client moves but keeps its MID and token counters; the observation goes on.
    k.migrate(C, 51, true);
    k.peers[C].switch_ids(false);
    k.app(2, 2_000);
    notify(
        &mut k,
        "lobby",
        "notification to the new address, same token, CTX_B, AAD of the original registration (kid 01)",
    );
    notify(&mut k, "exit", "notification under CTX_B");
    k.app(2, 2_000);
    k.finish(
        "idupdate/idupdate-careless-counters.pcapng",
        "Careless migration: after the ID update the client moves but its MID and token counters continue, and its Observe registration is preserved (same token; notifications under CTX_B keep the original registration's kid 01 and PIV in the AAD)",
        &format!("Keys of idupdate-careless-counters.pcapng {HEADER}"),
    )
}
