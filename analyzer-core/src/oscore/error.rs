//! Typed errors of the OSCORE crypto layer. None of them carries secret bytes: only algorithms,
//! lengths and positions.

use super::alg::{AeadAlg, HkdfAlg};

/// Setting up keys or deriving material failed (wrong lengths, impossible HKDF output).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The key given for an AEAD has the wrong length.
    #[error("{alg} needs a {expected}-byte key, got {got} bytes")]
    KeyLength { alg: AeadAlg, expected: usize, got: usize },
    /// HKDF-Expand cannot produce that many bytes (RFC 5869: at most 255 * HashLen).
    #[error("{hkdf} cannot expand to {requested} bytes (at most {max})")]
    HkdfOutputTooLong { hkdf: HkdfAlg, requested: usize, max: usize },
}

/// AEAD seal/open failed. `Authentication` is the ordinary "wrong key / wrong nonce / wrong AAD /
/// tampered" outcome; the other variants say the inputs could not even be tried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AeadError {
    /// The nonce has the wrong length for the algorithm.
    #[error("{alg} needs a {expected}-byte nonce, got {got} bytes")]
    NonceLength { alg: AeadAlg, expected: usize, got: usize },
    /// The ciphertext is shorter than the authentication tag.
    #[error("ciphertext of {len} bytes is shorter than the {tag_len}-byte tag")]
    CiphertextTooShort { len: usize, tag_len: usize },
    /// The message exceeds what the algorithm can process with this nonce length (AES-CCM with a
    /// 13-byte nonce has L = 2 and handles at most 65535 bytes).
    #[error("{alg} cannot process a {len}-byte message with a {nonce_len}-byte nonce")]
    TooLong { alg: AeadAlg, len: usize, nonce_len: usize },
    /// The tag did not verify: wrong key, nonce or AAD, or modified ciphertext.
    #[error("authentication tag mismatch")]
    Authentication,
}

/// The AEAD nonce (RFC 8613 §5.2) could not be built from these inputs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NonceError {
    /// ID_PIV longer than nonce length - 6 (RFC 8613 §3.3 / §5.2).
    #[error("ID_PIV of {len} bytes is longer than the {max} bytes the nonce can hold")]
    IdPivTooLong { len: usize, max: usize },
    /// Partial IV longer than 5 bytes (RFC 8613 §6.1: n = 6, 7 reserved).
    #[error("Partial IV of {len} bytes is longer than 5 bytes")]
    PivTooLong { len: usize },
    /// The Common IV is shorter than the 7 bytes any OSCORE nonce needs.
    #[error("Common IV of {len} bytes is shorter than 7 bytes")]
    CommonIvTooShort { len: usize },
}
