//! The OSCORE option value (RFC 8613 §6.1), with the KUDOS extension (draft-ietf-core-oscore-
//! key-update-14 §4.1): parsed structurally, every field with its byte range relative to the
//! start of the option value.
//!
//! ```text
//! flags1 [flags2 [flags3 ...]] | PIV (n B) | [s | kid context] if h | [x | nonce] if d | kid (rest) if k
//! ```
//!
//! Parsing is lax ([`OscoreOption::parse`]): it never fails, keeps every field that parsed
//! completely, and lists each problem with its location ([`OptionProblem`]). A field the value
//! is too short for is not stored (its declared range is in the `Truncated` problem) and
//! parsing stops there.

use super::alg::AeadAlg;
use crate::bytes::SmallBytes;
use std::fmt;
use std::ops::Range;

/// Flag bit masks and limits (bit positions as in the OSCORE Flag Bits registry: position 0 is
/// the MSB of the first flag byte).
pub mod flag {
    /// Byte 1, position 0: Extension-1 Flag (KUDOS; a second flag byte follows).
    pub const EXTENSION_1: u8 = 0x80;
    /// Byte 1, position 1: reserved (Unassigned).
    pub const RESERVED: u8 = 0x40;
    /// Byte 1, position 2: Group Flag (Group OSCORE).
    pub const GROUP: u8 = 0x20;
    /// Byte 1, position 3: h, kid context present.
    pub const H: u8 = 0x10;
    /// Byte 1, position 4: k, kid present.
    pub const K: u8 = 0x08;
    /// Byte 1, positions 5-7: n, Partial IV length (6 and 7 reserved).
    pub const N: u8 = 0x07;
    /// Bytes 2..8, MSB: Extension-(i+1) Flag, another flag byte follows.
    pub const EXTENSION_NEXT: u8 = 0x80;
    /// Byte 2, position 15: d, KUDOS nonce flag (fields x and nonce present).
    pub const D: u8 = 0x01;
    /// At most 8 flag bytes (positions 0..63).
    pub const MAX_FLAG_BYTES: usize = 8;
}

/// Bits of the KUDOS `x` byte.
pub mod x_bits {
    /// m: nonce length - 1.
    pub const M: u8 = 0x0f;
    /// p: 1 = no-FS mode.
    pub const P: u8 = 0x10;
    /// b: 1 = preserve observations.
    pub const B: u8 = 0x20;
    /// z: 0 = divergent message (CTX_TEMP), 1 = convergent (CTX_NEW).
    pub const Z: u8 = 0x40;
    /// Reserved, MUST be 0.
    pub const RESERVED: u8 = 0x80;
}

/// A field of the option value and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Field {
    /// Bytes of the option value this field occupies.
    pub range: Range<usize>,
    pub value: SmallBytes,
}

/// The KUDOS fields `x` and `nonce` (present when flag d is set).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KudosFields {
    /// The `x` byte.
    pub x: u8,
    /// Offset of `x` in the option value.
    pub x_at: usize,
    pub nonce: Field,
}

impl KudosFields {
    /// m: the nonce length minus one.
    pub fn m(&self) -> u8 {
        self.x & x_bits::M
    }
    /// Nonce length declared by `x` (1..16).
    pub fn declared_nonce_len(&self) -> usize {
        usize::from(self.m()) + 1
    }
    /// p = 1: no forward secrecy (CTX_IN = CTX_BOOTSTRAP).
    pub fn no_fs(&self) -> bool {
        self.x & x_bits::P != 0
    }
    /// b = 1: preserve observations.
    pub fn preserve_observations(&self) -> bool {
        self.x & x_bits::B != 0
    }
    /// z = 1: convergent message (protected with CTX_NEW); z = 0: divergent (CTX_TEMP).
    pub fn convergent(&self) -> bool {
        self.x & x_bits::Z != 0
    }
    /// The reserved bit 7 of x (malformed when set).
    pub fn reserved_bit(&self) -> bool {
        self.x & x_bits::RESERVED != 0
    }
    /// The updateCtx input of this message: `X || N` (raw concatenation, §4.3.1).
    pub fn input(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(1 + self.nonce.value.len());
        v.push(self.x);
        v.extend_from_slice(&self.nonce.value);
        v
    }
}

/// A field of the option value, for locating problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptionField {
    /// Flag byte number 1..=8.
    FlagByte(u8),
    Piv,
    /// The `s` byte (kid context length).
    KidContextLength,
    KidContext,
    /// The KUDOS `x` byte.
    X,
    /// The KUDOS nonce.
    Nonce,
}

impl fmt::Display for OptionField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionField::FlagByte(i) => write!(f, "flag byte {i}"),
            OptionField::Piv => f.write_str("Partial IV"),
            OptionField::KidContextLength => f.write_str("kid context length (s)"),
            OptionField::KidContext => f.write_str("kid context"),
            OptionField::X => f.write_str("KUDOS x byte"),
            OptionField::Nonce => f.write_str("KUDOS nonce"),
        }
    }
}

/// How bad an [`OptionProblem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProblemClass {
    /// Worth showing, not an error (unassigned bits in extension bytes, non-minimal PIV).
    Note,
    /// Valid for some other spec this analyzer does not implement (Group OSCORE).
    Unsupported,
    /// The value violates RFC 8613 / KUDOS: a receiver must reject the message.
    Malformed,
}

/// A located problem of an OSCORE option value. Ranges are relative to the option value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
pub enum OptionProblem {
    /// All flag bits zero but the value is not empty (RFC 8613 §6.1: it SHALL be empty then).
    #[error("all flag bits are zero but the option value is {len} bytes long (must be empty)")]
    ZeroFlagsNotEmpty { len: usize },
    /// The reserved bit 0x40 of the first flag byte (position 1) is set (RFC 8613 §6.1).
    #[error("reserved flag bit 0x40 (position 1) set at byte {at}")]
    ReservedFlag { at: usize },
    /// The Group Flag 0x20 (position 2) is set: Group OSCORE, not supported here.
    #[error("Group Flag (0x20) set: group mode is not supported")]
    GroupFlag { at: usize },
    /// Unassigned flag bits in an extension flag byte (KUDOS -14 leaves positions 9-14 and the
    /// non-extension bits of bytes 3..8 unassigned; -09 made 9-14 "must be 0").
    #[error("unassigned flag bits {} set in flag byte {}", positions(*.at, *.mask), .at + 1)]
    UnassignedFlags { at: usize, mask: u8 },
    /// n = 6 or 7 (reserved Partial IV lengths, RFC 8613 §6.1).
    #[error("reserved Partial IV length n = {n}")]
    ReservedPivLength { n: u8, at: usize },
    /// The Partial IV has a leading zero byte (it should be minimal: RFC 8613 §6.1 / COSE).
    #[error("Partial IV is not minimally encoded (leading zero byte)")]
    PivNotMinimal { range: Range<usize> },
    /// The value ends before a field its flags declare.
    #[error("{field} needs bytes {}..{} but the option value has {available} bytes", .declared.start, .declared.end)]
    Truncated { field: OptionField, declared: Range<usize>, available: usize },
    /// The reserved bit 7 of the KUDOS `x` byte is set (malformed, KUDOS §4.1).
    #[error("reserved bit 0x80 of the KUDOS x byte is set")]
    XReservedBit { at: usize },
    /// Bytes remain after the last field although no kid is present (k = 0).
    #[error("{} bytes after the last field (no kid flag)", .range.end - .range.start)]
    TrailingBytes { range: Range<usize> },
    /// The kid is longer than the algorithm's nonce allows (RFC 8613 §3.3), see
    /// [`OscoreOption::id_problems`].
    #[error("kid of {len} bytes is longer than the {max} bytes {alg} allows")]
    KidTooLong { len: usize, max: usize, alg: AeadAlg, range: Range<usize> },
}

fn positions(at: usize, mask: u8) -> String {
    let mut v = Vec::new();
    for bit in 0..8 {
        if mask & (0x80 >> bit) != 0 {
            v.push((at * 8 + bit).to_string());
        }
    }
    v.join(", ")
}

impl OptionProblem {
    pub fn class(&self) -> ProblemClass {
        match self {
            OptionProblem::UnassignedFlags { .. } | OptionProblem::PivNotMinimal { .. } => ProblemClass::Note,
            OptionProblem::GroupFlag { .. } => ProblemClass::Unsupported,
            _ => ProblemClass::Malformed,
        }
    }

    /// The bytes of the option value the problem is about (a `Truncated` field's declared range
    /// may extend past the value's end).
    pub fn range(&self) -> Range<usize> {
        match self {
            OptionProblem::ZeroFlagsNotEmpty { len } => 0..*len,
            OptionProblem::ReservedFlag { at }
            | OptionProblem::GroupFlag { at }
            | OptionProblem::UnassignedFlags { at, .. }
            | OptionProblem::ReservedPivLength { at, .. }
            | OptionProblem::XReservedBit { at } => *at..*at + 1,
            OptionProblem::PivNotMinimal { range }
            | OptionProblem::TrailingBytes { range }
            | OptionProblem::KidTooLong { range, .. } => range.clone(),
            OptionProblem::Truncated { declared, .. } => declared.clone(),
        }
    }
}

/// The parsed OSCORE option value. Built only by [`OscoreOption::parse`] and
/// [`OscoreOption::build`], so its flags and fields are consistent and [`emit`](Self::emit)
/// writes the bytes it was parsed from (for a value without problems).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct OscoreOption {
    flag_bytes: SmallBytes,
    piv: Option<Field>,
    kid_context: Option<Field>,
    kudos: Option<KudosFields>,
    kid: Option<Field>,
}

/// Result of the lax parse: what parsed, and every problem found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedOption {
    pub option: OscoreOption,
    pub problems: Vec<OptionProblem>,
}

impl ParsedOption {
    /// True when no problem worse than a note was found.
    pub fn is_valid(&self) -> bool {
        self.problems.iter().all(|p| p.class() == ProblemClass::Note)
    }
    /// The first malformed problem, if any.
    pub fn first_malformed(&self) -> Option<&OptionProblem> {
        self.problems.iter().find(|p| p.class() == ProblemClass::Malformed)
    }
}

/// Why [`OscoreOption::build`] refused its inputs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionBuildError {
    #[error("Partial IV of {0} bytes is longer than 5 bytes")]
    PivTooLong(usize),
    #[error("kid context of {0} bytes is longer than 255 bytes")]
    KidContextTooLong(usize),
    #[error("x = {x:#04x} declares a {} byte nonce, got {len} bytes", usize::from(x & x_bits::M) + 1)]
    NonceLength { x: u8, len: usize },
    #[error("x = {0:#04x} has the reserved bit 0x80 set")]
    XReservedBit(u8),
}

/// A cursor over the option value that records truncation.
struct Reader<'a> {
    value: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, field: OptionField, len: usize) -> Result<Field, OptionProblem> {
        let end = self.pos.saturating_add(len);
        match self.value.get(self.pos..end) {
            Some(b) => {
                let f = Field { range: self.pos..end, value: b.into() };
                self.pos = end;
                Ok(f)
            }
            None => {
                Err(OptionProblem::Truncated { field, declared: self.pos..end, available: self.value.len() })
            }
        }
    }
    fn byte(&mut self, field: OptionField) -> Result<(u8, usize), OptionProblem> {
        let at = self.pos;
        let f = self.take(field, 1)?;
        Ok((f.value.first().copied().unwrap_or(0), at))
    }
}

impl OscoreOption {
    /// Parses an option value; never fails. See the module documentation.
    pub fn parse(value: &[u8]) -> ParsedOption {
        let mut out = ParsedOption::default();
        let _ = Self::parse_into(value, &mut out);
        out
    }

    /// Parses and returns the option only if it has no problem worse than a note; otherwise
    /// the first such problem.
    pub fn parse_strict(value: &[u8]) -> Result<OscoreOption, OptionProblem> {
        let p = Self::parse(value);
        match p.problems.into_iter().find(|x| x.class() != ProblemClass::Note) {
            Some(problem) => Err(problem),
            None => Ok(p.option),
        }
    }

    /// Fills `out`; `Err` means parsing stopped at a truncated field (already in `problems`).
    fn parse_into(value: &[u8], out: &mut ParsedOption) -> Result<(), ()> {
        let opt = &mut out.option;
        let problems = &mut out.problems;
        let mut r = Reader { value, pos: 0 };
        if value.is_empty() {
            return Ok(());
        }
        // Flag bytes, chained by their MSB.
        loop {
            let idx = r.pos;
            let (b, at) = r.byte(OptionField::FlagByte(idx as u8 + 1)).map_err(|p| problems.push(p))?;
            opt.flag_bytes.push(b);
            let more = if idx == 0 {
                if b & flag::RESERVED != 0 {
                    problems.push(OptionProblem::ReservedFlag { at });
                }
                if b & flag::GROUP != 0 {
                    problems.push(OptionProblem::GroupFlag { at });
                }
                let n = b & flag::N;
                if n > 5 {
                    problems.push(OptionProblem::ReservedPivLength { n, at });
                }
                b & flag::EXTENSION_1 != 0
            } else {
                let last = idx + 1 == flag::MAX_FLAG_BYTES;
                let mut unassigned = b & !flag::EXTENSION_NEXT;
                if idx == 1 {
                    unassigned &= !flag::D;
                }
                if last {
                    // No ninth byte exists: the MSB of byte 8 is unassigned too.
                    unassigned |= b & flag::EXTENSION_NEXT;
                }
                if unassigned != 0 {
                    problems.push(OptionProblem::UnassignedFlags { at, mask: unassigned });
                }
                !last && b & flag::EXTENSION_NEXT != 0
            };
            if !more {
                break;
            }
        }
        if opt.flag_bytes == [0] {
            problems.push(OptionProblem::ZeroFlagsNotEmpty { len: value.len() });
            return Ok(());
        }
        // Partial IV.
        let n = usize::from(opt.n());
        if n > 0 {
            let f = r.take(OptionField::Piv, n).map_err(|p| problems.push(p))?;
            if n > 1 && f.value.first() == Some(&0) {
                problems.push(OptionProblem::PivNotMinimal { range: f.range.clone() });
            }
            opt.piv = Some(f);
        }
        // kid context.
        if opt.h() {
            let (s, _) = r.byte(OptionField::KidContextLength).map_err(|p| problems.push(p))?;
            let f = r.take(OptionField::KidContext, usize::from(s)).map_err(|p| problems.push(p))?;
            opt.kid_context = Some(f);
        }
        // KUDOS x and nonce.
        if opt.d() {
            let (x, x_at) = r.byte(OptionField::X).map_err(|p| problems.push(p))?;
            if x & x_bits::RESERVED != 0 {
                problems.push(OptionProblem::XReservedBit { at: x_at });
            }
            let len = usize::from(x & x_bits::M) + 1;
            let nonce = r.take(OptionField::Nonce, len).map_err(|p| problems.push(p))?;
            opt.kudos = Some(KudosFields { x, x_at, nonce });
        }
        // kid = the rest.
        let rest = r.pos..value.len();
        if opt.k() {
            let value = value.get(rest.clone()).unwrap_or_default().into();
            opt.kid = Some(Field { range: rest, value });
        } else if !rest.is_empty() {
            problems.push(OptionProblem::TrailingBytes { range: rest });
        }
        Ok(())
    }

    /// Builds a valid option from field values (flags computed: n = PIV length, h, k,
    /// Extension-1 + d when KUDOS fields are given). All-absent gives the empty value.
    pub fn build(
        piv: &[u8],
        kid_context: Option<&[u8]>,
        kudos: Option<(u8, &[u8])>,
        kid: Option<&[u8]>,
    ) -> Result<OscoreOption, OptionBuildError> {
        let n = u8::try_from(piv.len())
            .ok()
            .filter(|n| *n <= 5)
            .ok_or(OptionBuildError::PivTooLong(piv.len()))?;
        if let Some(c) = kid_context
            && c.len() > 255
        {
            return Err(OptionBuildError::KidContextTooLong(c.len()));
        }
        if let Some((x, nonce)) = kudos {
            if x & x_bits::RESERVED != 0 {
                return Err(OptionBuildError::XReservedBit(x));
            }
            if nonce.len() != usize::from(x & x_bits::M) + 1 {
                return Err(OptionBuildError::NonceLength { x, len: nonce.len() });
            }
        }
        let mut b0 = n;
        if kid_context.is_some() {
            b0 |= flag::H;
        }
        if kid.is_some() {
            b0 |= flag::K;
        }
        let mut opt = OscoreOption::default();
        if kudos.is_some() {
            opt.flag_bytes = [b0 | flag::EXTENSION_1, flag::D].into();
        } else if b0 != 0 {
            opt.flag_bytes = [b0].into();
        }
        let mut pos = opt.flag_bytes.len();
        let mut field = |len: usize, value: &[u8]| {
            let f = Field { range: pos..pos + len, value: value.into() };
            pos += len;
            f
        };
        if n > 0 {
            opt.piv = Some(field(piv.len(), piv));
        }
        if let Some(c) = kid_context {
            let _s = field(1, &[]);
            opt.kid_context = Some(field(c.len(), c));
        }
        if let Some((x, nonce)) = kudos {
            let x_at = field(1, &[]).range.start;
            opt.kudos = Some(KudosFields { x, x_at, nonce: field(nonce.len(), nonce) });
        }
        if let Some(k) = kid {
            opt.kid = Some(field(k.len(), k));
        }
        Ok(opt)
    }

    /// Writes the option value: flag bytes, then the fields in wire order.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.wire_len());
        self.emit_into(&mut out);
        out
    }

    /// Appends the option value to `out`.
    pub fn emit_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.flag_bytes);
        if let Some(p) = &self.piv {
            out.extend_from_slice(&p.value);
        }
        if let Some(c) = &self.kid_context {
            // Parse and build guarantee at most 255 bytes.
            out.push(u8::try_from(c.value.len()).unwrap_or(u8::MAX));
            out.extend_from_slice(&c.value);
        }
        if let Some(k) = &self.kudos {
            out.push(k.x);
            out.extend_from_slice(&k.nonce.value);
        }
        if let Some(k) = &self.kid {
            out.extend_from_slice(&k.value);
        }
    }

    /// Length of [`emit`](Self::emit)'s output.
    pub fn wire_len(&self) -> usize {
        self.flag_bytes.len()
            + self.piv.as_ref().map_or(0, |p| p.value.len())
            + self.kid_context.as_ref().map_or(0, |c| 1 + c.value.len())
            + self.kudos.as_ref().map_or(0, |k| 1 + k.nonce.value.len())
            + self.kid.as_ref().map_or(0, |k| k.value.len())
    }

    /// Problems that depend on the context's algorithm: a kid longer than nonce length - 6.
    pub fn id_problems(&self, alg: AeadAlg) -> Vec<OptionProblem> {
        let mut v = Vec::new();
        if let Some(k) = &self.kid
            && k.value.len() > alg.max_id_len()
        {
            v.push(OptionProblem::KidTooLong {
                len: k.value.len(),
                max: alg.max_id_len(),
                alg,
                range: k.range.clone(),
            });
        }
        v
    }

    /// The flag bytes as on the wire (none for an empty value).
    pub fn flag_bytes(&self) -> &[u8] {
        &self.flag_bytes
    }
    fn flags1(&self) -> u8 {
        self.flag_bytes.first().copied().unwrap_or(0)
    }
    /// Extension-1 Flag (0x80 of byte 1): a second flag byte follows.
    pub fn extension_1(&self) -> bool {
        self.flags1() & flag::EXTENSION_1 != 0
    }
    /// The reserved bit 0x40 of byte 1.
    pub fn reserved_flag(&self) -> bool {
        self.flags1() & flag::RESERVED != 0
    }
    /// Group Flag (0x20 of byte 1).
    pub fn group_flag(&self) -> bool {
        self.flags1() & flag::GROUP != 0
    }
    /// h: kid context present.
    pub fn h(&self) -> bool {
        self.flags1() & flag::H != 0
    }
    /// k: kid present.
    pub fn k(&self) -> bool {
        self.flags1() & flag::K != 0
    }
    /// n: declared Partial IV length (0..7).
    pub fn n(&self) -> u8 {
        self.flags1() & flag::N
    }
    /// d: KUDOS nonce flag (LSB of flag byte 2).
    pub fn d(&self) -> bool {
        self.flag_bytes.get(1).is_some_and(|b| b & flag::D != 0)
    }

    pub fn piv(&self) -> Option<&Field> {
        self.piv.as_ref()
    }
    pub fn kid_context(&self) -> Option<&Field> {
        self.kid_context.as_ref()
    }
    /// Offset of the `s` byte (kid context length).
    pub fn kid_context_len_at(&self) -> Option<usize> {
        self.kid_context.as_ref().map(|c| c.range.start.saturating_sub(1))
    }
    pub fn kudos(&self) -> Option<&KudosFields> {
        self.kudos.as_ref()
    }
    pub fn kid(&self) -> Option<&Field> {
        self.kid.as_ref()
    }
    pub fn piv_value(&self) -> Option<&[u8]> {
        self.piv.as_ref().map(|f| f.value.as_slice())
    }
    pub fn kid_value(&self) -> Option<&[u8]> {
        self.kid.as_ref().map(|f| f.value.as_slice())
    }
    pub fn kid_context_value(&self) -> Option<&[u8]> {
        self.kid_context.as_ref().map(|f| f.value.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::decode as h;

    fn parse_hex(s: &str) -> ParsedOption {
        OscoreOption::parse(&h(s).unwrap())
    }

    /// RFC 8613 §6.3 examples (PROTOCOLS.md §2.4).
    #[test]
    fn rfc8613_6_3_examples() {
        let p = parse_hex("090525");
        assert!(p.problems.is_empty());
        let o = &p.option;
        assert_eq!((o.n(), o.k(), o.h(), o.d()), (1, true, false, false));
        assert_eq!(o.piv(), Some(&Field { range: 1..2, value: vec![0x05].into() }));
        assert_eq!(o.kid(), Some(&Field { range: 2..3, value: vec![0x25].into() }));
        assert_eq!(o.emit(), h("090525").unwrap());

        let p = parse_hex("0900");
        assert!(p.problems.is_empty());
        assert_eq!(p.option.piv_value(), Some(&[0u8][..]));
        assert_eq!(p.option.kid(), Some(&Field { range: 2..2, value: vec![].into() }));

        let p = parse_hex("19050544616c656b");
        assert!(p.problems.is_empty());
        assert_eq!(p.option.kid_context(), Some(&Field { range: 3..8, value: b"Dalek".to_vec().into() }));
        assert_eq!(p.option.kid_context_len_at(), Some(2));
        assert_eq!(p.option.kid_value(), Some(&[][..]));

        let p = parse_hex("");
        assert!(p.problems.is_empty());
        assert_eq!(p.option, OscoreOption::default());
        assert_eq!(p.option.emit(), Vec::<u8>::new());

        let p = parse_hex("0107");
        assert!(p.problems.is_empty());
        assert_eq!(p.option.piv_value(), Some(&[7u8][..]));
        assert_eq!(p.option.kid(), None);
    }

    /// PROTOCOLS.md §3.2 parse examples (KUDOS -14 §4.1).
    #[test]
    fn kudos_examples() {
        let p = parse_hex("89010007018a278f7faab55a");
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let o = &p.option;
        assert!(o.extension_1() && o.k() && o.d());
        assert_eq!(o.flag_bytes(), &[0x89, 0x01]);
        assert_eq!(o.piv(), Some(&Field { range: 2..3, value: vec![0].into() }));
        let k = o.kudos().unwrap();
        assert_eq!((k.x, k.x_at), (0x07, 3));
        assert_eq!(k.nonce.range, 4..12);
        assert_eq!(k.nonce.value, h("018a278f7faab55a").unwrap());
        assert!(!k.convergent() && !k.no_fs() && !k.preserve_observations() && !k.reserved_bit());
        assert_eq!(k.declared_nonce_len(), 8);
        assert_eq!(k.input(), h("07018a278f7faab55a").unwrap());
        assert_eq!(o.kid(), Some(&Field { range: 12..12, value: vec![].into() }));

        let p = parse_hex("8101004725a8991cd700ac01");
        assert!(p.problems.is_empty());
        let k = p.option.kudos().unwrap();
        assert!(k.convergent());
        assert_eq!(k.nonce.value, h("25a8991cd700ac01").unwrap());
        assert_eq!(p.option.kid(), None);

        // Californium test vector.
        let v = h("9a0115b3030a0b0c070001020304050607aa").unwrap();
        let p = OscoreOption::parse(&v);
        assert!(p.problems.is_empty());
        let o = &p.option;
        assert_eq!(o.n(), 2);
        assert_eq!(o.piv(), Some(&Field { range: 2..4, value: vec![0x15, 0xb3].into() }));
        assert_eq!(o.kid_context_len_at(), Some(4));
        assert_eq!(o.kid_context(), Some(&Field { range: 5..8, value: vec![0x0a, 0x0b, 0x0c].into() }));
        let k = o.kudos().unwrap();
        assert_eq!((k.x, k.x_at, k.nonce.range.clone()), (0x07, 8, 9..17));
        assert_eq!(o.kid(), Some(&Field { range: 17..18, value: vec![0xaa].into() }));
        assert_eq!(o.emit(), v);
        assert_eq!(
            OscoreOption::build(
                &[0x15, 0xb3],
                Some(&[0x0a, 0x0b, 0x0c]),
                Some((0x07, &h("0001020304050607").unwrap())),
                Some(&[0xaa])
            )
            .unwrap(),
            *o
        );
    }

    /// PROTOCOLS.md §8.4: a KUDOS -09 style option (x 47 with y = 07 and an old_nonce) parses
    /// under -14 as convergent with a 10-byte kid, too long for every OSCORE algorithm.
    #[test]
    fn old_draft_option_parses_as_convergent_with_long_kid() {
        let p = parse_hex("9a0115b3030a0b0c47000102030405060707aabbccddeeff1122aa");
        assert!(p.problems.is_empty());
        let o = &p.option;
        let k = o.kudos().unwrap();
        assert!(k.convergent());
        assert_eq!(k.nonce.value, h("0001020304050607").unwrap());
        assert_eq!(o.kid_value().unwrap(), h("07aabbccddeeff1122aa").unwrap());
        assert_eq!(
            o.id_problems(AeadAlg::AesCcm16_64_128),
            vec![OptionProblem::KidTooLong { len: 10, max: 7, alg: AeadAlg::AesCcm16_64_128, range: 17..27 }]
        );
        assert!(o.id_problems(AeadAlg::AesCcm16_64_128)[0].class() == ProblemClass::Malformed);
    }

    #[test]
    fn flag_problems() {
        // Reserved 0x40 and group flag; fields still parsed.
        let p = parse_hex("6905");
        assert_eq!(
            p.problems,
            vec![OptionProblem::ReservedFlag { at: 0 }, OptionProblem::GroupFlag { at: 0 }]
        );
        assert_eq!(p.option.piv_value(), Some(&[5u8][..]));
        assert_eq!(p.problems[1].class(), ProblemClass::Unsupported);
        // n = 6: malformed, the 6 bytes are still taken.
        let p = parse_hex("06010203040506");
        assert_eq!(p.problems, vec![OptionProblem::ReservedPivLength { n: 6, at: 0 }]);
        assert_eq!(p.option.piv().unwrap().range, 1..7);
        // All-zero flags but non-empty.
        let p = parse_hex("0000");
        assert_eq!(p.problems, vec![OptionProblem::ZeroFlagsNotEmpty { len: 2 }]);
        assert_eq!(p.problems[0].range(), 0..2);
        // Unassigned bits 9 and 14 in byte 2 (note), d set.
        let p = parse_hex("8043") /* 0x43 = bits 9, 14 and d */;
        assert_eq!(p.problems.len(), 2, "{:?}", p.problems);
        assert_eq!(p.problems[0], OptionProblem::UnassignedFlags { at: 1, mask: 0x42 });
        assert_eq!(p.problems[0].to_string(), "unassigned flag bits 9, 14 set in flag byte 2");
        assert_eq!(p.problems[0].class(), ProblemClass::Note);
        assert!(matches!(p.problems[1], OptionProblem::Truncated { field: OptionField::X, .. }));
        // Chained flag bytes up to 8; byte 8's MSB is unassigned.
        let p = parse_hex("8080808080808080");
        assert_eq!(p.option.flag_bytes().len(), 8);
        assert_eq!(p.problems, vec![OptionProblem::UnassignedFlags { at: 7, mask: 0x80 }]);
        // x reserved bit.
        let p = parse_hex("8101008000");
        assert_eq!(p.problems, vec![OptionProblem::XReservedBit { at: 3 }]);
        assert_eq!(p.option.kudos().unwrap().nonce.value, vec![0]);
        // Trailing bytes without k.
        let p = parse_hex("0105aabb");
        assert_eq!(p.problems, vec![OptionProblem::TrailingBytes { range: 2..4 }]);
        // Non-minimal PIV is a note.
        let p = parse_hex("020014");
        assert_eq!(p.problems, vec![OptionProblem::PivNotMinimal { range: 1..3 }]);
        assert!(p.is_valid());
    }

    #[test]
    fn truncation_is_located_and_keeps_what_parsed() {
        // kid context declares 8 bytes, 3 present.
        let p = parse_hex("1914080102");
        assert_eq!(
            p.problems,
            vec![OptionProblem::Truncated { field: OptionField::KidContext, declared: 3..11, available: 5 }]
        );
        assert_eq!(p.option.piv_value(), Some(&[0x14u8][..]));
        assert_eq!(p.option.kid_context(), None);
        assert_eq!(p.option.kid(), None);
        // Extension flag but no second byte.
        let p = parse_hex("80");
        assert_eq!(
            p.problems,
            vec![OptionProblem::Truncated { field: OptionField::FlagByte(2), declared: 1..2, available: 1 }]
        );
        // Nonce shorter than m says.
        let p = parse_hex("890100070102");
        assert!(matches!(
            p.problems[..],
            [OptionProblem::Truncated {
                field: OptionField::Nonce,
                declared: std::ops::Range { start: 4, end: 12 },
                available: 6
            }]
        ));
        assert_eq!(
            OscoreOption::parse_strict(&h("890100070102").unwrap()).unwrap_err().class(),
            ProblemClass::Malformed
        );
    }

    #[test]
    fn build_rejects_bad_inputs() {
        assert_eq!(OscoreOption::build(&[0; 6], None, None, None), Err(OptionBuildError::PivTooLong(6)));
        assert_eq!(
            OscoreOption::build(&[], Some(&[0; 256]), None, None),
            Err(OptionBuildError::KidContextTooLong(256))
        );
        assert_eq!(
            OscoreOption::build(&[0], None, Some((0x07, &[0; 7])), None),
            Err(OptionBuildError::NonceLength { x: 7, len: 7 })
        );
        assert_eq!(
            OscoreOption::build(&[0], None, Some((0x80, &[0])), None),
            Err(OptionBuildError::XReservedBit(0x80))
        );
        // Emit of built options: RFC 8613 §6.3 and C.4-C.8 values.
        let b = |piv: &[u8], ctx: Option<&[u8]>, kid: Option<&[u8]>| {
            crate::hex::encode(&OscoreOption::build(piv, ctx, None, kid).unwrap().emit())
        };
        assert_eq!(b(&[0x14], None, Some(&[])), "0914");
        assert_eq!(b(&[0x14], None, Some(&[0])), "091400");
        assert_eq!(b(&[0x14], Some(&h("37cbf3210017a2d3").unwrap()), Some(&[])), "19140837cbf3210017a2d3");
        assert_eq!(b(&[], None, None), "");
        assert_eq!(b(&[0], None, None), "0100");
    }
}
