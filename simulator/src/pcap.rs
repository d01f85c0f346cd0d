//! Classic libpcap file writer (µs or ns magic, little or big endian).
//!
//! Format: a 24-byte global header (magic, version 2.4, thiszone, sigfigs, snaplen, link type)
//! and per record a 16-byte header (ts_sec, ts_frac, incl_len, orig_len) + the captured bytes.
//! See draft-ietf-opsawg-pcap §4 and §5.

/// Byte order of the numbers in a capture file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    Little,
    Big,
}

impl Endian {
    pub fn u16(self, v: u16) -> [u8; 2] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }
    pub fn u32(self, v: u32) -> [u8; 4] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }
    pub fn i64(self, v: i64) -> [u8; 8] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }
}

/// Timestamp resolution of a classic pcap file, chosen by its magic number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsPrecision {
    /// Magic 0xa1b2c3d4: the second timestamp word counts microseconds.
    Micro,
    /// Magic 0xa1b23c4d: the second timestamp word counts nanoseconds.
    Nano,
}

impl TsPrecision {
    pub fn magic(self) -> u32 {
        match self {
            TsPrecision::Micro => 0xa1b2_c3d4,
            TsPrecision::Nano => 0xa1b2_3c4d,
        }
    }
}

/// Size of the global header.
pub const FILE_HEADER_LEN: usize = 24;
/// Size of a record header.
pub const RECORD_HEADER_LEN: usize = 16;

/// An in-memory classic pcap writer.
#[derive(Debug, Clone)]
pub struct PcapWriter {
    buf: Vec<u8>,
    endian: Endian,
    precision: TsPrecision,
    frames: u64,
}

impl PcapWriter {
    /// Starts a file: writes the global header.
    pub fn new(link_type: u32, snaplen: u32, precision: TsPrecision, endian: Endian) -> Self {
        let mut buf = Vec::with_capacity(4096);
        buf.extend_from_slice(&endian.u32(precision.magic()));
        buf.extend_from_slice(&endian.u16(2)); // version major
        buf.extend_from_slice(&endian.u16(4)); // version minor
        buf.extend_from_slice(&endian.u32(0)); // thiszone (always 0)
        buf.extend_from_slice(&endian.u32(0)); // sigfigs (always 0)
        buf.extend_from_slice(&endian.u32(snaplen));
        buf.extend_from_slice(&endian.u32(link_type));
        PcapWriter { buf, endian, precision, frames: 0 }
    }

    /// Appends a record. `ts_ns` is nanoseconds since the Unix epoch; with µs precision it is
    /// truncated to whole microseconds. `orig_len` is the length on the wire (>= data.len()).
    pub fn record(&mut self, ts_ns: u64, data: &[u8], orig_len: u32) {
        let secs = ts_ns / 1_000_000_000;
        let sub = ts_ns % 1_000_000_000;
        let frac = match self.precision {
            TsPrecision::Micro => sub / 1_000,
            TsPrecision::Nano => sub,
        };
        let e = self.endian;
        self.buf.extend_from_slice(&e.u32(secs as u32));
        self.buf.extend_from_slice(&e.u32(frac as u32));
        self.buf.extend_from_slice(&e.u32(data.len() as u32));
        self.buf.extend_from_slice(&e.u32(orig_len));
        self.buf.extend_from_slice(data);
        self.frames += 1;
    }

    /// Byte offset at which the next record header would start.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn frames(&self) -> u64 {
        self.frames
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_le_micro() {
        let w = PcapWriter::new(1, 65535, TsPrecision::Micro, Endian::Little);
        assert_eq!(
            w.into_bytes(),
            [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0]
        );
    }

    #[test]
    fn header_be_nano_and_record() {
        let mut w = PcapWriter::new(101, 262144, TsPrecision::Nano, Endian::Big);
        w.record(1_767_225_600_123_456_789, &[0xaa, 0xbb], 2);
        let b = w.into_bytes();
        assert_eq!(&b[..4], &[0xa1, 0xb2, 0x3c, 0x4d]);
        assert_eq!(&b[20..24], &[0, 0, 0, 101]);
        // 1767225600 = 0x6955b900, 123456789 = 0x075bcd15
        assert_eq!(&b[24..40], &[0x69, 0x55, 0xb9, 0x00, 0x07, 0x5b, 0xcd, 0x15, 0, 0, 0, 2, 0, 0, 0, 2]);
        assert_eq!(&b[40..], &[0xaa, 0xbb]);
    }

    #[test]
    fn micro_truncates() {
        let mut w = PcapWriter::new(1, 65535, TsPrecision::Micro, Endian::Little);
        w.record(1_000_001_999, &[], 0);
        let b = w.into_bytes();
        assert_eq!(&b[24..32], &[1, 0, 0, 0, 1, 0, 0, 0]);
    }
}
