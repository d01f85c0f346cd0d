//! A tiny test-only writer for classic pcap and pcapng (draft-ietf-opsawg-pcap §4-5,
//! draft-ietf-opsawg-pcapng §3-4, Appendix A), written from the drafts independently of the
//! reader. It also reports where every record starts and ends, so tests know the record
//! boundaries of the bytes they generate.
#![allow(dead_code)]

/// One pcap packet record.
#[derive(Debug, Clone)]
pub struct Rec {
    pub secs: u32,
    /// Microseconds or nanoseconds, per the file's magic.
    pub frac: u32,
    pub orig_len: u32,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct PcapFile {
    pub big_endian: bool,
    pub nanos: bool,
    pub snaplen: u32,
    /// The whole link-type field (LINKTYPE in the low 16 bits).
    pub link: u32,
    pub records: Vec<Rec>,
}

/// Where a record (pcap file header / packet record, pcapng block) lies in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    /// The record is a frame.
    pub frame: bool,
}

fn put16(out: &mut Vec<u8>, be: bool, v: u16) {
    out.extend(if be { v.to_be_bytes() } else { v.to_le_bytes() });
}

fn put32(out: &mut Vec<u8>, be: bool, v: u32) {
    out.extend(if be { v.to_be_bytes() } else { v.to_le_bytes() });
}

fn pad(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

pub fn pcap(f: &PcapFile) -> (Vec<u8>, Vec<Span>) {
    let be = f.big_endian;
    let mut out = Vec::new();
    put32(&mut out, be, if f.nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 });
    put16(&mut out, be, 2);
    put16(&mut out, be, 4);
    put32(&mut out, be, 0);
    put32(&mut out, be, 0);
    put32(&mut out, be, f.snaplen);
    put32(&mut out, be, f.link);
    let mut spans = vec![Span { start: 0, end: 24, frame: false }];
    for r in &f.records {
        let start = out.len();
        put32(&mut out, be, r.secs);
        put32(&mut out, be, r.frac);
        put32(&mut out, be, r.data.len() as u32);
        put32(&mut out, be, r.orig_len);
        out.extend(&r.data);
        spans.push(Span { start, end: out.len(), frame: true });
    }
    (out, spans)
}

#[derive(Debug, Clone)]
pub struct Iface {
    pub link: u16,
    pub snaplen: u32,
    pub tsresol: Option<u8>,
    pub tsoffset: Option<i64>,
}

#[derive(Debug, Clone)]
pub enum NgBlock {
    Idb(Iface),
    Epb {
        iface: u32,
        units: u64,
        orig_len: u32,
        data: Vec<u8>,
    },
    /// Data must already be `min(orig_len, snaplen of interface 0)` long.
    Spb {
        orig_len: u32,
        data: Vec<u8>,
    },
    Opb {
        iface: u16,
        units: u64,
        orig_len: u32,
        data: Vec<u8>,
    },
    /// Any other block, body as given (padded by the writer).
    Other {
        btype: u32,
        body: Vec<u8>,
    },
}

#[derive(Debug, Clone)]
pub struct Section {
    pub big_endian: bool,
    pub blocks: Vec<NgBlock>,
}

/// Frames and block spans of a pcapng file made of `sections`.
pub fn pcapng(sections: &[Section]) -> (Vec<u8>, Vec<Span>) {
    let mut out = Vec::new();
    let mut spans = Vec::new();
    for s in sections {
        let be = s.big_endian;
        let mut body = Vec::new();
        put32(&mut body, be, 0x1a2b_3c4d);
        put16(&mut body, be, 1);
        put16(&mut body, be, 0);
        body.extend([0xff; 8]);
        // An shb_userappl option, to have options to skip.
        put16(&mut body, be, 4);
        put16(&mut body, be, 5);
        body.extend(b"tests");
        pad(&mut body);
        body.extend([0; 4]);
        emit(&mut out, &mut spans, be, 0x0a0d_0d0a, &body, false);
        for b in &s.blocks {
            let mut body = Vec::new();
            let (btype, frame) = match b {
                NgBlock::Idb(i) => {
                    put16(&mut body, be, i.link);
                    put16(&mut body, be, 0);
                    put32(&mut body, be, i.snaplen);
                    put16(&mut body, be, 2); // if_name
                    put16(&mut body, be, 3);
                    body.extend(b"if0");
                    pad(&mut body);
                    if let Some(r) = i.tsresol {
                        put16(&mut body, be, 9);
                        put16(&mut body, be, 1);
                        body.push(r);
                        pad(&mut body);
                    }
                    if let Some(o) = i.tsoffset {
                        put16(&mut body, be, 14);
                        put16(&mut body, be, 8);
                        body.extend(if be { o.to_be_bytes() } else { o.to_le_bytes() });
                    }
                    body.extend([0; 4]);
                    (1, false)
                }
                NgBlock::Epb { iface, units, orig_len, data } => {
                    put32(&mut body, be, *iface);
                    put32(&mut body, be, (units >> 32) as u32);
                    put32(&mut body, be, *units as u32);
                    put32(&mut body, be, data.len() as u32);
                    put32(&mut body, be, *orig_len);
                    body.extend(data);
                    pad(&mut body);
                    put16(&mut body, be, 2); // epb_flags
                    put16(&mut body, be, 4);
                    put32(&mut body, be, 1);
                    body.extend([0; 4]);
                    (6, true)
                }
                NgBlock::Spb { orig_len, data } => {
                    put32(&mut body, be, *orig_len);
                    body.extend(data);
                    (3, true)
                }
                NgBlock::Opb { iface, units, orig_len, data } => {
                    put16(&mut body, be, *iface);
                    put16(&mut body, be, 0);
                    put32(&mut body, be, (units >> 32) as u32);
                    put32(&mut body, be, *units as u32);
                    put32(&mut body, be, data.len() as u32);
                    put32(&mut body, be, *orig_len);
                    body.extend(data);
                    (2, true)
                }
                NgBlock::Other { btype, body: b } => {
                    body.extend(b);
                    (*btype, false)
                }
            };
            emit(&mut out, &mut spans, be, btype, &body, frame);
        }
    }
    (out, spans)
}

fn emit(out: &mut Vec<u8>, spans: &mut Vec<Span>, be: bool, btype: u32, body: &[u8], frame: bool) {
    let start = out.len();
    let len = (12 + body.len().div_ceil(4) * 4) as u32;
    put32(out, be, btype);
    put32(out, be, len);
    out.extend(body);
    pad(out);
    put32(out, be, len);
    spans.push(Span { start, end: out.len(), frame });
}

/// `units` of `10^-n` s (tsresol byte `n`) or `2^-n` s (byte `0x80 | n`) as (secs, nanos),
/// plus `offset` seconds: the pcapng rule, computed with u128 arithmetic.
pub fn units_to_time(tsresol: u8, units: u64, offset: i64) -> (i64, u32) {
    let per_sec: u128 =
        if tsresol & 0x80 != 0 { 1u128 << (tsresol & 0x7f) } else { 10u128.pow(u32::from(tsresol)) };
    let units = u128::from(units);
    let secs = (units / per_sec) as i128 + i128::from(offset);
    let nanos = (units % per_sec) * 1_000_000_000 / per_sec;
    (secs as i64, nanos as u32)
}
