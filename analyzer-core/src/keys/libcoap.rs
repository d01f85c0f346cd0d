//! libcoap OSCORE configuration files (`coap-oscore-conf(5)`, used by `coap-client -E` and
//! `coap-server -E`).
//!
//! One entry per line, `keyword,encoding,value`; lines starting with `#` and empty lines are
//! ignored. Encodings: `ascii` and `hex` (value optionally in `"`), `integer`, `unsigned64`,
//! `text` (a COSE algorithm name, optionally in `"`), `bool` (`true`/`false`) and `config` (a
//! block of nested entries between single quotes, for `complex_sender` /
//! `complex_recipient`). Keywords (libcoap 4.3.5 plus later additions):
//!
//! | keyword | encodings | use here |
//! |---|---|---|
//! | `master_secret` | hex, ascii | required |
//! | `master_salt`, `id_context` | hex, ascii | optional (absent id_context = no ID Context) |
//! | `sender_id` | hex, ascii | required: the local endpoint's Sender ID |
//! | `recipient_id` | hex, ascii | required here; a server may list several: one context each |
//! | `aead_alg` | integer, text | COSE id or name, default 10 |
//! | `hkdf_alg` | integer, text | -10 / -11 or `direct+HKDF-SHA-256` / `-512`, default -10 |
//! | `replay_window`, `ssn_freq` | integer | checked, ignored |
//! | `rfc8613_b_1_2`, `rfc8613_b_2` | bool | checked, ignored |
//! | `break_sender_key`, `break_recipient_key` | bool | a warning when true |
//! | `complex_sender` | config | nested `sender_id` |
//! | `complex_recipient` | config | nested `recipient_id`, `silent_server` (bool), `last_seq`, `sliding_window` (unsigned64) |
//!
//! Unknown keywords and encodings are errors (libcoap refuses them too). The file is one
//! endpoint's view: contexts are local/peer oriented.

use super::error::{KeysError, KeysErrorKind, KeysWarning, Location, safe_echo, safe_name, to_u32};
use super::model::{
    ContextSource, FieldRef, KeyContext, KeysFormat, LoadedKeys, Orientation, PeerSlot, finish_context,
};
use crate::oscore::{AeadAlg, HkdfAlg, Secret};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Enc {
    Ascii,
    Hex,
    Integer,
    Unsigned64,
    Text,
    Bool,
    Config,
}

impl Enc {
    fn parse(s: &str) -> Option<Enc> {
        Some(match s {
            "ascii" => Enc::Ascii,
            "hex" => Enc::Hex,
            "integer" => Enc::Integer,
            "unsigned64" => Enc::Unsigned64,
            "text" => Enc::Text,
            "bool" => Enc::Bool,
            "config" => Enc::Config,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Top,
    Sender,
    Recipient,
}

/// Keywords of a scope with the encodings each accepts.
fn keywords(scope: Scope) -> &'static [(&'static str, &'static [Enc])] {
    const BIN: &[Enc] = &[Enc::Hex, Enc::Ascii];
    const INT: &[Enc] = &[Enc::Integer];
    const ALG: &[Enc] = &[Enc::Integer, Enc::Text];
    const BOOL: &[Enc] = &[Enc::Bool];
    const CONF: &[Enc] = &[Enc::Config];
    const U64: &[Enc] = &[Enc::Unsigned64];
    match scope {
        Scope::Top => &[
            ("master_secret", BIN),
            ("master_salt", BIN),
            ("id_context", BIN),
            ("sender_id", BIN),
            ("recipient_id", BIN),
            ("replay_window", INT),
            ("ssn_freq", INT),
            ("aead_alg", ALG),
            ("hkdf_alg", ALG),
            ("rfc8613_b_1_2", BOOL),
            ("rfc8613_b_2", BOOL),
            ("break_sender_key", BOOL),
            ("break_recipient_key", BOOL),
            ("complex_sender", CONF),
            ("complex_recipient", CONF),
        ],
        Scope::Sender => &[("sender_id", BIN)],
        Scope::Recipient => {
            &[("recipient_id", BIN), ("silent_server", BOOL), ("last_seq", U64), ("sliding_window", U64)]
        }
    }
}

#[derive(Debug, Clone)]
enum Val {
    Bytes(Vec<u8>),
    Int(i64),
    Text(String),
    Bool(bool),
    Block(Vec<Entry>),
}

#[derive(Debug, Clone)]
struct Entry {
    keyword: &'static str,
    val: Val,
    /// Location of the value.
    at: Location,
}

struct Parser<'a> {
    path: &'a Path,
    lines: Vec<(u32, &'a str)>,
    pos: usize,
}

/// A `"`-quoted or bare value; text after a closing quote is an error.
fn unquote(v: &str) -> Result<&str, String> {
    let t = v.trim();
    match t.strip_prefix('"') {
        None => Ok(t),
        Some(rest) => match rest.find('"') {
            None => Err("unterminated '\"'".into()),
            Some(end) => {
                if !rest.get(end + 1..).unwrap_or_default().trim().is_empty() {
                    return Err("unexpected text after the closing '\"'".into());
                }
                Ok(rest.get(..end).unwrap_or_default())
            }
        },
    }
}

impl<'a> Parser<'a> {
    fn err(&self, at: Location, field: Option<&str>, kind: KeysErrorKind) -> KeysError {
        let e = KeysError::new(self.path, kind).at(Some(at));
        match field {
            Some(f) => e.field(f),
            None => e,
        }
    }

    /// Parses entries until the end of input, or (in a block) until the closing `'`.
    fn entries(&mut self, scope: Scope, block_start: Option<Location>) -> Result<Vec<Entry>, KeysError> {
        let mut out = Vec::new();
        while let Some(&(line_no, raw)) = self.lines.get(self.pos) {
            self.pos += 1;
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if block_start.is_some() && trimmed == "'" {
                return Ok(out);
            }
            let col_of = |byte: usize| to_u32(line.get(..byte).map_or(byte, |p| p.chars().count()) + 1);
            let mut parts = line.splitn(3, ',');
            let (Some(kw), Some(enc), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(self.err(
                    Location::at(line_no, 1),
                    None,
                    KeysErrorKind::Syntax("expected keyword,encoding,value".into()),
                ));
            };
            let value_at = Location::at(line_no, col_of(kw.len() + enc.len() + 2));
            let enc_at = Location::at(line_no, col_of(kw.len() + 1));
            let kw_at = Location::at(line_no, col_of(kw.len() - kw.trim_start().len()));
            let kw = kw.trim();
            let enc_name = enc.trim();
            let table = keywords(scope);
            let Some(&(keyword, allowed)) = table.iter().find(|(k, _)| *k == kw) else {
                let names: Vec<&str> = table.iter().map(|(k, _)| *k).collect();
                return Err(self.err(
                    kw_at,
                    Some(&safe_name(kw)),
                    KeysErrorKind::UnknownField { expected: names.join(", ") },
                ));
            };
            let Some(enc) = Enc::parse(enc_name) else {
                return Err(self.err(
                    enc_at,
                    Some(keyword),
                    KeysErrorKind::Invalid(format!(
                        "unknown encoding {}; expected ascii, hex, integer, unsigned64, text, bool or config",
                        safe_echo(enc_name)
                    )),
                ));
            };
            if !allowed.contains(&enc) {
                let names: Vec<&str> = allowed.iter().map(|e| enc_label(*e)).collect();
                return Err(self.err(
                    enc_at,
                    Some(keyword),
                    KeysErrorKind::Invalid(format!(
                        "encoding {enc_name} is not allowed here; use {}",
                        names.join(" or ")
                    )),
                ));
            }
            let bad = |m: String| self.err(value_at, Some(keyword), KeysErrorKind::Invalid(m));
            let val = match enc {
                Enc::Ascii => Val::Bytes(unquote(value).map_err(bad)?.as_bytes().to_vec()),
                Enc::Hex => {
                    let t = unquote(value).map_err(bad)?;
                    Val::Bytes(
                        crate::hex::decode(t)
                            .map_err(|e| self.err(value_at, Some(keyword), KeysErrorKind::Hex(e)))?,
                    )
                }
                Enc::Text => Val::Text(unquote(value).map_err(bad)?.to_string()),
                Enc::Integer => Val::Int(
                    value
                        .trim()
                        .parse::<i64>()
                        .map_err(|_| bad(format!("not an integer: {}", safe_echo(value.trim()))))?,
                ),
                Enc::Unsigned64 => {
                    let n = value.trim().parse::<u64>().map_err(|_| {
                        bad(format!("not an unsigned 64-bit integer: {}", safe_echo(value.trim())))
                    })?;
                    Val::Int(i64::try_from(n).unwrap_or(i64::MAX))
                }
                Enc::Bool => match value.trim() {
                    "true" => Val::Bool(true),
                    "false" => Val::Bool(false),
                    other => return Err(bad(format!("expected true or false, found {}", safe_echo(other)))),
                },
                Enc::Config => {
                    let sub = match keyword {
                        "complex_sender" => Scope::Sender,
                        _ => Scope::Recipient,
                    };
                    if value.trim() != "'" {
                        return Err(bad(
                            "a config block opens with a single ' at the end of this line and closes with a line holding only '"
                                .into(),
                        ));
                    }
                    Val::Block(self.entries(sub, Some(value_at))?)
                }
            };
            out.push(Entry { keyword, val, at: value_at });
        }
        match block_start {
            Some(at) => {
                Err(self.err(at, None, KeysErrorKind::Syntax("config block not closed with '".into())))
            }
            None => Ok(out),
        }
    }
}

fn enc_label(e: Enc) -> &'static str {
    match e {
        Enc::Ascii => "ascii",
        Enc::Hex => "hex",
        Enc::Integer => "integer",
        Enc::Unsigned64 => "unsigned64",
        Enc::Text => "text",
        Enc::Bool => "bool",
        Enc::Config => "config",
    }
}

/// Reads a libcoap `coap-oscore-conf(5)` file. One context per `recipient_id`, local/peer
/// oriented (`sender_id` is the local endpoint's).
pub fn parse_libcoap(text: &str, path: &Path) -> Result<LoadedKeys, KeysError> {
    let lines: Vec<(u32, &str)> = text.split('\n').enumerate().map(|(i, l)| (to_u32(i + 1), l)).collect();
    let mut p = Parser { path, lines, pos: 0 };
    let entries = p.entries(Scope::Top, None)?;
    let mut out = LoadedKeys::default();

    // libcoap stops at the last '\n': a final line without one is silently ignored by it.
    if let Some(last) = text.rsplit('\n').next() {
        let t = last.trim();
        if !text.ends_with('\n') && !t.is_empty() && !t.starts_with('#') {
            out.warnings.push(KeysWarning {
                path: path.to_path_buf(),
                location: Some(Location::line(to_u32(text.split('\n').count()))),
                field: None,
                message: "the last line has no newline: libcoap ignores it (kudoscope reads it)".into(),
            });
        }
    }

    let mut secret: Option<(Vec<u8>, Location)> = None;
    let mut salt: Option<Vec<u8>> = None;
    let mut id_context: Option<Vec<u8>> = None;
    let mut sender: Option<(Vec<u8>, Location)> = None;
    let mut recipients: Vec<(Vec<u8>, Location)> = Vec::new();
    let mut aead = AeadAlg::AesCcm16_64_128;
    let mut hkdf = HkdfAlg::Sha256;
    let mut seen: Vec<&'static str> = Vec::new();

    let dup = |e: &Entry| KeysError::new(path, KeysErrorKind::Duplicate).at(Some(e.at)).field(e.keyword);
    let mut flat: Vec<Entry> = Vec::new();
    for e in entries {
        match e.val {
            Val::Block(inner) => flat.extend(inner),
            _ => flat.push(e),
        }
    }
    for e in &flat {
        let repeatable =
            matches!(e.keyword, "recipient_id" | "silent_server" | "last_seq" | "sliding_window");
        if !repeatable {
            if seen.contains(&e.keyword) {
                return Err(dup(e));
            }
            seen.push(e.keyword);
        }
        match (e.keyword, &e.val) {
            ("master_secret", Val::Bytes(b)) => secret = Some((b.clone(), e.at)),
            ("master_salt", Val::Bytes(b)) => salt = Some(b.clone()),
            ("id_context", Val::Bytes(b)) => id_context = Some(b.clone()),
            ("sender_id", Val::Bytes(b)) => sender = Some((b.clone(), e.at)),
            ("recipient_id", Val::Bytes(b)) => recipients.push((b.clone(), e.at)),
            ("aead_alg", v) => {
                let (alg, shown) = match v {
                    Val::Int(n) => (AeadAlg::from_cose_id(*n), n.to_string()),
                    Val::Text(t) => (AeadAlg::parse(t), safe_echo(t)),
                    _ => (None, String::new()),
                };
                aead = alg.ok_or_else(|| {
                    KeysError::new(path, KeysErrorKind::UnknownAead(shown)).at(Some(e.at)).field(e.keyword)
                })?;
            }
            ("hkdf_alg", v) => {
                let (alg, shown) = match v {
                    Val::Int(n) => (HkdfAlg::parse(&n.to_string()), n.to_string()),
                    Val::Text(t) => (HkdfAlg::parse(t.strip_prefix("direct+").unwrap_or(t)), safe_echo(t)),
                    _ => (None, String::new()),
                };
                hkdf = alg.ok_or_else(|| {
                    KeysError::new(path, KeysErrorKind::UnknownHkdf(shown)).at(Some(e.at)).field(e.keyword)
                })?;
            }
            ("break_sender_key" | "break_recipient_key", Val::Bool(true)) => out.warnings.push(KeysWarning {
                path: path.to_path_buf(),
                location: Some(e.at),
                field: Some(e.keyword.to_string()),
                message: "libcoap deliberately breaks this derived key: its messages will not decrypt".into(),
            }),
            _ => {}
        }
    }

    let Some((secret, secret_at)) = secret else {
        return Err(KeysError::new(path, KeysErrorKind::Missing).field("master_secret"));
    };
    let Some((sender, sender_at)) = sender else {
        return Err(KeysError::new(path, KeysErrorKind::Missing).field("sender_id"));
    };
    if recipients.is_empty() {
        return Err(KeysError::new(
            path,
            KeysErrorKind::Invalid(
                "missing: kudoscope needs the other endpoint's ID to know both Sender IDs".into(),
            ),
        )
        .field("recipient_id"));
    }
    for (index, (rid, rid_at)) in recipients.into_iter().enumerate() {
        let source = ContextSource {
            path: path.to_path_buf(),
            line: Some(rid_at.line),
            format: KeysFormat::Libcoap,
            index: index + 1,
        };
        let mut ctx = KeyContext::new_client_server(source, Secret::new(secret.clone()), sender.clone(), rid);
        ctx.orientation = Orientation::LocalPeer;
        ctx.master_salt = salt.clone().unwrap_or_default();
        ctx.id_context = id_context.clone();
        ctx.aead = aead;
        ctx.hkdf = hkdf;
        let locate = |f: FieldRef| -> (String, Option<Location>) {
            match f {
                FieldRef::MasterSecret => ("master_secret".into(), Some(secret_at)),
                FieldRef::SenderId(PeerSlot::A) => ("sender_id".into(), Some(sender_at)),
                FieldRef::SenderId(PeerSlot::B) => ("recipient_id".into(), Some(rid_at)),
                _ => ("recipient_id".into(), Some(rid_at)),
            }
        };
        finish_context(&ctx, path, &mut out.warnings, &locate)?;
        out.contexts.push(ctx);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const D01: &str = "# coap-oscore-conf(5) for libcoap's coap-client (client's view) - capture d01_aiocoap_aiocoap\n\
        master_secret,hex,\"2b9dc18059e139220fb99e7df5abfaf0\"\n\
        master_salt,hex,\"9642216a141df02c\"\n\
        sender_id,hex,\"6e\"\n\
        recipient_id,hex,\"e9\"\n\
        aead_alg,integer,10\n\
        hkdf_alg,integer,-10\n";

    fn parse(s: &str) -> Result<LoadedKeys, KeysError> {
        parse_libcoap(s, Path::new("c.conf"))
    }

    #[test]
    fn reads_d01() {
        let k = parse(D01).unwrap();
        let c = &k.contexts[0];
        assert_eq!(c.orientation, Orientation::LocalPeer);
        assert_eq!(c.peer_a.sender_id, vec![0x6e]);
        assert_eq!(c.peer_b.sender_id, vec![0xe9]);
        assert_eq!(c.source.line, Some(5));
        assert_eq!(c.id_context, None);
        assert!(k.warnings.is_empty());
    }

    #[test]
    fn server_with_several_recipients_and_blocks() {
        let s = "master_secret,ascii,\"secret\"\nsender_id,ascii,\"server\"\nrecipient_id,ascii,\"client\"\n\
                 complex_recipient,config,'\n# comment\nrecipient_id,hex,\"0102\"\nsilent_server,bool,true\n'\n\
                 aead_alg,text,\"AES-CCM-16-64-256\"\nhkdf_alg,text,direct+HKDF-SHA-256\nreplay_window,integer,32\n";
        let k = parse(s).unwrap();
        assert_eq!(k.contexts.len(), 2);
        assert_eq!(k.contexts[1].peer_b.sender_id, vec![1, 2]);
        assert_eq!(k.contexts[1].source.line, Some(6));
        assert_eq!(k.contexts[1].name, "c.conf#2");
        assert_eq!(k.contexts[0].aead, AeadAlg::AesCcm16_64_256);
        assert_eq!(k.contexts[0].peer_a.sender_id, b"server");
    }

    #[test]
    fn errors() {
        let e = parse(&D01.replace("aead_alg", "aead_algo")).unwrap_err();
        assert_eq!(
            e.to_string().split(" (").next().unwrap(),
            "c.conf:6:1: field \"aead_algo\": unknown field"
        );
        let e = parse(&D01.replace("sender_id,hex", "sender_id,hexa")).unwrap_err();
        assert!(
            e.to_string().starts_with("c.conf:4:11: field \"sender_id\": unknown encoding \"hexa\""),
            "{e}"
        );
        let e = parse(&D01.replace("sender_id,hex", "sender_id,integer")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.conf:4:11: field \"sender_id\": encoding integer is not allowed here; use hex or ascii"
        );
        let e = parse(&D01.replace("\"6e\"", "\"6x\"")).unwrap_err();
        assert_eq!(e.to_string(), "c.conf:4:15: field \"sender_id\": invalid hex digit 'x' at position 1");
        let e = parse(&format!("{D01}master_salt,hex,00\n")).unwrap_err();
        assert_eq!(e.to_string(), "c.conf:8:17: field \"master_salt\": defined more than once");
        let e = parse(&D01.replace("integer,10", "integer,99")).unwrap_err();
        assert_eq!(e.to_string(), "c.conf:6:18: field \"aead_alg\": unknown AEAD algorithm 99");
        let e = parse(&D01.replace("recipient_id,hex,\"e9\"", "recipient_id,hex,\"0102030405060708\""))
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("recipient_id"));
        assert_eq!(e.line(), Some(5));
        let e = parse("complex_recipient,config,'\nrecipient_id,hex,01\n").unwrap_err();
        assert!(e.to_string().contains("config block not closed"));
        assert!(parse("nonsense\n").unwrap_err().to_string().starts_with("c.conf:1:1: syntax error"));
    }

    #[test]
    fn warnings() {
        let k = parse(&format!("{D01}break_sender_key,bool,true")).unwrap();
        assert_eq!(k.warnings.len(), 2, "{:?}", k.warnings);
        assert!(k.warnings[0].to_string().contains("no newline"));
    }
}
