//! HKDF (RFC 5869) over HMAC-SHA-256/384/512, with Extract and Expand exposed separately:
//! RFC 8613 §3.2 uses both, KUDOS updateCtx uses Expand alone with the old Master Secret as
//! PRK (which may be shorter than HashLen, so the `hkdf` crate's `from_prk` length check cannot
//! be used there).

use super::alg::HkdfAlg;
use super::error::CryptoError;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Sha256, Sha384, Sha512};
use std::fmt;

/// An HMAC keyed once, reused for several MAC computations (the key pads are hashed once).
#[derive(Clone)]
pub struct KeyedHmac(Inner);

#[derive(Clone)]
enum Inner {
    S256(Hmac<Sha256>),
    S384(Hmac<Sha384>),
    S512(Hmac<Sha512>),
}

impl fmt::Debug for KeyedHmac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyedHmac({})", self.alg())
    }
}

impl KeyedHmac {
    /// HMAC accepts keys of any length (longer ones are hashed, shorter ones zero-padded), so
    /// this cannot fail.
    pub fn new(alg: HkdfAlg, key: &[u8]) -> KeyedHmac {
        // `new_from_slice` only fails for MACs with fixed key sizes; HMAC has none. The
        // fallbacks below are unreachable but keep the code panic-free.
        match alg {
            HkdfAlg::Sha256 => KeyedHmac(Inner::S256(
                Hmac::<Sha256>::new_from_slice(key)
                    .unwrap_or_else(|_| Hmac::<Sha256>::new(&Default::default())),
            )),
            HkdfAlg::Sha384 => KeyedHmac(Inner::S384(
                Hmac::<Sha384>::new_from_slice(key)
                    .unwrap_or_else(|_| Hmac::<Sha384>::new(&Default::default())),
            )),
            HkdfAlg::Sha512 => KeyedHmac(Inner::S512(
                Hmac::<Sha512>::new_from_slice(key)
                    .unwrap_or_else(|_| Hmac::<Sha512>::new(&Default::default())),
            )),
        }
    }

    pub fn alg(&self) -> HkdfAlg {
        match self.0 {
            Inner::S256(_) => HkdfAlg::Sha256,
            Inner::S384(_) => HkdfAlg::Sha384,
            Inner::S512(_) => HkdfAlg::Sha512,
        }
    }

    /// HMAC over the concatenation of `parts`.
    pub fn mac(&self, parts: &[&[u8]]) -> Vec<u8> {
        macro_rules! run {
            ($m:expr) => {{
                let mut m = $m.clone();
                for p in parts {
                    m.update(p);
                }
                m.finalize().into_bytes().to_vec()
            }};
        }
        match &self.0 {
            Inner::S256(m) => run!(m),
            Inner::S384(m) => run!(m),
            Inner::S512(m) => run!(m),
        }
    }
}

/// HKDF-Extract(salt, ikm). An empty salt is replaced by HashLen zero bytes (RFC 5869 §2.2;
/// HMAC gives the same result either way).
pub fn extract(alg: HkdfAlg, salt: &[u8], ikm: &[u8]) -> Vec<u8> {
    let zeros = [0u8; 64];
    let salt = if salt.is_empty() { zeros.get(..alg.hash_len()).unwrap_or(&zeros) } else { salt };
    KeyedHmac::new(alg, salt).mac(&[ikm])
}

/// HKDF-Expand(PRK, info, L) with an HMAC already keyed with the PRK.
pub fn expand_keyed(prk: &KeyedHmac, info: &[u8], len: usize) -> Result<Vec<u8>, CryptoError> {
    let alg = prk.alg();
    let max = 255 * alg.hash_len();
    if len > max {
        return Err(CryptoError::HkdfOutputTooLong { hkdf: alg, requested: len, max });
    }
    let mut okm = Vec::with_capacity(len + alg.hash_len());
    let mut t: Vec<u8> = Vec::new();
    let mut i: u8 = 1;
    while okm.len() < len {
        t = prk.mac(&[&t, info, &[i]]);
        okm.extend_from_slice(&t);
        i = i.wrapping_add(1);
    }
    okm.truncate(len);
    Ok(okm)
}

/// HKDF-Expand(PRK, info, L). The PRK may have any length (KUDOS uses the Master Secret).
pub fn expand(alg: HkdfAlg, prk: &[u8], info: &[u8], len: usize) -> Result<Vec<u8>, CryptoError> {
    expand_keyed(&KeyedHmac::new(alg, prk), info, len)
}

/// HKDF(salt, ikm, info, L) = Expand(Extract(salt, ikm), info, L).
pub fn hkdf(alg: HkdfAlg, salt: &[u8], ikm: &[u8], info: &[u8], len: usize) -> Result<Vec<u8>, CryptoError> {
    expand(alg, &extract(alg, salt, ikm), info, len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::decode as h;

    /// RFC 5869 Appendix A.1 (SHA-256, basic).
    #[test]
    fn rfc5869_a1() {
        let ikm = h("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b").unwrap();
        let salt = h("000102030405060708090a0b0c").unwrap();
        let info = h("f0f1f2f3f4f5f6f7f8f9").unwrap();
        let prk = extract(HkdfAlg::Sha256, &salt, &ikm);
        assert_eq!(
            crate::hex::encode(&prk),
            "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"
        );
        let okm = expand(HkdfAlg::Sha256, &prk, &info, 42).unwrap();
        assert_eq!(
            crate::hex::encode(&okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
    }

    /// RFC 5869 Appendix A.3 (SHA-256, zero-length salt and info): empty salt = HashLen zeros.
    #[test]
    fn rfc5869_a3_empty_salt() {
        let ikm = [0x0bu8; 22];
        let prk = extract(HkdfAlg::Sha256, &[], &ikm);
        assert_eq!(
            crate::hex::encode(&prk),
            "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04"
        );
        assert_eq!(prk, extract(HkdfAlg::Sha256, &[0u8; 32], &ikm));
        let okm = expand(HkdfAlg::Sha256, &prk, &[], 42).unwrap();
        assert_eq!(
            crate::hex::encode(&okm),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
        );
    }

    /// Cross-check with the `hkdf` crate for every hash and a multi-block output.
    #[test]
    fn matches_hkdf_crate() {
        let (salt, ikm, info) = (b"salt".as_slice(), b"input key".as_slice(), b"info".as_slice());
        for alg in HkdfAlg::ALL {
            let ours = hkdf(alg, salt, ikm, info, 100).unwrap();
            let mut theirs = vec![0u8; 100];
            match alg {
                HkdfAlg::Sha256 => {
                    hkdf::Hkdf::<Sha256>::new(Some(salt), ikm).expand(info, &mut theirs).unwrap()
                }
                HkdfAlg::Sha384 => {
                    hkdf::Hkdf::<Sha384>::new(Some(salt), ikm).expand(info, &mut theirs).unwrap()
                }
                HkdfAlg::Sha512 => {
                    hkdf::Hkdf::<Sha512>::new(Some(salt), ikm).expand(info, &mut theirs).unwrap()
                }
            }
            assert_eq!(ours, theirs, "{alg}");
            assert_eq!(extract(alg, &[], ikm).len(), alg.hash_len());
        }
    }

    #[test]
    fn too_long_output_is_an_error() {
        assert_eq!(
            expand(HkdfAlg::Sha256, &[1; 32], b"", 255 * 32 + 1),
            Err(CryptoError::HkdfOutputTooLong { hkdf: HkdfAlg::Sha256, requested: 8161, max: 8160 })
        );
        assert_eq!(expand(HkdfAlg::Sha256, &[1; 32], b"", 8160).unwrap().len(), 8160);
        assert!(expand(HkdfAlg::Sha512, &[], b"", 0).unwrap().is_empty());
    }
}
