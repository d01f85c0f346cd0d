//! Errors and warnings of the keys layer, located by file, line, column and field.
//!
//! Every message is written so that it never contains a secret: values are only echoed when
//! they are short and do not look like key material (see [`safe_echo`]).

use crate::hex::HexError;
use crate::oscore::AeadAlg;
use std::fmt;
use std::path::{Path, PathBuf};

/// A position in a text file: 1-based line and (when known) 1-based column in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    pub line: u32,
    pub column: Option<u32>,
}

impl Location {
    pub fn line(line: u32) -> Self {
        Location { line, column: None }
    }
    pub fn at(line: u32, column: u32) -> Self {
        Location { line, column: Some(column) }
    }
    /// The location of byte `offset` in `text` (clamped to the text; never panics).
    pub fn of_offset(text: &str, offset: usize) -> Self {
        let mut off = offset.min(text.len());
        while !text.is_char_boundary(off) {
            off -= 1;
        }
        let before = text.get(..off).unwrap_or_default();
        let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).unwrap_or_default().chars().count() + 1;
        Location::at(to_u32(line), to_u32(column))
    }
}

pub(crate) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(c) => write!(f, "{}:{}", self.line, c),
            None => write!(f, "{}", self.line),
        }
    }
}

/// What was wrong with a keys file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeysErrorKind {
    #[error("cannot read: {message}")]
    Io { kind: std::io::ErrorKind, message: String },
    #[error("file too large ({size} bytes; keys files are limited to {limit} bytes)")]
    TooLarge { size: u64, limit: u64 },
    #[error("not UTF-8 text")]
    NotUtf8,
    /// The file's syntax (TOML, JSON, CSV) is broken; the message comes from the parser and
    /// never quotes the input.
    #[error("syntax error: {0}")]
    Syntax(String),
    #[error("unknown field (expected one of: {expected})")]
    UnknownField { expected: String },
    #[error("missing")]
    Missing,
    #[error("defined more than once")]
    Duplicate,
    #[error("expected {expected}, found {found}")]
    WrongType { expected: &'static str, found: &'static str },
    #[error("{0}")]
    Hex(HexError),
    #[error("must not be empty")]
    Empty,
    #[error("{len} bytes, but {aead} allows at most {max} bytes for Sender/Recipient IDs (RFC 8613 §3.3)")]
    IdTooLong { len: usize, max: usize, aead: AeadAlg },
    #[error("unknown AEAD algorithm {0}")]
    UnknownAead(String),
    #[error("unknown HKDF algorithm {0}")]
    UnknownHkdf(String),
    #[error("must be a positive integer")]
    NotPositive,
    #[error("invalid endpoint {0} (expected IP, IP:port or [IPv6]:port)")]
    BadEndpoint(String),
    #[error("invalid context name: {0}")]
    BadName(String),
    #[error("{0}")]
    Orientation(String),
    #[error("duplicate context name {name:?} (first defined at {first})")]
    DuplicateName { name: String, first: String },
    #[error("{0}")]
    Bootstrap(String),
    #[error("expected {expected} fields, found {found}")]
    FieldCount { expected: usize, found: usize },
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotKeys(String),
}

/// A keys file could not be used: which file, where, which field, and why.
///
/// Displayed as `path:line:column: field "name": message`, leaving out the parts that are not
/// known, e.g. `keys.toml:7:17: field "master_secret": invalid hex digit 'g' at position 3`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysError {
    pub path: PathBuf,
    pub location: Option<Location>,
    pub field: Option<String>,
    pub kind: KeysErrorKind,
}

impl KeysError {
    pub fn new(path: &Path, kind: KeysErrorKind) -> Self {
        KeysError { path: path.to_path_buf(), location: None, field: None, kind }
    }
    pub fn at(mut self, location: Option<Location>) -> Self {
        self.location = location;
        self
    }
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
    pub(crate) fn io(path: &Path, e: &std::io::Error) -> Self {
        KeysError::new(path, KeysErrorKind::Io { kind: e.kind(), message: e.to_string() })
    }
    /// The line, when the error has one.
    pub fn line(&self) -> Option<u32> {
        self.location.map(|l| l.line)
    }
}

impl fmt::Display for KeysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(loc) = self.location {
            write!(f, ":{loc}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field \"{field}\"")?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl std::error::Error for KeysError {}

/// Something in a keys file that does not stop loading but that a user should hear about
/// (e.g. libcoap's `break_sender_key,bool,true`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysWarning {
    pub path: PathBuf,
    pub location: Option<Location>,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for KeysWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(loc) = self.location {
            write!(f, ":{loc}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field \"{field}\"")?;
        }
        write!(f, ": warning: {}", self.message)
    }
}

/// Quotes a user-supplied value for an error message, unless it could be key material: long
/// runs of hex digits are replaced by their length, long values are cut.
pub fn safe_echo(s: &str) -> String {
    shown(s, |v| format!("{v:?}"))
}

/// A name read from the input (an unknown field's), as an error's `field` shows it: escaped,
/// not quoted (the message quotes it), and hidden or cut like [`safe_echo`]. A mangled file
/// can put a secret where a name belongs.
pub fn safe_name(s: &str) -> String {
    shown(s, |v| v.escape_debug().to_string())
}

/// `s` rendered by `render`, unless it looks like key material (hidden) or is long (cut).
fn shown(s: &str, render: impl Fn(&str) -> String) -> String {
    let hexish = s.chars().filter(|c| c.is_ascii_hexdigit()).count();
    if hexish >= 8 && hexish * 10 >= s.chars().count() * 8 {
        return format!("<{} characters, not shown>", s.chars().count());
    }
    if s.chars().count() > 48 {
        let cut: String = s.chars().take(40).collect();
        return format!("{}...", render(&cut));
    }
    render(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_to_lines_and_columns() {
        let t = "ab\ncdé\n\nx";
        assert_eq!(Location::of_offset(t, 0), Location::at(1, 1));
        assert_eq!(Location::of_offset(t, 3), Location::at(2, 1));
        // 'é' is 2 bytes: the byte after it is column 4 in characters.
        assert_eq!(Location::of_offset(t, 7), Location::at(2, 4));
        assert_eq!(Location::of_offset(t, 8), Location::at(3, 1));
        assert_eq!(Location::of_offset(t, 9), Location::at(4, 1));
        assert_eq!(Location::of_offset(t, 999), Location::at(4, 2));
        // Inside a multi-byte character: clamped back to its start.
        assert_eq!(Location::of_offset(t, 6), Location::at(2, 3));
    }

    #[test]
    fn display_has_file_line_column_field() {
        let e = KeysError::new(
            Path::new("keys.toml"),
            KeysErrorKind::Hex(HexError::BadDigit { ch: 'g', pos: 3 }),
        )
        .at(Some(Location::at(7, 17)))
        .field("master_secret");
        assert_eq!(
            e.to_string(),
            "keys.toml:7:17: field \"master_secret\": invalid hex digit 'g' at position 3"
        );
        let e = KeysError::new(Path::new("x"), KeysErrorKind::NotUtf8);
        assert_eq!(e.to_string(), "x: not UTF-8 text");
    }

    #[test]
    fn safe_echo_hides_key_material() {
        assert_eq!(safe_echo("AES-CCM-16-64-129"), "\"AES-CCM-16-64-129\"");
        assert_eq!(safe_echo("2b9dc18059e139220fb99e7df5abfaf0"), "<32 characters, not shown>");
        assert!(!safe_echo(&"x".repeat(100)).contains(&"x".repeat(41)));
        assert_eq!(safe_name("aead_algo"), "aead_algo");
        assert_eq!(safe_name("\"2b9dc18059e139220fb99e7df5abfaf0\""), "<34 characters, not shown>");
    }
}
