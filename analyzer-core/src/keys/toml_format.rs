//! kudoscope's TOML keys format (docs/keys-format.md): reader and writer.
//!
//! The reader walks `toml::de::DeTable`, which keeps the byte span of every key and value, so
//! every error names the line, column and field. It is strict: unknown fields, wrong types,
//! bad hex and out-of-range values are errors. Values of secret fields are never echoed.

use super::error::{KeysError, KeysErrorKind, KeysWarning, Location, safe_echo, safe_name};
use super::model::{
    ContextRole, ContextSource, EndpointHint, FieldRef, KeyContext, KeyLimits, KeysFormat, LoadedKeys,
    NameOrigin, Orientation, Peer, PeerSlot, check_name, derived_name, finish_context,
};
use crate::oscore::{AeadAlg, HkdfAlg, Secret};
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// The version this reader understands (`version = 1`, optional).
pub const TOML_FORMAT_VERSION: i64 = 1;

const TOP_FIELDS: &[&str] = &["version", "context"];
const CONTEXT_FIELDS: &[&str] = &[
    "name",
    "role",
    "bootstrap_for",
    "master_secret",
    "master_salt",
    "id_context",
    "aead",
    "hkdf",
    "client",
    "server",
    "local",
    "peer",
    "limits",
];
const PEER_FIELDS: &[&str] = &["sender_id", "endpoints"];
const LIMIT_FIELDS: &[&str] = &["q", "v", "l"];

type Entry<'a, 'i> = (&'a Spanned<std::borrow::Cow<'i, str>>, &'a Spanned<DeValue<'i>>);

struct Reader<'t> {
    text: &'t str,
    path: &'t Path,
}

impl Reader<'_> {
    fn loc(&self, span: Range<usize>) -> Option<Location> {
        Some(Location::of_offset(self.text, span.start))
    }
    fn err(&self, span: Range<usize>, field: &str, kind: KeysErrorKind) -> KeysError {
        KeysError::new(self.path, kind).at(self.loc(span)).field(field)
    }

    /// The entries of a table in file order; unknown keys are an error.
    fn entries<'a, 'i>(
        &self,
        table: &'a DeTable<'i>,
        allowed: &[&str],
        prefix: &str,
    ) -> Result<BTreeMap<String, &'a Spanned<DeValue<'i>>>, KeysError> {
        let mut ordered: Vec<Entry<'a, 'i>> = table.iter().collect();
        ordered.sort_by_key(|(k, _)| k.span().start);
        let mut out = BTreeMap::new();
        for (k, v) in ordered {
            let name: &str = k.get_ref();
            if !allowed.contains(&name) {
                return Err(self.err(
                    k.span(),
                    &format!("{prefix}{}", safe_name(name)),
                    KeysErrorKind::UnknownField { expected: allowed.join(", ") },
                ));
            }
            out.insert(name.to_string(), v);
        }
        Ok(out)
    }

    fn string<'v>(&self, v: &'v Spanned<DeValue<'_>>, field: &str) -> Result<&'v str, KeysError> {
        match v.get_ref() {
            DeValue::String(s) => Ok(s.as_ref()),
            other => Err(self.err(
                v.span(),
                field,
                KeysErrorKind::WrongType { expected: "a string", found: other.type_str() },
            )),
        }
    }

    fn hex(&self, v: &Spanned<DeValue<'_>>, field: &str) -> Result<Vec<u8>, KeysError> {
        let s = self.string(v, field)?;
        crate::hex::decode(s).map_err(|e| self.err(v.span(), field, KeysErrorKind::Hex(e)))
    }

    fn table<'a, 'i>(&self, v: &'a Spanned<DeValue<'i>>, field: &str) -> Result<&'a DeTable<'i>, KeysError> {
        match v.get_ref() {
            DeValue::Table(t) => Ok(t),
            other => Err(self.err(
                v.span(),
                field,
                KeysErrorKind::WrongType { expected: "a table", found: other.type_str() },
            )),
        }
    }

    fn integer(&self, v: &Spanned<DeValue<'_>>, field: &str) -> Result<i128, KeysError> {
        match v.get_ref() {
            DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix()).map_err(|_| {
                self.err(v.span(), field, KeysErrorKind::Invalid("integer out of range".into()))
            }),
            other => Err(self.err(
                v.span(),
                field,
                KeysErrorKind::WrongType { expected: "an integer", found: other.type_str() },
            )),
        }
    }

    fn aead(&self, v: &Spanned<DeValue<'_>>) -> Result<AeadAlg, KeysError> {
        let (alg, shown) = match v.get_ref() {
            DeValue::String(s) => (AeadAlg::parse(s), safe_echo(s)),
            DeValue::Integer(_) => {
                let n = self.integer(v, "aead")?;
                (i64::try_from(n).ok().and_then(AeadAlg::from_cose_id), n.to_string())
            }
            other => {
                return Err(self.err(
                    v.span(),
                    "aead",
                    KeysErrorKind::WrongType { expected: "a string or an integer", found: other.type_str() },
                ));
            }
        };
        alg.ok_or_else(|| self.err(v.span(), "aead", KeysErrorKind::UnknownAead(shown)))
    }

    fn hkdf(&self, v: &Spanned<DeValue<'_>>) -> Result<HkdfAlg, KeysError> {
        let (alg, shown) = match v.get_ref() {
            DeValue::String(s) => (HkdfAlg::parse(s), safe_echo(s)),
            DeValue::Integer(_) => {
                let n = self.integer(v, "hkdf")?;
                (HkdfAlg::parse(&n.to_string()), n.to_string())
            }
            other => {
                return Err(self.err(
                    v.span(),
                    "hkdf",
                    KeysErrorKind::WrongType { expected: "a string or an integer", found: other.type_str() },
                ));
            }
        };
        alg.ok_or_else(|| self.err(v.span(), "hkdf", KeysErrorKind::UnknownHkdf(shown)))
    }

    /// A `[context.client]`-style peer table. Returns the peer and the location of its
    /// `sender_id` value.
    fn peer(&self, v: &Spanned<DeValue<'_>>, key: &str) -> Result<(Peer, Option<Location>), KeysError> {
        let t = self.table(v, key)?;
        let prefix = format!("{key}.");
        let e = self.entries(t, PEER_FIELDS, &prefix)?;
        let id_field = format!("{key}.sender_id");
        let Some(idv) = e.get("sender_id") else {
            return Err(self.err(v.span(), &id_field, KeysErrorKind::Missing));
        };
        let mut peer = Peer::new(self.hex(idv, &id_field)?);
        if let Some(ev) = e.get("endpoints") {
            let field = format!("{key}.endpoints");
            let DeValue::Array(items) = ev.get_ref() else {
                return Err(self.err(
                    ev.span(),
                    &field,
                    KeysErrorKind::WrongType {
                        expected: "an array of strings",
                        found: ev.get_ref().type_str(),
                    },
                ));
            };
            for item in items.iter() {
                let s = self.string(item, &field)?;
                let hint: EndpointHint =
                    s.parse().map_err(|m| self.err(item.span(), &field, KeysErrorKind::BadEndpoint(m)))?;
                peer.endpoints.push(hint);
            }
        }
        Ok((peer, self.loc(idv.span())))
    }

    fn context(
        &self,
        v: &Spanned<DeValue<'_>>,
        index: usize,
        warnings: &mut Vec<KeysWarning>,
    ) -> Result<KeyContext, KeysError> {
        let here = self.loc(v.span());
        let t = self.table(v, "context")?;
        let e = self.entries(t, CONTEXT_FIELDS, "")?;
        let missing = |field: &str| KeysError::new(self.path, KeysErrorKind::Missing).at(here).field(field);

        let mut field_locs: BTreeMap<&'static str, Option<Location>> = BTreeMap::new();

        let (name, name_origin) = match e.get("name") {
            Some(nv) => {
                let n = self.string(nv, "name")?;
                check_name(n).map_err(|m| self.err(nv.span(), "name", KeysErrorKind::BadName(m)))?;
                field_locs.insert("name", self.loc(nv.span()));
                (n.to_string(), NameOrigin::File)
            }
            None => (derived_name(self.path, index), NameOrigin::Derived),
        };

        // The secret is checked for type and hex without ever quoting it.
        let Some(sv) = e.get("master_secret") else { return Err(missing("master_secret")) };
        let secret = Secret::new(self.hex(sv, "master_secret")?);
        field_locs.insert("master_secret", self.loc(sv.span()));

        let master_salt = match e.get("master_salt") {
            Some(s) => self.hex(s, "master_salt")?,
            None => Vec::new(),
        };
        let id_context = match e.get("id_context") {
            Some(s) => Some(self.hex(s, "id_context")?),
            None => None,
        };
        let aead = match e.get("aead") {
            Some(a) => self.aead(a)?,
            None => AeadAlg::AesCcm16_64_128,
        };
        let hkdf = match e.get("hkdf") {
            Some(h) => self.hkdf(h)?,
            None => HkdfAlg::Sha256,
        };

        // Orientation: exactly one of the pairs (client, server) and (local, peer).
        let has = |k: &str| e.contains_key(k);
        let (orientation, a_key, b_key) = match (has("client") || has("server"), has("local") || has("peer"))
        {
            (true, true) => {
                let k = ["local", "peer"].into_iter().find(|k| has(k)).unwrap_or("local");
                let span = e.get(k).map(|v| v.span()).unwrap_or_default();
                return Err(self.err(
                    span,
                    k,
                    KeysErrorKind::Orientation(
                        "a context has either client + server or local + peer, not both".into(),
                    ),
                ));
            }
            (false, true) => (Orientation::LocalPeer, "local", "peer"),
            (true, false) => (Orientation::ClientServer, "client", "server"),
            (false, false) => {
                return Err(KeysError::new(
                    self.path,
                    KeysErrorKind::Orientation(
                        "missing the two peers: [context.client] + [context.server] (or local + peer)".into(),
                    ),
                )
                .at(here));
            }
        };
        let Some(av) = e.get(a_key) else { return Err(missing(a_key)) };
        let Some(bv) = e.get(b_key) else { return Err(missing(b_key)) };
        let (peer_a, a_loc) = self.peer(av, a_key)?;
        let (peer_b, b_loc) = self.peer(bv, b_key)?;

        let mut limits = KeyLimits::default();
        if let Some(lv) = e.get("limits") {
            let lt = self.table(lv, "limits")?;
            for (k, v) in self.entries(lt, LIMIT_FIELDS, "limits.")? {
                let field = format!("limits.{k}");
                let n = self.integer(v, &field)?;
                if n <= 0 {
                    return Err(self.err(v.span(), &field, KeysErrorKind::NotPositive));
                }
                let n = u64::try_from(n)
                    .map_err(|_| self.err(v.span(), &field, KeysErrorKind::Invalid("too large".into())))?;
                match k.as_str() {
                    "q" => limits.q = Some(n),
                    "v" => limits.v = Some(n),
                    _ => limits.l = Some(n),
                }
            }
        }

        let role_str = match e.get("role") {
            Some(rv) => Some((self.string(rv, "role")?, rv.span())),
            None => None,
        };
        let role = match (role_str, e.get("bootstrap_for")) {
            (None, None) => ContextRole::Initial,
            (Some(("initial", _)), None) => ContextRole::Initial,
            (Some(("kudos-bootstrap", _)), Some(bv)) => {
                let target = self.string(bv, "bootstrap_for")?;
                field_locs.insert("bootstrap_for", self.loc(bv.span()));
                ContextRole::KudosBootstrap { initial: target.to_string() }
            }
            (Some(("kudos-bootstrap", _)), None) => return Err(missing("bootstrap_for")),
            (None | Some(("initial", _)), Some(bv)) => {
                return Err(self.err(
                    bv.span(),
                    "bootstrap_for",
                    KeysErrorKind::Bootstrap("only allowed with role = \"kudos-bootstrap\"".into()),
                ));
            }
            (Some((other, span)), _) => {
                return Err(self.err(
                    span,
                    "role",
                    KeysErrorKind::Invalid(format!(
                        "unknown role {}; expected \"initial\" or \"kudos-bootstrap\"",
                        safe_echo(other)
                    )),
                ));
            }
        };

        let ctx = KeyContext {
            name,
            name_origin,
            source: ContextSource {
                path: self.path.to_path_buf(),
                line: here.map(|l| l.line),
                format: KeysFormat::Toml,
                index,
            },
            master_secret: secret,
            master_salt,
            id_context,
            aead,
            hkdf,
            orientation,
            peer_a,
            peer_b,
            limits,
            role,
        };
        let limit_locs: BTreeMap<String, Option<Location>> = match e.get("limits") {
            Some(lv) => match lv.get_ref() {
                DeValue::Table(lt) => {
                    lt.iter().map(|(k, v)| (format!("limits.{}", k.get_ref()), self.loc(v.span()))).collect()
                }
                _ => BTreeMap::new(),
            },
            None => BTreeMap::new(),
        };
        let locate = |f: FieldRef| -> (String, Option<Location>) {
            match f {
                FieldRef::Name => ("name".into(), field_locs.get("name").copied().flatten().or(here)),
                FieldRef::MasterSecret => {
                    ("master_secret".into(), field_locs.get("master_secret").copied().flatten())
                }
                FieldRef::SenderId(PeerSlot::A) => (format!("{a_key}.sender_id"), a_loc),
                FieldRef::SenderId(PeerSlot::B) => (format!("{b_key}.sender_id"), b_loc),
                FieldRef::Limit(c) => {
                    let k = format!("limits.{c}");
                    let l = limit_locs.get(&k).copied().flatten().or(here);
                    (k, l)
                }
                FieldRef::Role => {
                    ("bootstrap_for".into(), field_locs.get("bootstrap_for").copied().flatten().or(here))
                }
            }
        };
        finish_context(&ctx, self.path, warnings, &locate)?;
        Ok(ctx)
    }
}

/// Reads kudoscope's TOML keys format. `path` is used for error messages, derived names and
/// [`ContextSource`]s; nothing is read from it.
pub fn parse_toml(text: &str, path: &Path) -> Result<LoadedKeys, KeysError> {
    let r = Reader { text, path };
    let doc = DeTable::parse(text).map_err(|e| {
        let loc = e.span().map(|s| Location::of_offset(text, s.start));
        KeysError::new(path, KeysErrorKind::Syntax(e.message().trim().replace('\n', " "))).at(loc)
    })?;
    let top = r.entries(doc.get_ref(), TOP_FIELDS, "")?;
    if let Some(v) = top.get("version") {
        let n = r.integer(v, "version")?;
        if n != i128::from(TOML_FORMAT_VERSION) {
            return Err(r.err(
                v.span(),
                "version",
                KeysErrorKind::Invalid(format!(
                    "unsupported version {n}; this kudoscope reads version {TOML_FORMAT_VERSION}"
                )),
            ));
        }
    }
    let Some(cv) = top.get("context") else {
        return Err(KeysError::new(
            path,
            KeysErrorKind::Invalid("no [[context]] entry: a keys file needs at least one".into()),
        )
        .field("context"));
    };
    let DeValue::Array(items) = cv.get_ref() else {
        return Err(r.err(
            cv.span(),
            "context",
            KeysErrorKind::WrongType {
                expected: "an array of tables ([[context]])",
                found: cv.get_ref().type_str(),
            },
        ));
    };
    let mut out = LoadedKeys::default();
    for (i, item) in items.iter().enumerate() {
        let ctx = r.context(item, i + 1, &mut out.warnings)?;
        if let Some(first) = out.contexts.iter().find(|c| c.name == ctx.name) {
            // Point at the second `name` value (or the [[context]] header of a derived name).
            let span = match item.get_ref() {
                DeValue::Table(t) => t.get("name").map(|v| v.span()),
                _ => None,
            }
            .unwrap_or_else(|| item.span());
            return Err(r.err(
                span,
                "name",
                KeysErrorKind::DuplicateName {
                    name: ctx.name.clone(),
                    first: format!("{}:{}", path.display(), first.source.line.unwrap_or(0)),
                },
            ));
        }
        out.contexts.push(ctx);
    }
    if out.contexts.is_empty() {
        return Err(r.err(cv.span(), "context", KeysErrorKind::Empty));
    }
    Ok(out)
}

/// A TOML basic string.
fn quote(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if c.is_control() => o.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn peer_inline(p: &Peer) -> String {
    let mut s = format!("{{ sender_id = {}", quote(&crate::hex::encode(&p.sender_id)));
    if !p.endpoints.is_empty() {
        let eps: Vec<String> = p.endpoints.iter().map(|e| quote(&e.to_string())).collect();
        s.push_str(&format!(", endpoints = [{}]", eps.join(", ")));
    }
    s.push_str(" }");
    s
}

/// Writes contexts in kudoscope's TOML format. **The output contains the master secrets.**
/// Every context gets an explicit `name` (derived names are written out), so
/// [`parse_toml`] of the output gives back the same contexts (apart from their source).
pub fn to_toml(contexts: &[KeyContext]) -> String {
    let mut o = String::new();
    o.push_str("# kudoscope keys file (format: docs/keys-format.md).\n");
    o.push_str("# It contains OSCORE master secrets: keep it private.\n");
    o.push_str(&format!("version = {TOML_FORMAT_VERSION}\n"));
    for c in contexts {
        o.push_str("\n[[context]]\n");
        o.push_str(&format!("# from {}\n", c.source));
        o.push_str(&format!("name = {}\n", quote(&c.name)));
        if let ContextRole::KudosBootstrap { initial } = &c.role {
            o.push_str("role = \"kudos-bootstrap\"\n");
            o.push_str(&format!("bootstrap_for = {}\n", quote(initial)));
        }
        o.push_str(&format!("master_secret = {}\n", quote(&crate::hex::encode(c.master_secret.expose()))));
        if !c.master_salt.is_empty() {
            o.push_str(&format!("master_salt = {}\n", quote(&crate::hex::encode(&c.master_salt))));
        }
        if let Some(idc) = &c.id_context {
            o.push_str(&format!("id_context = {}\n", quote(&crate::hex::encode(idc))));
        }
        o.push_str(&format!("aead = {}\n", quote(c.aead.name())));
        o.push_str(&format!("hkdf = {}\n", quote(c.hkdf.name())));
        let (a, b) = match c.orientation {
            Orientation::ClientServer => ("client", "server"),
            Orientation::LocalPeer => ("local", "peer"),
        };
        o.push_str(&format!("{a} = {}\n", peer_inline(&c.peer_a)));
        o.push_str(&format!("{b} = {}\n", peer_inline(&c.peer_b)));
        if !c.limits.is_empty() {
            let parts: Vec<String> = [("q", c.limits.q), ("v", c.limits.v), ("l", c.limits.l)]
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| format!("{k} = {v}")))
                .collect();
            o.push_str(&format!("limits = {{ {} }}\n", parts.join(", ")));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    const D01: &str = r#"
[[context]]
name = "d01"
master_secret = "2b9dc18059e139220fb99e7df5abfaf0"
master_salt = "9642216a141df02c"
client = { sender_id = "6e" }
server = { sender_id = "e9", endpoints = ["127.0.0.1:5683"] }
"#;

    fn parse(s: &str) -> Result<LoadedKeys, KeysError> {
        parse_toml(s, Path::new("keys.toml"))
    }

    #[test]
    fn reads_minimal_context_with_defaults() {
        let k = parse(D01).unwrap();
        let c = &k.contexts[0];
        assert_eq!(c.name, "d01");
        assert_eq!(c.source.line, Some(2));
        assert_eq!(c.aead, AeadAlg::AesCcm16_64_128);
        assert_eq!(c.hkdf, HkdfAlg::Sha256);
        assert_eq!(c.id_context, None);
        assert_eq!(c.client().unwrap().sender_id, vec![0x6e]);
        assert_eq!(c.server().unwrap().endpoints[0].to_string(), "127.0.0.1:5683");
        assert!(k.warnings.is_empty());
    }

    #[test]
    fn empty_id_context_is_present() {
        let k = parse(&D01.replace("name = \"d01\"", "id_context = \"\"")).unwrap();
        assert_eq!(k.contexts[0].id_context, Some(vec![]));
        assert_eq!(k.contexts[0].name, "keys.toml#1");
    }

    #[test]
    fn errors_are_located() {
        let bad = D01.replace("2b9dc18059", "2b9gc18059");
        assert_eq!(
            parse(&bad).unwrap_err().to_string(),
            "keys.toml:4:17: field \"master_secret\": invalid hex digit 'g' at position 3"
        );
        let bad = D01.replace("name = \"d01\"", "nmae = \"d01\"");
        let e = parse(&bad).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("nmae"));
        assert_eq!(e.location, Some(Location::at(3, 1)));
        let bad = D01.replace("{ sender_id = \"6e\" }", "{ sender_id = \"6e\", port = 1 }");
        assert_eq!(parse(&bad).unwrap_err().field.as_deref(), Some("client.port"));
        let bad = D01.replace("master_secret = \"2b9dc18059e139220fb99e7df5abfaf0\"\n", "");
        assert_eq!(parse(&bad).unwrap_err().to_string(), "keys.toml:2:1: field \"master_secret\": missing");
        let bad = D01.replace(
            "master_secret = \"2b9dc18059e139220fb99e7df5abfaf0\"",
            "master_secret = 12345678901234",
        );
        let msg = parse(&bad).unwrap_err().to_string();
        assert_eq!(msg, "keys.toml:4:17: field \"master_secret\": expected a string, found integer");
    }

    #[test]
    fn round_trip() {
        let src = format!(
            "{D01}\n[[context]]\nmaster_secret = \"00\"\nid_context = \"\"\naead = 24\nhkdf = -11\n\
             local = {{ sender_id = \"\" }}\npeer = {{ sender_id = \"0102\", endpoints = [\"[::1]\"] }}\n\
             limits = {{ q = 5, l = 1 }}\n\n[[context]]\nname = \"b\"\nrole = \"kudos-bootstrap\"\n\
             bootstrap_for = \"d01\"\nmaster_secret = \"01\"\nclient = {{ sender_id = \"6e\" }}\n\
             server = {{ sender_id = \"e9\" }}\n"
        );
        let a = parse(&src).unwrap();
        let text = to_toml(&a.contexts);
        let b = parse_toml(&text, Path::new("out.toml")).unwrap();
        assert_eq!(a.contexts.len(), 3);
        for (x, y) in a.contexts.iter().zip(&b.contexts) {
            let mut y = y.clone();
            y.source = x.source.clone();
            y.name_origin = x.name_origin;
            assert_eq!(x, &y);
        }
        assert_eq!(b.contexts[1].name, "keys.toml#2");
        assert_eq!(
            to_toml(&b.contexts).lines().filter(|l| !l.starts_with('#')).count(),
            text.lines().filter(|l| !l.starts_with('#')).count()
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    }
}
