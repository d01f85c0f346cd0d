//! pcapng writer: Section Header, Interface Description (with `if_tsresol`), Enhanced Packet
//! and Simple Packet blocks (draft-ietf-opsawg-pcapng §4).
//!
//! Every block is `type u32 | total length u32 | body (padded to 32 bits) | total length u32`.
//! Options are `code u16 | length u16 | value padded to 32 bits`, ended by `opt_endofopt`.

use crate::pcap::Endian;

pub const BLOCK_SHB: u32 = 0x0a0d_0d0a;
pub const BLOCK_IDB: u32 = 0x0000_0001;
pub const BLOCK_SPB: u32 = 0x0000_0003;
pub const BLOCK_EPB: u32 = 0x0000_0006;
pub const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;

pub const OPT_ENDOFOPT: u16 = 0;
pub const OPT_COMMENT: u16 = 1;
pub const SHB_USERAPPL: u16 = 4;
pub const IF_NAME: u16 = 2;
pub const IF_TSRESOL: u16 = 9;

/// One interface of the current section, as the writer needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Iface {
    /// Units per second of the EPB timestamps (10^6 when `if_tsresol` is absent).
    tsresol: u8,
}

/// An in-memory pcapng writer.
#[derive(Debug, Clone)]
pub struct PcapNgWriter {
    buf: Vec<u8>,
    endian: Endian,
    interfaces: Vec<Iface>,
    frames: u64,
}

fn pad4(n: usize) -> usize {
    (4 - n % 4) % 4
}

impl PcapNgWriter {
    /// An empty writer; call [`PcapNgWriter::section`] first.
    pub fn new(endian: Endian) -> Self {
        PcapNgWriter { buf: Vec::with_capacity(4096), endian, interfaces: Vec::new(), frames: 0 }
    }

    fn options(&self, opts: &[(u16, &[u8])]) -> Vec<u8> {
        let e = self.endian;
        let mut out = Vec::new();
        if opts.is_empty() {
            return out;
        }
        for (code, value) in opts {
            out.extend_from_slice(&e.u16(*code));
            out.extend_from_slice(&e.u16(value.len() as u16));
            out.extend_from_slice(value);
            out.resize(out.len() + pad4(value.len()), 0);
        }
        out.extend_from_slice(&e.u16(OPT_ENDOFOPT));
        out.extend_from_slice(&e.u16(0));
        out
    }

    /// Writes a block: type, total length, `body` padded to 4, total length.
    fn block(&mut self, block_type: u32, body: &[u8]) {
        let e = self.endian;
        let total = (12 + body.len() + pad4(body.len())) as u32;
        self.buf.extend_from_slice(&e.u32(block_type));
        self.buf.extend_from_slice(&e.u32(total));
        self.buf.extend_from_slice(body);
        self.buf.resize(self.buf.len() + pad4(body.len()), 0);
        self.buf.extend_from_slice(&e.u32(total));
    }

    /// Starts a new section (SHB, version 1.0, section length -1 = unspecified). Interfaces of
    /// the previous section are forgotten, as readers must do.
    pub fn section(&mut self, user_appl: Option<&str>) {
        let e = self.endian;
        let mut body = Vec::new();
        body.extend_from_slice(&e.u32(BYTE_ORDER_MAGIC));
        body.extend_from_slice(&e.u16(1));
        body.extend_from_slice(&e.u16(0));
        body.extend_from_slice(&e.i64(-1));
        let opts: Vec<(u16, &[u8])> = user_appl.map(|a| (SHB_USERAPPL, a.as_bytes())).into_iter().collect();
        body.extend_from_slice(&self.options(&opts));
        self.block(BLOCK_SHB, &body);
        self.interfaces.clear();
    }

    /// Adds an interface to the current section and returns its index. `tsresol`: the raw
    /// `if_tsresol` byte (e.g. 6 for µs, 9 for ns); `None` writes no option (µs by default).
    /// Only decimal resolutions up to 9 are supported.
    pub fn interface(
        &mut self,
        link_type: u16,
        snaplen: u32,
        tsresol: Option<u8>,
        name: Option<&str>,
    ) -> u32 {
        let e = self.endian;
        let mut body = Vec::new();
        body.extend_from_slice(&e.u16(link_type));
        body.extend_from_slice(&e.u16(0)); // reserved
        body.extend_from_slice(&e.u32(snaplen));
        let res = tsresol.map(|r| [r]);
        let mut opts: Vec<(u16, &[u8])> = Vec::new();
        if let Some(n) = name {
            opts.push((IF_NAME, n.as_bytes()));
        }
        if let Some(r) = &res {
            opts.push((IF_TSRESOL, r.as_slice()));
        }
        body.extend_from_slice(&self.options(&opts));
        self.block(BLOCK_IDB, &body);
        let r = tsresol.unwrap_or(6);
        assert!(r <= 9, "only decimal if_tsresol up to 9 (ns) is supported, got {r:#x}");
        self.interfaces.push(Iface { tsresol: r });
        (self.interfaces.len() - 1) as u32
    }

    /// Enhanced Packet Block on interface `iface` of the current section. `ts_ns` is converted
    /// to the interface's resolution (truncated). `comment` adds an `opt_comment`.
    pub fn packet(&mut self, iface: u32, ts_ns: u64, data: &[u8], orig_len: u32, comment: Option<&str>) {
        let e = self.endian;
        let Some(info) = self.interfaces.get(iface as usize).copied() else {
            panic!("EPB for interface {iface} which the section does not describe");
        };
        let units = ts_ns / 10u64.pow(9 - u32::from(info.tsresol));
        let mut body = Vec::with_capacity(20 + data.len() + 4);
        body.extend_from_slice(&e.u32(iface));
        body.extend_from_slice(&e.u32((units >> 32) as u32));
        body.extend_from_slice(&e.u32(units as u32));
        body.extend_from_slice(&e.u32(data.len() as u32));
        body.extend_from_slice(&e.u32(orig_len));
        body.extend_from_slice(data);
        body.resize(body.len() + pad4(data.len()), 0);
        let opts: Vec<(u16, &[u8])> = comment.map(|c| (OPT_COMMENT, c.as_bytes())).into_iter().collect();
        body.extend_from_slice(&self.options(&opts));
        self.block(BLOCK_EPB, &body);
        self.frames += 1;
    }

    /// Simple Packet Block (interface 0, no timestamp). The captured length is implied by the
    /// block length: min(orig_len, snaplen); here `data` is written whole.
    pub fn simple_packet(&mut self, data: &[u8], orig_len: u32) {
        assert!(!self.interfaces.is_empty(), "SPB needs interface 0");
        let e = self.endian;
        let mut body = Vec::with_capacity(4 + data.len());
        body.extend_from_slice(&e.u32(orig_len));
        body.extend_from_slice(data);
        self.block(BLOCK_SPB, &body);
        self.frames += 1;
    }

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

    /// Writes the bytes built so far to `w` and empties the buffer (the section and interface
    /// state stay), so a long capture can be streamed with constant memory.
    pub fn flush_to(&mut self, w: &mut impl std::io::Write) -> std::io::Result<()> {
        w.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shb_minimal_le() {
        let mut w = PcapNgWriter::new(Endian::Little);
        w.section(None);
        let b = w.into_bytes();
        // type, len 28, BOM, 1.0, -1, len 28
        assert_eq!(b.len(), 28);
        assert_eq!(&b[..12], &[0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a]);
        assert_eq!(&b[12..24], &[1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(&b[24..], &[28, 0, 0, 0]);
    }

    #[test]
    fn idb_tsresol_and_epb() {
        let mut w = PcapNgWriter::new(Endian::Big);
        w.section(None);
        let start = w.len();
        let i = w.interface(1, 65535, Some(9), None);
        assert_eq!(i, 0);
        let idb = w.buf[start..].to_vec();
        // type 1, len 32: linktype 1, reserved, snaplen, opt 9 len 1 value 9 + pad, endofopt, len
        assert_eq!(&idb[..8], &[0, 0, 0, 1, 0, 0, 0, 32]);
        assert_eq!(&idb[8..16], &[0, 1, 0, 0, 0, 0, 0xff, 0xff]);
        assert_eq!(&idb[16..28], &[0, 9, 0, 1, 9, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&idb[28..], &[0, 0, 0, 32]);
        let start = w.len();
        w.packet(0, 1_000_000_000_000_000_123, &[1, 2, 3], 3, None);
        let epb = w.buf[start..].to_vec();
        assert_eq!(epb.len(), 12 + 20 + 4);
        let units: u64 = 1_000_000_000_000_000_123;
        assert_eq!(&epb[12..16], &((units >> 32) as u32).to_be_bytes());
        assert_eq!(&epb[16..20], &(units as u32).to_be_bytes());
        assert_eq!(&epb[20..28], &[0, 0, 0, 3, 0, 0, 0, 3]);
        assert_eq!(&epb[28..32], &[1, 2, 3, 0]);
        assert_eq!(&epb[32..], &[0, 0, 0, 36]);
    }

    #[test]
    fn flush_to_streams_the_same_bytes() {
        let mut whole = PcapNgWriter::new(Endian::Little);
        let mut streamed = PcapNgWriter::new(Endian::Little);
        let mut out = Vec::new();
        for w in [&mut whole, &mut streamed] {
            w.section(None);
            w.interface(1, 65535, Some(6), None);
        }
        streamed.flush_to(&mut out).unwrap();
        for i in 0..3u8 {
            whole.packet(0, u64::from(i) * 1000, &[i; 5], 5, None);
            streamed.packet(0, u64::from(i) * 1000, &[i; 5], 5, None);
            streamed.flush_to(&mut out).unwrap();
        }
        assert!(streamed.is_empty());
        assert_eq!(streamed.frames(), 3);
        assert_eq!(out, whole.into_bytes());
    }

    #[test]
    fn spb_layout() {
        // SPB (draft-ietf-opsawg-pcapng §4.4): type 3, total length, original length, data
        // padded to 32 bits, total length.
        let mut w = PcapNgWriter::new(Endian::Little);
        w.section(None);
        w.interface(1, 65535, None, None);
        let start = w.len();
        w.simple_packet(&[0xaa, 0xbb, 0xcc, 0xdd, 0xee], 60);
        let spb = &w.buf[start..];
        assert_eq!(
            spb,
            [3, 0, 0, 0, 24, 0, 0, 0, 60, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0, 0, 0, 24, 0, 0, 0]
        );
        assert_eq!(w.frames(), 1);
    }

    #[test]
    fn epb_micro_default() {
        let mut w = PcapNgWriter::new(Endian::Little);
        w.section(Some("x"));
        w.interface(101, 0, None, Some("eth0"));
        let start = w.len();
        w.packet(0, 2_000_000_999, &[], 0, Some("hi"));
        let epb = &w.buf[start..];
        // 2_000_000 µs
        assert_eq!(&epb[12..20], &[0, 0, 0, 0, 0x80, 0x84, 0x1e, 0]);
        // comment option: code 1, len 2, "hi" + pad, endofopt
        assert_eq!(&epb[28..40], &[1, 0, 2, 0, b'h', b'i', 0, 0, 0, 0, 0, 0]);
    }
}
