//! Which format a `--keys` path is in, loading it, and finding the default keys file of a
//! capture.

use super::error::{KeysError, KeysErrorKind, Location};
use super::model::{KeysFormat, LoadedKeys};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Keys files larger than this are refused (they are a few hundred bytes in practice).
pub const MAX_KEYS_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The suffix of default keys files (see [`default_keys_candidates`]).
pub const DEFAULT_KEYS_SUFFIX: &str = ".keys.toml";

/// Reads a keys file as UTF-8 text (a leading byte-order mark is dropped), refusing files over
/// [`MAX_KEYS_FILE_BYTES`].
pub fn read_text(path: &Path) -> Result<String, KeysError> {
    let f = std::fs::File::open(path).map_err(|e| KeysError::io(path, &e))?;
    let mut bytes = Vec::new();
    f.take(MAX_KEYS_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(|e| KeysError::io(path, &e))?;
    let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if size > MAX_KEYS_FILE_BYTES {
        return Err(KeysError::new(path, KeysErrorKind::TooLarge { size, limit: MAX_KEYS_FILE_BYTES }));
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let good = e.utf8_error().valid_up_to();
            let prefix = String::from_utf8_lossy(e.as_bytes().get(..good).unwrap_or_default()).into_owned();
            let loc = Location::of_offset(&prefix, prefix.len());
            return Err(KeysError::new(path, KeysErrorKind::NotUtf8).at(Some(loc)));
        }
    };
    Ok(match text.strip_prefix('\u{feff}') {
        Some(t) => t.to_string(),
        None => text,
    })
}

/// The first line that is neither blank nor a `#` comment.
fn first_significant_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#'))
}

/// Guesses the format of a file's text: a line starting with a quoted string followed by `,`
/// is a Wireshark UAT record; `keyword,` (an identifier and a comma) is libcoap; anything
/// else is TOML.
pub fn sniff_format(text: &str) -> KeysFormat {
    let Some(line) = first_significant_line(text) else { return KeysFormat::Toml };
    if let Some(rest) = line.strip_prefix('"') {
        // Skip the quoted string (with backslash escapes) and look at what follows it.
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => break,
                _ => {}
            }
        }
        let after = chars.as_str().trim_start();
        if after.is_empty() || after.starts_with(',') {
            return KeysFormat::WiresharkUat;
        }
        return KeysFormat::Toml;
    }
    let ident_len = line
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_alphanumeric() || *c == '_') || (*i == 0 && c.is_ascii_digit()))
        .map_or(line.len(), |(i, _)| i);
    if ident_len > 0 && line.get(ident_len..).is_some_and(|r| r.trim_start().starts_with(',')) {
        return KeysFormat::Libcoap;
    }
    KeysFormat::Toml
}

/// What [`detect_format`] found: the format and the path to read (for a Wireshark
/// configuration directory, its `oscore_contexts` file; for an aiocoap file, its directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    pub format: KeysFormat,
    pub path: PathBuf,
}

fn has_aiocoap_files(dir: &Path) -> bool {
    super::aiocoap::AIOCOAP_FILES.iter().any(|f| dir.join(f).is_file())
}

/// Decides how to read `path`:
/// - a directory with `settings.json` or `secret.json`: aiocoap;
/// - a directory with an `oscore_contexts` file (a Wireshark profile or configuration
///   directory): that UAT file;
/// - a file named `settings.json` / `secret.json`: its directory, as aiocoap;
/// - a file named `oscore_contexts`: Wireshark UAT;
/// - a file ending in `.toml`: TOML;
/// - otherwise by content ([`sniff_format`]).
pub fn detect_format(path: &Path) -> Result<Detected, KeysError> {
    let meta = std::fs::metadata(path).map_err(|e| KeysError::io(path, &e))?;
    if meta.is_dir() {
        if has_aiocoap_files(path) {
            return Ok(Detected { format: KeysFormat::Aiocoap, path: path.to_path_buf() });
        }
        let uat = path.join("oscore_contexts");
        if uat.is_file() {
            return Ok(Detected { format: KeysFormat::WiresharkUat, path: uat });
        }
        return Err(KeysError::new(
            path,
            KeysErrorKind::NotKeys(
                "directory holds neither an aiocoap security context (settings.json, secret.json) \
                 nor a Wireshark oscore_contexts file"
                    .into(),
            ),
        ));
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if super::aiocoap::AIOCOAP_FILES.contains(&name) {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        return Ok(Detected { format: KeysFormat::Aiocoap, path: dir.to_path_buf() });
    }
    if name == "oscore_contexts" {
        return Ok(Detected { format: KeysFormat::WiresharkUat, path: path.to_path_buf() });
    }
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml")) {
        return Ok(Detected { format: KeysFormat::Toml, path: path.to_path_buf() });
    }
    let text = read_text(path)?;
    Ok(Detected { format: sniff_format(&text), path: path.to_path_buf() })
}

/// Parses text already read, in a known format (not for aiocoap directories, which are two
/// files: use [`super::aiocoap::parse_aiocoap`]).
pub fn parse_text(format: KeysFormat, text: &str, path: &Path) -> Result<LoadedKeys, KeysError> {
    match format {
        KeysFormat::Toml => super::toml_format::parse_toml(text, path),
        KeysFormat::WiresharkUat => super::wireshark::parse_wireshark_uat(text, path),
        KeysFormat::Libcoap => super::libcoap::parse_libcoap(text, path),
        KeysFormat::Aiocoap => super::aiocoap::parse_aiocoap(path, None, Some(text)),
    }
}

/// Loads a `--keys` path in whatever format it is (see [`detect_format`]).
pub fn detect_and_load(path: &Path) -> Result<LoadedKeys, KeysError> {
    let d = detect_format(path)?;
    match d.format {
        KeysFormat::Aiocoap => super::aiocoap::load_aiocoap_dir(&d.path),
        f => {
            let text = read_text(&d.path)?;
            parse_text(f, &text, &d.path)
        }
    }
}

/// The default keys files of a capture, in the order they are tried: the capture's full name
/// plus `.keys.toml` (`x.pcapng` -> `x.pcapng.keys.toml`), then the name with its last
/// extension replaced (`x.pcapng` -> `x.keys.toml`).
pub fn default_keys_candidates(capture: &Path) -> Vec<PathBuf> {
    let mut full = capture.as_os_str().to_owned();
    full.push(DEFAULT_KEYS_SUFFIX);
    let full = PathBuf::from(full);
    let replaced = capture.with_extension(DEFAULT_KEYS_SUFFIX.trim_start_matches('.'));
    if replaced == full { vec![full] } else { vec![full, replaced] }
}

/// The first of [`default_keys_candidates`] that exists as a file.
pub fn find_default_keys(capture: &Path) -> Option<PathBuf> {
    default_keys_candidates(capture).into_iter().find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert_eq!(sniff_format("# c\n\"6e\",\"e9\"\n"), KeysFormat::WiresharkUat);
        assert_eq!(sniff_format("\"a\\\"b\" , x"), KeysFormat::WiresharkUat);
        assert_eq!(sniff_format("\"version\" = 1\n"), KeysFormat::Toml);
        assert_eq!(sniff_format("\n# x\nmaster_secret,hex,\"00\"\n"), KeysFormat::Libcoap);
        assert_eq!(sniff_format("bogus_kw , zz\n"), KeysFormat::Libcoap);
        assert_eq!(sniff_format("[[context]]\n"), KeysFormat::Toml);
        assert_eq!(sniff_format("a = 1, 2\n"), KeysFormat::Toml);
        assert_eq!(sniff_format(""), KeysFormat::Toml);
    }

    #[test]
    fn default_candidates() {
        assert_eq!(
            default_keys_candidates(Path::new("samples/x.pcapng")),
            vec![PathBuf::from("samples/x.pcapng.keys.toml"), PathBuf::from("samples/x.keys.toml")]
        );
        assert_eq!(default_keys_candidates(Path::new("x")), vec![PathBuf::from("x.keys.toml")]);
    }
}
