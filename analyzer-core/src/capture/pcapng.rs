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
        let mut buf = common.frame_buffer();
        buf.extend_from_slice(data);
        Ok(RawFrame {
            number,
            ts,
            link_type: iface.link_type,
            interface: iface_id,
            orig_len,
            data: buf,
            file_offset: head.start,
        })
    }
}

#[cfg(test)]
mod tests {
    //! Block layouts from draft-ietf-opsawg-pcapng: §3.1 general block structure, §3.5 options,
    //! §4.1 SHB, §4.2 IDB (if_tsresol, if_tsoffset, if_fcslen), §4.3 EPB, §4.4 SPB,
    //! Appendix A (obsolete Packet Block).
    use super::super::{CaptureError, CaptureFormat, CaptureReader, CaptureStats, LinkType, RawFrame};
    use super::*;

    /// SHB + IDB + EPB, little-endian, written out by hand: Ethernet, snaplen 0x40000, default
    /// resolution (10^-6); the EPB holds 3 bytes of a 5-byte frame at 1700000000.123456 s.
    #[rustfmt::skip]
    const LITERAL: &[u8] = &[
        // SHB: type, length 28, byte-order magic, version 1.0, section length -1, length 28
        0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0x00, 0x00, 0x00, 0x4d, 0x3c, 0x2b, 0x1a, 0x01, 0x00, 0x00, 0x00,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1c, 0x00, 0x00, 0x00,
        // IDB at byte 28: type 1, length 20, link type 1, reserved, snaplen 0x40000, length 20
        0x01, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
        0x14, 0x00, 0x00, 0x00,
        // EPB at byte 48: type 6, length 36, interface 0, ts high 0x00060a24, ts low 0x18202240,
        // caplen 3, orig len 5, data aa bb cc + 1 padding byte, length 36
        0x06, 0x00, 0x00, 0x00, 0x24, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x24, 0x0a, 0x06, 0x00,
        0x40, 0x22, 0x20, 0x18, 0x03, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0xaa, 0xbb, 0xcc, 0x00,
        0x24, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn literal_section_interface_and_enhanced_packet() {
        let mut r = CaptureReader::new(LITERAL).unwrap();
        assert_eq!(r.format(), CaptureFormat::PcapNg);
        let f = r.next_frame().unwrap().unwrap();
        assert_eq!(
            f,
            RawFrame {
                number: 1,
                ts: Timestamp { secs: 1_700_000_000, nanos: 123_456_000 },
                link_type: LinkType::ETHERNET,
                interface: 0,
                orig_len: 5,
                data: vec![0xaa, 0xbb, 0xcc],
                file_offset: 48,
            }
        );
        assert!(r.next_frame().is_none());
        assert_eq!(r.interfaces().len(), 1);
        assert_eq!(r.interfaces()[0].snaplen, 0x40000);
        assert_eq!(r.interfaces()[0].ts_resolution, TsResolution::MICROS);
        assert_eq!(
            r.stats(),
            CaptureStats { frames: 1, sections: 1, interfaces: 1, ..CaptureStats::default() }
        );
    }

    // ---- builders for the other cases ----

    fn w16(e: Endian, v: u16) -> [u8; 2] {
        match e {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }

    fn w32(e: Endian, v: u32) -> [u8; 4] {
        match e {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }

    /// A block: body padded to 4, lengths around it.
    fn block(e: Endian, btype: u32, body: &[u8]) -> Vec<u8> {
        let mut body = body.to_vec();
        body.resize(body.len().div_ceil(4) * 4, 0);
        let len = body.len() as u32 + 12;
        let mut b = w32(e, btype).to_vec();
        b.extend(w32(e, len));
        b.extend(body);
        b.extend(w32(e, len));
        b
    }

    fn shb(e: Endian) -> Vec<u8> {
        let mut body = w32(e, BYTE_ORDER_MAGIC).to_vec();
        body.extend(w16(e, 1));
        body.extend(w16(e, 0));
        body.extend([0xff; 8]);
        block(e, BLOCK_SHB, &body)
    }

    fn options(e: Endian, opts: &[(u16, &[u8])]) -> Vec<u8> {
        let mut b = Vec::new();
        for (code, value) in opts {
            b.extend(w16(e, *code));
            b.extend(w16(e, value.len() as u16));
            b.extend(*value);
            b.resize(b.len().div_ceil(4) * 4, 0);
        }
        if !opts.is_empty() {
            b.extend([0; 4]); // opt_endofopt
        }
        b
    }

    fn idb(e: Endian, link: u16, snaplen: u32, opts: &[(u16, &[u8])]) -> Vec<u8> {
        let mut body = w16(e, link).to_vec();
        body.extend([0, 0]);
        body.extend(w32(e, snaplen));
        body.extend(options(e, opts));
        block(e, BLOCK_IDB, &body)
    }

    fn epb(e: Endian, iface: u32, units: u64, data: &[u8], orig_len: u32) -> Vec<u8> {
        let mut body = w32(e, iface).to_vec();
        body.extend(w32(e, (units >> 32) as u32));
        body.extend(w32(e, units as u32));
        body.extend(w32(e, data.len() as u32));
        body.extend(w32(e, orig_len));
        body.extend(data);
        body.resize(body.len().div_ceil(4) * 4, 0);
        body.extend(options(e, &[(1, b"an epb comment")]));
        block(e, BLOCK_EPB, &body)
    }

    fn read_all(bytes: &[u8]) -> (Vec<RawFrame>, Option<CaptureError>) {
        let mut r = CaptureReader::new(bytes).unwrap();
        let mut frames = Vec::new();
        let mut err = None;
        for f in r.by_ref() {
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

    fn one_frame_with(opts: &[(u16, &[u8])], units: u64) -> RawFrame {
        let e = Endian::Little;
        let file = [shb(e), idb(e, 1, 0, opts), epb(e, 0, units, &[1, 2, 3], 3)].concat();
        let (frames, err) = read_all(&file);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(frames.len(), 1);
        frames.into_iter().next().unwrap()
    }

    #[test]
    fn if_tsresol_powers_of_ten() {
        // 10^-3: 1700000000123 ms
        let f = one_frame_with(&[(OPT_IF_TSRESOL, &[3])], 1_700_000_000_123);
        assert_eq!(f.ts, Timestamp { secs: 1_700_000_000, nanos: 123_000_000 });
        // 10^-6 explicitly, same as the default
        let f = one_frame_with(&[(OPT_IF_TSRESOL, &[6])], 1_700_000_000_123_456);
        assert_eq!(f.ts, Timestamp { secs: 1_700_000_000, nanos: 123_456_000 });
        let f = one_frame_with(&[], 1_700_000_000_123_456);
        assert_eq!(f.ts, Timestamp { secs: 1_700_000_000, nanos: 123_456_000 });
        // 10^-9
        let f = one_frame_with(&[(OPT_IF_TSRESOL, &[9])], 1_700_000_000_123_456_789);
        assert_eq!(f.ts, Timestamp { secs: 1_700_000_000, nanos: 123_456_789 });
    }

    #[test]
    fn if_tsresol_power_of_two() {
        // 2^-10 s units: 1700000000 s + 512/1024 s + 1/1024 s (976562.5 ns, truncated).
        let units = (1_700_000_000u64 << 10) + 513;
        let f = one_frame_with(&[(OPT_IF_TSRESOL, &[0x8a])], units);
        assert_eq!(f.ts, Timestamp { secs: 1_700_000_000, nanos: 500_976_562 });
        // With if_tsoffset 1000 s; tshark 4.0.17 shows the same file as 1700001000.500976562.
        let off = 1000i64.to_le_bytes();
        let f = one_frame_with(&[(OPT_IF_TSRESOL, &[0x8a]), (OPT_IF_TSOFFSET, &off)], units);
        assert_eq!(f.ts, Timestamp { secs: 1_700_001_000, nanos: 500_976_562 });
    }

    #[test]
    fn if_tsoffset_adds_seconds() {
        // if_tsoffset 1600000000 s, 10^-9 units: 100000000.25 s.
        let off = 1_600_000_000i64.to_le_bytes();
        let f = one_frame_with(&[(OPT_IF_TSRESOL, &[9]), (OPT_IF_TSOFFSET, &off)], 100_000_000_250_000_000);
        assert_eq!(f.ts, Timestamp { secs: 1_700_000_000, nanos: 250_000_000 });
        // A negative offset (the field is signed).
        let off = (-10i64).to_le_bytes();
        let f = one_frame_with(&[(OPT_IF_TSOFFSET, &off)], 5_000_001);
        assert_eq!(f.ts, Timestamp { secs: -5, nanos: 1_000 });
    }

    #[test]
    fn timestamp_conversion_edges() {
        let t = |r: TsResolution, u, o| {
            let ts = r.timestamp(u, o);
            (ts.secs, ts.nanos)
        };
        assert_eq!(t(TsResolution::Pow10(0), u64::MAX, 0), (i64::MAX, 0)); // 2^64-1 s saturates
        assert_eq!(t(TsResolution::Pow10(12), 1_234_567_890_123, 0), (1, 234_567_890)); // ps, truncated
        assert_eq!(t(TsResolution::Pow10(19), u64::MAX, 0), (1, 844_674_407)); // 1.8446744073709551615 s
        assert_eq!(t(TsResolution::Pow2(63), u64::MAX, 0), (1, 999_999_999));
        assert_eq!(t(TsResolution::Pow2(0), 7, -8), (-1, 0));
        assert_eq!(t(TsResolution::Pow2(1), 3, i64::MAX), (i64::MAX, 500_000_000)); // saturates
        assert_eq!(t(TsResolution::Pow10(1), 0, i64::MIN), (i64::MIN, 0));
        assert_eq!(TsResolution::from_if_tsresol(19), Some(TsResolution::Pow10(19)));
        assert_eq!(TsResolution::from_if_tsresol(20), None);
        assert_eq!(TsResolution::from_if_tsresol(0xbf), Some(TsResolution::Pow2(63)));
        assert_eq!(TsResolution::from_if_tsresol(0xc0), None);
    }

    #[test]
    fn unusable_if_tsresol_is_malformed() {
        let e = Endian::Little;
        let file = [shb(e), idb(e, 1, 0, &[(OPT_IF_TSRESOL, &[20])]), epb(e, 0, 1, &[1], 1)].concat();
        let (frames, err) = read_all(&file);
        assert!(frames.is_empty());
        assert!(
            matches!(&err, Some(CaptureError::Malformed { offset: 28, frame: None, what }) if what.contains("0x14")),
            "{err:?}"
        );
    }

    #[test]
    fn badly_sized_options_are_warnings() {
        let e = Endian::Little;
        let opts: &[(u16, &[u8])] =
            &[(OPT_IF_TSRESOL, &[9, 9]), (OPT_IF_TSOFFSET, &[1, 2, 3]), (OPT_IF_FCSLEN, &[32])];
        let file = [shb(e), idb(e, 1, 0, opts), epb(e, 0, 2_000_000, &[1], 1)].concat();
        let mut r = CaptureReader::new(&file[..]).unwrap();
        let f = r.next_frame().unwrap().unwrap();
        assert_eq!(f.ts, Timestamp { secs: 2, nanos: 0 }); // default resolution kept
        assert_eq!(r.warnings().len(), 2);
        assert!(r.warnings()[0].what.contains("option 9 has length 2, not 1"));
        assert!(r.warnings()[1].what.contains("option 14 has length 3, not 8"));
        assert_eq!(r.interfaces()[0].fcs_bits, Some(32));
    }

    #[test]
    fn option_running_past_the_block_is_a_warning() {
        let e = Endian::Little;
        let mut body = w16(e, 1).to_vec();
        body.extend([0, 0]);
        body.extend(w32(e, 0));
        body.extend(w16(e, OPT_IF_NAME));
        body.extend(w16(e, 200)); // 200 bytes claimed, 4 present
        body.extend(b"eth0");
        let file = [shb(e), block(e, BLOCK_IDB, &body), epb(e, 0, 0, &[7], 1)].concat();
        let mut r = CaptureReader::new(&file[..]).unwrap();
        assert_eq!(r.next_frame().unwrap().unwrap().data, [7]);
        assert_eq!(r.warnings()[0].offset, 28);
        assert!(r.warnings()[0].what.contains("runs past the block"));
        assert_eq!(r.interfaces()[0].name, None);
    }

    #[test]
    fn interface_name_is_kept() {
        let e = Endian::Big;
        let file = [shb(e), idb(e, 101, 0, &[(OPT_IF_NAME, b"lo")])].concat();
        let mut r = CaptureReader::new(&file[..]).unwrap();
        assert!(r.next_frame().is_none());
        assert_eq!(r.interfaces()[0].name.as_deref(), Some("lo"));
        assert_eq!(r.interfaces()[0].link_type, LinkType::RAW);
    }

    #[test]
    fn simple_packet_block_uses_interface_0_snaplen_and_no_timestamp() {
        let e = Endian::Little;
        let spb = |orig_len: u32, data: &[u8]| {
            let mut body = w32(e, orig_len).to_vec();
            body.extend(data);
            block(e, BLOCK_SPB, &body)
        };
        let file = [
            shb(e),
            idb(e, 1, 4, &[]),
            spb(10, &[1, 2, 3, 4]), // cut to snaplen 4
            spb(3, &[5, 6, 7]),     // shorter than snaplen: whole
        ]
        .concat();
        let mut r = CaptureReader::new(&file[..]).unwrap();
        let a = r.next_frame().unwrap().unwrap();
        let b = r.next_frame().unwrap().unwrap();
        assert!(r.next_frame().is_none());
        assert_eq!(
            (a.number, a.ts, a.orig_len, a.data.as_slice()),
            (1, Timestamp::ZERO, 10, &[1, 2, 3, 4][..])
        );
        assert_eq!((b.number, b.ts, b.orig_len, b.data.as_slice()), (2, Timestamp::ZERO, 3, &[5, 6, 7][..]));
        assert_eq!((a.file_offset, b.file_offset), (48, 68));
        assert_eq!(r.stats().frames_without_timestamp, 2);
    }

    #[test]
    fn simple_packet_block_that_cannot_hold_its_caplen_is_malformed() {
        let e = Endian::Little;
        let mut body = w32(e, 9).to_vec(); // 9 bytes, no snaplen: needs 12 bytes of room
        body.extend([0; 8]);
        let file = [shb(e), idb(e, 1, 0, &[]), block(e, BLOCK_SPB, &body)].concat();
        let (_, err) = read_all(&file);
        assert!(
            matches!(&err, Some(CaptureError::Malformed { offset: 48, frame: Some(1), what }) if what.contains("9")),
            "{err:?}"
        );
    }

    #[test]
    fn obsolete_packet_block() {
        let e = Endian::Big;
        let mut body = w16(e, 1).to_vec(); // interface 1
        body.extend(w16(e, 0xffff)); // drops unknown
        body.extend(w32(e, 0));
        body.extend(w32(e, 3_000_500)); // 3.0005 s in µs
        body.extend(w32(e, 2));
        body.extend(w32(e, 2));
        body.extend([0xde, 0xad, 0, 0]);
        let file = [shb(e), idb(e, 1, 0, &[]), idb(e, 113, 0, &[]), block(e, BLOCK_OPB, &body)].concat();
        let (frames, err) = read_all(&file);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].interface, 1);
        assert_eq!(frames[0].link_type, LinkType::LINUX_SLL);
        assert_eq!(frames[0].ts, Timestamp { secs: 3, nanos: 500_000 });
        assert_eq!(frames[0].data, [0xde, 0xad]);
    }

    #[test]
    fn unknown_and_non_packet_blocks_are_skipped() {
        let e = Endian::Little;
        let file = [
            shb(e),
            block(e, 4, &[0; 8]), // name resolution block
            idb(e, 1, 0, &[]),
            block(e, 0x0000_0BAD, &[1, 2, 3, 4, 5]), // custom block
            epb(e, 0, 0, &[1], 1),
            block(e, 5, &[0; 12]),      // interface statistics
            block(e, 0x1234_5678, &[]), // unknown type, empty body
            epb(e, 0, 0, &[2], 1),
        ]
        .concat();
        let mut r = CaptureReader::new(&file[..]).unwrap();
        let frames: Vec<_> = r.by_ref().map(Result::unwrap).collect();
        assert_eq!(frames.iter().map(|f| (f.number, f.data[0])).collect::<Vec<_>>(), [(1, 1), (2, 2)]);
        assert_eq!(r.stats().skipped_blocks, 4);
    }

    #[test]
    fn two_sections_with_different_byte_orders() {
        let (le, be) = (Endian::Little, Endian::Big);
        let first = [shb(le), idb(le, 1, 0, &[]), idb(le, 101, 0, &[(OPT_IF_TSRESOL, &[9])])].concat();
        let second = [shb(be), idb(be, 113, 0, &[(OPT_IF_TSRESOL, &[3])])].concat();
        let (p1, p2) = (epb(le, 1, 1_500_000_000, &[0x45], 1), epb(le, 0, 2_000_000, &[0xee], 1));
        let third_at = (first.len() + p1.len() + p2.len() + second.len()) as u64;
        let file = [first, p1, p2, second, epb(be, 0, 4_250, &[0x11, 0x22], 2)].concat();
        let mut r = CaptureReader::new(&file[..]).unwrap();
        let frames: Vec<_> = r.by_ref().map(Result::unwrap).collect();
        let view: Vec<_> = frames.iter().map(|f| (f.number, f.interface, f.link_type, f.ts)).collect();
        assert_eq!(
            view,
            [
                (1, 1, LinkType::RAW, Timestamp { secs: 1, nanos: 500_000_000 }),
                (2, 0, LinkType::ETHERNET, Timestamp { secs: 2, nanos: 0 }),
                (3, 0, LinkType::LINUX_SLL, Timestamp { secs: 4, nanos: 250_000_000 }),
            ]
        );
        assert_eq!(frames[2].data, [0x11, 0x22]);
        assert_eq!(frames[2].file_offset, third_at);
        // Interfaces restart with the second section.
        assert_eq!(r.interfaces().len(), 1);
        assert_eq!(r.stats().sections, 2);
        assert_eq!(r.stats().interfaces, 3);
    }

    #[test]
    fn packet_on_an_undeclared_interface_is_malformed() {
        let e = Endian::Little;
        let first = epb(e, 0, 0, &[1], 1);
        let at = 48 + first.len() as u64;
        let file = [shb(e), idb(e, 1, 0, &[]), first, epb(e, 2, 0, &[2], 1)].concat();
        let (frames, err) = read_all(&file);
        assert_eq!(frames.len(), 1);
        match err {
            Some(CaptureError::Malformed { offset, frame: Some(2), what }) if offset == at => {
                assert_eq!(
                    what,
                    "enhanced packet block names interface 2, but the section has 1 interface description block(s)"
                )
            }
            e => panic!("{e:?}"),
        }
        // A new section forgets the interfaces of the previous one.
        let file = [shb(e), idb(e, 1, 0, &[]), shb(e), epb(e, 0, 0, &[1], 1)].concat();
        let (frames, err) = read_all(&file);
        assert!(frames.is_empty());
        assert!(matches!(err, Some(CaptureError::Malformed { offset: 76, frame: Some(1), .. })), "{err:?}");
        // SPB with no interface at all.
        let file = [shb(e), block(e, BLOCK_SPB, &[1, 0, 0, 0, 9, 0, 0, 0])].concat();
        let (_, err) = read_all(&file);
        assert!(matches!(err, Some(CaptureError::Malformed { offset: 28, frame: Some(1), .. })), "{err:?}");
    }

    #[test]
    fn caplen_that_does_not_fit_in_its_block_is_malformed() {
        let e = Endian::Little;
        let mut b = epb(e, 0, 0, &[1, 2, 3, 4], 4);
        b[20..24].copy_from_slice(&5000u32.to_le_bytes());
        let file = [shb(e), idb(e, 1, 0, &[]), b].concat();
        let (_, err) = read_all(&file);
        assert!(
            matches!(&err, Some(CaptureError::Malformed { offset: 48, frame: Some(1), what }) if what.contains("5000")),
            "{err:?}"
        );
    }

    /// The EPB of `LITERAL` (at byte 48) with its leading total length replaced.
    fn literal_with_epb_len(len: u32) -> Vec<u8> {
        let mut b = LITERAL.to_vec();
        b[52..56].copy_from_slice(&len.to_le_bytes());
        b
    }

    #[test]
    fn block_length_rules() {
        let check = |bytes: &[u8], needle: &str| {
            let (frames, err) = read_all(bytes);
            assert!(frames.is_empty());
            match err {
                Some(CaptureError::Malformed { offset: 48, frame: Some(1), what }) => {
                    assert!(what.contains(needle), "{what}")
                }
                e => panic!("{e:?}"),
            }
        };
        check(&literal_with_epb_len(8), "total length 8 is smaller than the minimum of 12");
        check(&literal_with_epb_len(34), "total length 34 is not a multiple of 4");
        check(&literal_with_epb_len(28), "total length 28 is smaller than its minimum of 32");
        check(&literal_with_epb_len(MAX_RECORD_LEN + 4), "beyond any sane block size");
        // Trailing length differs from the leading one.
        let mut b = LITERAL.to_vec();
        b[80] = 0x28;
        check(&b, "trailing total length 40 differs from the leading 36");
        // Same rules for skipped blocks (no frame number then).
        let e = Endian::Little;
        let mut nrb = block(e, 4, &[0; 4]);
        nrb[12] = 0x20; // trailing length 32, leading 16
        let (_, err) = read_all(&[shb(e), nrb].concat());
        assert!(matches!(err, Some(CaptureError::Malformed { offset: 28, frame: None, .. })), "{err:?}");
    }

    #[test]
    fn truncation_inside_blocks() {
        // Cut inside the EPB body: 20 of its 36 bytes present.
        let (frames, err) = read_all(&LITERAL[..68]);
        assert!(frames.is_empty());
        assert!(
            matches!(
                err,
                Some(CaptureError::Truncated {
                    offset: 48,
                    frame: Some(1),
                    what: "enhanced packet block",
                    needed: 36,
                    available: 20
                })
            ),
            "{err:?}"
        );
        // Cut inside a block header: the type is unknown, so no frame number.
        let (_, err) = read_all(&LITERAL[..53]);
        assert!(
            matches!(
                err,
                Some(CaptureError::Truncated { offset: 48, frame: None, needed: 8, available: 5, .. })
            ),
            "{err:?}"
        );
        // Cut inside a skipped block.
        let e = Endian::Little;
        let file = [shb(e), block(e, 4, &[0; 40])].concat();
        let (_, err) = read_all(&file[..50]);
        assert!(
            matches!(
                err,
                Some(CaptureError::Truncated { offset: 28, frame: None, needed: 52, available: 22, .. })
            ),
            "{err:?}"
        );
        // At a block boundary the file just ends.
        let (frames, err) = read_all(&LITERAL[..48]);
        assert!(frames.is_empty() && err.is_none());
    }

    #[test]
    fn truncation_inside_the_first_section_header() {
        for cut in [1, 3, 4, 7, 8, 11, 12, 20, 27] {
            let e = CaptureReader::new(&LITERAL[..cut]).unwrap_err();
            match e {
                CaptureError::Truncated {
                    offset: 0,
                    frame: None,
                    what: "section header block",
                    needed: 28,
                    available,
                } => {
                    assert_eq!(available, cut as u64)
                }
                e => panic!("cut {cut}: {e:?}"),
            }
        }
    }

    #[test]
    fn section_header_checks() {
        let mut b = LITERAL.to_vec();
        b[8..12].copy_from_slice(&[1, 2, 3, 4]);
        let e = CaptureReader::new(&b[..]).unwrap_err();
        assert!(
            matches!(&e, CaptureError::Malformed { offset: 0, what, .. } if what.contains("byte-order magic")),
            "{e:?}"
        );
        let mut b = LITERAL.to_vec();
        b[12] = 2;
        let e = CaptureReader::new(&b[..]).unwrap_err();
        assert!(
            matches!(&e, CaptureError::Malformed { offset: 0, what, .. } if what.contains("version 2.0")),
            "{e:?}"
        );
        let mut b = LITERAL.to_vec();
        b[24] = 0x20;
        let e = CaptureReader::new(&b[..]).unwrap_err();
        assert!(
            matches!(&e, CaptureError::Malformed { offset: 0, what, .. } if what.contains("trailing total length 32")),
            "{e:?}"
        );
        // A second SHB with a bad byte-order magic, after a frame.
        let mut second = LITERAL[..28].to_vec();
        second[8..12].copy_from_slice(&[0; 4]);
        let (frames, err) = read_all(&[LITERAL, &second].concat());
        assert_eq!(frames.len(), 1);
        assert!(matches!(err, Some(CaptureError::Malformed { offset: 84, frame: None, .. })), "{err:?}");
    }
}
