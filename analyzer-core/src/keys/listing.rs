//! Descriptions of contexts for `kudoscope keys list`: text and JSON (serde), with the master
//! secret shown only as length + fingerprint unless asked for.

use super::model::{ContextRole, KeyContext, KeySet, PeerSlot};
use crate::hex;
use serde::Serialize;
use std::fmt;

/// The master secret as listed: always its length and fingerprint (first 4 bytes of its
/// SHA-256), the hex value only with `show_secrets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretSummary {
    pub length: usize,
    pub fingerprint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hex: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerSummary {
    /// "client", "server", "local" or "peer".
    pub label: &'static str,
    pub sender_id: String,
    pub endpoints: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LimitsSummary {
    pub q: Option<u64>,
    pub v: Option<u64>,
    pub l: Option<u64>,
}

/// One context as `keys list` shows it. Salts, IDs and ID Contexts are not secret and are
/// shown in hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContextSummary {
    pub name: String,
    /// `path:line` (or the directory for aiocoap).
    pub source: String,
    pub format: &'static str,
    /// "initial" or "kudos-bootstrap".
    pub role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap_for: Option<String>,
    pub aead: &'static str,
    pub aead_cose_id: i64,
    pub hkdf: &'static str,
    /// "client/server" or "local/peer".
    pub orientation: &'static str,
    /// Peer A then peer B.
    pub peers: [PeerSummary; 2],
    pub master_secret: SecretSummary,
    /// Hex; empty when there is no Master Salt.
    pub master_salt: String,
    /// Hex; `None` when absent, `Some("")` when present and empty.
    pub id_context: Option<String>,
    pub limits: LimitsSummary,
}

impl KeyContext {
    /// A description for listing. The master secret's value is included only if
    /// `show_secrets`.
    pub fn summary(&self, show_secrets: bool) -> ContextSummary {
        let peer = |slot: PeerSlot| {
            let p = self.peer(slot);
            PeerSummary {
                label: self.slot_label(slot),
                sender_id: hex::encode(&p.sender_id),
                endpoints: p.endpoints.iter().map(ToString::to_string).collect(),
            }
        };
        let (role, bootstrap_for) = match &self.role {
            ContextRole::Initial => ("initial", None),
            ContextRole::KudosBootstrap { initial } => ("kudos-bootstrap", Some(initial.clone())),
        };
        let source = match self.source.line {
            Some(l) => format!("{}:{l}", self.source.path.display()),
            None => self.source.path.display().to_string(),
        };
        ContextSummary {
            name: self.name.clone(),
            source,
            format: self.source.format.as_str(),
            role,
            bootstrap_for,
            aead: self.aead.name(),
            aead_cose_id: self.aead.cose_id(),
            hkdf: self.hkdf.name(),
            orientation: self.orientation.as_str(),
            peers: [peer(PeerSlot::A), peer(PeerSlot::B)],
            master_secret: SecretSummary {
                length: self.master_secret.len(),
                fingerprint: self.master_secret.fingerprint(),
                hex: show_secrets.then(|| hex::encode(self.master_secret.expose())),
            },
            master_salt: hex::encode(&self.master_salt),
            id_context: self.id_context.as_deref().map(hex::encode),
            limits: LimitsSummary { q: self.limits.q, v: self.limits.v, l: self.limits.l },
        }
    }
}

impl KeySet {
    /// [`KeyContext::summary`] of every context, in load order.
    pub fn summaries(&self, show_secrets: bool) -> Vec<ContextSummary> {
        self.iter().map(|c| c.summary(show_secrets)).collect()
    }
}

fn bytes_note(hex: &str) -> String {
    let n = hex.len() / 2;
    if n == 1 { "1 byte".into() } else { format!("{n} bytes") }
}

impl fmt::Display for ContextSummary {
    /// Several lines, ending with a newline:
    /// ```text
    /// d01
    ///   source:        keys.toml:3 (toml)
    ///   role:          initial
    ///   algorithms:    AES-CCM-16-64-128 (COSE 10), HKDF-SHA-256
    ///   client:        sender ID 6e
    ///   server:        sender ID e9, endpoints 127.0.0.1:5683
    ///   master secret: 16 bytes, fingerprint 1a2b3c4d
    ///   master salt:   9642216a141df02c (8 bytes)
    ///   ID context:    absent
    ///   key limits:    defaults
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.name)?;
        writeln!(f, "  source:        {} ({})", self.source, self.format)?;
        match &self.bootstrap_for {
            Some(i) => writeln!(f, "  role:          KUDOS bootstrap context of {i:?}")?,
            None => writeln!(f, "  role:          {}", self.role)?,
        }
        writeln!(f, "  algorithms:    {} (COSE {}), {}", self.aead, self.aead_cose_id, self.hkdf)?;
        for p in &self.peers {
            let id = if p.sender_id.is_empty() { "(empty)" } else { p.sender_id.as_str() };
            write!(f, "  {:<14} sender ID {id}", format!("{}:", p.label))?;
            if !p.endpoints.is_empty() {
                write!(f, ", endpoints {}", p.endpoints.join(" "))?;
            }
            writeln!(f)?;
        }
        match &self.master_secret.hex {
            Some(h) => writeln!(f, "  master secret: {h} ({} bytes)", self.master_secret.length)?,
            None => writeln!(
                f,
                "  master secret: {} bytes, fingerprint {}",
                self.master_secret.length, self.master_secret.fingerprint
            )?,
        }
        if self.master_salt.is_empty() {
            writeln!(f, "  master salt:   (none)")?;
        } else {
            writeln!(f, "  master salt:   {} ({})", self.master_salt, bytes_note(&self.master_salt))?;
        }
        match &self.id_context {
            None => writeln!(f, "  ID context:    absent")?,
            Some(c) if c.is_empty() => writeln!(f, "  ID context:    present, empty")?,
            Some(c) => writeln!(f, "  ID context:    {c} ({})", bytes_note(c))?,
        }
        let l = self.limits;
        let parts: Vec<String> = [("q", l.q), ("v", l.v), ("l", l.l)]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k} {v}")))
            .collect();
        if parts.is_empty() {
            writeln!(f, "  key limits:    defaults")
        } else {
            writeln!(f, "  key limits:    {}", parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn listing_redacts_unless_asked() {
        let text = "[[context]]\nname = \"d02\"\nmaster_secret = \"23bdccbf309272385249b1b8ddaf695f\"\n\
                    master_salt = \"a4a26dcd20c451a9\"\nid_context = \"d93c4302b4ff\"\n\
                    client = { sender_id = \"b74f\" }\nserver = { sender_id = \"2c\", endpoints = [\"127.0.0.1:5683\"] }\n\
                    limits = { q = 1048576 }\n";
        let k = super::super::toml_format::parse_toml(text, Path::new("k.toml")).unwrap();
        let c = &k.contexts[0];
        let s = c.summary(false);
        let shown = format!("{s}{}", serde_json::to_string(&s).unwrap());
        assert!(!shown.contains("23bdccbf309272385249b1b8ddaf695f"));
        assert!(shown.contains(&c.master_secret.fingerprint()));
        assert_eq!(
            s.to_string(),
            format!(
                "d02\n  source:        k.toml:1 (toml)\n  role:          initial\n  \
                 algorithms:    AES-CCM-16-64-128 (COSE 10), HKDF-SHA-256\n  \
                 client:        sender ID b74f\n  server:        sender ID 2c, endpoints 127.0.0.1:5683\n  \
                 master secret: 16 bytes, fingerprint {}\n  master salt:   a4a26dcd20c451a9 (8 bytes)\n  \
                 ID context:    d93c4302b4ff (6 bytes)\n  key limits:    q 1048576\n",
                c.master_secret.fingerprint()
            )
        );
        let shown = c.summary(true).to_string();
        assert!(shown.contains("master secret: 23bdccbf309272385249b1b8ddaf695f (16 bytes)"));
    }
}
