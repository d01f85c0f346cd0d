//! OSCORE (RFC 8613): algorithms, security-context derivation, nonce/AAD construction, AEAD
//! unprotect/protect, the OSCORE option (including KUDOS extension bytes), and KUDOS updateCtx.
//!
//! CONTRACT (other modules rely on these names and meanings):
//! - [`alg`]: [`AeadAlg`] (COSE ids 10-13, 30-33, 1-3, 24) and [`HkdfAlg`] with their sizes.
//! - [`params::ContextParams`]: the inputs of RFC 8613 §3.2 (secrets redacted in Debug).
//! - [`context`]: derivation into keys + Common IV, nonce, AAD.
//! - [`aead`]: seal/open for every [`AeadAlg`].
//! - [`option`]: the OSCORE option value, parsed structurally with byte ranges.
//! - [`kudos`]: updateCtx (draft-ietf-core-oscore-key-update, both ExpandLabel encodings).
//!
//! - [`store`]: every context known to the analysis, with lineage and key-usage counters.
//! - [`engine`]: context selection, unprotect, replay / nonce-reuse / key-limit audit.
//!
//! Also: [`error`] (typed errors, never carrying secret bytes), [`kdf`] (HKDF Extract/Expand
//! over SHA-256/384/512), [`cbor`] (the byte-exact CBOR encodings OSCORE needs).

pub mod aead;
pub mod alg;
pub mod cbor;
mod ccm;
pub mod context;
pub mod engine;
pub mod error;
pub mod kdf;
pub mod kudos;
pub mod option;
pub mod params;
pub mod store;

pub use aead::{AeadKey, Unverified};
pub use alg::{AeadAlg, HkdfAlg};
pub use error::{AeadError, CryptoError, NonceError};
pub use params::{ContextParams, Secret};
