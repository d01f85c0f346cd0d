//! Lower-case hex encoding and decoding (keys files, display, JSON).

/// Encodes bytes as lower-case hex without separators.
pub fn encode(bytes: &[u8]) -> String {
    let nibble = |n: u8| char::from_digit(u32::from(n), 16).unwrap_or('0');
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(nibble(b >> 4));
        s.push(nibble(b & 0x0f));
    }
    s
}

/// Error of [`decode`]: what was wrong and at which character.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    #[error("odd number of hex digits ({0})")]
    OddLength(usize),
    #[error("invalid hex digit {ch:?} at position {pos}")]
    BadDigit { ch: char, pos: usize },
}

/// Decodes hex; accepts upper and lower case, and ignores `:`, `-`, spaces and a leading `0x`.
pub fn decode(s: &str) -> Result<Vec<u8>, HexError> {
    let t = s.trim();
    let t = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
    let mut digits = Vec::with_capacity(t.len());
    for (pos, ch) in t.char_indices() {
        match ch {
            ':' | '-' | ' ' => continue,
            _ => match ch.to_digit(16) {
                Some(d) => digits.push(d as u8),
                None => return Err(HexError::BadDigit { ch, pos }),
            },
        }
    }
    if digits.len() % 2 != 0 {
        return Err(HexError::OddLength(digits.len()));
    }
    Ok(digits
        .chunks_exact(2)
        .map(|p| match p {
            [hi, lo] => (hi << 4) | lo,
            _ => 0,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        assert_eq!(encode(&[0x00, 0xab, 0x7f]), "00ab7f");
        assert_eq!(decode("00AB7f").unwrap(), vec![0x00, 0xab, 0x7f]);
        assert_eq!(decode("0x01:02-03 04").unwrap(), vec![1, 2, 3, 4]);
        assert_eq!(decode("").unwrap(), Vec::<u8>::new());
        assert_eq!(decode("abc"), Err(HexError::OddLength(3)));
        assert_eq!(decode("zz"), Err(HexError::BadDigit { ch: 'z', pos: 0 }));
    }
}
