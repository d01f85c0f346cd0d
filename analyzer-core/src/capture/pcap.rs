//! Classic pcap (draft-ietf-opsawg-pcap, libpcap's savefile format).
//!
//! File header, 24 bytes, in the byte order given by the magic:
//! ```text
//!  0 magic (a1b2c3d4 = µs, a1b23c4d = ns)   4 version major u16, minor u16
//!  8 thiszone i32                           12 sigfigs u32
//! 16 snaplen u32                            20 link type (bits 0-15) + FCS info (bits 26-31)
//! ```
//! Packet record: a 16-byte header then `caplen` bytes of packet data:
//! ```text
//!  0 ts seconds u32   4 ts fraction u32 (µs or ns)   8 caplen u32   12 orig_len u32
//! ```

use super::input::{Endian, Input};
use super::{
    CaptureError, Common, InterfaceInfo, LinkType, MAX_RECORD_LEN, RawFrame, Timestamp, TsResolution,
};
use std::io::Read;

/// Length of the file header.
pub const FILE_HEADER_LEN: usize = 24;
/// Length of a packet record header.
pub const RECORD_HEADER_LEN: usize = 16;

/// Field offsets (file header, then packet record header).
mod field {
    pub const VERSION_MAJOR: usize = 4;
    pub const VERSION_MINOR: usize = 6;
    pub const SNAPLEN: usize = 16;
    pub const LINKTYPE: usize = 20;

    pub const TS_SEC: usize = 0;
    pub const TS_FRAC: usize = 4;
    pub const CAPLEN: usize = 8;
    pub const ORIG_LEN: usize = 12;
}

/// Link-type field: bits 0-15 are the LINKTYPE value.
const LINKTYPE_MASK: u32 = 0x0000_ffff;
/// Link-type field: bit 26 set = the FCS length in bits 28-31 is meaningful.
const FCS_PRESENT: u32 = 0x0400_0000;
const FCS_SHIFT: u32 = 28;

pub(crate) struct PcapState {
    endian: Endian,
    nanos: bool,
    snaplen: u32,
    link_type: LinkType,
    /// The one interface, as [`super::CaptureReader::interfaces`] shows it.
    iface: [InterfaceInfo; 1],
}

impl PcapState {
    /// Reads the rest of the file header (the 4 magic bytes are already consumed).
    pub(crate) fn open<R: Read>(
        input: &mut Input<R>,
        big_endian: bool,
        nanos: bool,
        common: &mut Common,
    ) -> Result<Self, CaptureError> {
        let endian = if big_endian { Endian::Big } else { Endian::Little };
        let mut hdr = [0u8; FILE_HEADER_LEN];
        let rest = hdr.get_mut(4..).unwrap_or_default();
        let got = input.fill(rest).map_err(|source| io_err(input, source))?;
        if got < FILE_HEADER_LEN - 4 {
            return Err(CaptureError::Truncated {
                offset: 0,
                frame: None,
                what: "pcap file header",
                needed: FILE_HEADER_LEN as u64,
                available: 4 + got as u64,
            });
        }
        let u32_at = |at| endian.u32_at(&hdr, at).unwrap_or(0);
        let major = endian.u16_at(&hdr, field::VERSION_MAJOR).unwrap_or(0);
        let minor = endian.u16_at(&hdr, field::VERSION_MINOR).unwrap_or(0);
        if major != 2 {
            return Err(CaptureError::Malformed {
                offset: 0,
                frame: None,
                what: format!("pcap file header has version {major}.{minor}; only version 2.x is defined"),
            });
        }
        let snaplen = u32_at(field::SNAPLEN);
        let raw_link = u32_at(field::LINKTYPE);
        let link_type = LinkType(raw_link & LINKTYPE_MASK);
        let fcs_bits = (raw_link & FCS_PRESENT != 0).then(|| ((raw_link >> FCS_SHIFT) as u16) * 16);
        common.stats.sections = 1;
        common.stats.interfaces = 1;
        let iface = InterfaceInfo {
            id: 0,
            link_type,
            snaplen,
            ts_resolution: if nanos { TsResolution::NANOS } else { TsResolution::MICROS },
            ts_offset: 0,
            fcs_bits,
            name: None,
        };
        Ok(PcapState { endian, nanos, snaplen, link_type, iface: [iface] })
    }

    pub(crate) fn interfaces(&self) -> &[InterfaceInfo] {
        &self.iface
    }

    /// Reads one packet record.
    pub(crate) fn next<R: Read>(
        &mut self,
        input: &mut Input<R>,
        common: &mut Common,
    ) -> Option<Result<RawFrame, CaptureError>> {
        let start = input.offset();
        let number = common.next_number;
        let mut hdr = [0u8; RECORD_HEADER_LEN];
        let got = match input.fill(&mut hdr) {
            Ok(g) => g,
            Err(source) => return Some(Err(io_err(input, source))),
        };
        if got == 0 {
            return None;
        }
        if got < RECORD_HEADER_LEN {
            return Some(Err(CaptureError::Truncated {
                offset: start,
                frame: Some(number),
                what: "packet record header",
                needed: RECORD_HEADER_LEN as u64,
                available: got as u64,
            }));
        }
        let e = self.endian;
        let u32_at = |at| e.u32_at(&hdr, at).unwrap_or(0);
        let ts_sec = u32_at(field::TS_SEC);
        let ts_frac = u32_at(field::TS_FRAC);
        let caplen = u32_at(field::CAPLEN);
        let orig_len = u32_at(field::ORIG_LEN);
        let malformed =
            |what| Some(Err(CaptureError::Malformed { offset: start, frame: Some(number), what }));
        if caplen > MAX_RECORD_LEN {
            return malformed(format!(
                "packet record caplen {caplen} is beyond any sane frame size (limit {MAX_RECORD_LEN})"
            ));
        }
        if self.snaplen != 0 && caplen > self.snaplen {
            return malformed(format!(
                "packet record caplen {caplen} exceeds the snaplen {} of the file header",
                self.snaplen
            ));
        }
        let caplen_usize = caplen as usize;
        let mut data = common.frame_buffer();
        data.reserve(caplen_usize.min(1 << 20));
        let got = match input.append(&mut data, caplen_usize) {
            Ok(g) => g,
            Err(source) => return Some(Err(io_err(input, source))),
        };
        if got < caplen_usize {
            return Some(Err(CaptureError::Truncated {
                offset: start,
                frame: Some(number),
                what: "packet record (caplen larger than the file)",
                needed: (RECORD_HEADER_LEN + caplen_usize) as u64,
                available: (RECORD_HEADER_LEN + got) as u64,
            }));
        }
        let (frac_nanos, frac_limit) = if self.nanos {
            (u64::from(ts_frac), 1_000_000_000)
        } else {
            (u64::from(ts_frac) * 1000, 1_000_000)
        };
        if ts_frac >= frac_limit {
            common.warn(
                start,
                Some(number),
                format!("timestamp fraction {ts_frac} is not below {frac_limit}; carried into the seconds"),
            );
        }
        if caplen > orig_len {
            common.warn(start, Some(number), format!("caplen {caplen} is larger than orig_len {orig_len}"));
        }
        let ts = Timestamp {
            secs: i64::from(ts_sec) + (frac_nanos / 1_000_000_000) as i64,
            nanos: (frac_nanos % 1_000_000_000) as u32,
        };
        let number = common.take_number();
        Some(Ok(RawFrame {
            number,
            ts,
            link_type: self.link_type,
            interface: 0,
            orig_len,
            data,
            file_offset: start,
        }))
    }
}

fn io_err<R: Read>(input: &Input<R>, source: std::io::Error) -> CaptureError {
    CaptureError::Io { offset: input.offset(), source }
}

#[cfg(test)]
mod tests {
    //! Byte layouts from draft-ietf-opsawg-pcap §4 (File Header) and §5 (Packet Record).
    use super::super::{CaptureError, CaptureFormat, CaptureReader, LinkType, RawFrame, Timestamp};

    fn read_all(bytes: &[u8]) -> (Vec<RawFrame>, Option<CaptureError>) {
        let mut r = CaptureReader::new(bytes).unwrap();
        let mut frames = Vec::new();
        let mut err = None;
        while let Some(f) = r.next_frame() {
            match f {
                Ok(f) => frames.push(f),
                Err(e) => {
                    assert!(err.is_none(), "second error {e}");
                    err = Some(e);
                }
            }
        }
        assert!(r.next_frame().is_none());
        (frames, err)
    }

    /// Little-endian, microsecond magic, Ethernet, snaplen 65535, two records.
    #[rustfmt::skip]
    const LE_US: &[u8] = &[
        0xd4, 0xc3, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00, // magic, version 2.4
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // thiszone, sigfigs
        0xff, 0xff, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // snaplen 65535, LINKTYPE_ETHERNET
        // record 1 at byte 24: ts 1700000000.123456, caplen 3, orig_len 3
        0x00, 0xf1, 0x53, 0x65, 0x40, 0xe2, 0x01, 0x00,
        0x03, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
        0xaa, 0xbb, 0xcc,
        // record 2 at byte 43: ts 1700000001.000000, caplen 2, orig_len 60 (cut by snaplen)
        0x01, 0xf1, 0x53, 0x65, 0x00, 0x00, 0x00, 0x00,
        0x02, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x00,
        0x01, 0x02,
    ];

    #[test]
    fn little_endian_microseconds() {
        let r = CaptureReader::new(LE_US).unwrap();
        assert_eq!(r.format(), CaptureFormat::Pcap { big_endian: false, nanos: false });
        assert_eq!(r.interfaces()[0].snaplen, 65535);
        assert_eq!(r.interfaces()[0].link_type, LinkType::ETHERNET);
        assert_eq!(r.interfaces()[0].fcs_bits, None);
        let (frames, err) = read_all(LE_US);
        assert!(err.is_none());
        assert_eq!(
            frames,
            vec![
                RawFrame {
                    number: 1,
                    ts: Timestamp { secs: 1_700_000_000, nanos: 123_456_000 },
                    link_type: LinkType::ETHERNET,
                    interface: 0,
                    orig_len: 3,
                    data: vec![0xaa, 0xbb, 0xcc],
                    file_offset: 24,
                },
                RawFrame {
                    number: 2,
                    ts: Timestamp { secs: 1_700_000_001, nanos: 0 },
                    link_type: LinkType::ETHERNET,
                    interface: 0,
                    orig_len: 60,
                    data: vec![1, 2],
                    file_offset: 43,
                },
            ]
        );
        assert!(frames[1].is_truncated());
        assert!(!frames[0].is_truncated());
    }

    /// Big-endian, nanosecond magic, LINKTYPE_RAW with FCS info: P bit (26) set, FCS length 2
    /// words (bits 28-31), reserved bits 16-25 set and ignored.
    #[rustfmt::skip]
    const BE_NS: &[u8] = &[
        0xa1, 0xb2, 0x3c, 0x4d, 0x00, 0x02, 0x00, 0x04,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x27, 0xff, 0x00, 0x65, // snaplen 0 (no limit), link 0x27ff0065
        // ts 1700000000.999999999, caplen 4, orig_len 4
        0x65, 0x53, 0xf1, 0x00, 0x3b, 0x9a, 0xc9, 0xff,
        0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x04,
        0x45, 0x00, 0x00, 0x14,
    ];

    #[test]
    fn big_endian_nanoseconds_and_link_type_bits() {
        let r = CaptureReader::new(BE_NS).unwrap();
        assert_eq!(r.format(), CaptureFormat::Pcap { big_endian: true, nanos: true });
        assert_eq!(r.interfaces()[0].link_type, LinkType::RAW);
        assert_eq!(r.interfaces()[0].fcs_bits, Some(32));
        assert_eq!(r.interfaces()[0].ts_resolution, super::TsResolution::NANOS);
        let (frames, err) = read_all(BE_NS);
        assert!(err.is_none());
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].ts, Timestamp { secs: 1_700_000_000, nanos: 999_999_999 });
        assert_eq!(frames[0].link_type, LinkType::RAW);
        assert_eq!(frames[0].data, [0x45, 0, 0, 0x14]);
    }

    /// A copy of `LE_US` with the 4 bytes at `at` replaced by `v` (little-endian).
    fn patched(at: usize, v: u32) -> Vec<u8> {
        let mut b = LE_US.to_vec();
        b[at..at + 4].copy_from_slice(&v.to_le_bytes());
        b
    }

    #[test]
    fn caplen_beyond_snaplen_is_malformed_at_its_record() {
        // Record 2's caplen (byte 43 + 8) says 65536 > snaplen 65535.
        let (frames, err) = read_all(&patched(51, 65_536));
        assert_eq!(frames.len(), 1);
        match err {
            Some(CaptureError::Malformed { offset: 43, frame: Some(2), what }) => {
                assert!(what.contains("65536") && what.contains("65535"), "{what}")
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn absurd_caplen_is_malformed_even_without_snaplen() {
        let mut b = patched(16, 0); // snaplen 0 = no limit
        b[32..36].copy_from_slice(&(super::MAX_RECORD_LEN + 1).to_le_bytes());
        let (frames, err) = read_all(&b);
        assert!(frames.is_empty());
        assert!(matches!(err, Some(CaptureError::Malformed { offset: 24, frame: Some(1), .. })), "{err:?}");
    }

    #[test]
    fn caplen_larger_than_the_file_is_truncated() {
        let b = patched(51, 1000); // record 2 claims 1000 bytes, 2 present
        let (frames, err) = read_all(&b);
        assert_eq!(frames.len(), 1);
        match err {
            Some(CaptureError::Truncated {
                offset: 43,
                frame: Some(2),
                what,
                needed: 1016,
                available: 18,
            }) => {
                assert!(what.contains("caplen larger than the file"))
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn cut_inside_a_record_header() {
        let (frames, err) = read_all(&LE_US[..50]);
        assert_eq!(frames.len(), 1);
        assert!(
            matches!(
                err,
                Some(CaptureError::Truncated { offset: 43, frame: Some(2), needed: 16, available: 7, .. })
            ),
            "{err:?}"
        );
    }

    #[test]
    fn cut_inside_the_file_header() {
        let e = CaptureReader::new(&LE_US[..10]).unwrap_err();
        assert!(matches!(e, CaptureError::Truncated { offset: 0, needed: 24, available: 10, .. }), "{e:?}");
        // Two bytes that can only be the start of a pcap magic.
        let e = CaptureReader::new(&LE_US[..2]).unwrap_err();
        assert!(matches!(e, CaptureError::Truncated { offset: 0, available: 2, .. }), "{e:?}");
    }

    #[test]
    fn header_only_is_an_empty_capture() {
        let (frames, err) = read_all(&LE_US[..24]);
        assert!(frames.is_empty() && err.is_none());
    }

    #[test]
    fn unknown_version_is_malformed() {
        let mut b = LE_US.to_vec();
        b[4] = 1;
        let e = CaptureReader::new(&b[..]).unwrap_err();
        assert!(
            matches!(&e, CaptureError::Malformed { offset: 0, frame: None, what } if what.contains("1.4")),
            "{e:?}"
        );
    }

    #[test]
    fn fraction_out_of_range_is_carried_and_warned() {
        let b = patched(28, 2_500_000); // 2.5 s worth of microseconds
        let mut r = CaptureReader::new(&b[..]).unwrap();
        let f = r.next_frame().unwrap().unwrap();
        assert_eq!(f.ts, Timestamp { secs: 1_700_000_002, nanos: 500_000_000 });
        assert_eq!(r.warnings().len(), 1);
        assert_eq!(r.warnings()[0].offset, 24);
        assert_eq!(r.warnings()[0].frame, Some(1));
        assert_eq!(r.stats().warnings, 1);
    }

    #[test]
    fn caplen_above_orig_len_is_a_warning() {
        let b = patched(36, 2); // orig_len 2 < caplen 3
        let mut r = CaptureReader::new(&b[..]).unwrap();
        assert_eq!(r.next_frame().unwrap().unwrap().data.len(), 3);
        assert!(r.warnings()[0].what.contains("caplen 3 is larger than orig_len 2"));
    }

    #[test]
    fn empty_and_bad_magic() {
        assert!(matches!(CaptureReader::new(&[][..]), Err(CaptureError::Empty)));
        match CaptureReader::new(&b"\x7fELF\x02\x01"[..]) {
            Err(CaptureError::BadMagic { magic }) => assert_eq!(magic, b"\x7fELF"),
            e => panic!("{e:?}"),
        }
        // Too short for a magic and not the start of one.
        match CaptureReader::new(&b"GE"[..]) {
            Err(e @ CaptureError::BadMagic { .. }) => {
                assert_eq!(
                    e.to_string(),
                    "not a pcap or pcapng capture: unknown magic number [47, 45] at byte 0"
                )
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn error_messages_are_one_located_sentence() {
        let (_, err) = read_all(&patched(51, 1000));
        assert_eq!(
            err.unwrap().to_string(),
            "file cut short: packet record (caplen larger than the file) at byte 43 (frame 2) needs 1016 bytes, only 18 present"
        );
        let (_, err) = read_all(&patched(51, 65_536));
        assert_eq!(
            err.unwrap().to_string(),
            "malformed capture at byte 43 (frame 2): packet record caplen 65536 exceeds the snaplen 65535 of the file header"
        );
    }
}
