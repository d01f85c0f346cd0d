//! CoAP messages (RFC 7252 §3), encoded with coap-lite so that the samples do not share an
//! encoder with analyzer-core. Deliberately malformed messages, which coap-lite refuses to
//! produce, are hand-encoded at the bottom of this file.

use coap_lite::{MessageClass, MessageType, Packet};

/// Message types (RFC 7252 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsgType {
    Con = 0,
    Non = 1,
    Ack = 2,
    Rst = 3,
}

impl MsgType {
    fn lite(self) -> MessageType {
        match self {
            MsgType::Con => MessageType::Confirmable,
            MsgType::Non => MessageType::NonConfirmable,
            MsgType::Ack => MessageType::Acknowledgement,
            MsgType::Rst => MessageType::Reset,
        }
    }
}

/// Codes used by the samples (wire byte `class << 5 | detail`).
pub mod code {
    pub const EMPTY: u8 = 0x00;
    pub const GET: u8 = 0x01;
    pub const POST: u8 = 0x02;
    pub const PUT: u8 = 0x03;
    pub const DELETE: u8 = 0x04;
    pub const FETCH: u8 = 0x05;
    pub const CREATED: u8 = 0x41;
    pub const DELETED: u8 = 0x42;
    pub const VALID: u8 = 0x43;
    pub const CHANGED: u8 = 0x44;
    pub const CONTENT: u8 = 0x45;
    pub const CONTINUE: u8 = 0x5f;
    pub const BAD_OPTION: u8 = 0x82;
    pub const NOT_FOUND: u8 = 0x84;

    /// "c.dd" form.
    pub fn dotted(c: u8) -> String {
        format!("{}.{:02}", c >> 5, c & 0x1f)
    }
}

/// Option numbers used by the samples.
pub mod opt {
    pub const IF_MATCH: u16 = 1;
    pub const URI_HOST: u16 = 3;
    pub const ETAG: u16 = 4;
    pub const OBSERVE: u16 = 6;
    pub const URI_PORT: u16 = 7;
    pub const LOCATION_PATH: u16 = 8;
    pub const URI_PATH: u16 = 11;
    pub const CONTENT_FORMAT: u16 = 12;
    pub const MAX_AGE: u16 = 14;
    pub const URI_QUERY: u16 = 15;
    pub const ACCEPT: u16 = 17;
    pub const BLOCK2: u16 = 23;
    pub const BLOCK1: u16 = 27;
    pub const SIZE2: u16 = 28;
    pub const SIZE1: u16 = 60;
    pub const REQUEST_TAG: u16 = 292;
}

/// Content-Format numbers (RFC 7252 §12.3).
pub mod cf {
    pub const TEXT_PLAIN: u32 = 0;
    pub const LINK_FORMAT: u32 = 40;
    pub const OCTET_STREAM: u32 = 42;
    pub const JSON: u32 = 50;
    pub const CBOR: u32 = 60;
}

/// Minimal big-endian encoding of an unsigned option value (RFC 7252 §3.2: 0 is empty).
pub fn uint(v: u32) -> Vec<u8> {
    let b = v.to_be_bytes();
    let skip = b.iter().take_while(|&&x| x == 0).count();
    b[skip..].to_vec()
}

/// Block1/Block2 option value (RFC 7959 §2.2): NUM << 4 | M << 3 | SZX, minimal uint.
pub fn block(num: u32, more: bool, szx: u8) -> Vec<u8> {
    assert!(szx < 7, "SZX 7 is reserved");
    uint(num << 4 | u32::from(more) << 3 | u32::from(szx))
}

/// A CoAP message as the scenario scripts describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoapMsg {
    pub ty: MsgType,
    pub code: u8,
    pub mid: u16,
    pub token: Vec<u8>,
    /// (number, value) in any order; encoded sorted by number, repeated numbers in the order given.
    pub options: Vec<(u16, Vec<u8>)>,
    pub payload: Vec<u8>,
}

impl CoapMsg {
    pub fn new(ty: MsgType, code: u8, mid: u16, token: &[u8]) -> Self {
        CoapMsg { ty, code, mid, token: token.to_vec(), options: Vec::new(), payload: Vec::new() }
    }

    /// An Empty message (ACK, RST or CoAP ping CON): code 0.00, no token.
    pub fn empty(ty: MsgType, mid: u16) -> Self {
        CoapMsg::new(ty, code::EMPTY, mid, &[])
    }

    pub fn opt(mut self, number: u16, value: impl Into<Vec<u8>>) -> Self {
        self.options.push((number, value.into()));
        self
    }

    pub fn opt_uint(self, number: u16, v: u32) -> Self {
        self.opt(number, uint(v))
    }

    /// One Uri-Path option per segment of `path` ("/a/b" -> "a", "b").
    pub fn path(mut self, path: &str) -> Self {
        for seg in path.split('/').filter(|s| !s.is_empty()) {
            self.options.push((opt::URI_PATH, seg.as_bytes().to_vec()));
        }
        self
    }

    pub fn payload(mut self, p: impl Into<Vec<u8>>) -> Self {
        self.payload = p.into();
        self
    }

    /// The Uri-Path segments joined with '/'.
    pub fn uri_path(&self) -> String {
        let segs: Vec<String> = self
            .options
            .iter()
            .filter(|(n, _)| *n == opt::URI_PATH)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .collect();
        segs.join("/")
    }

    /// Encodes with coap-lite (no size limit; the samples decide what fits where).
    pub fn encode(&self) -> Vec<u8> {
        let mut p = Packet::new();
        p.header.set_version(1);
        p.header.set_type(self.ty.lite());
        p.header.code = MessageClass::from(self.code);
        p.header.message_id = self.mid;
        p.set_token(self.token.clone());
        for (n, v) in &self.options {
            p.add_option(coap_lite::CoapOption::from(*n), v.clone());
        }
        p.payload = self.payload.clone();
        match p.to_bytes_unlimited() {
            Ok(b) => b,
            Err(e) => panic!("coap-lite refused to encode {self:?}: {e:?}"),
        }
    }
}

// ---- Hand-encoded malformed messages -----------------------------------------------------
// coap-lite cannot emit these: its header API asserts TKL <= 15 via the token vector length
// and always writes well-formed option headers, so each is built byte by byte here.

/// A CON GET whose header says TKL = 9 (RFC 7252 §3: 9..15 are reserved, "MUST be processed
/// as a message format error"), followed by 9 token bytes and Uri-Path "temp".
pub fn malformed_tkl9(mid: u16) -> Vec<u8> {
    let mut m = vec![0x49, code::GET];
    m.extend_from_slice(&mid.to_be_bytes());
    m.extend_from_slice(&[0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8]);
    m.push(0xb4);
    m.extend_from_slice(b"temp");
    m
}

/// A CON GET (token 1 byte) whose first option byte is 0xF1: delta nibble 15 with length 1,
/// a message format error (RFC 7252 §3.1: 15 is reserved unless the byte is 0xFF).
pub fn malformed_option_nibble15(mid: u16) -> Vec<u8> {
    let mut m = vec![0x41, code::GET];
    m.extend_from_slice(&mid.to_be_bytes());
    m.push(0x5a);
    m.extend_from_slice(&[0xf1, 0x00]);
    m
}

/// A CON GET (token 1 byte) with Uri-Path whose length nibble says 10 bytes but the datagram
/// ends after 4 ("temp"): the option runs past the end of the message.
pub fn malformed_truncated_option(mid: u16) -> Vec<u8> {
    let mut m = vec![0x41, code::GET];
    m.extend_from_slice(&mid.to_be_bytes());
    m.push(0x5b);
    m.push(0xba);
    m.extend_from_slice(b"temp");
    m
}

/// An ACK 2.05 (token 1 byte) ending with the payload marker 0xFF and no payload (RFC 7252
/// §3: "MUST be processed as a message format error").
pub fn malformed_empty_payload_marker(mid: u16, token: u8) -> Vec<u8> {
    let mut m = vec![0x61, code::CONTENT];
    m.extend_from_slice(&mid.to_be_bytes());
    m.push(token);
    m.push(0xc0); // Content-Format: text/plain (0, empty value)
    m.push(0xff);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7252_figure_example_get() {
        // CON GET, MID 0x7d34, no token, Uri-Path "temperature" (RFC 7252 Appendix A, Fig. 16
        // shows the exchange; the bytes follow §3): 40 01 7d 34 bb "temperature".
        let m = CoapMsg::new(MsgType::Con, code::GET, 0x7d34, &[]).path("/temperature");
        let mut want = vec![0x40, 0x01, 0x7d, 0x34, 0xbb];
        want.extend_from_slice(b"temperature");
        assert_eq!(m.encode(), want);
    }

    #[test]
    fn option_65000_two_byte_extended() {
        // PROTOCOLS.md §1.2 worked example: option 65000 first, empty: e0 fc db.
        let m = CoapMsg::new(MsgType::Con, code::GET, 1, &[]).opt(65000, Vec::new());
        assert_eq!(m.encode(), [0x40, 0x01, 0x00, 0x01, 0xe0, 0xfc, 0xdb]);
    }

    #[test]
    fn repeated_and_sorted_options() {
        let m = CoapMsg::new(MsgType::Non, code::GET, 2, &[0xaa])
            .opt(opt::URI_QUERY, b"b=2".to_vec())
            .path("/x/y")
            .opt(opt::URI_QUERY, b"a=1".to_vec());
        let b = m.encode();
        // 51 01 0002 aa | b1 'x' | 01 'y' | 43 'b=2' | 03 'a=1'
        assert_eq!(
            b,
            [0x51, 0x01, 0, 2, 0xaa, 0xb1, b'x', 0x01, b'y', 0x43, b'b', b'=', b'2', 0x03, b'a', b'=', b'1']
        );
    }

    #[test]
    fn empty_and_uint() {
        assert_eq!(CoapMsg::empty(MsgType::Rst, 0xbeef).encode(), [0x70, 0x00, 0xbe, 0xef]);
        assert_eq!(uint(0), Vec::<u8>::new());
        assert_eq!(uint(300), [1, 44]);
        assert_eq!(block(2, false, 6), [0x26]);
        assert_eq!(block(1, true, 6), [0x1e]);
        assert_eq!(block(16, true, 4), [0x01, 0x0c]);
    }

    #[test]
    fn continue_code_and_payload_marker() {
        let m = CoapMsg::new(MsgType::Ack, code::CONTINUE, 9, &[1]).payload(b"x".to_vec());
        assert_eq!(m.encode(), [0x61, 0x5f, 0, 9, 1, 0xff, b'x']);
    }
}
