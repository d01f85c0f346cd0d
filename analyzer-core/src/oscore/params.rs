//! Security-context input parameters (RFC 8613 §3.1) and the redacting [`Secret`] type.

use super::alg::{AeadAlg, HkdfAlg};
use sha2::{Digest, Sha256};
use std::fmt;

/// Secret bytes (Master Secret, derived keys). `Debug` and `Display` never show the value,
/// only its length and a fingerprint.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(bytes)
    }
    /// The secret bytes. Callers must not log them.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// First 4 bytes of SHA-256 over the value, hex: identifies a secret without revealing it.
    pub fn fingerprint(&self) -> String {
        let d = Sha256::digest(&self.0);
        crate::hex::encode(d.get(..4).unwrap_or_default())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes, fp {})", self.0.len(), self.fingerprint())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<secret {} B, fp {}>", self.0.len(), self.fingerprint())
    }
}

/// The inputs of an OSCORE security context, from one endpoint's point of view.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContextParams {
    pub master_secret: Secret,
    /// Empty when absent (RFC 8613: default empty).
    pub master_salt: Vec<u8>,
    /// `None` = absent (CBOR nil in the info); `Some(vec![])` = present and empty.
    pub id_context: Option<Vec<u8>>,
    pub sender_id: Vec<u8>,
    pub recipient_id: Vec<u8>,
    pub aead: AeadAlg,
    pub hkdf: HkdfAlg,
}

impl ContextParams {
    /// The same context seen from the other endpoint (Sender/Recipient IDs swapped).
    pub fn reversed(&self) -> ContextParams {
        let mut r = self.clone();
        std::mem::swap(&mut r.sender_id, &mut r.recipient_id);
        r
    }
}
