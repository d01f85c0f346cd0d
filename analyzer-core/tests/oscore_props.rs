//! Property tests of the OSCORE crypto layer: seal/open round trips and tamper rejection for
//! every AEAD, unverified decryption = prefix of the plaintext, option parsing of arbitrary
//! bytes (no panic, ranges in bounds, emit gives back what parsed), build -> emit -> parse.

// Test code: helpers outside #[test] fns may unwrap and index too (clippy.toml covers only
// the test fns themselves).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use analyzer_core::oscore::option::{OptionProblem, OscoreOption, ProblemClass};
use analyzer_core::oscore::{AeadAlg, AeadError, AeadKey};
use proptest::prelude::*;

fn any_alg() -> impl Strategy<Value = AeadAlg> {
    prop::sample::select(AeadAlg::ALL.to_vec())
}

/// (alg, key, nonce, aad, plaintext) with lengths right for the algorithm.
fn aead_case() -> impl Strategy<Value = (AeadAlg, Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>)> {
    (
        any_alg(),
        prop::array::uniform32(any::<u8>()),
        prop::array::uniform13(any::<u8>()),
        prop::collection::vec(any::<u8>(), 0..64),
        prop::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(|(alg, key, nonce, aad, pt)| {
            (alg, key[..alg.key_len()].to_vec(), nonce[..alg.nonce_len()].to_vec(), aad, pt)
        })
}

/// The `ccm` crate's sealing for a CCM algorithm: the second opinion on our own CCM.
fn ccm_crate_seal(alg: AeadAlg, key: &[u8], nonce: &[u8], aad: &[u8], pt: &[u8]) -> Vec<u8> {
    use aes::{Aes128, Aes256};
    use ccm::Ccm;
    use ccm::aead::consts::{U7, U8, U13, U16};
    use ccm::aead::{Aead, KeyInit, Payload};
    fn run<A: Aead + KeyInit>(key: &[u8], nonce: &[u8], aad: &[u8], pt: &[u8]) -> Vec<u8> {
        let a = A::new_from_slice(key).unwrap();
        a.encrypt(nonce.try_into().unwrap(), Payload { msg: pt, aad }).unwrap()
    }
    match alg {
        AeadAlg::AesCcm16_64_128 => run::<Ccm<Aes128, U8, U13>>(key, nonce, aad, pt),
        AeadAlg::AesCcm16_64_256 => run::<Ccm<Aes256, U8, U13>>(key, nonce, aad, pt),
        AeadAlg::AesCcm64_64_128 => run::<Ccm<Aes128, U8, U7>>(key, nonce, aad, pt),
        AeadAlg::AesCcm64_64_256 => run::<Ccm<Aes256, U8, U7>>(key, nonce, aad, pt),
        AeadAlg::AesCcm16_128_128 => run::<Ccm<Aes128, U16, U13>>(key, nonce, aad, pt),
        AeadAlg::AesCcm16_128_256 => run::<Ccm<Aes256, U16, U13>>(key, nonce, aad, pt),
        AeadAlg::AesCcm64_128_128 => run::<Ccm<Aes128, U16, U7>>(key, nonce, aad, pt),
        AeadAlg::AesCcm64_128_256 => run::<Ccm<Aes256, U16, U7>>(key, nonce, aad, pt),
        other => panic!("{other} is not CCM"),
    }
}

/// The eight COSE AES-CCM algorithms.
fn ccm_algs() -> Vec<AeadAlg> {
    let algs: Vec<AeadAlg> =
        AeadAlg::ALL.into_iter().filter(|a| a.to_string().starts_with("AES-CCM")).collect();
    assert_eq!(algs.len(), 8);
    algs
}

/// Long AADs take the 6-byte length prefix (0xFFFE + 4 bytes) from 0xFF00 bytes on (RFC 3610
/// §2.2); both sides of the boundary agree with the `ccm` crate.
#[test]
fn ccm_long_aad_matches_the_ccm_crate() {
    for alg in ccm_algs() {
        let key = vec![0x5a; alg.key_len()];
        let nonce: Vec<u8> = (1..=alg.nonce_len() as u8).collect();
        for aad_len in [0xfeff, 0xff00, 0xff01] {
            let aad: Vec<u8> = (0..aad_len).map(|i| i as u8).collect();
            let ours = AeadKey::new(alg, &key).unwrap().seal(&nonce, &aad, b"payload of 17 b.").unwrap();
            assert_eq!(ours, ccm_crate_seal(alg, &key, &nonce, &aad, b"payload of 17 b."), "{alg} {aad_len}");
        }
    }
}

proptest! {
    /// Our CCM and the `ccm` crate give the same ciphertext and tag, for every CCM algorithm,
    /// AAD and plaintext lengths across block boundaries (and the AAD's first block, which
    /// holds 14 bytes after the length prefix).
    #[test]
    fn ccm_matches_the_ccm_crate(
        alg in prop::sample::select(ccm_algs()),
        key in prop::array::uniform32(any::<u8>()),
        nonce in prop::array::uniform13(any::<u8>()),
        aad in prop::collection::vec(any::<u8>(), 0..80),
        pt in prop::collection::vec(any::<u8>(), 0..80),
    ) {
        let (key, nonce) = (&key[..alg.key_len()], &nonce[..alg.nonce_len()]);
        let ours = AeadKey::new(alg, key).unwrap().seal(nonce, &aad, &pt).unwrap();
        prop_assert_eq!(&ours, &ccm_crate_seal(alg, key, nonce, &aad, &pt));
        prop_assert_eq!(AeadKey::new(alg, key).unwrap().open(nonce, &aad, &ours).unwrap(), pt);
    }

    #[test]
    fn seal_open_round_trip((alg, key, nonce, aad, pt) in aead_case()) {
        let k = AeadKey::new(alg, &key).unwrap();
        let ct = k.seal(&nonce, &aad, &pt).unwrap();
        prop_assert_eq!(ct.len(), pt.len() + alg.tag_len());
        prop_assert_eq!(k.open(&nonce, &aad, &ct).unwrap(), pt.clone());
        // Unverified decryption of every prefix (tag cut off, ciphertext maybe cut too).
        for cut in [0, pt.len() / 2, pt.len()] {
            prop_assert_eq!(k.decrypt_unverified(&nonce, &ct[..cut]).unwrap(), pt[..cut].to_vec());
        }
        let u = k.decrypt_truncated(&nonce, &ct[..ct.len() - 1], ct.len()).unwrap();
        prop_assert!(u.complete);
        prop_assert_eq!(u.plaintext, pt);
    }

    #[test]
    fn tampering_is_rejected(
        (alg, key, nonce, aad, pt) in aead_case(),
        pos in any::<usize>(),
        bit in 0u8..8,
    ) {
        let k = AeadKey::new(alg, &key).unwrap();
        let ct = k.seal(&nonce, &aad, &pt).unwrap();
        // Ciphertext or tag bit flipped.
        let mut bad = ct.clone();
        let i = pos % bad.len();
        bad[i] ^= 1 << bit;
        prop_assert_eq!(k.open(&nonce, &aad, &bad), Err(AeadError::Authentication));
        // Tag truncated by one byte and padded back with a wrong byte.
        let mut bad = ct.clone();
        let last = bad.len() - 1;
        bad[last] = bad[last].wrapping_add(1);
        prop_assert_eq!(k.open(&nonce, &aad, &bad), Err(AeadError::Authentication));
        // AAD changed: a bit flipped, or one byte more.
        let mut bad_aad = aad.clone();
        if bad_aad.is_empty() {
            bad_aad.push(0);
        } else {
            let i = pos % bad_aad.len();
            bad_aad[i] ^= 1 << bit;
        }
        prop_assert_eq!(k.open(&nonce, &bad_aad, &ct), Err(AeadError::Authentication));
        // Nonce changed.
        let mut bad_nonce = nonce.clone();
        let i = pos % bad_nonce.len();
        bad_nonce[i] ^= 1 << bit;
        prop_assert_eq!(k.open(&bad_nonce, &aad, &ct), Err(AeadError::Authentication));
        // Other key.
        let mut other = key.clone();
        let j = pos % other.len();
        other[j] ^= 1 << bit;
        let k2 = AeadKey::new(alg, &other).unwrap();
        prop_assert_eq!(k2.open(&nonce, &aad, &ct), Err(AeadError::Authentication));
    }

    #[test]
    fn option_parse_arbitrary_bytes(value in prop::collection::vec(any::<u8>(), 0..48)) {
        let p = OscoreOption::parse(&value);
        let o = &p.option;
        let len = value.len();
        let fields = [o.piv(), o.kid_context(), o.kid(), o.kudos().map(|k| &k.nonce)];
        for f in fields.into_iter().flatten() {
            prop_assert!(f.range.end <= len);
            prop_assert_eq!(&value[f.range.clone()], f.value.as_slice());
        }
        if let Some(k) = o.kudos() {
            prop_assert_eq!(value[k.x_at], k.x);
        }
        for pr in &p.problems {
            let r = pr.range();
            prop_assert!(r.start <= r.end);
            match pr {
                OptionProblem::Truncated { declared, available, .. } => {
                    prop_assert_eq!(*available, len);
                    prop_assert!(declared.end > len);
                    prop_assert!(declared.start <= len);
                }
                _ => prop_assert!(r.end <= len, "{:?}", pr),
            }
            let _ = pr.to_string();
        }
        // What parsed is a prefix of the value; all of it unless parsing stopped early.
        let emitted = o.emit();
        prop_assert!(value.starts_with(&emitted));
        prop_assert_eq!(emitted.len(), o.wire_len());
        let stopped = p.problems.iter().any(|pr| matches!(
            pr,
            OptionProblem::Truncated { .. }
                | OptionProblem::ZeroFlagsNotEmpty { .. }
                | OptionProblem::TrailingBytes { .. }
        ));
        if !stopped {
            prop_assert_eq!(emitted, value.clone());
        }
        // Strict parse agrees with the lax one.
        prop_assert_eq!(OscoreOption::parse_strict(&value).is_ok(), p.problems.iter().all(|x| x.class() == ProblemClass::Note));
        for a in AeadAlg::ALL {
            let _ = o.id_problems(a);
        }
    }

    #[test]
    fn option_build_emit_parse_round_trip(
        piv in prop::collection::vec(any::<u8>(), 0..=5),
        kid_context in prop::option::of(prop::collection::vec(any::<u8>(), 0..40)),
        x in 0u8..0x80,
        nonce_bytes in prop::collection::vec(any::<u8>(), 16),
        with_kudos in any::<bool>(),
        kid in prop::option::of(prop::collection::vec(any::<u8>(), 0..10)),
    ) {
        let nonce = &nonce_bytes[..usize::from(x & 0x0f) + 1];
        let kudos = with_kudos.then_some((x, nonce));
        let built = OscoreOption::build(&piv, kid_context.as_deref(), kudos, kid.as_deref()).unwrap();
        let wire = built.emit();
        let p = OscoreOption::parse(&wire);
        prop_assert!(p.is_valid(), "{:?}", p.problems);
        prop_assert_eq!(&p.option, &built);
        prop_assert_eq!(p.option.piv_value().unwrap_or_default(), piv.as_slice());
        prop_assert_eq!(p.option.kid_context_value(), kid_context.as_deref());
        prop_assert_eq!(p.option.kid_value(), kid.as_deref());
        prop_assert_eq!(p.option.kudos().map(|k| (k.x, k.nonce.value.to_vec())), kudos.map(|(x, n)| (x, n.to_vec())));
        prop_assert_eq!(wire.is_empty(), piv.is_empty() && kid_context.is_none() && kid.is_none() && !with_kudos);
    }
}

/// Every truncation of a valid KUDOS option (PROTOCOLS.md §3.2 Californium example) is
/// reported as Truncated (or, at length 0, is the valid empty value).
#[test]
fn every_truncation_is_reported() {
    let v = analyzer_core::hex::decode("9a0115b3030a0b0c070001020304050607aa").unwrap();
    for cut in 1..v.len() - 1 {
        let p = OscoreOption::parse(&v[..cut]);
        assert!(
            p.problems.iter().any(|x| matches!(x, OptionProblem::Truncated { .. })),
            "cut {cut}: {:?}",
            p.problems
        );
    }
    // Cut just before the kid: still valid (kid = h'' here).
    assert!(OscoreOption::parse(&v[..v.len() - 1]).problems.is_empty());
}
