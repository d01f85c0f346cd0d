//! pcapng (draft-ietf-opsawg-pcapng).
//!
//! Every block: `type u32, total length u32, body, total length u32`, the total length
//! counting all of it (>= 12, a multiple of 4). Fields are in the byte order of the section,
//! set by the byte-order magic 0x1A2B3C4D of its Section Header Block. Bodies used here:
//! ```text
//! SHB 0x0A0D0D0A  0 byte-order magic  4 major u16  6 minor u16  8 section length i64  16 options
//! IDB 1           0 link type u16  2 reserved u16  4 snaplen u32  8 options
//! EPB 6           0 interface u32  4 ts high  8 ts low  12 caplen  16 orig len  20 data (padded), options
//! SPB 3           0 orig len  4 data (padded): caplen = min(orig len, snaplen of interface 0)
//! OPB 2           0 interface u16  2 drops u16  4 ts high  8 ts low  12 caplen  16 orig len  20 data
//! ```
//! Options: `code u16, length u16, value padded to 4`, ended by code 0 or the end of the body.
//! IDB options used: `if_name` (2), `if_tsresol` (9), `if_fcslen` (13), `if_tsoffset` (14).

use super::input::{Endian, Input, array_at, pad4};
use super::{CaptureError, Common, InterfaceInfo, LinkType, MAX_RECORD_LEN, RawFrame, Timestamp};
use std::io::Read;

/// Block types.
pub const BLOCK_SHB: u32 = 0x0A0D_0D0A;
pub const BLOCK_IDB: u32 = 1;
pub const BLOCK_OPB: u32 = 2;
pub const BLOCK_SPB: u32 = 3;
pub const BLOCK_EPB: u32 = 6;
/// Byte-order magic of the Section Header Block.
pub const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;

/// Smallest possible blocks: 12 bytes of framing plus the fixed part of the body.
pub const MIN_BLOCK_LEN: u32 = 12;
pub const MIN_SHB_LEN: u32 = 12 + 16;
pub const MIN_IDB_LEN: u32 = 12 + 8;
pub const MIN_EPB_LEN: u32 = 12 + 20;
pub const MIN_SPB_LEN: u32 = 12 + 4;
pub const MIN_OPB_LEN: u32 = 12 + 20;

/// More interfaces than this in one section is `Malformed` (bounds memory; OPB interface ids
/// are 16-bit anyway).
pub const MAX_INTERFACES_PER_SECTION: usize = 1 << 16;

/// Option codes.
const OPT_ENDOFOPT: u16 = 0;
const OPT_IF_NAME: u16 = 2;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_FCSLEN: u16 = 13;
const OPT_IF_TSOFFSET: u16 = 14;

const MAX_NAME_LEN: usize = 256;
/// A scratch buffer bigger than this is released after use instead of kept.
const SCRATCH_KEEP: usize = 1 << 20;

/// Timestamp resolution: units per second are `10^n` or `2^n` (`if_tsresol`, default
/// `10^6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TsResolution {
    /// `10^n` units per second, `n <= 19`.
    Pow10(u8),
    /// `2^n` units per second, `n <= 63`.
    Pow2(u8),
}

impl TsResolution {
    pub const MICROS: TsResolution = TsResolution::Pow10(6);
    pub const NANOS: TsResolution = TsResolution::Pow10(9);

    /// From the `if_tsresol` byte: MSB clear = negative power of 10, set = negative power of 2.
    /// `None` when a second holds more units than a `u64` can count (10^20 and up, 2^64 and
    /// up).
    pub fn from_if_tsresol(byte: u8) -> Option<Self> {
        let exp = byte & 0x7f;
        if byte & 0x80 == 0 {
            (exp <= 19).then_some(TsResolution::Pow10(exp))
        } else {
            (exp <= 63).then_some(TsResolution::Pow2(exp))
        }
    }

    /// Converts a count of units since the epoch, plus `offset` seconds, into a timestamp.
    /// Exact integer arithmetic; fractions finer than a nanosecond are truncated. Seconds
    /// beyond `i64` saturate.
    pub fn timestamp(self, units: u64, offset: i64) -> Timestamp {
        let (secs, nanos) = match self {
            TsResolution::Pow10(n) => {
                let per_sec = 10u64.pow(u32::from(n));
                let frac = units % per_sec;
                let nanos = if n <= 9 {
                    frac * 10u64.pow(9 - u32::from(n))
                } else {
                    frac / 10u64.pow(u32::from(n) - 9)
                };
                (units / per_sec, nanos)
            }
            TsResolution::Pow2(n) => {
                let frac = units & ((1u64 << n) - 1);
                let nanos = (u128::from(frac) * 1_000_000_000) >> n;
                (units >> n, u64::try_from(nanos).unwrap_or(0))
            }
        };
        let secs = i128::from(secs) + i128::from(offset);
        let secs = i64::try_from(secs).unwrap_or(if secs < 0 { i64::MIN } else { i64::MAX });
        Timestamp { secs, nanos: u32::try_from(nanos).unwrap_or(0) }
    }
}

pub(crate) struct NgState {
    endian: Endian,
    interfaces: Vec<InterfaceInfo>,
    /// Body of the block being read, reused from block to block.
    scratch: Vec<u8>,
}

/// A block's type and length, checked; `start` is the offset of its Block Type field.
#[derive(Clone, Copy)]
struct BlockHead {
    start: u64,
    btype: u32,
    len: u32,
    /// Frame number when the block is a packet block.
    frame: Option<u64>,
}

fn block_name(btype: u32) -> &'static str {
    match btype {
        BLOCK_SHB => "section header block",
        BLOCK_IDB => "interface description block",
        BLOCK_OPB => "packet block",
        BLOCK_SPB => "simple packet block",
        BLOCK_EPB => "enhanced packet block",
        _ => "block",
    }
}

fn min_len(btype: u32) -> u32 {
    match btype {
        BLOCK_SHB => MIN_SHB_LEN,
        BLOCK_IDB => MIN_IDB_LEN,
        BLOCK_OPB => MIN_OPB_LEN,
        BLOCK_SPB => MIN_SPB_LEN,
        BLOCK_EPB => MIN_EPB_LEN,
        _ => MIN_BLOCK_LEN,
    }
}

fn io_err<R: Read>(input: &Input<R>, source: std::io::Error) -> CaptureError {
    CaptureError::Io { offset: input.offset(), source }
}

impl BlockHead {
    fn malformed(&self, what: String) -> CaptureError {
        CaptureError::Malformed { offset: self.start, frame: self.frame, what }
    }

    /// Checks the Block Total Length against the framing rules and the block type's minimum.
    fn check_len(&self) -> Result<(), CaptureError> {
        let (len, name) = (self.len, block_name(self.btype));
        if len < MIN_BLOCK_LEN {
            return Err(self.malformed(format!(
                "{name} total length {len} is smaller than the minimum of {MIN_BLOCK_LEN}"
            )));
        }
        if len % 4 != 0 {
            return Err(self.malformed(format!("{name} total length {len} is not a multiple of 4")));
        }
        if len > MAX_RECORD_LEN {
            return Err(self.malformed(format!(
                "{name} total length {len} is beyond any sane block size (limit {MAX_RECORD_LEN})"
            )));
        }
        let min = min_len(self.btype);
        if len < min {
            return Err(
                self.malformed(format!("{name} total length {len} is smaller than its minimum of {min}"))
            );
        }
        Ok(())
    }

    fn truncated(&self, available: u64) -> CaptureError {
        CaptureError::Truncated {
            offset: self.start,
            frame: self.frame,
            what: block_name(self.btype),
            needed: u64::from(self.len),
            available,
        }
    }

    /// Compares the trailing Block Total Length with the leading one.
    fn check_trailer(&self, trailer: u32) -> Result<(), CaptureError> {
        if trailer != self.len {
            return Err(self.malformed(format!(
                "{} trailing total length {trailer} differs from the leading {}",
                block_name(self.btype),
                self.len
            )));
        }
        Ok(())
    }
}

impl NgState {
    /// Reads the first Section Header Block (its 4 type bytes are already consumed).
    pub(crate) fn open<R: Read>(input: &mut Input<R>, common: &mut Common) -> Result<Self, CaptureError> {
        let mut st = NgState { endian: Endian::Little, interfaces: Vec::new(), scratch: Vec::new() };
        let mut len_raw = [0u8; 4];
        let got = input.fill(&mut len_raw).map_err(|source| io_err(input, source))?;
        if got < 4 {
            return Err(CaptureError::Truncated {
                offset: 0,
                frame: None,
                what: block_name(BLOCK_SHB),
                needed: u64::from(MIN_SHB_LEN),
                available: 4 + got as u64,
            });
        }
        st.read_shb(input, common, 0, len_raw)?;
        Ok(st)
    }

    pub(crate) fn interfaces(&self) -> &[InterfaceInfo] {
        &self.interfaces
    }

    /// Reads blocks until the next packet block, the end of the file or an error.
    pub(crate) fn next<R: Read>(
        &mut self,
        input: &mut Input<R>,
        common: &mut Common,
    ) -> Option<Result<RawFrame, CaptureError>> {
        loop {
            match self.next_block(input, common) {
                Ok(Some(Some(frame))) => return Some(Ok(frame)),
                Ok(Some(None)) => {}
                Ok(None) => return None,
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// One block: `None` at a clean end of file, `Some(None)` for a block that is not a frame.
    fn next_block<R: Read>(
        &mut self,
        input: &mut Input<R>,
        common: &mut Common,
    ) -> Result<Option<Option<RawFrame>>, CaptureError> {
        let start = input.offset();
        let mut hdr = [0u8; 8];
        let got = input.fill(&mut hdr).map_err(|source| io_err(input, source))?;
        if got == 0 {
            return Ok(None);
        }
        if got < hdr.len() {
            return Err(CaptureError::Truncated {
                offset: start,
                frame: None,
                what: "block header",
                needed: 8,
                available: got as u64,
            });
        }
        let type_raw: [u8; 4] = array_at(&hdr, 0).unwrap_or_default();
        let len_raw: [u8; 4] = array_at(&hdr, 4).unwrap_or_default();
        // The SHB type reads the same in both byte orders; its length is only known after
        // the byte-order magic.
        if u32::from_le_bytes(type_raw) == BLOCK_SHB {
            self.read_shb(input, common, start, len_raw)?;
            return Ok(Some(None));
        }
        let btype = self.endian.u32(type_raw);
        let is_packet = matches!(btype, BLOCK_EPB | BLOCK_SPB | BLOCK_OPB);
        let head = BlockHead {
            start,
            btype,
            len: self.endian.u32(len_raw),
            frame: is_packet.then_some(common.next_number),
        };
        head.check_len()?;
        match btype {
            BLOCK_EPB | BLOCK_SPB | BLOCK_OPB => {
                self.read_body(input, &head)?;
                let frame = self.packet(&head, common)?;
                self.release_scratch();
                Ok(Some(Some(frame)))
            }
            BLOCK_IDB => {
                self.read_body(input, &head)?;
                self.interface(&head, common)?;
                self.release_scratch();
                Ok(Some(None))
            }
            _ => {
                let body = u64::from(head.len) - 12;
                let skipped = input.skip(body).map_err(|source| io_err(input, source))?;
                let mut trailer = [0u8; 4];
                let got = if skipped == body {
                    input.fill(&mut trailer).map_err(|source| io_err(input, source))?
                } else {
                    0
                };
                if got < 4 {
                    return Err(head.truncated(8 + skipped + got as u64));
                }
                head.check_trailer(self.endian.u32(trailer))?;
                common.stats.skipped_blocks += 1;
                Ok(Some(None))
            }
        }
    }

    /// Reads the body and trailing length of a block (after its 8-byte header) into
    /// `scratch`, checks the trailer, and leaves only the body (without trailer) in `scratch`.
    fn read_body<R: Read>(&mut self, input: &mut Input<R>, head: &BlockHead) -> Result<(), CaptureError> {
        let rest = head.len as usize - 8;
        self.scratch.clear();
        let got = input.append(&mut self.scratch, rest).map_err(|source| io_err(input, source))?;
        if got < rest {
            return Err(head.truncated(8 + got as u64));
        }
        let body_len = rest - 4;
        let trailer = self.endian.u32_at(&self.scratch, body_len).unwrap_or(0);
        head.check_trailer(trailer)?;
        self.scratch.truncate(body_len);
        Ok(())
    }

    fn release_scratch(&mut self) {
        if self.scratch.capacity() > SCRATCH_KEEP {
            self.scratch = Vec::new();
        }
    }

    /// Reads a Section Header Block whose type (and, for the first, nothing else) has been
    /// consumed along with its raw length field.
    fn read_shb<R: Read>(
        &mut self,
        input: &mut Input<R>,
        common: &mut Common,
        start: u64,
        len_raw: [u8; 4],
    ) -> Result<(), CaptureError> {
        let mut bom = [0u8; 4];
        let got = input.fill(&mut bom).map_err(|source| io_err(input, source))?;
        if got < 4 {
            return Err(CaptureError::Truncated {
                offset: start,
                frame: None,
                what: block_name(BLOCK_SHB),
                needed: u64::from(MIN_SHB_LEN),
                available: 8 + got as u64,
            });
        }
        let endian = if u32::from_be_bytes(bom) == BYTE_ORDER_MAGIC {
            Endian::Big
        } else if u32::from_le_bytes(bom) == BYTE_ORDER_MAGIC {
            Endian::Little
        } else {
            return Err(CaptureError::Malformed {
                offset: start,
                frame: None,
                what: format!(
                    "section header block byte-order magic {bom:02x?} is not 1a2b3c4d in either byte order"
                ),
            });
        };
        let head = BlockHead { start, btype: BLOCK_SHB, len: endian.u32(len_raw), frame: None };
        head.check_len()?;
        // The rest: version, section length, options, trailing length.
        let rest = head.len as usize - 12;
        self.scratch.clear();
        let got = input.append(&mut self.scratch, rest).map_err(|source| io_err(input, source))?;
        if got < rest {
            return Err(head.truncated(12 + got as u64));
        }
        head.check_trailer(endian.u32_at(&self.scratch, rest - 4).unwrap_or(0))?;
        let major = endian.u16_at(&self.scratch, 0).unwrap_or(0);
        let minor = endian.u16_at(&self.scratch, 2).unwrap_or(0);
        if major != 1 {
            return Err(head.malformed(format!(
                "section header block has version {major}.{minor}; only version 1.x is defined"
            )));
        }
        self.release_scratch();
        self.endian = endian;
        self.interfaces.clear();
        common.stats.sections += 1;
        Ok(())
    }

    /// Parses an Interface Description Block body in `scratch`.
    fn interface(&mut self, head: &BlockHead, common: &mut Common) -> Result<(), CaptureError> {
        let e = self.endian;
        let body = &self.scratch;
        let link_type = LinkType(u32::from(e.u16_at(body, 0).unwrap_or(0)));
        let snaplen = e.u32_at(body, 4).unwrap_or(0);
        if self.interfaces.len() >= MAX_INTERFACES_PER_SECTION {
            return Err(head.malformed(format!(
                "more than {MAX_INTERFACES_PER_SECTION} interface description blocks in one section"
            )));
        }
        let mut info = InterfaceInfo {
            id: u32::try_from(self.interfaces.len()).unwrap_or(u32::MAX),
            link_type,
            snaplen,
            ts_resolution: TsResolution::MICROS,
            ts_offset: 0,
            fcs_bits: None,
            name: None,
        };
        let mut at = 8usize;
        while let (Some(code), Some(olen)) = (e.u16_at(body, at), e.u16_at(body, at + 2)) {
            if code == OPT_ENDOFOPT {
                break;
            }
            let vstart = at + 4;
            let Some(value) = body.get(vstart..vstart + usize::from(olen)) else {
                common.warn(
                    head.start,
                    None,
                    format!("interface description block option {code} of length {olen} runs past the block; options after it ignored"),
                );
                break;
            };
            let bad_len = |want| {
                format!("interface description block option {code} has length {olen}, not {want}; ignored")
            };
            match code {
                OPT_IF_NAME => {
                    let keep = value.get(..MAX_NAME_LEN).unwrap_or(value);
                    info.name = Some(String::from_utf8_lossy(keep).into_owned());
                }
                OPT_IF_TSRESOL => match value {
                    [byte] => {
                        info.ts_resolution = TsResolution::from_if_tsresol(*byte).ok_or_else(|| {
                            head.malformed(format!(
                                "if_tsresol {byte:#04x} asks for more time units per second than a 64-bit timestamp holds"
                            ))
                        })?;
                    }
                    _ => common.warn(head.start, None, bad_len(1)),
                },
                OPT_IF_FCSLEN => match value {
                    [bits] => info.fcs_bits = Some(u16::from(*bits)),
                    _ => common.warn(head.start, None, bad_len(1)),
                },
                OPT_IF_TSOFFSET => match e.i64_at(value, 0) {
                    Some(secs) if value.len() == 8 => info.ts_offset = secs,
                    _ => common.warn(head.start, None, bad_len(8)),
                },
                _ => {}
            }
            let Some(next) = pad4(usize::from(olen)) else { break };
            at = vstart + next;
        }
        self.interfaces.push(info);
        common.stats.interfaces += 1;
        Ok(())
    }

    /// Parses an EPB, SPB or OPB body in `scratch` into a frame.
    fn packet(&self, head: &BlockHead, common: &mut Common) -> Result<RawFrame, CaptureError> {
        let e = self.endian;
        let body = &self.scratch;
        let name = block_name(head.btype);
        let u32_at = |at| e.u32_at(body, at).unwrap_or(0);
        let (iface_id, ts_units, caplen, orig_len, data_at) = match head.btype {
            BLOCK_SPB => {
                let orig_len = u32_at(0);
                let snaplen = match self.interfaces.first() {
                    Some(i) => i.snaplen,
                    None => {
                        return Err(head.malformed(format!(
                            "{name} needs interface 0, but the section has no interface description block"
                        )));
                    }
                };
                let caplen = if snaplen == 0 { orig_len } else { orig_len.min(snaplen) };
                (0, None, caplen, orig_len, 4)
            }
            BLOCK_OPB => {
                let iface = u32::from(e.u16_at(body, 0).unwrap_or(0));
                let units = (u64::from(u32_at(4)) << 32) | u64::from(u32_at(8));
                (iface, Some(units), u32_at(12), u32_at(16), 20)
            }
            _ => {
                let units = (u64::from(u32_at(4)) << 32) | u64::from(u32_at(8));
                (u32_at(0), Some(units), u32_at(12), u32_at(16), 20)
            }
        };
        let Some(iface) = usize::try_from(iface_id).ok().and_then(|i| self.interfaces.get(i)) else {
            return Err(head.malformed(format!(
                "{name} names interface {iface_id}, but the section has {} interface description block(s)",
                self.interfaces.len()
            )));
        };
        let room = body.len() - data_at;
        let data = usize::try_from(caplen)
            .ok()
            .filter(|&c| pad4(c).is_some_and(|p| p <= room))
            .and_then(|c| body.get(data_at..data_at + c));
        let Some(data) = data else {
            return Err(head.malformed(format!(
                "{name} captured length {caplen} (padded to 4) does not fit in its {room} bytes of packet data"
            )));
        };
        let number = head.frame.unwrap_or(common.next_number);
        if caplen > orig_len {
            common.warn(
                head.start,
                Some(number),
                format!("{name} caplen {caplen} is larger than orig_len {orig_len}"),
            );
        }
        if iface.snaplen != 0 && caplen > iface.snaplen && head.btype != BLOCK_SPB {
            common.warn(
                head.start,
                Some(number),
                format!(
                    "{name} caplen {caplen} exceeds the snaplen {} of interface {iface_id}",
                    iface.snaplen
                ),
            );
        }
        let ts = match ts_units {
            Some(units) => iface.ts_resolution.timestamp(units, iface.ts_offset),
            None => {
                common.stats.frames_without_timestamp += 1;
                Timestamp::ZERO
            }
        };
        let number = common.take_number();
        Ok(RawFrame {
            number,
            ts,
            link_type: iface.link_type,
            interface: iface_id,
            orig_len,
            data: data.to_vec(),
            file_offset: head.start,
        })
    }
}
