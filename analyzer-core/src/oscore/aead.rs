//! AEAD seal/open for every [`AeadAlg`] OSCORE can use, with the key schedule done once per key.
//!
//! * AES-CCM (COSE 10-13, 30-33): [`super::ccm::Ccm`] over AES-128/256, L = 15 - nonce length
//!   (13-byte nonce: L = 2, at most 65535 bytes; 7-byte nonce: L = 8), tag 8 or 16 bytes.
//! * AES-GCM (COSE 1, 2, 3): `aes_gcm::AesGcm<Aes, U12>`, 16-byte tag.
//! * ChaCha20/Poly1305 (COSE 24): RFC 8439, 16-byte tag.
//!
//! All three tag-at-the-end constructions encrypt by XOR with a keystream that depends only on
//! key and nonce (CCM: CTR blocks A_1.., GCM: counter blocks from inc32(J0), ChaCha20: block
//! counter 1..), so a ciphertext whose tag was cut off by the capture can still be decrypted
//! without verification: see [`AeadKey::decrypt_unverified`].

use super::alg::AeadAlg;
use super::ccm::{Ccm, CcmError};
use super::error::{AeadError, CryptoError};
use super::params::Secret;
use aes::{Aes128, Aes192, Aes256};
use aes_gcm::AesGcm;
use aes_gcm::aead::array::Array;
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{AeadInOut, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;
use std::fmt;

/// An initialised AEAD key for one algorithm: build once, use for every message.
///
/// `Debug` shows the algorithm and a 4-byte SHA-256 fingerprint of the key, never the key.
#[derive(Clone)]
pub struct AeadKey {
    alg: AeadAlg,
    fingerprint: String,
    cipher: Cipher,
}

#[derive(Clone)]
enum Cipher {
    /// The four CCM variants of each key size (tag and nonce lengths are in the `Ccm`).
    Ccm128(Box<Ccm<Aes128>>),
    Ccm256(Box<Ccm<Aes256>>),
    Gcm128(Box<AesGcm<Aes128, U12>>),
    Gcm192(Box<AesGcm<Aes192, U12>>),
    Gcm256(Box<AesGcm<Aes256, U12>>),
    ChaCha(Box<ChaCha20Poly1305>),
}

/// Runs `$ccm` with `$c` bound to the CCM cipher, or `$aead` with `$c` bound to the concrete
/// `AeadInOut` cipher of the others.
macro_rules! with_cipher {
    ($cipher:expr, $c:ident => ccm: $ccm:expr, aead: $aead:expr) => {
        match $cipher {
            Cipher::Ccm128($c) => $ccm,
            Cipher::Ccm256($c) => $ccm,
            Cipher::Gcm128($c) => $aead,
            Cipher::Gcm192($c) => $aead,
            Cipher::Gcm256($c) => $aead,
            Cipher::ChaCha($c) => $aead,
        }
    };
}

impl fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AeadKey({}, fp {})", self.alg, self.fingerprint)
    }
}

fn init<A: KeyInit>(key: &[u8]) -> Option<Box<A>> {
    A::new_from_slice(key).ok().map(Box::new)
}

fn init_ccm<A: aes::cipher::KeyInit>(alg: AeadAlg, key: &[u8]) -> Option<Box<Ccm<A>>> {
    let cipher = A::new_from_slice(key).ok()?;
    Some(Box::new(Ccm::new(cipher, alg.tag_len(), alg.nonce_len())))
}

/// Result of decrypting a message whose tag (and possibly part of the ciphertext) was cut off
/// by the capture. See [`AeadKey::decrypt_truncated`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unverified {
    /// The decrypted bytes: a prefix of the plaintext (the whole plaintext when `complete`).
    pub plaintext: Vec<u8>,
    /// True when every plaintext byte was captured (only tag bytes are missing).
    pub complete: bool,
    /// Full plaintext length implied by the reported (original) length.
    pub plaintext_len: usize,
    /// How many of the tag's bytes the capture holds (0..=tag_len).
    pub tag_bytes_captured: usize,
}

impl AeadKey {
    /// Initialises the cipher (AES key expansion etc.) for `alg` with `key`.
    pub fn new(alg: AeadAlg, key: &[u8]) -> Result<AeadKey, CryptoError> {
        if key.len() != alg.key_len() {
            return Err(CryptoError::KeyLength { alg, expected: alg.key_len(), got: key.len() });
        }
        let cipher = match alg {
            AeadAlg::AesCcm16_64_128
            | AeadAlg::AesCcm64_64_128
            | AeadAlg::AesCcm16_128_128
            | AeadAlg::AesCcm64_128_128 => init_ccm(alg, key).map(Cipher::Ccm128),
            AeadAlg::AesCcm16_64_256
            | AeadAlg::AesCcm64_64_256
            | AeadAlg::AesCcm16_128_256
            | AeadAlg::AesCcm64_128_256 => init_ccm(alg, key).map(Cipher::Ccm256),
            AeadAlg::A128Gcm => init(key).map(Cipher::Gcm128),
            AeadAlg::A192Gcm => init(key).map(Cipher::Gcm192),
            AeadAlg::A256Gcm => init(key).map(Cipher::Gcm256),
            AeadAlg::ChaCha20Poly1305 => init(key).map(Cipher::ChaCha),
        };
        let Some(cipher) = cipher else {
            return Err(CryptoError::KeyLength { alg, expected: alg.key_len(), got: key.len() });
        };
        let fingerprint = Secret::new(key.to_vec()).fingerprint();
        Ok(AeadKey { alg, fingerprint, cipher })
    }

    pub fn alg(&self) -> AeadAlg {
        self.alg
    }

    /// First 4 bytes of SHA-256 over the key, hex (same as [`Secret::fingerprint`]).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    fn check_nonce(&self, nonce: &[u8]) -> Result<(), AeadError> {
        let expected = self.alg.nonce_len();
        if nonce.len() != expected {
            return Err(AeadError::NonceLength { alg: self.alg, expected, got: nonce.len() });
        }
        Ok(())
    }

    fn too_long(&self, len: usize) -> AeadError {
        AeadError::TooLong { alg: self.alg, len, nonce_len: self.alg.nonce_len() }
    }

    /// Decrypts and verifies `ciphertext_with_tag` (the OSCORE payload: ciphertext || tag).
    pub fn open(&self, nonce: &[u8], aad: &[u8], ciphertext_with_tag: &[u8]) -> Result<Vec<u8>, AeadError> {
        let mut out = Vec::new();
        self.open_into(nonce, aad, ciphertext_with_tag, &mut out)?;
        Ok(out)
    }

    /// [`open`](Self::open) into `out` (cleared first; its allocation is reused). On error
    /// `out` is left empty: unverified bytes are not handed out.
    pub fn open_into(
        &self,
        nonce: &[u8],
        aad: &[u8],
        ciphertext_with_tag: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), AeadError> {
        out.clear();
        self.check_nonce(nonce)?;
        let tag_len = self.alg.tag_len();
        let Some(body_len) = ciphertext_with_tag.len().checked_sub(tag_len) else {
            return Err(AeadError::CiphertextTooShort { len: ciphertext_with_tag.len(), tag_len });
        };
        let (body, tag) = ciphertext_with_tag.split_at(body_len);
        out.extend_from_slice(body);
        let r = with_cipher!(&self.cipher, c =>
            ccm: c.open(nonce, aad, out, tag).map_err(Failure::from),
            aead: open_with(c.as_ref(), nonce, aad, out, tag));
        if r.is_err() {
            out.clear();
        }
        match r {
            Ok(()) => Ok(()),
            Err(Failure::Tag) => Err(AeadError::Authentication),
            Err(Failure::Length) => Err(self.too_long(body_len)),
        }
    }

    /// Encrypts `plaintext`, returning ciphertext || tag.
    pub fn seal(&self, nonce: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, AeadError> {
        self.check_nonce(nonce)?;
        let mut out = Vec::with_capacity(plaintext.len() + self.alg.tag_len());
        out.extend_from_slice(plaintext);
        let r = with_cipher!(&self.cipher, c => ccm: ccm_seal(c, nonce, aad, &mut out).map_err(|_| ()), aead: seal_with(c.as_ref(), nonce, aad, &mut out));
        r.map_err(|_| self.too_long(plaintext.len()))?;
        Ok(out)
    }

    /// Decrypts `ciphertext` (tag bytes NOT included) without any authentication: XOR with the
    /// keystream the algorithm uses for the payload.
    ///
    /// Guaranteed: if key and nonce are the ones the sender used, the output equals the
    /// corresponding prefix of the plaintext that [`open`](Self::open) would return (tested for
    /// every algorithm and every prefix length).
    ///
    /// NOT guaranteed: anything else. The AAD is not used at all, so a wrong AAD (wrong
    /// request kid/PIV, wrong algorithm in the AAD) goes unnoticed; a wrong key or nonce gives
    /// random-looking bytes without any error; the ciphertext is malleable (flipped bits flip
    /// the same plaintext bits). Callers must present the result as "decrypted, NOT verified".
    ///
    /// Implementation: the keystream is obtained by *encrypting* the ciphertext with the same
    /// nonce and throwing the tag away (CTR-style encryption is an involution on the payload).
    pub fn decrypt_unverified(&self, nonce: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, AeadError> {
        self.check_nonce(nonce)?;
        let mut out = ciphertext.to_vec();
        let r = with_cipher!(&self.cipher, c => ccm: ccm_seal(c, nonce, &[], &mut out).map_err(|_| ()), aead: seal_with(c.as_ref(), nonce, &[], &mut out));
        r.map_err(|_| self.too_long(ciphertext.len()))?;
        out.truncate(ciphertext.len());
        Ok(out)
    }

    /// Decrypts without verification a payload the capture cut short: `captured` are the
    /// payload bytes present, `reported_len` the payload length the packet really had (from the
    /// UDP length / original frame length). The plaintext is `reported_len - tag_len` bytes; as
    /// many of them as were captured are returned. Same guarantees as
    /// [`decrypt_unverified`](Self::decrypt_unverified).
    pub fn decrypt_truncated(
        &self,
        nonce: &[u8],
        captured: &[u8],
        reported_len: usize,
    ) -> Result<Unverified, AeadError> {
        let tag_len = self.alg.tag_len();
        let Some(plaintext_len) = reported_len.checked_sub(tag_len) else {
            return Err(AeadError::CiphertextTooShort { len: reported_len, tag_len });
        };
        let body = captured.get(..plaintext_len).unwrap_or(captured);
        let plaintext = self.decrypt_unverified(nonce, body)?;
        let complete = plaintext.len() == plaintext_len;
        let tag_bytes_captured = captured.len().saturating_sub(plaintext_len).min(tag_len);
        Ok(Unverified { plaintext, complete, plaintext_len, tag_bytes_captured })
    }
}

enum Failure {
    Tag,
    Length,
}

impl From<CcmError> for Failure {
    fn from(e: CcmError) -> Failure {
        match e {
            CcmError::Tag => Failure::Tag,
            CcmError::Length => Failure::Length,
        }
    }
}

/// Encrypts `buf` in place and appends the tag.
fn ccm_seal<A>(c: &Ccm<A>, nonce: &[u8], aad: &[u8], buf: &mut Vec<u8>) -> Result<(), CcmError>
where
    A: aes::cipher::BlockCipherEncrypt + aes::cipher::BlockSizeUser<BlockSize = aes::cipher::consts::U16>,
{
    let tag = c.seal(nonce, aad, buf)?;
    buf.extend(tag.iter().take(c.tag_len()));
    Ok(())
}

fn open_with<A: AeadInOut>(
    a: &A,
    nonce: &[u8],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8],
) -> Result<(), Failure> {
    let Ok(n) = <&Array<u8, A::NonceSize>>::try_from(nonce) else {
        return Err(Failure::Length);
    };
    let Ok(t) = <&Array<u8, A::TagSize>>::try_from(tag) else {
        return Err(Failure::Tag);
    };
    a.decrypt_inout_detached(n, aad, buf.into(), t).map_err(|_| Failure::Tag)
}

fn seal_with<A: AeadInOut>(a: &A, nonce: &[u8], aad: &[u8], buf: &mut Vec<u8>) -> Result<(), ()> {
    let Ok(n) = <&Array<u8, A::NonceSize>>::try_from(nonce) else {
        return Err(());
    };
    let tag = a.encrypt_inout_detached(n, aad, buf.as_mut_slice().into()).map_err(|_| ())?;
    buf.extend_from_slice(tag.as_slice());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::{decode as h, encode as e};

    /// RFC 8613 C.4: Sender Key of C.1 client, nonce, AAD, plaintext -> ciphertext.
    #[test]
    fn rfc8613_c4_seal_open() {
        let k =
            AeadKey::new(AeadAlg::AesCcm16_64_128, &h("f0910ed7295e6ad4b54fc793154302ff").unwrap()).unwrap();
        let nonce = h("4622d4dd6d944168eefb549868").unwrap();
        let aad = h("8368456e63727970743040488501810a40411440").unwrap();
        let ct = k.seal(&nonce, &aad, &h("01b3747631").unwrap()).unwrap();
        assert_eq!(e(&ct), "612f1092f1776f1c1668b3825e");
        assert_eq!(e(&k.open(&nonce, &aad, &ct).unwrap()), "01b3747631");
        assert_eq!(e(&k.decrypt_unverified(&nonce, &ct[..5]).unwrap()), "01b3747631");
    }

    /// RFC 8439 §2.8.2 AEAD_CHACHA20_POLY1305 test vector.
    #[test]
    fn rfc8439_chacha20poly1305() {
        let key = h("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f").unwrap();
        let nonce = h("070000004041424344454647").unwrap();
        let aad = h("50515253c0c1c2c3c4c5c6c7").unwrap();
        let pt = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let k = AeadKey::new(AeadAlg::ChaCha20Poly1305, &key).unwrap();
        let ct = k.seal(&nonce, &aad, pt).unwrap();
        assert_eq!(e(&ct[..16]), "d31a8d34648e60db7b86afbc53ef7ec2");
        assert_eq!(e(&ct[ct.len() - 16..]), "1ae10b594f09e26a7e902ecbd0600691");
        assert_eq!(k.decrypt_unverified(&nonce, &ct[..pt.len()]).unwrap(), pt);
    }

    /// NIST GCM test case 3 (McGrew/Viega "The GCM mode", AES-128, 96-bit IV, no AAD).
    #[test]
    fn gcm_spec_test_case_3() {
        let key = h("feffe9928665731c6d6a8f9467308308").unwrap();
        let nonce = h("cafebabefacedbaddecaf888").unwrap();
        let pt = h("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255").unwrap();
        let k = AeadKey::new(AeadAlg::A128Gcm, &key).unwrap();
        let ct = k.seal(&nonce, &[], &pt).unwrap();
        assert_eq!(
            e(&ct),
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985\
             4d5c2af327cd64a62cf35abd2ba6fab4"
        );
        assert_eq!(k.decrypt_unverified(&nonce, &ct[..pt.len()]).unwrap(), pt);
    }

    #[test]
    fn typed_length_errors() {
        assert_eq!(
            AeadKey::new(AeadAlg::AesCcm16_64_128, &[0; 32]).unwrap_err(),
            CryptoError::KeyLength { alg: AeadAlg::AesCcm16_64_128, expected: 16, got: 32 }
        );
        assert_eq!(
            AeadKey::new(AeadAlg::A192Gcm, &[0; 16]).unwrap_err(),
            CryptoError::KeyLength { alg: AeadAlg::A192Gcm, expected: 24, got: 16 }
        );
        for alg in AeadAlg::ALL {
            let k = AeadKey::new(alg, &vec![7; alg.key_len()]).unwrap();
            let bad = vec![0; alg.nonce_len() + 1];
            assert_eq!(
                k.open(&bad, &[], &[0; 32]),
                Err(AeadError::NonceLength { alg, expected: alg.nonce_len(), got: bad.len() })
            );
            assert!(matches!(k.seal(&[], &[], b"x"), Err(AeadError::NonceLength { .. })));
            assert!(matches!(k.decrypt_unverified(&[0; 3], b"x"), Err(AeadError::NonceLength { .. })));
            let nonce = vec![0; alg.nonce_len()];
            assert_eq!(
                k.open(&nonce, &[], &vec![0; alg.tag_len() - 1]),
                Err(AeadError::CiphertextTooShort { len: alg.tag_len() - 1, tag_len: alg.tag_len() })
            );
            // An empty plaintext seals to the tag alone and opens again.
            let ct = k.seal(&nonce, b"aad", &[]).unwrap();
            assert_eq!(ct.len(), alg.tag_len());
            assert_eq!(k.open(&nonce, b"aad", &ct).unwrap(), Vec::<u8>::new());
        }
    }

    /// Every algorithm rejects a flipped bit anywhere in ciphertext or tag, a changed AAD and
    /// a changed nonce (the proptests do the same with random inputs).
    #[test]
    fn every_alg_rejects_tampering() {
        for alg in AeadAlg::ALL {
            let k = AeadKey::new(alg, &vec![0x42; alg.key_len()]).unwrap();
            let nonce: Vec<u8> = (0..alg.nonce_len() as u8).collect();
            let aad = b"aad".to_vec();
            let ct = k.seal(&nonce, &aad, b"OSCORE plaintext").unwrap();
            for i in 0..ct.len() {
                let mut bad = ct.clone();
                bad[i] ^= 0x01;
                assert_eq!(k.open(&nonce, &aad, &bad), Err(AeadError::Authentication), "{alg} {i}");
            }
            assert_eq!(k.open(&nonce, b"aae", &ct), Err(AeadError::Authentication), "{alg}");
            assert_eq!(k.open(&nonce, b"", &ct), Err(AeadError::Authentication), "{alg}");
            let mut n2 = nonce.clone();
            n2[0] ^= 0x80;
            assert_eq!(k.open(&n2, &aad, &ct), Err(AeadError::Authentication), "{alg}");
            assert_eq!(k.open(&nonce, &aad, &ct).unwrap(), b"OSCORE plaintext");
        }
    }

    /// `open_into` reuses a dirty buffer, and leaves it empty when the tag does not verify
    /// (for every algorithm: the in-place CCM and the AEAD-trait paths differ).
    #[test]
    fn open_into_reuses_and_clears() {
        for alg in AeadAlg::ALL {
            let k = AeadKey::new(alg, &vec![0x42; alg.key_len()]).unwrap();
            let nonce: Vec<u8> = (0..alg.nonce_len() as u8).collect();
            let ct = k.seal(&nonce, b"aad", b"OSCORE plaintext").unwrap();
            let mut out = b"left over from an earlier message, longer".to_vec();
            k.open_into(&nonce, b"aad", &ct, &mut out).unwrap();
            assert_eq!(out, b"OSCORE plaintext", "{alg}");
            let mut bad = ct.clone();
            bad[0] ^= 1;
            assert_eq!(k.open_into(&nonce, b"aad", &bad, &mut out), Err(AeadError::Authentication), "{alg}");
            assert!(out.is_empty(), "{alg}: unverified bytes handed out");
            assert!(k.open_into(&nonce[1..], b"aad", &ct, &mut out).is_err(), "{alg}");
            assert!(out.is_empty(), "{alg}");
        }
    }

    #[test]
    fn ccm_l2_length_limit_is_typed() {
        let k = AeadKey::new(AeadAlg::AesCcm16_64_128, &[1; 16]).unwrap();
        let nonce = [0u8; 13];
        let big = vec![0u8; 65536];
        assert_eq!(
            k.seal(&nonce, &[], &big),
            Err(AeadError::TooLong { alg: AeadAlg::AesCcm16_64_128, len: 65536, nonce_len: 13 })
        );
        assert!(matches!(k.open(&nonce, &[], &[0u8; 65536 + 8]), Err(AeadError::TooLong { .. })));
        assert_eq!(k.seal(&nonce, &[], &big[..65535]).unwrap().len(), 65535 + 8);
        // 7-byte nonce: L = 8, no practical limit.
        let k7 = AeadKey::new(AeadAlg::AesCcm64_64_128, &[1; 16]).unwrap();
        assert_eq!(k7.seal(&[0; 7], &[], &big).unwrap().len(), 65536 + 8);
    }

    #[test]
    fn debug_hides_key() {
        let key = h("f0910ed7295e6ad4b54fc793154302ff").unwrap();
        let k = AeadKey::new(AeadAlg::AesCcm16_64_128, &key).unwrap();
        let d = format!("{k:?}");
        assert!(d.starts_with("AeadKey(AES-CCM-16-64-128, fp "), "{d}");
        assert!(!d.to_lowercase().contains("f0910ed7"), "{d}");
        assert!(!d.contains("240"), "{d}"); // 0xf0 as decimal
    }

    #[test]
    fn truncated_payload() {
        let k =
            AeadKey::new(AeadAlg::AesCcm16_64_128, &h("f0910ed7295e6ad4b54fc793154302ff").unwrap()).unwrap();
        let nonce = h("4622d4dd6d944168eefb549868").unwrap();
        let ct = h("612f1092f1776f1c1668b3825e").unwrap();
        // Tag partly captured.
        let u = k.decrypt_truncated(&nonce, &ct[..8], 13).unwrap();
        assert_eq!(e(&u.plaintext), "01b3747631");
        assert!(u.complete);
        assert_eq!((u.plaintext_len, u.tag_bytes_captured), (5, 3));
        // Ciphertext cut too.
        let u = k.decrypt_truncated(&nonce, &ct[..3], 13).unwrap();
        assert_eq!(e(&u.plaintext), "01b374");
        assert!(!u.complete);
        assert_eq!(u.tag_bytes_captured, 0);
        assert_eq!(
            k.decrypt_truncated(&nonce, &ct[..3], 7),
            Err(AeadError::CiphertextTooShort { len: 7, tag_len: 8 })
        );
    }
}
