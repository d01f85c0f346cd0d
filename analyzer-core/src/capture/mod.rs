//! Streaming capture reading: classic pcap and pcapng.
//!
//! CONTRACT (other modules rely on these names and meanings):
//! - [`CaptureReader::open`] / [`CaptureReader::new`] detect the format from the magic number.
//! - [`CaptureReader::next_frame`] yields frames in file order, numbered from 1 like Wireshark.
//!   Memory does not grow with the number of frames (one record buffered at a time).
//! - A damaged file yields the frames read so far, then `Some(Err(..))` once, then `None`.
//!   Errors say what, where (byte offset) and, when known, which frame.
//!
//! Formats (byte layouts in [`pcap`] and [`pcapng`]):
//! - classic pcap (draft-ietf-opsawg-pcap): both byte orders, microsecond and nanosecond magics;
//!   the link-type field's low 16 bits are the LINKTYPE, bits 26-31 the FCS length;
//! - pcapng (draft-ietf-opsawg-pcapng): any number of sections (each with its own byte order,
//!   interface ids restarting at 0 in each), any number of interfaces per section with their
//!   own link type, snaplen, `if_tsresol` and `if_tsoffset`; Enhanced, Simple and obsolete
//!   Packet Blocks are frames, every other block is skipped by its length.
//!
//! Decisions (checked against tshark 4.0.17 on hand-made files):
//! - A Simple Packet Block has no timestamp: its frame gets [`Timestamp::ZERO`] and is counted
//!   in [`CaptureStats::frames_without_timestamp`] (tshark shows no time for it); we do not
//!   invent a time from the previous frame. Its caplen is min(orig_len, snaplen of interface 0).
//! - A packet block that names an interface with no Interface Description Block in its section
//!   stops the reading with a `Malformed` error for that frame (tshark: "interface index 3 is
//!   not less than section interface count 1").
//! - Classic pcap: a record whose caplen exceeds the header's snaplen (when the snaplen is not
//!   0) or [`MAX_RECORD_LEN`] is `Malformed`; one that runs past the end of the file is
//!   `Truncated`. Stricter than tshark, which reads a record above the snaplen as it is. The
//!   header's `thiszone` is ignored (libpcap and Wireshark ignore it too).
//! - Oddities that do not stop the reading (caplen > orig_len, which tshark also accepts; a
//!   timestamp fraction out of range; an unusable IDB option...) become [`CaptureWarning`]s.
//! - Timestamps finer than 1 ns are truncated, as tshark does (2^-10 s units: 513/1024 s is
//!   .500976562).
//!
//! Reading goes through the given `Read` one record at a time; pass a buffered reader
//! ([`CaptureReader::open`] does). Memory is bounded by the largest record (at most
//! [`MAX_RECORD_LEN`]), the interfaces of the current section and [`MAX_WARNINGS`] warnings.

mod input;
pub mod pcap;
pub mod pcapng;

pub use pcapng::TsResolution;

use crate::time::Timestamp;
use input::Input;
use std::fmt;
use std::io::Read;
use std::path::Path;

/// Largest record accepted: a pcap caplen or a pcapng block total length above this is
/// `Malformed` (no link layer carries frames this big; the cap bounds memory on hostile input).
pub const MAX_RECORD_LEN: u32 = 256 << 20;

/// At most this many warnings are kept; later ones are only counted
/// ([`CaptureStats::warnings`]).
pub const MAX_WARNINGS: usize = 100;

/// A link-layer header type (LINKTYPE_* value, as in pcap and pcapng). Unknown values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u32);

impl LinkType {
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    pub const RAW: LinkType = LinkType(101);
    pub const LOOP: LinkType = LinkType(108);
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const IEEE802_15_4_WITHFCS: LinkType = LinkType(195);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    pub const IEEE802_15_4_NOFCS: LinkType = LinkType(230);
    pub const LINUX_SLL2: LinkType = LinkType(276);
    /// 802.15.4 with TAP header (not decoded yet, reported as unsupported).
    pub const IEEE802_15_4_TAP: LinkType = LinkType(283);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "NULL",
            1 => "ETHERNET",
            101 => "RAW",
            108 => "LOOP",
            113 => "LINUX_SLL",
            195 => "IEEE802_15_4_WITHFCS",
            228 => "IPV4",
            229 => "IPV6",
            230 => "IEEE802_15_4_NOFCS",
            276 => "LINUX_SLL2",
            283 => "IEEE802_15_4_TAP",
            _ => return None,
        })
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n} ({})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// The file format detected from the magic number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Classic pcap. `nanos`: nanosecond-resolution magic (0xa1b23c4d).
    Pcap {
        big_endian: bool,
        nanos: bool,
    },
    PcapNg,
}

/// One captured frame, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    /// 1-based frame number, as Wireshark counts (over all sections of a pcapng file).
    pub number: u64,
    pub ts: Timestamp,
    pub link_type: LinkType,
    /// pcapng interface index within its section (0 for classic pcap).
    pub interface: u32,
    /// Original length on the wire; `data.len()` is the captured length.
    pub orig_len: u32,
    pub data: Vec<u8>,
    /// Byte offset of this record's header in the file.
    pub file_offset: u64,
}

impl RawFrame {
    /// True when the capture cut the frame short (snaplen).
    pub fn is_truncated(&self) -> bool {
        u64::from(self.orig_len) > self.data.len() as u64
    }
}

/// An environment or file-format error. Located: byte offset in the file and, when a record
/// was being read, the number of the frame it would have been.
///
/// `offset` is where the damaged unit starts: the file header (0), the pcap packet record, or
/// the pcapng block (its Block Type field). The text names the field at fault.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot read {path}: {source}")]
    Open { path: String, source: std::io::Error },
    #[error("I/O error at byte {offset}: {source}")]
    Io { offset: u64, source: std::io::Error },
    #[error("the file is empty (0 bytes): not a pcap or pcapng capture")]
    Empty,
    #[error("not a pcap or pcapng capture: unknown magic number {magic:02x?} at byte 0")]
    BadMagic { magic: Vec<u8> },
    /// `what` starting at `offset` needs `needed` bytes but the file ends after `available`.
    #[error("file cut short: {what} at byte {offset}{} needs {needed} bytes, only {available} present", frame_suffix(*frame))]
    Truncated { offset: u64, frame: Option<u64>, what: &'static str, needed: u64, available: u64 },
    #[error("malformed capture at byte {offset}{}: {what}", frame_suffix(*frame))]
    Malformed { offset: u64, frame: Option<u64>, what: String },
}

fn frame_suffix(frame: Option<u64>) -> String {
    match frame {
        Some(n) => format!(" (frame {n})"),
        None => String::new(),
    }
}

/// What the file says about one capture interface. Classic pcap has exactly one (id 0), built
/// from the file header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceInfo {
    /// Index within its section (the `interface` of [`RawFrame`]).
    pub id: u32,
    pub link_type: LinkType,
    /// Snapshot length; 0 means "no limit".
    pub snaplen: u32,
    /// Units per second of the packet timestamps (`if_tsresol`; pcap: from the magic).
    pub ts_resolution: TsResolution,
    /// Seconds added to every timestamp of the interface (`if_tsoffset`; 0 for pcap).
    pub ts_offset: i64,
    /// FCS length in bits when the file states it (pcapng `if_fcslen`; pcap link-type field
    /// bits 28-31, in 16-bit words, when bit 26 is set).
    pub fcs_bits: Option<u16>,
    /// `if_name`, lossily decoded, at most 256 bytes kept.
    pub name: Option<String>,
}

/// Counters over what has been read so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CaptureStats {
    /// Frames delivered.
    pub frames: u64,
    /// pcapng sections seen (1 for classic pcap).
    pub sections: u64,
    /// Interface Description Blocks read (1 for classic pcap).
    pub interfaces: u64,
    /// pcapng blocks skipped: every block that is not a section header, interface description
    /// or packet block (name resolution, statistics, secrets, custom, unknown types...).
    pub skipped_blocks: u64,
    /// Frames from Simple Packet Blocks, which carry no timestamp.
    pub frames_without_timestamp: u64,
    /// Warnings raised, including those beyond [`MAX_WARNINGS`] that were not kept.
    pub warnings: u64,
}

/// Something odd in the file that did not stop the reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureWarning {
    /// Start of the record or block concerned.
    pub offset: u64,
    pub frame: Option<u64>,
    pub what: String,
}

impl fmt::Display for CaptureWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}{}: {}", self.offset, frame_suffix(self.frame), self.what)
    }
}

/// State shared by both format readers.
#[derive(Debug, Default)]
pub(crate) struct Common {
    /// Number the next frame will get (1-based).
    pub(crate) next_number: u64,
    pub(crate) stats: CaptureStats,
    pub(crate) warnings: Vec<CaptureWarning>,
    /// A processed frame's data buffer, handed back by [`CaptureReader::recycle`].
    spare: Vec<u8>,
}

impl Common {
    fn new() -> Self {
        Common { next_number: 1, ..Common::default() }
    }

    /// An empty buffer for the next frame's data: the recycled one, if any.
    pub(crate) fn frame_buffer(&mut self) -> Vec<u8> {
        let mut b = std::mem::take(&mut self.spare);
        b.clear();
        b
    }

    pub(crate) fn warn(&mut self, offset: u64, frame: Option<u64>, what: String) {
        self.stats.warnings += 1;
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(CaptureWarning { offset, frame, what });
        }
    }

    /// Counts a frame that is about to be delivered and returns its number.
    pub(crate) fn take_number(&mut self) -> u64 {
        let n = self.next_number;
        self.next_number += 1;
        self.stats.frames += 1;
        n
    }
}

enum State {
    Pcap(pcap::PcapState),
    PcapNg(pcapng::NgState),
}

/// Streaming reader over pcap or pcapng.
pub struct CaptureReader<R: Read> {
    input: Input<R>,
    format: CaptureFormat,
    state: State,
    common: Common,
    /// Set after the end of the file or an error: `next_frame` then returns `None`.
    done: bool,
}

impl<R: Read> fmt::Debug for CaptureReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureReader")
            .field("format", &self.format)
            .field("offset", &self.input.offset())
            .field("stats", &self.common.stats)
            .finish_non_exhaustive()
    }
}

impl CaptureReader<std::io::BufReader<std::fs::File>> {
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let file = std::fs::File::open(path)
            .map_err(|source| CaptureError::Open { path: path.display().to_string(), source })?;
        CaptureReader::new(std::io::BufReader::with_capacity(1 << 16, file))
    }
}

/// Magic numbers as they appear in the first 4 bytes of the file.
const MAGIC_PCAP_US_LE: [u8; 4] = [0xd4, 0xc3, 0xb2, 0xa1];
const MAGIC_PCAP_US_BE: [u8; 4] = [0xa1, 0xb2, 0xc3, 0xd4];
const MAGIC_PCAP_NS_LE: [u8; 4] = [0x4d, 0x3c, 0xb2, 0xa1];
const MAGIC_PCAP_NS_BE: [u8; 4] = [0xa1, 0xb2, 0x3c, 0x4d];
const MAGIC_PCAPNG: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

impl<R: Read> CaptureReader<R> {
    /// Reads the file header (pcap) or first section header (pcapng).
    pub fn new(inner: R) -> Result<Self, CaptureError> {
        let mut input = Input::new(inner);
        let mut magic = [0u8; 4];
        let got = input.fill(&mut magic).map_err(|source| CaptureError::Io { offset: 0, source })?;
        let present = magic.get(..got).unwrap_or_default();
        if got == 0 {
            return Err(CaptureError::Empty);
        }
        let pcap = |big_endian, nanos| CaptureFormat::Pcap { big_endian, nanos };
        let format = match magic {
            MAGIC_PCAP_US_LE => pcap(false, false),
            MAGIC_PCAP_US_BE => pcap(true, false),
            MAGIC_PCAP_NS_LE => pcap(false, true),
            MAGIC_PCAP_NS_BE => pcap(true, true),
            MAGIC_PCAPNG => CaptureFormat::PcapNg,
            _ => {
                let known = [MAGIC_PCAP_US_LE, MAGIC_PCAP_US_BE, MAGIC_PCAP_NS_LE, MAGIC_PCAP_NS_BE];
                if got < 4 && known.iter().any(|m| m.starts_with(present)) {
                    return Err(CaptureError::Truncated {
                        offset: 0,
                        frame: None,
                        what: "pcap file header",
                        needed: pcap::FILE_HEADER_LEN as u64,
                        available: got as u64,
                    });
                }
                if got < 4 && MAGIC_PCAPNG.starts_with(present) {
                    return Err(CaptureError::Truncated {
                        offset: 0,
                        frame: None,
                        what: "section header block",
                        needed: u64::from(pcapng::MIN_SHB_LEN),
                        available: got as u64,
                    });
                }
                return Err(CaptureError::BadMagic { magic: present.to_vec() });
            }
        };
        let mut common = Common::new();
        let state = match format {
            CaptureFormat::Pcap { big_endian, nanos } => {
                State::Pcap(pcap::PcapState::open(&mut input, big_endian, nanos, &mut common)?)
            }
            CaptureFormat::PcapNg => State::PcapNg(pcapng::NgState::open(&mut input, &mut common)?),
        };
        Ok(CaptureReader { input, format, state, common, done: false })
    }

    pub fn format(&self) -> CaptureFormat {
        self.format
    }

    /// The next frame, `None` at the end of the file. After an `Err`, returns `None`.
    pub fn next_frame(&mut self) -> Option<Result<RawFrame, CaptureError>> {
        if self.done {
            return None;
        }
        let next = match &mut self.state {
            State::Pcap(st) => st.next(&mut self.input, &mut self.common),
            State::PcapNg(st) => st.next(&mut self.input, &mut self.common),
        };
        if !matches!(next, Some(Ok(_))) {
            self.done = true;
        }
        next
    }

    /// Interfaces of the current section, as far as they have been read (classic pcap: the
    /// one interface described by the file header).
    pub fn interfaces(&self) -> &[InterfaceInfo] {
        match &self.state {
            State::Pcap(st) => st.interfaces(),
            State::PcapNg(st) => st.interfaces(),
        }
    }

    /// Hands a frame back once it has been processed: its data buffer holds the next frame's
    /// bytes, so a reader that recycles every frame allocates no buffer per frame. Buffers
    /// larger than 64 KiB are dropped (one jumbo frame does not pin its memory).
    pub fn recycle(&mut self, frame: RawFrame) {
        if frame.data.capacity() <= 1 << 16 {
            self.common.spare = frame.data;
        }
    }

    /// Counters over what has been read so far.
    pub fn stats(&self) -> CaptureStats {
        self.common.stats
    }

    /// The first [`MAX_WARNINGS`] warnings, in file order.
    pub fn warnings(&self) -> &[CaptureWarning] {
        &self.common.warnings
    }

    /// Bytes consumed from the input so far.
    pub fn offset(&self) -> u64 {
        self.input.offset()
    }
}

impl<R: Read> std::iter::FusedIterator for CaptureReader<R> {}

impl<R: Read> Iterator for CaptureReader<R> {
    type Item = Result<RawFrame, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_frame()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    /// Hands out `data`, then fails with an I/O error.
    struct FailAfter<'a>(&'a [u8]);

    impl Read for FailAfter<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::other("disk on fire"));
            }
            let n = buf.len().min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// draft-ietf-opsawg-pcap §4-5: header (24 bytes) + one 16+2-byte record, then an I/O error.
    #[rustfmt::skip]
    const PCAP: &[u8] = &[
        0xd4, 0xc3, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
        0xff, 0xff, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
        1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 0xab, 0xcd,
    ];

    #[test]
    fn io_error_is_located_and_ends_the_stream() {
        let mut r = CaptureReader::new(FailAfter(PCAP)).unwrap();
        assert_eq!(r.next_frame().unwrap().unwrap().data, [0xab, 0xcd]);
        match r.next_frame() {
            Some(Err(CaptureError::Io { offset: 42, source })) => {
                assert_eq!(source.to_string(), "disk on fire")
            }
            other => panic!("{other:?}"),
        }
        assert!(r.next_frame().is_none());
        assert_eq!(r.offset(), 42);
        assert!(matches!(CaptureReader::new(FailAfter(&[])), Err(CaptureError::Io { offset: 0, .. })));
    }

    #[test]
    fn too_many_interfaces_in_a_section() {
        // SHB (draft-ietf-opsawg-pcapng §4.1) then 65537 minimal IDBs (§4.2): Ethernet, snaplen 0.
        let mut file = vec![
            0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0,
        ];
        let idb = [1, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0];
        for _ in 0..=pcapng::MAX_INTERFACES_PER_SECTION {
            file.extend(idb);
        }
        let mut r = CaptureReader::new(&file[..]).unwrap();
        let last = 28 + 20 * pcapng::MAX_INTERFACES_PER_SECTION as u64;
        match r.next_frame() {
            Some(Err(CaptureError::Malformed { offset, frame: None, what })) => {
                assert_eq!(offset, last);
                assert!(what.contains("more than 65536 interface description blocks"), "{what}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(r.interfaces().len(), pcapng::MAX_INTERFACES_PER_SECTION);
    }

    #[test]
    fn warnings_are_capped_but_counted() {
        // 150 records whose caplen 1 exceeds orig_len 0: one warning each.
        let mut file = PCAP[..24].to_vec();
        for _ in 0..150 {
            file.extend([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x55]);
        }
        let mut r = CaptureReader::new(&file[..]).unwrap();
        assert_eq!(r.by_ref().count(), 150);
        assert_eq!(r.warnings().len(), MAX_WARNINGS);
        assert_eq!(r.stats().warnings, 150);
        assert_eq!(r.warnings()[99].frame, Some(100));
        assert_eq!(
            r.warnings()[99].to_string(),
            format!("at byte {} (frame 100): caplen 1 is larger than orig_len 0", 24 + 99 * 17)
        );
    }
}
