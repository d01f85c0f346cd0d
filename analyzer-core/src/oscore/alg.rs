//! AEAD and HKDF algorithms OSCORE can use (COSE identifiers, RFC 9053).

use std::fmt;

/// An AEAD algorithm by COSE identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AeadAlg {
    /// 10: AES-CCM-16-64-128 (OSCORE's mandatory default).
    AesCcm16_64_128,
    /// 11
    AesCcm16_64_256,
    /// 12
    AesCcm64_64_128,
    /// 13
    AesCcm64_64_256,
    /// 30
    AesCcm16_128_128,
    /// 31
    AesCcm16_128_256,
    /// 32
    AesCcm64_128_128,
    /// 33
    AesCcm64_128_256,
    /// 1
    A128Gcm,
    /// 2
    A192Gcm,
    /// 3
    A256Gcm,
    /// 24
    ChaCha20Poly1305,
}

impl AeadAlg {
    pub const ALL: [AeadAlg; 12] = [
        AeadAlg::AesCcm16_64_128,
        AeadAlg::AesCcm16_64_256,
        AeadAlg::AesCcm64_64_128,
        AeadAlg::AesCcm64_64_256,
        AeadAlg::AesCcm16_128_128,
        AeadAlg::AesCcm16_128_256,
        AeadAlg::AesCcm64_128_128,
        AeadAlg::AesCcm64_128_256,
        AeadAlg::A128Gcm,
        AeadAlg::A192Gcm,
        AeadAlg::A256Gcm,
        AeadAlg::ChaCha20Poly1305,
    ];

    /// (COSE id, name, key length, nonce length, tag length)
    const fn table(self) -> (i64, &'static str, usize, usize, usize) {
        match self {
            AeadAlg::AesCcm16_64_128 => (10, "AES-CCM-16-64-128", 16, 13, 8),
            AeadAlg::AesCcm16_64_256 => (11, "AES-CCM-16-64-256", 32, 13, 8),
            AeadAlg::AesCcm64_64_128 => (12, "AES-CCM-64-64-128", 16, 7, 8),
            AeadAlg::AesCcm64_64_256 => (13, "AES-CCM-64-64-256", 32, 7, 8),
            AeadAlg::AesCcm16_128_128 => (30, "AES-CCM-16-128-128", 16, 13, 16),
            AeadAlg::AesCcm16_128_256 => (31, "AES-CCM-16-128-256", 32, 13, 16),
            AeadAlg::AesCcm64_128_128 => (32, "AES-CCM-64-128-128", 16, 7, 16),
            AeadAlg::AesCcm64_128_256 => (33, "AES-CCM-64-128-256", 32, 7, 16),
            AeadAlg::A128Gcm => (1, "A128GCM", 16, 12, 16),
            AeadAlg::A192Gcm => (2, "A192GCM", 24, 12, 16),
            AeadAlg::A256Gcm => (3, "A256GCM", 32, 12, 16),
            AeadAlg::ChaCha20Poly1305 => (24, "ChaCha20/Poly1305", 32, 12, 16),
        }
    }

    pub const fn cose_id(self) -> i64 {
        self.table().0
    }
    /// The COSE name, e.g. "AES-CCM-16-64-128".
    pub const fn name(self) -> &'static str {
        self.table().1
    }
    pub const fn key_len(self) -> usize {
        self.table().2
    }
    pub const fn nonce_len(self) -> usize {
        self.table().3
    }
    pub const fn tag_len(self) -> usize {
        self.table().4
    }
    /// Longest Sender/Recipient ID usable with this nonce length (RFC 8613 §3.3).
    pub const fn max_id_len(self) -> usize {
        self.nonce_len() - 6
    }

    pub fn from_cose_id(id: i64) -> Option<AeadAlg> {
        AeadAlg::ALL.into_iter().find(|a| a.cose_id() == id)
    }

    /// Accepts a COSE id ("10"), a COSE name ("AES-CCM-16-64-128", case-insensitive, also with
    /// '_' for '-'), or Wireshark's UAT label ("AES-CCM-16-64-128 (CCM*)").
    pub fn parse(s: &str) -> Option<AeadAlg> {
        let t = s.trim();
        if let Ok(id) = t.parse::<i64>() {
            return AeadAlg::from_cose_id(id);
        }
        let t = t.strip_suffix("(CCM*)").unwrap_or(t).trim();
        let norm = |x: &str| x.to_ascii_uppercase().replace(['_', ' '], "-");
        let t = norm(t);
        AeadAlg::ALL.into_iter().find(|a| {
            let n = norm(a.name());
            n == t
                || n.replace('/', "-") == t
                || (a == &AeadAlg::ChaCha20Poly1305 && t == "CHACHA20-POLY1305")
        })
    }
}

impl fmt::Display for AeadAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An HKDF algorithm (COSE "HKDF SHA-256" = -10, "HKDF SHA-512" = -11; SHA-384 is offered by
/// aiocoap's `kdf-hashfun` and has no COSE id of its own in this role).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum HkdfAlg {
    #[default]
    Sha256,
    Sha384,
    Sha512,
}

impl HkdfAlg {
    pub const ALL: [HkdfAlg; 3] = [HkdfAlg::Sha256, HkdfAlg::Sha384, HkdfAlg::Sha512];

    pub const fn name(self) -> &'static str {
        match self {
            HkdfAlg::Sha256 => "HKDF-SHA-256",
            HkdfAlg::Sha384 => "HKDF-SHA-384",
            HkdfAlg::Sha512 => "HKDF-SHA-512",
        }
    }
    /// COSE algorithm id, where one exists.
    pub const fn cose_id(self) -> Option<i64> {
        match self {
            HkdfAlg::Sha256 => Some(-10),
            HkdfAlg::Sha384 => None,
            HkdfAlg::Sha512 => Some(-11),
        }
    }
    pub const fn hash_len(self) -> usize {
        match self {
            HkdfAlg::Sha256 => 32,
            HkdfAlg::Sha384 => 48,
            HkdfAlg::Sha512 => 64,
        }
    }
    /// Accepts "-10", "-11", "HKDF-SHA-256", "sha256", "SHA-512", ... (case-insensitive).
    pub fn parse(s: &str) -> Option<HkdfAlg> {
        let t = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        match t.as_str() {
            "-10" | "hkdf-sha-256" | "hkdf-sha256" | "sha256" | "sha-256" => Some(HkdfAlg::Sha256),
            "hkdf-sha-384" | "hkdf-sha384" | "sha384" | "sha-384" => Some(HkdfAlg::Sha384),
            "-11" | "hkdf-sha-512" | "hkdf-sha512" | "sha512" | "sha-512" => Some(HkdfAlg::Sha512),
            _ => None,
        }
    }
}

impl fmt::Display for HkdfAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_ids_and_uat_label() {
        assert_eq!(AeadAlg::parse("10"), Some(AeadAlg::AesCcm16_64_128));
        assert_eq!(AeadAlg::parse("AES-CCM-16-64-128 (CCM*)"), Some(AeadAlg::AesCcm16_64_128));
        assert_eq!(AeadAlg::parse("aes_ccm_16_128_256"), Some(AeadAlg::AesCcm16_128_256));
        assert_eq!(AeadAlg::parse("A256GCM"), Some(AeadAlg::A256Gcm));
        assert_eq!(AeadAlg::parse("ChaCha20/Poly1305"), Some(AeadAlg::ChaCha20Poly1305));
        assert_eq!(AeadAlg::parse("24"), Some(AeadAlg::ChaCha20Poly1305));
        assert_eq!(AeadAlg::parse("AES-CCM-16-64-129"), None);
        assert_eq!(HkdfAlg::parse("sha256"), Some(HkdfAlg::Sha256));
        assert_eq!(HkdfAlg::parse("-11"), Some(HkdfAlg::Sha512));
        for a in AeadAlg::ALL {
            assert_eq!(AeadAlg::from_cose_id(a.cose_id()), Some(a));
            assert_eq!(AeadAlg::parse(a.name()), Some(a));
            assert!(a.max_id_len() >= 1);
        }
    }
}
