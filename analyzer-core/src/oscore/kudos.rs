//! KUDOS updateCtx (draft-ietf-core-oscore-key-update-14 §4.2; PROTOCOLS.md §3.3-3.4):
//!
//! ```text
//! X_N         = bstr(input1) || bstr(input2), the two CBOR byte strings in bytewise order
//! MasterSalt' = X_N
//! MasterSec'  = HKDF-Expand(PRK = MasterSecret, info = ExpandLabel(X_N), L = len(MasterSecret))
//! ```
//! with the context's HKDF hash; everything else (algorithms, ID Context, Sender/Recipient IDs)
//! is kept, and the new keys follow from the ordinary RFC 8613 §3.2 derivation.

use super::cbor;
use super::error::CryptoError;
use super::kdf;
use super::option::{KudosFields, OscoreOption};
use super::params::{ContextParams, Secret};

/// The ExpandLabel label.
pub const LABEL: &[u8] = b"oscore key update";

/// How ExpandLabel's info is laid out (PROTOCOLS.md §8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LabelEncoding {
    /// The draft's TLS 1.3 presentation syntax: `uint16 length || u8 len || label || u8 len ||
    /// context`.
    #[default]
    Draft,
    /// `uint16 length || label || context` without the 1-byte length prefixes (the 2024
    /// Californium KUDOS code).
    NoLengthPrefixes,
}

impl LabelEncoding {
    pub const ALL: [LabelEncoding; 2] = [LabelEncoding::Draft, LabelEncoding::NoLengthPrefixes];
}

/// updateCtx failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KudosError {
    /// The Master Secret is longer than the uint16 length field allows.
    #[error("Master Secret of {0} bytes does not fit ExpandLabel's uint16 length")]
    SecretTooLong(usize),
    /// X_N is longer than the 255 bytes `opaque context<0..255>` allows (draft encoding).
    #[error("X_N of {0} bytes is longer than ExpandLabel's 255-byte context")]
    ContextTooLong(usize),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// The updateCtx input of one message: its `x` byte followed by its nonce.
pub fn input(x: u8, nonce: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(1 + nonce.len());
    v.push(x);
    v.extend_from_slice(nonce);
    v
}

/// The updateCtx input carried by a parsed OSCORE option (`None` when d = 0).
pub fn input_from_option(opt: &OscoreOption) -> Option<Vec<u8>> {
    opt.kudos().map(KudosFields::input)
}

/// X_N: the CBOR byte strings of both inputs, the one that sorts first (bytewise, as encoded)
/// first. `input2` is empty (`40`) for a divergent message's CTX_TEMP.
pub fn x_n(input1: &[u8], input2: &[u8]) -> Vec<u8> {
    let a = cbor::bstr_item(input1);
    let b = cbor::bstr_item(input2);
    let (first, second) = if a <= b { (a, b) } else { (b, a) };
    let mut out = first;
    out.extend_from_slice(&second);
    out
}

/// The ExpandLabel info for a Master Secret of `secret_len` bytes and context `x_n`.
pub fn expand_label(secret_len: usize, x_n: &[u8], encoding: LabelEncoding) -> Result<Vec<u8>, KudosError> {
    let len = u16::try_from(secret_len).map_err(|_| KudosError::SecretTooLong(secret_len))?;
    let mut out = Vec::with_capacity(4 + LABEL.len() + x_n.len());
    out.extend_from_slice(&len.to_be_bytes());
    match encoding {
        LabelEncoding::Draft => {
            let clen = u8::try_from(x_n.len()).map_err(|_| KudosError::ContextTooLong(x_n.len()))?;
            out.push(LABEL.len() as u8);
            out.extend_from_slice(LABEL);
            out.push(clen);
            out.extend_from_slice(x_n);
        }
        LabelEncoding::NoLengthPrefixes => {
            out.extend_from_slice(LABEL);
            out.extend_from_slice(x_n);
        }
    }
    Ok(out)
}

/// The new Master Secret from an old one and X_N.
pub fn new_master_secret(
    ctx_in: &ContextParams,
    x_n: &[u8],
    encoding: LabelEncoding,
) -> Result<Secret, KudosError> {
    let old = ctx_in.master_secret.expose();
    let info = expand_label(old.len(), x_n, encoding)?;
    Ok(Secret::new(kdf::expand(ctx_in.hkdf, old, &info, old.len())?))
}

/// updateCtx(input1, input2, CTX_IN): the parameters of the output context (derive it with
/// [`super::context::DerivedContext::derive`]). Inputs are `X || N` byte strings
/// ([`input`]); `input2` is empty for CTX_TEMP.
pub fn update_ctx(
    input1: &[u8],
    input2: &[u8],
    ctx_in: &ContextParams,
    encoding: LabelEncoding,
) -> Result<ContextParams, KudosError> {
    let x_n = x_n(input1, input2);
    let master_secret = new_master_secret(ctx_in, &x_n, encoding)?;
    Ok(ContextParams { master_secret, master_salt: x_n, ..ctx_in.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::{decode as h, encode as e};
    use crate::oscore::{AeadAlg, HkdfAlg};

    fn c1_client() -> ContextParams {
        ContextParams {
            master_secret: Secret::new(h("0102030405060708090a0b0c0d0e0f10").unwrap()),
            master_salt: h("9e7ca92223786340").unwrap(),
            id_context: None,
            sender_id: vec![],
            recipient_id: vec![0x01],
            aead: AeadAlg::AesCcm16_64_128,
            hkdf: HkdfAlg::Sha256,
        }
    }

    /// PROTOCOLS.md §3.10 master secrets and salts, both label encodings.
    #[test]
    fn section_3_10_master_secrets() {
        let in1 = input(0x07, &h("018a278f7faab55a").unwrap());
        let in2 = input(0x47, &h("25a8991cd700ac01").unwrap());
        assert_eq!(e(&x_n(&in1, &[])), "404907018a278f7faab55a");
        assert_eq!(e(&x_n(&[], &in1)), "404907018a278f7faab55a");
        assert_eq!(e(&x_n(&in1, &in2)), "4907018a278f7faab55a494725a8991cd700ac01");
        assert_eq!(x_n(&in2, &in1), x_n(&in1, &in2));
        assert_eq!(
            e(&expand_label(16, &x_n(&in1, &[]), LabelEncoding::Draft).unwrap()),
            "0010116f73636f7265206b6579207570646174650b404907018a278f7faab55a"
        );
        assert_eq!(
            e(&expand_label(16, &x_n(&in1, &[]), LabelEncoding::NoLengthPrefixes).unwrap()),
            "00106f73636f7265206b657920757064617465404907018a278f7faab55a"
        );
        let old = c1_client();
        let temp = update_ctx(&in1, &[], &old, LabelEncoding::Draft).unwrap();
        assert_eq!(e(temp.master_secret.expose()), "ff7dda3b7d743ff507e12f04f0e168ea");
        assert_eq!(e(&temp.master_salt), "404907018a278f7faab55a");
        assert_eq!((temp.sender_id.clone(), temp.recipient_id.clone()), (vec![], vec![1]));
        let new = update_ctx(&in2, &in1, &old, LabelEncoding::Draft).unwrap();
        assert_eq!(e(new.master_secret.expose()), "6a0961c873d49f6bc18999a706369dd7");
        let temp_np = update_ctx(&in1, &[], &old, LabelEncoding::NoLengthPrefixes).unwrap();
        assert_eq!(e(temp_np.master_secret.expose()), "87070df82076a86351bcf2a0465ae2f1");
        let new_np = update_ctx(&in1, &in2, &old, LabelEncoding::NoLengthPrefixes).unwrap();
        assert_eq!(e(new_np.master_secret.expose()), "8cc5a0d360b4b7e08e4fb9cde0898970");
    }

    #[test]
    fn option_input_and_limits() {
        let o = OscoreOption::parse(&h("89010007018a278f7faab55a").unwrap()).option;
        assert_eq!(e(&input_from_option(&o).unwrap()), "07018a278f7faab55a");
        assert_eq!(input_from_option(&OscoreOption::parse(&[0x09, 0x14]).option), None);
        assert_eq!(expand_label(70000, &[], LabelEncoding::Draft), Err(KudosError::SecretTooLong(70000)));
        assert_eq!(expand_label(16, &[0; 256], LabelEncoding::Draft), Err(KudosError::ContextTooLong(256)));
        assert!(expand_label(16, &[0; 256], LabelEncoding::NoLengthPrefixes).is_ok());
        // A Master Secret longer than 255 * HashLen cannot be expanded to its own length.
        let mut p = c1_client();
        p.master_secret = Secret::new(vec![1; 255 * 32 + 1]);
        assert!(matches!(
            update_ctx(&[7, 0], &[], &p, LabelEncoding::Draft),
            Err(KudosError::Crypto(CryptoError::HkdfOutputTooLong { .. }))
        ));
    }
}
