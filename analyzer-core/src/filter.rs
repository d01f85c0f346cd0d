//! Display filters: a small language over the field names of the dissection tree
//! ([`crate::dissect`]), the same names the CLI's JSON, the GUI and the Wireshark plugin use.
//!
//! ```text
//! expr     := or
//! or       := and { ("||" | "or") and }
//! and      := unary { ("&&" | "and") unary }
//! unary    := ("!" | "not") unary | "(" expr ")" | test
//! test     := FIELD [ OP VALUE ]
//! OP       := "==" | "!=" | "<" | "<=" | ">" | ">=" | "eq" | "ne" | "lt" | "le" | "gt" | "ge"
//!           | "contains"
//! VALUE    := WORD | "quoted string"
//! ```
//!
//! - A bare `FIELD` (or protocol name: `coap`, `oscore`, `kudos`, `udp`, `ipv6`, `frame`, ...)
//!   is true when the frame has that field, or any field below it (`oscore` is true for every
//!   frame with an `oscore.*` field).
//! - A value is typed by the field it is compared with, like Wireshark: unsigned fields take
//!   decimal or `0x` hex numbers (and CoAP codes written `2.05`); byte fields take hex written
//!   `01`, `0102` (whole bytes), `01:02`, `1:2`, `01-02` or `0x102` (or a quoted string,
//!   compared as its UTF-8 bytes); booleans take `true`/`false`/`1`/`0`; text fields take a bare word or a quoted
//!   string. A value that does not fit the field's type makes the comparison false.
//! - A field can occur several times in a frame (e.g. `coap.opt.uri_path`): `==`, `<`, ...,
//!   `contains` are true when some occurrence satisfies them; `!=` is true when the field is
//!   present and no occurrence equals the value.
//! - Bytes and text order lexicographically; `contains` looks for a substring (bytes or text).
//!
//! Field names must start with a known protocol ([`PROTOCOLS`]); anything else is a parse
//! error, located at the column (1-based, in characters) where the problem starts.
//!
//! Evaluation never fails: a [`Filter`] is checked against a [`FieldSet`] built from a
//! [`Tree`] (and, with [`FieldSet::from_record`], the record's findings' severities and layers).

use crate::analysis::FrameRecord;
use crate::dissect::{FieldValue, Tree};
use std::fmt;

/// First components of every field name the dissection produces (and `decrypted`-style pseudo
/// fields added by [`FieldSet::from_record`]).
pub const PROTOCOLS: &[&str] = &[
    "frame",
    "eth",
    "vlan",
    "sll",
    "null",
    "wpan",
    "6lowpan",
    "ip",
    "ipv6",
    "udp",
    "reassembled",
    "coap",
    "oscore",
    "kudos",
    "finding",
];

/// Longest filter accepted, in bytes.
pub const MAX_FILTER_LEN: usize = 4096;
/// Deepest nesting of parentheses and negations.
pub const MAX_DEPTH: usize = 64;

/// A parse error: what went wrong and the 1-based column (in characters) where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub column: usize,
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for FilterError {}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Contains => "contains",
        }
    }
}

/// A value as written, with the interpretations it admits (chosen by the field's type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Literal {
    /// The text (unescaped for quoted strings).
    pub text: String,
    pub quoted: bool,
    uint: Option<u64>,
    int: Option<i64>,
    bytes: Option<Vec<u8>>,
    boolean: Option<bool>,
}

impl Literal {
    fn new(text: String, quoted: bool) -> Literal {
        if quoted {
            let bytes = Some(text.as_bytes().to_vec());
            return Literal { text, quoted, uint: None, int: None, bytes, boolean: None };
        }
        let uint = parse_uint(&text);
        let int = text.parse::<i64>().ok().or_else(|| uint.and_then(|u| i64::try_from(u).ok()));
        let bytes = parse_bytes(&text);
        let boolean = match text.as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        };
        Literal { text, quoted, uint, int, bytes, boolean }
    }
}

/// Decimal, `0x` hex, or a CoAP code `c.dd` (class 0-7, detail 00-31) as `c << 5 | dd`.
fn parse_uint(s: &str) -> Option<u64> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        if h.is_empty() || h.len() > 16 {
            return None;
        }
        return u64::from_str_radix(h, 16).ok();
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    let (class, detail) = s.split_once('.')?;
    if class.len() != 1 || detail.len() != 2 || !s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let c: u64 = class.parse().ok()?;
    let d: u64 = detail.parse().ok()?;
    (c <= 7 && d <= 31).then_some((c << 5) | d)
}

/// `01`, `0102`, `01:02`, `1:2`, `01-02`, `0x0102` (odd length: a leading 0 is assumed).
fn parse_bytes(s: &str) -> Option<Vec<u8>> {
    let hex_val = |c: u8| -> Option<u8> { (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok()) };
    let digits_to_bytes = |h: &str| -> Option<Vec<u8>> {
        if h.is_empty() || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let padded: Vec<u8> = if h.len() % 2 == 1 {
            std::iter::once(b'0').chain(h.bytes()).collect()
        } else {
            h.bytes().collect()
        };
        padded.chunks(2).map(|p| Some(hex_val(*p.first()?)? << 4 | hex_val(*p.get(1)?)?)).collect()
    };
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return digits_to_bytes(h);
    }
    if s.contains(':') || s.contains('-') {
        let sep = if s.contains(':') { ':' } else { '-' };
        return s
            .split(sep)
            .map(|g| if (1..=2).contains(&g.len()) { digits_to_bytes(g)?.first().copied() } else { None })
            .collect();
    }
    if s.len().is_multiple_of(2) { digits_to_bytes(s) } else { None }
}

/// One test: a field, and optionally a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Test {
    pub field: String,
    pub cmp: Option<(Op, Literal)>,
}

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Test(Test),
}

/// A compiled display filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    source: String,
    expr: Expr,
}

impl Filter {
    /// Parses `text`. An empty (or blank) filter is an error: callers show every frame instead.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        if text.len() > MAX_FILTER_LEN {
            return Err(FilterError {
                column: 1,
                message: format!("filter too long ({} bytes, at most {MAX_FILTER_LEN})", text.len()),
            });
        }
        let tokens = lex(text)?;
        let mut p = Parser { tokens, pos: 0, depth: 0 };
        if p.peek().kind == Tok::End {
            return Err(FilterError { column: p.peek().column, message: "empty filter".into() });
        }
        let expr = p.or()?;
        let t = p.peek();
        if t.kind != Tok::End {
            let message = match t.kind {
                Tok::RParen => "unbalanced `)`".to_string(),
                _ => format!("expected `&&`, `||` or the end of the filter, found {}", t.kind.describe()),
            };
            return Err(FilterError { column: t.column, message });
        }
        Ok(Filter { source: text.to_string(), expr })
    }

    /// The text the filter was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// Evaluates the filter against a frame's fields.
    pub fn matches(&self, fields: &FieldSet<'_>) -> bool {
        eval(&self.expr, fields)
    }

    /// Convenience: walks `record`'s fields (no display labels) and evaluates the filter.
    pub fn matches_record(&self, record: &FrameRecord) -> bool {
        let tree = crate::dissect::dissect_fields(record);
        self.matches(&FieldSet::from_record(record, &tree))
    }
}

/// The (field, value) pairs of one frame, as a filter sees them.
#[derive(Debug, Clone, Default)]
pub struct FieldSet<'a> {
    borrowed: Vec<(&'a str, &'a FieldValue)>,
    owned: Vec<(&'static str, FieldValue)>,
}

impl<'a> FieldSet<'a> {
    /// Every field of the tree.
    pub fn from_tree(tree: &'a Tree) -> FieldSet<'a> {
        FieldSet { borrowed: tree.fields(), owned: Vec::new() }
    }

    /// The tree's fields plus, per finding, `finding.severity` and `finding.layer` (text).
    pub fn from_record(record: &FrameRecord, tree: &'a Tree) -> FieldSet<'a> {
        let mut s = FieldSet::from_tree(tree);
        for f in &record.findings {
            s.push("finding.severity", FieldValue::Str(f.severity.as_str().to_string()));
            s.push("finding.layer", FieldValue::Str(f.layer.as_str().to_string()));
        }
        s
    }

    /// Adds a field computed outside the tree.
    pub fn push(&mut self, field: &'static str, value: FieldValue) {
        self.owned.push((field, value));
    }

    fn each(&self, mut f: impl FnMut(&str, &FieldValue) -> bool) -> bool {
        self.borrowed.iter().any(|(n, v)| f(n, v)) || self.owned.iter().any(|(n, v)| f(n, v))
    }
}

fn is_under(name: &str, field: &str) -> bool {
    name == field
        || (name.len() > field.len()
            && name.starts_with(field)
            && name.as_bytes().get(field.len()) == Some(&b'.'))
}

fn eval(e: &Expr, fields: &FieldSet<'_>) -> bool {
    match e {
        Expr::Or(a, b) => eval(a, fields) || eval(b, fields),
        Expr::And(a, b) => eval(a, fields) && eval(b, fields),
        Expr::Not(a) => !eval(a, fields),
        Expr::Test(t) => match &t.cmp {
            None => fields.each(|n, _| is_under(n, &t.field)),
            Some((Op::Ne, lit)) => {
                let present = fields.each(|n, _| n == t.field);
                present && !fields.each(|n, v| n == t.field && compare(v, Op::Eq, lit))
            }
            Some((op, lit)) => fields.each(|n, v| n == t.field && compare(v, *op, lit)),
        },
    }
}

fn ordered<T: Ord + ?Sized>(a: &T, op: Op, b: &T) -> bool {
    match op {
        Op::Eq => a == b,
        Op::Ne => a != b,
        Op::Lt => a < b,
        Op::Le => a <= b,
        Op::Gt => a > b,
        Op::Ge => a >= b,
        Op::Contains => false,
    }
}

fn compare(v: &FieldValue, op: Op, lit: &Literal) -> bool {
    match v {
        FieldValue::Uint(x) => lit.uint.is_some_and(|l| ordered(x, op, &l)),
        FieldValue::Int(x) => lit.int.is_some_and(|l| ordered(x, op, &l)),
        FieldValue::Bool(x) => lit.boolean.is_some_and(|l| ordered(x, op, &l)),
        FieldValue::Bytes(x) => match &lit.bytes {
            Some(l) if op == Op::Contains => l.is_empty() || x.windows(l.len()).any(|w| w == l.as_slice()),
            Some(l) => ordered(x.as_slice(), op, l.as_slice()),
            None => false,
        },
        FieldValue::Str(x) => {
            if op == Op::Contains {
                x.contains(lit.text.as_str())
            } else {
                ordered(x.as_str(), op, lit.text.as_str())
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Op(Op),
    Word(String),
    Str(String),
    End,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::And => "`&&`".into(),
            Tok::Or => "`||`".into(),
            Tok::Not => "`!`".into(),
            Tok::Op(op) => format!("`{}`", op.as_str()),
            Tok::Word(w) => format!("`{w}`"),
            Tok::Str(_) => "a quoted string".into(),
            Tok::End => "the end of the filter".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    kind: Tok,
    /// 1-based column in characters.
    column: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')
}

fn lex(text: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0usize;
    let at = |i: usize| chars.get(i).copied();
    let err = |col: usize, m: String| FilterError { column: col + 1, message: m };
    while let Some(c) = at(i) {
        let column = i + 1;
        let two = |k: Tok, out: &mut Vec<Token>| out.push(Token { kind: k, column });
        match c {
            c if c.is_whitespace() => {
                i += 1;
            }
            '(' => {
                two(Tok::LParen, &mut out);
                i += 1;
            }
            ')' => {
                two(Tok::RParen, &mut out);
                i += 1;
            }
            '&' => {
                if at(i + 1) != Some('&') {
                    return Err(err(i, "`&` is not an operator: use `&&`".into()));
                }
                two(Tok::And, &mut out);
                i += 2;
            }
            '|' => {
                if at(i + 1) != Some('|') {
                    return Err(err(i, "`|` is not an operator: use `||`".into()));
                }
                two(Tok::Or, &mut out);
                i += 2;
            }
            '!' => {
                if at(i + 1) == Some('=') {
                    two(Tok::Op(Op::Ne), &mut out);
                    i += 2;
                } else {
                    two(Tok::Not, &mut out);
                    i += 1;
                }
            }
            '=' => {
                if at(i + 1) != Some('=') {
                    return Err(err(i, "`=` is not an operator: use `==`".into()));
                }
                two(Tok::Op(Op::Eq), &mut out);
                i += 2;
            }
            '<' | '>' => {
                let eq = at(i + 1) == Some('=');
                let op = match (c, eq) {
                    ('<', false) => Op::Lt,
                    ('<', true) => Op::Le,
                    ('>', false) => Op::Gt,
                    _ => Op::Ge,
                };
                two(Tok::Op(op), &mut out);
                i += if eq { 2 } else { 1 };
            }
            '"' => {
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    match at(j) {
                        None => return Err(err(i, "unterminated string (missing `\"`)".into())),
                        Some('"') => break,
                        Some('\\') => {
                            let esc = at(j + 1);
                            let ch = match esc {
                                Some('"') => '"',
                                Some('\\') => '\\',
                                Some('n') => '\n',
                                Some('t') => '\t',
                                Some('r') => '\r',
                                Some(other) => {
                                    return Err(err(j, format!("unknown escape `\\{other}` in string")));
                                }
                                None => return Err(err(i, "unterminated string (missing `\"`)".into())),
                            };
                            s.push(ch);
                            j += 2;
                        }
                        Some(ch) => {
                            s.push(ch);
                            j += 1;
                        }
                    }
                }
                two(Tok::Str(s), &mut out);
                i = j + 1;
            }
            c if is_word_char(c) => {
                let mut j = i;
                while at(j).is_some_and(is_word_char) {
                    j += 1;
                }
                let word: String = chars.get(i..j).unwrap_or_default().iter().collect();
                let kind = match word.as_str() {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    "eq" => Tok::Op(Op::Eq),
                    "ne" => Tok::Op(Op::Ne),
                    "lt" => Tok::Op(Op::Lt),
                    "le" => Tok::Op(Op::Le),
                    "gt" => Tok::Op(Op::Gt),
                    "ge" => Tok::Op(Op::Ge),
                    "contains" => Tok::Op(Op::Contains),
                    _ => Tok::Word(word),
                };
                two(kind, &mut out);
                i = j;
            }
            other => return Err(err(i, format!("unexpected character `{other}`"))),
        }
    }
    out.push(Token { kind: Tok::End, column: chars.len() + 1 });
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Parser

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

const END: Token = Token { kind: Tok::End, column: 0 };

impl Parser {
    fn peek(&self) -> &Token {
        self.tokens.get(self.pos).or(self.tokens.last()).unwrap_or(&END)
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        t
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while self.peek().kind == Tok::Or {
            self.next();
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        while self.peek().kind == Tok::And {
            self.next();
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn enter(&mut self, column: usize) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FilterError { column, message: format!("nested more than {MAX_DEPTH} levels deep") });
        }
        Ok(())
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        let t = self.next();
        match t.kind {
            Tok::Not => {
                self.enter(t.column)?;
                let e = self.unary()?;
                self.depth -= 1;
                Ok(Expr::Not(Box::new(e)))
            }
            Tok::LParen => {
                self.enter(t.column)?;
                let e = self.or()?;
                let close = self.next();
                if close.kind != Tok::RParen {
                    return Err(FilterError {
                        column: close.column,
                        message: format!(
                            "expected `)` (to close column {}), found {}",
                            t.column,
                            close.kind.describe()
                        ),
                    });
                }
                self.depth -= 1;
                Ok(e)
            }
            Tok::Word(field) => {
                check_field(&field, t.column)?;
                let cmp = match self.peek().kind {
                    Tok::Op(op) => {
                        let op_col = self.peek().column;
                        self.next();
                        let v = self.next();
                        let lit = match v.kind {
                            Tok::Word(w) => Literal::new(w, false),
                            Tok::Str(s) => Literal::new(s, true),
                            other => {
                                return Err(FilterError {
                                    column: v.column,
                                    message: format!(
                                        "expected a value after `{}` (column {op_col}), found {}",
                                        op.as_str(),
                                        other.describe()
                                    ),
                                });
                            }
                        };
                        Some((op, lit))
                    }
                    _ => None,
                };
                Ok(Expr::Test(Test { field, cmp }))
            }
            Tok::Str(_) => Err(FilterError {
                column: t.column,
                message: "a quoted string cannot start a test: write `field == \"text\"`".into(),
            }),
            other => Err(FilterError {
                column: t.column,
                message: format!("expected a field name, `!` or `(`, found {}", other.describe()),
            }),
        }
    }
}

fn check_field(field: &str, column: usize) -> Result<(), FilterError> {
    let first = field.split('.').next().unwrap_or_default();
    let well_formed = !field.is_empty()
        && field
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    if !well_formed {
        return Err(FilterError { column, message: format!("`{field}` is not a field name") });
    }
    if !PROTOCOLS.contains(&first) {
        return Err(FilterError {
            column,
            message: format!("unknown protocol `{first}` in `{field}` (known: {})", PROTOCOLS.join(", ")),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::Node;
    use proptest::prelude::*;

    fn tree() -> Tree {
        let mut coap = Node::text("Constrained Application Protocol");
        coap.push(Node::field("Message ID: 46126", "coap.mid", FieldValue::Uint(46126)));
        coap.push(Node::field("Code: GET", "coap.code", FieldValue::Uint(1)));
        coap.push(Node::field("Type: CON", "coap.type", FieldValue::Str("CON".into())));
        coap.push(Node::field("Uri-Path: ctl", "coap.opt.uri_path", FieldValue::Str("ctl".into())));
        coap.push(Node::field("Uri-Path: mode", "coap.opt.uri_path", FieldValue::Str("mode".into())));
        let mut osc = Node::text("OSCORE");
        osc.push(Node::field("kid: 01", "oscore.kid", FieldValue::Bytes(vec![0x01])));
        osc.push(Node::field("piv", "oscore.piv", FieldValue::Bytes(vec![0x00, 0x2a])));
        osc.push(Node::field("k", "oscore.flags.k", FieldValue::Bool(true)));
        osc.push(Node::field("status", "oscore.status", FieldValue::Str("decrypted".into())));
        let frame = Node::text("Frame 7").with(vec![Node::field("n", "frame.number", FieldValue::Uint(7))]);
        Tree { roots: vec![frame, coap, osc] }
    }

    fn m(f: &str) -> bool {
        let t = tree();
        Filter::parse(f).unwrap_or_else(|e| panic!("{f}: {e}")).matches(&FieldSet::from_tree(&t))
    }

    fn err(f: &str) -> FilterError {
        Filter::parse(f).unwrap_err()
    }

    #[test]
    fn bare_fields_and_protocols_test_presence() {
        assert!(m("coap"));
        assert!(m("oscore"));
        assert!(!m("kudos"));
        assert!(!m("udp"));
        assert!(m("oscore.kid"));
        assert!(m("oscore.flags"), "a prefix of a present field is present");
        assert!(!m("oscore.kid_context"), "oscore.kid is not under oscore.kid_context");
        assert!(!m("coap.mi"), "only whole components match");
    }

    #[test]
    fn unsigned_comparisons() {
        assert!(m("coap.mid == 46126"));
        assert!(m("coap.mid == 0xb42e"));
        assert!(!m("coap.mid == 46127"));
        assert!(m("coap.mid > 46125 && coap.mid >= 46126 && coap.mid < 46127 && coap.mid <= 46126"));
        assert!(m("frame.number eq 7 and not frame.number gt 7"));
        // RFC 7252 §12.1: codes as c.dd: 0.01 is GET.
        assert!(m("coap.code == 0.01"));
        assert!(!m("coap.code == 2.05"));
        assert!(!m("coap.mid == abc"), "a value of the wrong type never matches");
    }

    #[test]
    fn byte_comparisons_accept_every_hex_spelling() {
        assert!(m("oscore.kid == 01"));
        assert!(m("oscore.kid == 0x01"));
        assert!(m("oscore.kid == 0x1"), "0x with odd length: leading zero assumed");
        assert!(!m("oscore.kid == 1"), "bare hex needs whole bytes");
        assert!(m("oscore.piv == 00:2a && oscore.piv == 002a && oscore.piv == 0x002a && oscore.piv == 0-2a"));
        assert!(!m("oscore.piv == 2a"));
        assert!(m("oscore.piv contains 2a && oscore.piv > 00:29:ff"));
        assert!(!m("oscore.kid == 02"));
    }

    #[test]
    fn strings_bools_and_multiple_occurrences() {
        assert!(m("coap.type == CON && coap.type == \"CON\""));
        assert!(m("oscore.status == decrypted"));
        assert!(m("coap.opt.uri_path == mode"), "any occurrence");
        assert!(m("coap.opt.uri_path == ctl"));
        assert!(!m("coap.opt.uri_path != mode"), "!= means no occurrence equals");
        assert!(m("coap.opt.uri_path != other"));
        assert!(!m("kudos.x != 1"), "!= needs the field to be present");
        assert!(m("coap.opt.uri_path contains \"od\""));
        assert!(m("oscore.flags.k == true && oscore.flags.k == 1 && !(oscore.flags.k == false)"));
    }

    #[test]
    fn precedence_and_parentheses() {
        // && binds tighter than ||.
        assert!(m("kudos || coap && oscore"));
        assert!(!m("(kudos || coap) && udp"));
        assert!(m("!udp && !(kudos)"));
        assert!(m("not not coap"));
        assert!(m("oscore.kid == 01 && !kudos"));
        assert!(!m("oscore.kid == 01 && kudos"));
    }

    #[test]
    fn errors_are_located() {
        assert_eq!(
            err("coap.mid = 1"),
            FilterError { column: 10, message: "`=` is not an operator: use `==`".into() }
        );
        let e = err("coap.mid == ");
        assert_eq!(e.column, 13);
        assert!(e.message.contains("expected a value after `==`"), "{e}");
        let e = err("foo.bar == 1");
        assert_eq!(e.column, 1);
        assert!(e.message.contains("unknown protocol `foo`"), "{e}");
        let e = err("(coap && udp");
        assert_eq!(e.column, 13);
        assert!(e.message.contains("expected `)`"), "{e}");
        assert_eq!(err("coap)").message, "unbalanced `)`");
        assert_eq!(err("coap)").column, 5);
        assert_eq!(err("coap.type == \"CON").column, 14);
        assert_eq!(err("coap & udp").column, 6);
        assert_eq!(err("coap udp").column, 6);
        assert_eq!(err("   ").message, "empty filter");
        assert_eq!(err("coap..mid").message, "`coap..mid` is not a field name");
        assert_eq!(err("coap == #").column, 9);
        // Columns count characters, not bytes.
        assert_eq!(err("coap.type == \"é\" && ?").column, 21);
        let deep = "(".repeat(100) + "coap" + &")".repeat(100);
        assert!(err(&deep).message.contains("nested more than 64"));
        let nots = "!".repeat(1000) + "coap";
        assert!(err(&"!".repeat(5000)).message.starts_with("filter too long"));
        assert!(err(&nots).message.contains("nested more than 64"));
    }

    #[test]
    fn literal_interpretations() {
        let l = Literal::new("0102".into(), false);
        assert_eq!((l.uint, l.bytes.as_deref()), (Some(102), Some(&[1u8, 2][..])));
        assert_eq!(Literal::new("2.05".into(), false).uint, Some(69));
        assert_eq!(Literal::new("8.00".into(), false).uint, None);
        assert_eq!(Literal::new("0x".into(), false).uint, None);
        assert_eq!(Literal::new("0x1ffffffffffffffff".into(), false).uint, None);
        assert_eq!(Literal::new("01:2:ab".into(), false).bytes, Some(vec![1, 2, 0xab]));
        assert_eq!(Literal::new("01::02".into(), false).bytes, None);
        assert_eq!(Literal::new("012".into(), false).bytes, None);
        assert_eq!(Literal::new("-5".into(), false).int, Some(-5));
        assert_eq!(Literal::new("ab".into(), true).bytes, Some(b"ab".to_vec()));
    }

    #[test]
    fn record_fields_include_finding_severity() {
        use crate::analysis::{Analyzer, AnalyzerConfig};
        use crate::capture::{LinkType, RawFrame};
        // A truncated UDP datagram on raw IPv4 yields a finding.
        let frame = RawFrame {
            number: 1,
            ts: crate::Timestamp::ZERO,
            link_type: LinkType::RAW,
            interface: 0,
            orig_len: 30,
            data: vec![0x45, 0, 0, 30, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x16, 0x33],
            file_offset: 0,
        };
        let rec = Analyzer::new(AnalyzerConfig::default()).process(&frame);
        assert!(!rec.findings.is_empty());
        let sev = rec.findings.iter().map(|f| f.severity).max().unwrap();
        let f = Filter::parse(&format!("finding.severity == {sev} && finding.kind && ip")).unwrap();
        assert!(f.matches_record(&rec));
        assert!(!Filter::parse("coap").unwrap().matches_record(&rec));
    }

    proptest! {
        #[test]
        fn arbitrary_input_never_panics(s in "\\PC{0,80}") {
            if let Ok(f) = Filter::parse(&s) {
                let t = tree();
                let _ = f.matches(&FieldSet::from_tree(&t));
            }
        }

        #[test]
        fn filter_alphabet_never_panics(s in "[ ()!&|=<>\"a-z0-9.:_\\\\-]{0,60}") {
            match Filter::parse(&s) {
                Ok(f) => { let t = tree(); let _ = f.matches(&FieldSet::from_tree(&t)); }
                Err(e) => prop_assert!(e.column >= 1 && e.column <= s.chars().count() + 1, "{e} for {s:?}"),
            }
        }
    }
}
