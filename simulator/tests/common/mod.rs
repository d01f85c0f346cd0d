//! Helpers shared by the simulator's integration tests: an independent OSCORE / KUDOS
//! crypto path (own HKDF info and CBOR, nonce, AAD, updateCtx, CoAP and OSCORE option
//! parsing; RustCrypto AEADs called directly) and the kudoscope binary.

#![allow(dead_code)]

use hmac::{Hmac, KeyInit as _, Mac};
use kudoscope_sim::kudos::Step;
use kudoscope_sim::oscore::CtxDef;
use kudoscope_sim::oscore_samples::OscoreInfo;
use kudoscope_sim::samples::{self, Expect, SampleFile};
use kudoscope_sim::scenario::Sent;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kudoscope-sim-oscore-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn oscore_samples() -> Vec<(SampleFile, OscoreInfo)> {
    samples::all().into_iter().filter_map(|f| f.oscore.clone().map(|o| (f, o))).collect()
}

pub fn log(f: &SampleFile) -> &[Sent] {
    match &f.expect {
        Expect::Valid { log, .. } => log,
        Expect::Corrupt { .. } => panic!("{} is not a valid capture", f.path),
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

// ---- 1. an independent OSCORE decryption path --------------------------------------------

/// CBOR head (RFC 8949 §3): major type and argument, shortest form.
pub fn cbor_head(out: &mut Vec<u8>, major: u8, v: u64) {
    let m = major << 5;
    match v {
        0..=23 => out.push(m | v as u8),
        24..=0xff => out.extend_from_slice(&[m | 24, v as u8]),
        _ => {
            out.push(m | 25);
            out.extend_from_slice(&(v as u16).to_be_bytes());
        }
    }
}

pub fn cbor_bstr(out: &mut Vec<u8>, b: &[u8]) {
    cbor_head(out, 2, b.len() as u64);
    out.extend_from_slice(b);
}

pub fn cbor_int(out: &mut Vec<u8>, v: i64) {
    if v >= 0 { cbor_head(out, 0, v as u64) } else { cbor_head(out, 1, (-1 - v) as u64) }
}

/// (COSE id, key length, nonce length, tag length) of every AEAD OSCORE can use (RFC 9053).
pub fn aead_params(cose: i64) -> (usize, usize, usize) {
    match cose {
        10 => (16, 13, 8),
        11 => (32, 13, 8),
        12 => (16, 7, 8),
        13 => (32, 7, 8),
        30 => (16, 13, 16),
        31 => (32, 13, 16),
        32 => (16, 7, 16),
        33 => (32, 7, 16),
        1 => (16, 12, 16),
        2 => (24, 12, 16),
        3 => (32, 12, 16),
        24 => (32, 12, 16),
        _ => panic!("unknown AEAD {cose}"),
    }
}

pub fn hmac(hash: &str, key: &[u8], data: &[&[u8]]) -> Vec<u8> {
    macro_rules! run {
        ($h:ty) => {{
            let mut m = Hmac::<$h>::new_from_slice(key).unwrap();
            for d in data {
                m.update(d);
            }
            m.finalize().into_bytes().to_vec()
        }};
    }
    match hash {
        "HKDF-SHA-256" => run!(sha2::Sha256),
        "HKDF-SHA-384" => run!(sha2::Sha384),
        "HKDF-SHA-512" => run!(sha2::Sha512),
        h => panic!("{h}"),
    }
}

/// RFC 8613 §3.2.1 with RFC 5869 written out: PRK = HMAC(salt, secret) (an empty salt is
/// HashLen zeros), OKM = first L bytes of HMAC(PRK, info || 0x01) (L <= HashLen here).
pub fn derive(d: &CtxDef, id: &[u8], iv: bool) -> Vec<u8> {
    let hash = kudoscope_sim::oscore::hkdf_name(d.hkdf);
    let cose = d.alg.cose_id();
    let (key_len, nonce_len, _) = aead_params(cose);
    let hash_len = match hash {
        "HKDF-SHA-256" => 32,
        "HKDF-SHA-384" => 48,
        _ => 64,
    };
    let salt = if d.master_salt.is_empty() { vec![0; hash_len] } else { d.master_salt.clone() };
    let prk = hmac(hash, &salt, &[&d.master_secret]);
    let l = if iv { nonce_len } else { key_len };
    let mut info = vec![0x85];
    cbor_bstr(&mut info, id);
    match &d.id_context {
        Some(c) => cbor_bstr(&mut info, c),
        None => info.push(0xf6),
    }
    cbor_int(&mut info, cose);
    let ty: &[u8] = if iv { b"IV" } else { b"Key" };
    cbor_head(&mut info, 3, ty.len() as u64);
    info.extend_from_slice(ty);
    cbor_head(&mut info, 0, l as u64);
    hmac(hash, &prk, &[&info, &[1]])[..l].to_vec()
}

/// RFC 8613 §5.2.
pub fn oscore_nonce(common_iv: &[u8], id_piv: &[u8], piv: &[u8]) -> Vec<u8> {
    let n = common_iv.len();
    let mut v = vec![0u8; n];
    v[0] = id_piv.len() as u8;
    v[n - 5 - id_piv.len()..n - 5].copy_from_slice(id_piv);
    v[n - piv.len()..].copy_from_slice(piv);
    v.iter().zip(common_iv).map(|(a, b)| a ^ b).collect()
}

/// RFC 8613 §5.4: Enc_structure ["Encrypt0", h'', bstr(aad_array)].
pub fn oscore_aad(cose: i64, kid: &[u8], piv: &[u8]) -> Vec<u8> {
    let mut arr = vec![0x85, 0x01, 0x81];
    cbor_int(&mut arr, cose);
    cbor_bstr(&mut arr, kid);
    cbor_bstr(&mut arr, piv);
    arr.push(0x40);
    let mut out = vec![0x83, 0x68];
    out.extend_from_slice(b"Encrypt0");
    out.push(0x40);
    cbor_bstr(&mut out, &arr);
    out
}

pub fn open_with<A: ccm::aead::KeyInit + ccm::aead::Aead>(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    ct: &[u8],
) -> Option<Vec<u8>> {
    use ccm::aead::array::Array;
    let a = A::new_from_slice(key).ok()?;
    let n = <&Array<u8, A::NonceSize>>::try_from(nonce).ok()?;
    a.decrypt(n, ccm::aead::Payload { msg: ct, aad }).ok()
}

pub fn aead_open(cose: i64, key: &[u8], nonce: &[u8], aad: &[u8], ct: &[u8]) -> Option<Vec<u8>> {
    use aes::{Aes128, Aes192, Aes256};
    use ccm::Ccm;
    use ccm::aead::consts::{U7, U8, U12, U13, U16};
    match cose {
        10 => open_with::<Ccm<Aes128, U8, U13>>(key, nonce, aad, ct),
        11 => open_with::<Ccm<Aes256, U8, U13>>(key, nonce, aad, ct),
        12 => open_with::<Ccm<Aes128, U8, U7>>(key, nonce, aad, ct),
        13 => open_with::<Ccm<Aes256, U8, U7>>(key, nonce, aad, ct),
        30 => open_with::<Ccm<Aes128, U16, U13>>(key, nonce, aad, ct),
        31 => open_with::<Ccm<Aes256, U16, U13>>(key, nonce, aad, ct),
        32 => open_with::<Ccm<Aes128, U16, U7>>(key, nonce, aad, ct),
        33 => open_with::<Ccm<Aes256, U16, U7>>(key, nonce, aad, ct),
        1 => open_with::<aes_gcm::AesGcm<Aes128, U12>>(key, nonce, aad, ct),
        2 => open_with::<aes_gcm::AesGcm<Aes192, U12>>(key, nonce, aad, ct),
        3 => open_with::<aes_gcm::AesGcm<Aes256, U12>>(key, nonce, aad, ct),
        24 => open_with::<chacha20poly1305::ChaCha20Poly1305>(key, nonce, aad, ct),
        _ => panic!("unknown AEAD {cose}"),
    }
}

/// A CoAP message parsed here (RFC 7252 §3): code, options (absolute numbers), payload.
pub struct Coap {
    pub code: u8,
    pub options: Vec<(u16, Vec<u8>)>,
    pub payload: Vec<u8>,
}

pub fn parse_options(mut b: &[u8]) -> (Vec<(u16, Vec<u8>)>, Vec<u8>) {
    let mut opts = Vec::new();
    let mut number = 0u16;
    let ext = |nib: u8, b: &mut &[u8]| -> u16 {
        match nib {
            13 => {
                let v = b[0] as u16 + 13;
                *b = &b[1..];
                v
            }
            14 => {
                let v = u16::from_be_bytes([b[0], b[1]]) + 269;
                *b = &b[2..];
                v
            }
            n => n as u16,
        }
    };
    while let Some(&first) = b.first() {
        b = &b[1..];
        if first == 0xff {
            return (opts, b.to_vec());
        }
        let delta = ext(first >> 4, &mut b);
        let len = ext(first & 15, &mut b) as usize;
        number += delta;
        opts.push((number, b[..len].to_vec()));
        b = &b[len..];
    }
    (opts, Vec::new())
}

pub fn parse_coap(b: &[u8]) -> Coap {
    let tkl = (b[0] & 15) as usize;
    let (options, payload) = parse_options(&b[4 + tkl..]);
    Coap { code: b[1], options, payload }
}

/// The fields of an OSCORE option value (RFC 8613 §6.1, KUDOS §4.1), parsed here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OscOpt {
    pub piv: Vec<u8>,
    pub kid_context: Option<Vec<u8>>,
    /// x and nonce when flag byte 2 has d = 1.
    pub kudos: Option<(u8, Vec<u8>)>,
    pub kid: Option<Vec<u8>>,
}

pub fn parse_oscore_option(v: &[u8]) -> OscOpt {
    let mut o = OscOpt { piv: Vec::new(), kid_context: None, kudos: None, kid: None };
    if v.is_empty() {
        return o;
    }
    let flags = v[0];
    assert_eq!(flags & 0x60, 0, "no reserved or group flags in the scenarios");
    let mut pos = 1;
    let d = if flags & 0x80 != 0 {
        assert_eq!(v[1] & 0xfe, 0, "only the d flag in byte 2");
        pos = 2;
        v[1] & 1 == 1
    } else {
        false
    };
    let n = (flags & 7) as usize;
    o.piv = v[pos..pos + n].to_vec();
    pos += n;
    if flags & 0x10 != 0 {
        let s = v[pos] as usize;
        o.kid_context = Some(v[pos + 1..pos + 1 + s].to_vec());
        pos += 1 + s;
    }
    if d {
        let x = v[pos];
        let m = (x & 0x0f) as usize + 1;
        o.kudos = Some((x, v[pos + 1..pos + 1 + m].to_vec()));
        pos += 1 + m;
    }
    o.kid = (flags & 0x08 != 0).then(|| v[pos..].to_vec());
    if o.kid.is_none() {
        assert_eq!(pos, v.len(), "no trailing bytes");
    }
    o
}

/// KUDOS updateCtx (draft-ietf-core-oscore-key-update-14 §4.2, PROTOCOLS.md §3.3) written
/// out: X_N = the two CBOR byte strings in bytewise order; new Master Secret =
/// HKDF-Expand(PRK = old Master Secret, ExpandLabel, L = its length) (one HMAC block: L is at
/// most the hash length here); new Master Salt = X_N. `prefixes`: the draft's 1-byte length
/// prefixes of label and context (false: the older Californium encoding, §8.2).
pub fn update_ctx(d: &CtxDef, in1: &[u8], in2: &[u8], prefixes: bool) -> CtxDef {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    cbor_bstr(&mut a, in1);
    cbor_bstr(&mut b, in2);
    let x_n = if a <= b { [a, b].concat() } else { [b, a].concat() };
    let l = d.master_secret.len();
    let mut info = (l as u16).to_be_bytes().to_vec();
    let label = b"oscore key update";
    if prefixes {
        info.push(label.len() as u8);
    }
    info.extend_from_slice(label);
    if prefixes {
        info.push(x_n.len() as u8);
    }
    info.extend_from_slice(&x_n);
    let hash = kudoscope_sim::oscore::hkdf_name(d.hkdf);
    let okm = hmac(hash, &d.master_secret, &[&info, &[1]]);
    assert!(l <= okm.len());
    let mut out = d.clone();
    out.master_secret = okm[..l].to_vec();
    out.master_salt = x_n;
    out
}

/// The context that protected a recorded message: the keys-file context with the recorded
/// KUDOS and ID-update steps applied by this file's own code.
pub fn effective_def(info: &OscoreInfo, ctx: usize, steps: &[Step]) -> CtxDef {
    let mut d = info.contexts[ctx].clone();
    for s in steps {
        match s {
            Step::Kudos { input1, input2, encoding } => {
                let prefixes = format!("{encoding:?}") == "Draft";
                d = update_ctx(&d, input1, input2, prefixes);
            }
            Step::Ids { client_id, server_id } => {
                d.client_id = client_id.clone();
                d.server_id = server_id.clone();
            }
        }
    }
    d
}

// ---- the kudoscope binary ----------------------------------------------------------------

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The kudoscope CLI, freshly built (see the module documentation).
pub fn kudoscope() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("KUDOSCOPE_BIN") {
            return PathBuf::from(p);
        }
        // <target>/<profile>/deps/<this test>
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
        let profile = profile_dir.file_name().unwrap().to_string_lossy().into_owned();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(workspace_root()).args(["build", "-q", "-p", "kudoscope", "--bin", "kudoscope"]);
        cmd.env("CARGO_TARGET_DIR", profile_dir.parent().unwrap());
        match profile.as_str() {
            "debug" => {}
            "release" => {
                cmd.arg("--release");
            }
            p => {
                cmd.args(["--profile", p]);
            }
        }
        let st = cmd.status().expect("run cargo build -p kudoscope");
        assert!(st.success(), "cargo build -p kudoscope failed");
        let bin = profile_dir.join(format!("kudoscope{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.exists(), "{} missing after cargo build", bin.display());
        bin
    })
}

pub fn run_kudoscope(args: &[&str], file: &Path) -> String {
    let o = Command::new(kudoscope()).args(args).arg(file).output().unwrap();
    assert!(
        o.status.success(),
        "kudoscope {args:?} {} failed: {}",
        file.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}
