//! aiocoap security-context directories (`aiocoap.oscore.FilesystemSecurityContext`).
//!
//! aiocoap reads `secret.json` and then `settings.json` (either may be missing, not both),
//! merges their keys and refuses a key present twice. A key ending in `_hex` holds hex, one
//! ending in `_ascii` an ASCII string; the suffix is removed. Keys:
//! `sender-id`, `recipient-id`, `secret` (required, with `_hex`/`_ascii`), `salt`,
//! `id-context` (optional, with `_hex`/`_ascii`; absent = no ID Context), `algorithm`
//! (default `AES-CCM-16-64-128`), `kdf-hashfun` (`sha256` default, `sha384`, `sha512`) and
//! `window` (replay window size, an integer; checked and otherwise ignored). aiocoap ignores
//! other keys; this reader rejects them, since a misspelt key would silently change the keys.
//!
//! The directory is one endpoint's view: the context is local/peer oriented (`sender-id` is
//! the local endpoint's). Nothing is ever written (aiocoap itself writes `sequence.json` and a
//! `lock` file; both are ignored here).

use super::error::{KeysError, KeysErrorKind, KeysWarning, Location, safe_echo};
use super::model::{
    ContextRole, ContextSource, FieldRef, KeyContext, KeyLimits, KeysFormat, LoadedKeys, NameOrigin,
    Orientation, Peer, PeerSlot, derived_name,
};
use crate::oscore::{AeadAlg, HkdfAlg, Secret};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The files aiocoap reads, in its order.
pub const AIOCOAP_FILES: [&str; 2] = ["secret.json", "settings.json"];

const BYTES_KEYS: &[&str] = &["sender-id", "recipient-id", "secret", "salt", "id-context"];
const PLAIN_KEYS: &[&str] = &["algorithm", "kdf-hashfun", "window"];
const EXPECTED: &str = "sender-id_hex, sender-id_ascii, recipient-id_hex, recipient-id_ascii, secret_hex, \
    secret_ascii, salt_hex, salt_ascii, id-context_hex, id-context_ascii, algorithm, kdf-hashfun, window";

/// A value read from one of the files, with where it was.
#[derive(Debug)]
struct Item {
    key: String,
    path: PathBuf,
    value_loc: Option<Location>,
    value: ItemValue,
}

#[derive(Debug)]
enum ItemValue {
    Bytes(Vec<u8>),
    Json(Value),
}

/// Where `"key"` (followed by `:`) and its value start in a JSON text; `None` when not found
/// (e.g. a key written with escapes).
fn locate_key(text: &str, key: &str) -> (Option<Location>, Option<Location>) {
    let needle = format!("\"{key}\"");
    let mut from = 0;
    while let Some(rel) = text.get(from..).and_then(|t| t.find(&needle)) {
        let pos = from + rel;
        let after = pos + needle.len();
        let rest = text.get(after..).unwrap_or_default();
        let trimmed = rest.trim_start();
        if let Some(v) = trimmed.strip_prefix(':') {
            let value_off = text.len() - v.trim_start().len();
            return (Some(Location::of_offset(text, pos)), Some(Location::of_offset(text, value_off)));
        }
        from = after;
    }
    (None, None)
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn read_items(path: &Path, text: &str, items: &mut BTreeMap<String, Item>) -> Result<(), KeysError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        let msg = e.to_string();
        let msg =
            msg.rfind(" at line ").map_or(msg.as_str(), |i| msg.get(..i).unwrap_or_default()).to_string();
        let loc = (e.line() > 0)
            .then(|| Location::at(super::error::to_u32(e.line()), super::error::to_u32(e.column())));
        KeysError::new(path, KeysErrorKind::Syntax(msg)).at(loc)
    })?;
    let Value::Object(map) = doc else {
        return Err(KeysError::new(
            path,
            KeysErrorKind::WrongType { expected: "a JSON object", found: json_type(&doc) },
        )
        .at(Some(Location::line(1))));
    };
    // Report in file order.
    let mut entries: Vec<(String, Value, Option<Location>, Option<Location>)> = map
        .into_iter()
        .map(|(k, v)| {
            let (kl, vl) = locate_key(text, &k);
            (k, v, kl, vl)
        })
        .collect();
    entries.sort_by_key(|(_, _, kl, _)| kl.map(|l| (l.line, l.column)));
    for (key, v, key_loc, value_loc) in entries {
        let err = |loc: Option<Location>, kind| KeysError::new(path, kind).at(loc).field(key.clone());
        let (base, value) = if let Some(b) = key.strip_suffix("_hex") {
            let Value::String(s) = &v else {
                return Err(err(
                    value_loc,
                    KeysErrorKind::WrongType { expected: "a hex string", found: json_type(&v) },
                ));
            };
            let bytes = crate::hex::decode(s).map_err(|e| err(value_loc, KeysErrorKind::Hex(e)))?;
            (b, ItemValue::Bytes(bytes))
        } else if let Some(b) = key.strip_suffix("_ascii") {
            let Value::String(s) = &v else {
                return Err(err(
                    value_loc,
                    KeysErrorKind::WrongType { expected: "an ASCII string", found: json_type(&v) },
                ));
            };
            if !s.is_ascii() {
                return Err(err(value_loc, KeysErrorKind::Invalid("not ASCII".into())));
            }
            (b, ItemValue::Bytes(s.as_bytes().to_vec()))
        } else {
            (key.as_str(), ItemValue::Json(v.clone()))
        };
        let known_bytes = BYTES_KEYS.contains(&base);
        let known_plain = PLAIN_KEYS.contains(&base);
        if !known_bytes && !known_plain {
            return Err(err(key_loc, KeysErrorKind::UnknownField { expected: EXPECTED.into() }));
        }
        match (&value, known_bytes) {
            (ItemValue::Json(_), true) => {
                return Err(err(
                    key_loc,
                    KeysErrorKind::Invalid(format!("needs the suffix _hex or _ascii ({base}_hex)")),
                ));
            }
            (ItemValue::Bytes(_), false) => {
                return Err(err(
                    key_loc,
                    KeysErrorKind::Invalid(format!("takes no _hex/_ascii suffix ({base})")),
                ));
            }
            _ => {}
        }
        if let Some(first) = items.get(base) {
            return Err(err(
                key_loc,
                KeysErrorKind::Invalid(format!(
                    "{base} is already given as {} in {}",
                    first.key,
                    first.path.display()
                )),
            ));
        }
        items.insert(base.to_string(), Item { key: key.clone(), path: path.to_path_buf(), value_loc, value });
    }
    Ok(())
}

/// Reads an aiocoap security context from the texts of its files (`None` = file absent).
/// `dir` names the directory in messages, names and the [`ContextSource`].
pub fn parse_aiocoap(
    dir: &Path,
    secret_json: Option<&str>,
    settings_json: Option<&str>,
) -> Result<LoadedKeys, KeysError> {
    let mut items = BTreeMap::new();
    let [secret_name, settings_name] = AIOCOAP_FILES;
    if secret_json.is_none() && settings_json.is_none() {
        return Err(KeysError::new(
            dir,
            KeysErrorKind::NotKeys(
                "not an aiocoap security-context directory: no secret.json or settings.json".into(),
            ),
        ));
    }
    if let Some(t) = secret_json {
        read_items(&dir.join(secret_name), t, &mut items)?;
    }
    if let Some(t) = settings_json {
        read_items(&dir.join(settings_name), t, &mut items)?;
    }

    let missing = |field: &str| KeysError::new(dir, KeysErrorKind::Missing).field(field);
    let bytes = |k: &str| match items.get(k) {
        Some(Item { value: ItemValue::Bytes(b), .. }) => Some(b.clone()),
        _ => None,
    };
    let plain_str = |k: &str| -> Result<Option<(String, &Item)>, KeysError> {
        match items.get(k) {
            None => Ok(None),
            Some(it @ Item { value: ItemValue::Json(Value::String(s)), .. }) => Ok(Some((s.clone(), it))),
            Some(it @ Item { value: ItemValue::Json(v), .. }) => Err(KeysError::new(
                &it.path,
                KeysErrorKind::WrongType { expected: "a string", found: json_type(v) },
            )
            .at(it.value_loc)
            .field(it.key.clone())),
            Some(it) => Err(KeysError::new(&it.path, KeysErrorKind::Invalid("unexpected value".into()))
                .at(it.value_loc)
                .field(it.key.clone())),
        }
    };

    let aead = match plain_str("algorithm")? {
        None => AeadAlg::AesCcm16_64_128,
        Some((s, it)) => AeadAlg::parse(&s).ok_or_else(|| {
            KeysError::new(&it.path, KeysErrorKind::UnknownAead(safe_echo(&s)))
                .at(it.value_loc)
                .field(it.key.clone())
        })?,
    };
    let hkdf = match plain_str("kdf-hashfun")? {
        None => HkdfAlg::Sha256,
        Some((s, it)) => HkdfAlg::parse(&s).ok_or_else(|| {
            KeysError::new(&it.path, KeysErrorKind::UnknownHkdf(safe_echo(&s)))
                .at(it.value_loc)
                .field(it.key.clone())
        })?,
    };
    if let Some(it) = items.get("window")
        && !matches!(&it.value, ItemValue::Json(Value::Number(n)) if n.is_u64() || n.is_i64())
    {
        let found = match &it.value {
            ItemValue::Json(v) => json_type(v),
            ItemValue::Bytes(_) => "bytes",
        };
        return Err(KeysError::new(&it.path, KeysErrorKind::WrongType { expected: "an integer", found })
            .at(it.value_loc)
            .field(it.key.clone()));
    }

    let Some(secret) = bytes("secret") else { return Err(missing("secret_hex")) };
    let Some(sender) = bytes("sender-id") else { return Err(missing("sender-id_hex")) };
    let Some(recipient) = bytes("recipient-id") else { return Err(missing("recipient-id_hex")) };

    let source = ContextSource { path: dir.to_path_buf(), line: None, format: KeysFormat::Aiocoap, index: 1 };
    let ctx = KeyContext {
        name: derived_name(dir, 1),
        name_origin: NameOrigin::Derived,
        source,
        master_secret: Secret::new(secret),
        master_salt: bytes("salt").unwrap_or_default(),
        id_context: bytes("id-context"),
        aead,
        hkdf,
        orientation: Orientation::LocalPeer,
        peer_a: Peer::new(sender),
        peer_b: Peer::new(recipient),
        limits: KeyLimits::default(),
        role: ContextRole::Initial,
    };
    let located = |base: &str| -> (PathBuf, String, Option<Location>) {
        match items.get(base) {
            Some(it) => (it.path.clone(), it.key.clone(), it.value_loc),
            None => (dir.to_path_buf(), format!("{base}_hex"), None),
        }
    };
    let where_is = |f: FieldRef| match f {
        FieldRef::MasterSecret => located("secret"),
        FieldRef::SenderId(PeerSlot::A) => located("sender-id"),
        FieldRef::SenderId(PeerSlot::B) => located("recipient-id"),
        _ => (dir.to_path_buf(), String::from("context"), None),
    };
    let mut out = LoadedKeys::default();
    match ctx.check() {
        Ok(ws) => {
            for (f, message) in ws {
                let (path, field, location) = where_is(f);
                out.warnings.push(KeysWarning { path, location, field: Some(field), message });
            }
        }
        Err((f, kind)) => {
            // An ID too long for the AEAD is reported like aiocoap does, at the ID.
            let (path, field, location) = where_is(f);
            return Err(KeysError::new(&path, kind).at(location).field(field));
        }
    }
    out.contexts.push(ctx);
    Ok(out)
}

/// Reads an aiocoap security-context directory (only reads; never creates or locks files).
pub fn load_aiocoap_dir(dir: &Path) -> Result<LoadedKeys, KeysError> {
    let mut texts: [Option<String>; 2] = [None, None];
    for (slot, name) in texts.iter_mut().zip(AIOCOAP_FILES) {
        let p = dir.join(name);
        match std::fs::metadata(&p) {
            Ok(_) => *slot = Some(super::detect::read_text(&p)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(KeysError::io(&p, &e)),
        }
    }
    let [secret, settings] = texts;
    parse_aiocoap(dir, secret.as_deref(), settings.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "{\n  \"secret_hex\": \"23bdccbf309272385249b1b8ddaf695f\",\n  \"salt_hex\": \"a4a26dcd20c451a9\"\n}\n";
    const SETTINGS: &str = "{\n  \"algorithm\": \"AES-CCM-16-64-128\",\n  \"kdf-hashfun\": \"sha256\",\n  \
        \"sender-id_hex\": \"b74f\",\n  \"recipient-id_hex\": \"2c\",\n  \"id-context_hex\": \"d93c4302b4ff\"\n}\n";

    #[test]
    fn reads_d02_client_directory() {
        let k = parse_aiocoap(Path::new("ctx"), Some(SECRET), Some(SETTINGS)).unwrap();
        let c = &k.contexts[0];
        assert_eq!(c.orientation, Orientation::LocalPeer);
        assert_eq!(c.peer_a.sender_id, vec![0xb7, 0x4f]);
        assert_eq!(c.peer_b.sender_id, vec![0x2c]);
        assert_eq!(c.id_context.as_deref(), Some(&[0xd9, 0x3c, 0x43, 0x02, 0xb4, 0xff][..]));
        assert_eq!(c.master_salt, crate::hex::decode("a4a26dcd20c451a9").unwrap());
        assert_eq!(c.name, "ctx#1");
    }

    #[test]
    fn everything_in_one_file_and_ascii() {
        let one =
            r#"{"secret_ascii": "hello", "sender-id_ascii": "c", "recipient-id_hex": "", "window": 32}"#;
        let k = parse_aiocoap(Path::new("d"), None, Some(one)).unwrap();
        assert_eq!(k.contexts[0].master_secret.expose(), b"hello");
        assert_eq!(k.contexts[0].peer_a.sender_id, b"c");
        assert_eq!(k.contexts[0].id_context, None);
    }

    #[test]
    fn errors() {
        let e =
            parse_aiocoap(Path::new("d"), Some(SECRET), Some(&SETTINGS.replace("b74f", "b74g"))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "d/settings.json:4:20: field \"sender-id_hex\": invalid hex digit 'g' at position 3"
        );
        let e = parse_aiocoap(
            Path::new("d"),
            Some(SECRET),
            Some(&SETTINGS.replace("\"sender-id_hex\": \"b74f\",", "")),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "d: field \"sender-id_hex\": missing");
        let dup = SETTINGS.replace("\"algorithm\"", "\"salt_hex\": \"00\", \"algorithm\"");
        let e = parse_aiocoap(Path::new("d"), Some(SECRET), Some(&dup)).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("salt_hex"));
        assert!(e.to_string().contains("already given as salt_hex in d/secret.json"));
        let e = parse_aiocoap(Path::new("d"), None, Some(&SETTINGS.replace("\"algorithm\"", "\"role\"")))
            .unwrap_err();
        assert_eq!(
            e.to_string().split(" (").next().unwrap(),
            "d/settings.json:2:3: field \"role\": unknown field"
        );
        let e = parse_aiocoap(
            Path::new("d"),
            Some(SECRET),
            Some(&SETTINGS.replace("AES-CCM-16-64-128", "A128CBC")),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "d/settings.json:2:16: field \"algorithm\": unknown AEAD algorithm \"A128CBC\""
        );
        let e = parse_aiocoap(Path::new("d"), Some("{"), None).unwrap_err();
        assert!(e.to_string().starts_with("d/secret.json:1:1: syntax error: EOF while parsing"), "{e}");
        let e = parse_aiocoap(
            Path::new("d"),
            Some(SECRET),
            Some(&SETTINGS.replace("\"b74f\"", "\"0102030405060708\"")),
        )
        .unwrap_err();
        assert!(matches!(e.kind, KeysErrorKind::IdTooLong { len: 8, max: 7, .. }), "{e}");
        assert_eq!(e.field.as_deref(), Some("sender-id_hex"));
    }

    #[test]
    fn secrets_never_in_errors() {
        let bad = SECRET.replace("\"23bd", "\"zz23bd");
        let e = parse_aiocoap(Path::new("d"), Some(&bad), Some(SETTINGS)).unwrap_err();
        assert!(!e.to_string().contains("23bdccbf"));
    }
}
