//! Checksums: the Internet checksum (RFC 1071) and the IEEE 802.15.4 FCS (CRC-16/KERMIT).

/// RFC 1071 ones' complement sum over the concatenation of `chunks`, complemented.
///
/// Chunks may have odd lengths: bytes are paired across chunk boundaries exactly as if the
/// chunks had been concatenated first (the pseudo-header + UDP header + payload case).
pub fn internet_checksum(chunks: &[&[u8]]) -> u16 {
    let mut sum: u64 = 0;
    let mut odd: Option<u8> = None;
    for chunk in chunks {
        for &b in chunk.iter() {
            match odd.take() {
                Some(hi) => sum += u64::from(u16::from_be_bytes([hi, b])),
                None => odd = Some(b),
            }
        }
    }
    if let Some(hi) = odd {
        sum += u64::from(u16::from_be_bytes([hi, 0]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// CRC-16/KERMIT (a.k.a. CRC-16/CCITT-TRUE): poly 0x1021 reflected (0x8408), init 0, no final
/// XOR. This is the IEEE 802.15.4 FCS (IEEE 802.15.4-2020 §7.2.11), sent least significant
/// byte first.
pub fn crc16_kermit(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0x8408 } else { crc >> 1 };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kermit_check_value() {
        // The catalogue check value of CRC-16/KERMIT over "123456789" is 0x2189.
        assert_eq!(crc16_kermit(b"123456789"), 0x2189);
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2 (checksum = !0xddf2).
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(internet_checksum(&[&data]), !0xddf2);
        // Split at odd boundaries: same result.
        assert_eq!(internet_checksum(&[&data[..3], &data[3..5], &data[5..]]), !0xddf2);
    }

    #[test]
    fn ipv4_header_example() {
        // A well-known IPv4 header (Wikipedia "IPv4 header checksum" example): checksum 0xb861.
        let h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01,
            0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(internet_checksum(&[&h]), 0xb861);
    }
}
