//! The few CBOR encodings OSCORE builds (RFC 8949 preferred serialisation: shortest heads,
//! definite lengths). Written by hand so the bytes are exactly what RFC 8613 shows.

/// Major types used here.
const UINT: u8 = 0;
const NINT: u8 = 1;
const BSTR: u8 = 2;
const TSTR: u8 = 3;
const ARRAY: u8 = 4;

/// CBOR `null` (RFC 8949 §3.3, simple value 22), used for an absent ID Context.
pub const NULL: u8 = 0xf6;

/// Appends a data item head with the shortest argument encoding.
pub fn head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let mt = major << 5;
    if arg < 24 {
        out.push(mt | arg as u8);
    } else if let Ok(a) = u8::try_from(arg) {
        out.push(mt | 24);
        out.push(a);
    } else if let Ok(a) = u16::try_from(arg) {
        out.push(mt | 25);
        out.extend_from_slice(&a.to_be_bytes());
    } else if let Ok(a) = u32::try_from(arg) {
        out.push(mt | 26);
        out.extend_from_slice(&a.to_be_bytes());
    } else {
        out.push(mt | 27);
        out.extend_from_slice(&arg.to_be_bytes());
    }
}

/// Appends an integer (major type 0 or 1).
pub fn int(out: &mut Vec<u8>, v: i64) {
    if v >= 0 {
        head(out, UINT, v.unsigned_abs());
    } else {
        // -1 - n encodes as n
        head(out, NINT, v.unsigned_abs() - 1);
    }
}

/// Appends an unsigned integer.
pub fn uint(out: &mut Vec<u8>, v: u64) {
    head(out, UINT, v);
}

/// Appends a byte string.
pub fn bstr(out: &mut Vec<u8>, b: &[u8]) {
    head(out, BSTR, b.len() as u64);
    out.extend_from_slice(b);
}

/// Appends a text string.
pub fn tstr(out: &mut Vec<u8>, s: &str) {
    head(out, TSTR, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Appends an array head of `n` elements.
pub fn array(out: &mut Vec<u8>, n: u64) {
    head(out, ARRAY, n);
}

/// The byte string `b` as a standalone CBOR item.
pub fn bstr_item(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len() + 3);
    bstr(&mut out, b);
    out
}

/// If `item` is exactly one definite-length CBOR byte string, its content. Used for kid
/// contexts that carry the CBOR encoding of the ID Context (RFC 8613 Appendix B.2 as
/// Californium and libcoap send it, PROTOCOLS.md §2.12).
pub fn decode_bstr_exact(item: &[u8]) -> Option<&[u8]> {
    let (&first, rest) = item.split_first()?;
    if first >> 5 != BSTR {
        return None;
    }
    let (len, body) = match first & 0x1f {
        n @ 0..=23 => (u64::from(n), rest),
        24 => (u64::from(*rest.first()?), rest.get(1..)?),
        25 => (u64::from(u16::from_be_bytes(rest.get(..2)?.try_into().ok()?)), rest.get(2..)?),
        26 => (u64::from(u32::from_be_bytes(rest.get(..4)?.try_into().ok()?)), rest.get(4..)?),
        27 => (u64::from_be_bytes(rest.get(..8)?.try_into().ok()?), rest.get(8..)?),
        _ => return None,
    };
    (u64::try_from(body.len()).ok()? == len).then_some(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(f: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
        let mut v = Vec::new();
        f(&mut v);
        v
    }

    /// RFC 8949 Appendix A examples.
    #[test]
    fn rfc8949_appendix_a() {
        assert_eq!(enc(|o| int(o, 0)), [0x00]);
        assert_eq!(enc(|o| int(o, 23)), [0x17]);
        assert_eq!(enc(|o| int(o, 24)), [0x18, 0x18]);
        assert_eq!(enc(|o| int(o, 100)), [0x18, 0x64]);
        assert_eq!(enc(|o| int(o, 1000)), [0x19, 0x03, 0xe8]);
        assert_eq!(enc(|o| int(o, 1_000_000)), [0x1a, 0x00, 0x0f, 0x42, 0x40]);
        assert_eq!(
            enc(|o| uint(o, 1_000_000_000_000)),
            [0x1b, 0x00, 0x00, 0x00, 0xe8, 0xd4, 0xa5, 0x10, 0x00]
        );
        assert_eq!(enc(|o| int(o, -1)), [0x20]);
        assert_eq!(enc(|o| int(o, -10)), [0x29]);
        assert_eq!(enc(|o| int(o, -100)), [0x38, 0x63]);
        assert_eq!(enc(|o| int(o, -1000)), [0x39, 0x03, 0xe7]);
        assert_eq!(enc(|o| int(o, i64::MIN)), [0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(enc(|o| bstr(o, &[])), [0x40]);
        assert_eq!(enc(|o| bstr(o, &[1, 2, 3, 4])), [0x44, 1, 2, 3, 4]);
        assert_eq!(enc(|o| tstr(o, "IETF")), [0x64, b'I', b'E', b'T', b'F']);
        assert_eq!(enc(|o| array(o, 3)), [0x83]);
        assert_eq!(enc(|o| array(o, 25)), [0x98, 0x19]);
        assert_eq!(bstr_item(&[0u8; 24])[..2], [0x58, 0x18]);
    }

    #[test]
    fn decode_bstr_exact_cases() {
        // PROTOCOLS.md §2.12: `48 || R1` (s = 9) carries an 8-byte ID Context.
        let r1 = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let mut item = vec![0x48];
        item.extend_from_slice(&r1);
        assert_eq!(decode_bstr_exact(&item), Some(&r1[..]));
        assert_eq!(decode_bstr_exact(&[0x40]), Some(&[][..]));
        assert_eq!(decode_bstr_exact(&bstr_item(&[9; 300])), Some(&[9u8; 300][..]));
        assert_eq!(decode_bstr_exact(&item[..8]), None); // short
        assert_eq!(decode_bstr_exact(&[0x41, 1, 2]), None); // trailing byte
        assert_eq!(decode_bstr_exact(&[0x61, b'a']), None); // text string
        assert_eq!(decode_bstr_exact(&[0x5f, 0x41, 1, 0xff]), None); // indefinite length
        assert_eq!(decode_bstr_exact(&[0x58]), None);
        assert_eq!(decode_bstr_exact(&[]), None);
    }

    /// Cross-check against ciborium for every head boundary.
    #[test]
    fn matches_ciborium() {
        for v in [0i64, 1, 23, 24, 255, 256, 65535, 65536, -1, -24, -25, -256, -257, -65537] {
            let mut ours = Vec::new();
            int(&mut ours, v);
            let mut theirs = Vec::new();
            ciborium::into_writer(&ciborium::Value::Integer(v.into()), &mut theirs).unwrap();
            assert_eq!(ours, theirs, "{v}");
        }
        for n in [0usize, 23, 24, 255, 256, 300] {
            let b = vec![0xabu8; n];
            let mut theirs = Vec::new();
            ciborium::into_writer(&ciborium::Value::Bytes(b.clone()), &mut theirs).unwrap();
            assert_eq!(bstr_item(&b), theirs, "{n}");
        }
    }
}
