//! IEEE 802.15.4 MAC frames (2003/2006/2015, frame versions 0-2): frame control, sequence
//! number (suppressible in 2015), addressing with PAN ID compression (2006 rules for versions
//! 0/1, IEEE 802.15.4-2015 Table 7-2 for version 2), auxiliary security header, 2015 header and
//! payload Information Elements, and the FCS (CRC-16/KERMIT, the ITU-T CRC of §7.2.10).
//!
//! Data frames without security go on to 6LoWPAN; beacons, acks and commands are layers only.

use super::sixlowpan::{self, LinkAddrs};
use super::{Bound, Cx, LayerInfo, MacAddr, WPAN, arr};
use crate::finding::{FindingKind, Severity};

/// CRC-16/KERMIT table (poly 0x1021 reflected = 0x8408, init 0, no final xor). Built at compile
/// time: an out-of-range index here would be a compile error, not a runtime panic.
#[allow(clippy::indexing_slicing)]
const CRC_TABLE: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u16;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ 0x8408 } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// The 802.15.4 FCS of `data` (IEEE 802.15.4-2015 §7.2.10: ITU-T CRC-16, LSB first; this is
/// CRC-16/KERMIT). It is sent little-endian after the MAC payload.
pub fn fcs16(data: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &b in data {
        let idx = usize::from((crc ^ u16::from(b)) as u8);
        crc = (crc >> 8) ^ CRC_TABLE.get(idx).copied().unwrap_or(0);
    }
    crc
}

/// Frame types 0 beacon, 1 data, 2 ack, 3 MAC command; 4 reserved; 5-7 (2015) multipurpose,
/// fragment, extended.
pub(crate) const FRAME_DATA: u8 = 1;

const ADDR_NONE: u8 = 0;
const ADDR_SHORT: u8 = 2;
const ADDR_EXT: u8 = 3;

fn addr_len(mode: u8) -> usize {
    match mode {
        ADDR_SHORT => 2,
        ADDR_EXT => 8,
        _ => 0,
    }
}

/// Which PAN IDs are present: (destination, source).
///
/// Frame versions 0/1 (IEEE 802.15.4-2006 §7.2.1.1.5): the destination PAN ID is present with
/// a destination address; the source PAN ID with a source address unless PAN ID compression
/// is set and both addresses are present.
///
/// Frame version 2 (IEEE 802.15.4-2015 Table 7-2):
/// | dst addr | src addr | dst PAN | src PAN | PAN ID compression |
/// |----------|----------|---------|---------|----|
/// | none     | none     | -       | -       | 0 |
/// | none     | none     | present | -       | 1 |
/// | any      | none     | present | -       | 0 |
/// | any      | none     | -       | -       | 1 |
/// | none     | any      | -       | present | 0 |
/// | none     | any      | -       | -       | 1 |
/// | ext      | ext      | present | -       | 0 |
/// | ext      | ext      | -       | -       | 1 |
/// | short    | short/ext| present | present | 0 |
/// | ext      | short    | present | present | 0 |
/// | short    | short/ext| present | -       | 1 |
/// | ext      | short    | present | -       | 1 |
pub(crate) fn pan_ids_present(version: u8, dam: u8, sam: u8, panc: bool) -> (bool, bool) {
    let (d, s) = (dam != ADDR_NONE, sam != ADDR_NONE);
    if version < 2 {
        return (d, s && !(panc && d));
    }
    match (d, s) {
        (false, false) => (panc, false),
        (true, false) => (!panc, false),
        (false, true) => (false, !panc),
        (true, true) => {
            if dam == ADDR_EXT && sam == ADDR_EXT {
                (!panc, false)
            } else {
                (true, !panc)
            }
        }
    }
}

fn frame_type_name(t: u8) -> &'static str {
    match t {
        0 => "beacon",
        1 => "data",
        2 => "acknowledgment",
        3 => "MAC command",
        4 => "reserved (4)",
        5 => "multipurpose",
        6 => "fragment / Frak",
        _ => "extended",
    }
}

/// Decodes the 802.15.4 frame starting at `off` (the frame's end is `bound`; with `fcs`, the
/// last two bytes are the FCS).
pub(crate) fn decode(cx: &mut Cx<'_, '_>, off: usize, bound: Bound, with_fcs: bool) {
    let data = cx.data;
    let mut e = cx.emit();
    let len = bound.end;

    // FCS
    let (mut fb, fcs) = if with_fcs {
        match bound.limit {
            Some(wire) if wire > len => {
                let end = len.min(wire.saturating_sub(2)).max(off);
                e.finding(
                    FindingKind::LinkTruncated,
                    Severity::Low,
                    WPAN.layer,
                    end..len,
                    format!("802.15.4 FCS: expected in the last 2 of {wire} bytes, the capture kept only {len}; not verified"),
                );
                (Bound { end, limit: Some(wire.saturating_sub(2)) }, None)
            }
            _ => {
                if len < off + 2 {
                    e.short(
                        super::Short::Truncated,
                        WPAN,
                        "802.15.4 frame with FCS",
                        off,
                        off + 5,
                        Bound { end: len, limit: None },
                    );
                    return;
                }
                let end = len - 2;
                let rx = arr::<2>(data, end).map_or(0, |b| u16::from_le_bytes(*b));
                let calc = fcs16(data.get(off..end).unwrap_or(&[]));
                let ok = rx == calc;
                if !ok {
                    e.finding(
                        FindingKind::LinkChecksum,
                        Severity::Medium,
                        WPAN.layer,
                        end..len,
                        format!("802.15.4 FCS 0x{rx:04x} does not match the frame's CRC-16 0x{calc:04x}"),
                    );
                }
                // A good FCS proves the frame is whole; a bad one may mean a cut capture.
                let limit = if ok || bound.limit.is_some() { Some(end) } else { None };
                (Bound { end, limit }, Some(ok))
            }
        }
    } else {
        (bound, None)
    };

    // Frame control (little-endian).
    if e.check(WPAN, "802.15.4 frame control", off, off + 2, fb) {
        return;
    }
    let Some(fcf) = arr::<2>(data, off).map(|b| u16::from_le_bytes(*b)) else { return };
    let frame_type = (fcf & 7) as u8;
    let security = fcf & 0x0008 != 0;
    let panc = fcf & 0x0040 != 0;
    let seq_suppressed = fcf & 0x0100 != 0;
    let ie_present = fcf & 0x0200 != 0;
    let dam = ((fcf >> 10) & 3) as u8;
    let frame_version = ((fcf >> 12) & 3) as u8;
    let sam = ((fcf >> 14) & 3) as u8;

    let mut pos = off + 2;
    let bare = |seq| LayerInfo::Ieee802154 {
        frame_type,
        frame_version,
        seq,
        dst_pan: None,
        dst: None,
        src_pan: None,
        src: None,
        security,
        fcs,
    };
    if frame_version == 3 || frame_type == 4 {
        e.layer(off..pos, bare(None));
        let what = if frame_version == 3 { "frame version 3" } else { "frame type 4" };
        e.malformed(WPAN, off..off + 2, format!("802.15.4 frame control: {what} is reserved"));
        return;
    }
    if frame_type >= 5 {
        e.layer(off..pos, bare(None));
        e.finding(
            FindingKind::NetUnsupported,
            Severity::Info,
            WPAN.layer,
            off..off + 2,
            format!("802.15.4 {} frame (type {frame_type}) not decoded", frame_type_name(frame_type)),
        );
        return;
    }
    if dam == 1 || sam == 1 {
        e.layer(off..pos, bare(None));
        e.malformed(
            WPAN,
            off..off + 2,
            format!(
                "802.15.4 addressing mode 1 is reserved (destination mode {dam}, source mode {sam}); \
                 expected 0 (none), 2 (short) or 3 (extended)"
            ),
        );
        return;
    }

    let seq = if frame_version == 2 && seq_suppressed {
        None
    } else {
        if e.check(WPAN, "802.15.4 sequence number", off, pos + 1, fb) {
            e.layer(off..pos.min(fb.end), bare(None));
            return;
        }
        let s = data.get(pos).copied();
        pos += 1;
        s
    };

    let (dpan, span) = pan_ids_present(frame_version, dam, sam, panc);
    if frame_version < 2 && panc && (dam == ADDR_NONE || sam == ADDR_NONE) && (dam != sam) {
        e.finding(
            FindingKind::LinkMalformed,
            Severity::Low,
            WPAN.layer,
            off..off + 2,
            "802.15.4-2006: PAN ID compression set with only one address present (expected 0)".to_string(),
        );
    }
    let addr_end = pos + usize::from(dpan) * 2 + addr_len(dam) + usize::from(span) * 2 + addr_len(sam);
    if e.check(WPAN, "802.15.4 addressing fields", off, addr_end, fb) {
        e.layer(off..pos, bare(seq));
        return;
    }
    let rd16 = |p: &mut usize| {
        let v = arr::<2>(data, *p).map(|b| u16::from_le_bytes(*b));
        *p += 2;
        v
    };
    let dst_pan = if dpan { rd16(&mut pos) } else { None };
    let dst = (dam != ADDR_NONE).then(|| {
        let a = MacAddr::reversed(data.get(pos..pos + addr_len(dam)).unwrap_or(&[]));
        pos += addr_len(dam);
        a
    });
    let src_pan = if span { rd16(&mut pos) } else { None };
    let src = (sam != ADDR_NONE).then(|| {
        let a = MacAddr::reversed(data.get(pos..pos + addr_len(sam)).unwrap_or(&[]));
        pos += addr_len(sam);
        a
    });
    let info = |seq| LayerInfo::Ieee802154 {
        frame_type,
        frame_version,
        seq,
        dst_pan,
        dst,
        src_pan,
        src,
        security,
        fcs,
    };

    // Auxiliary security header (2006 §7.6.2; 2015 §9.4). The 2003 format has none in the header.
    if security {
        if frame_version >= 1
            && let Some(&sc) = data.get(pos).filter(|_| pos < fb.end)
        {
            let level = sc & 7;
            let key_id_mode = (sc >> 3) & 3;
            let fc_suppressed = frame_version == 2 && sc & 0x20 != 0;
            let aux = 1
                + if fc_suppressed { 0 } else { 4 }
                + match key_id_mode {
                    0 => 0,
                    1 => 1,
                    2 => 5,
                    _ => 9,
                };
            if !e.check(WPAN, "802.15.4 auxiliary security header", pos, pos + aux, fb) {
                pos += aux;
            }
            e.layer(off..pos, info(seq));
            e.finding(
                    FindingKind::EncryptedPayload,
                    Severity::Info,
                    WPAN.layer,
                    pos.min(fb.end)..fb.end,
                    format!(
                        "encrypted 802.15.4 payload not decoded (security level {level}, key identifier mode {key_id_mode})"
                    ),
                );
            return;
        }
        e.layer(off..pos, info(seq));
        e.finding(
            FindingKind::EncryptedPayload,
            Severity::Info,
            WPAN.layer,
            pos.min(fb.end)..fb.end,
            "encrypted 802.15.4 payload not decoded".to_string(),
        );
        return;
    }

    // Information Elements (2015 §7.4): header IEs up to HT1 (payload IEs follow) or HT2
    // (payload follows); payload IEs up to the payload termination IE (group 0xf).
    if frame_version == 2 && ie_present {
        let mut payload_ies = false;
        loop {
            if pos + 2 > fb.end {
                break; // header IE list may run to the end of the frame
            }
            let Some(d) = arr::<2>(data, pos).map(|b| u16::from_le_bytes(*b)) else { break };
            let ie_len = usize::from(d & 0x7f);
            let id = (d >> 7) & 0xff;
            if d & 0x8000 != 0 {
                e.layer(off..pos, info(seq));
                e.malformed(
                    WPAN,
                    pos..pos + 2,
                    "802.15.4 header IE: expected type 0 (header IE), saw 1".to_string(),
                );
                return;
            }
            if e.check(WPAN, "802.15.4 header IE", pos, pos + 2 + ie_len, fb) {
                e.layer(off..pos, info(seq));
                return;
            }
            pos += 2 + ie_len;
            if id == 0x7e {
                payload_ies = true;
                break;
            }
            if id == 0x7f {
                break;
            }
        }
        if payload_ies {
            loop {
                if pos + 2 > fb.end {
                    break;
                }
                let Some(d) = arr::<2>(data, pos).map(|b| u16::from_le_bytes(*b)) else { break };
                let ie_len = usize::from(d & 0x7ff);
                let group = (d >> 11) & 0xf;
                if e.check(WPAN, "802.15.4 payload IE", pos, pos + 2 + ie_len, fb) {
                    e.layer(off..pos, info(seq));
                    return;
                }
                pos += 2 + ie_len;
                if group == 0xf {
                    break;
                }
            }
        }
    }

    e.layer(off..pos, info(seq));
    if frame_type != FRAME_DATA || pos >= fb.end {
        return;
    }
    // The MAC payload of a data frame: 6LoWPAN.
    fb.end = fb.end.max(pos);
    sixlowpan::decode(cx, pos, fb, LinkAddrs { src, dst });
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::*;
    use crate::capture::LinkType;

    /// CRC-16/KERMIT check value: CRC of "123456789" is 0x2189.
    #[test]
    fn kermit_check_value() {
        assert_eq!(fcs16(b"123456789"), 0x2189);
    }

    /// A 2006 acknowledgment frame for sequence 0x56 (frame control 0x0002) with its FCS.
    #[test]
    fn ack_with_fcs_good_and_bad() {
        let mut f = vec![0x02, 0x00, 0x56];
        let fcs = fcs16(&f);
        f.extend_from_slice(&fcs.to_le_bytes());
        let r = NetDecoder::default().decode(LinkType::IEEE802_15_4_WITHFCS, &f, 1, Timestamp::ZERO);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert_eq!(
            r.layers[0],
            Layer {
                range: 0..3,
                info: LayerInfo::Ieee802154 {
                    frame_type: 2,
                    frame_version: 0,
                    seq: Some(0x56),
                    dst_pan: None,
                    dst: None,
                    src_pan: None,
                    src: None,
                    security: false,
                    fcs: Some(true)
                }
            }
        );
        f[2] ^= 1;
        let r = NetDecoder::default().decode(LinkType::IEEE802_15_4_WITHFCS, &f, 1, Timestamp::ZERO);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].kind, FindingKind::LinkChecksum);
        assert_eq!(r.findings[0].span, Some(Span::Frame { start: 3, end: 5 }));
        assert!(matches!(r.layers[0].info, LayerInfo::Ieee802154 { fcs: Some(false), seq: Some(0x57), .. }));
    }

    #[test]
    fn pan_id_compression_tables() {
        // 2006: both addresses + compression -> only the destination PAN
        assert_eq!(pan_ids_present(1, 2, 2, true), (true, false));
        assert_eq!(pan_ids_present(1, 2, 3, false), (true, true));
        assert_eq!(pan_ids_present(0, 0, 3, false), (false, true));
        assert_eq!(pan_ids_present(1, 2, 0, false), (true, false));
        // 2015 Table 7-2, row by row
        assert_eq!(pan_ids_present(2, 0, 0, false), (false, false));
        assert_eq!(pan_ids_present(2, 0, 0, true), (true, false));
        assert_eq!(pan_ids_present(2, 2, 0, false), (true, false));
        assert_eq!(pan_ids_present(2, 3, 0, true), (false, false));
        assert_eq!(pan_ids_present(2, 0, 2, false), (false, true));
        assert_eq!(pan_ids_present(2, 0, 3, true), (false, false));
        assert_eq!(pan_ids_present(2, 3, 3, false), (true, false));
        assert_eq!(pan_ids_present(2, 3, 3, true), (false, false));
        assert_eq!(pan_ids_present(2, 2, 2, false), (true, true));
        assert_eq!(pan_ids_present(2, 2, 3, false), (true, true));
        assert_eq!(pan_ids_present(2, 3, 2, false), (true, true));
        assert_eq!(pan_ids_present(2, 2, 3, true), (true, false));
        assert_eq!(pan_ids_present(2, 3, 2, true), (true, false));
        assert_eq!(pan_ids_present(2, 2, 2, true), (true, false));
    }

    #[test]
    fn data_frame_2006_addresses_in_canonical_order() {
        // FCF 0xdc41: data, PAN ID compression, dst extended, version 1, src extended.
        let f = [
            0x41, 0xdc, 0x07, 0xcd, 0xab, // seq 7, dst PAN 0xabcd
            0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // dst 01:02:..:08
            0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11, // src 11:12:..:18
        ];
        let r = NetDecoder::default().decode(LinkType::IEEE802_15_4_NOFCS, &f, 1, Timestamp::ZERO);
        match &r.layers[0].info {
            LayerInfo::Ieee802154 { dst_pan, src_pan, dst, src, frame_version, fcs, .. } => {
                assert_eq!(*dst_pan, Some(0xabcd));
                assert_eq!(*src_pan, None, "compressed: elided (the same as the destination PAN)");
                assert_eq!(dst.unwrap().to_string(), "01:02:03:04:05:06:07:08");
                assert_eq!(src.unwrap().to_string(), "11:12:13:14:15:16:17:18");
                assert_eq!(*frame_version, 1);
                assert_eq!(*fcs, None);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(r.layers[0].range, 0..21);
    }

    #[test]
    fn version_2015_seq_suppression_ies_and_security() {
        // FCF: data (1), PAN ID compression, seq suppressed (0x100), IE present (0x200),
        // dst short (0x0800), version 2 (0x2000), src short (0x8000) = 0xab41.
        // Short/short + compression -> dst PAN only (Table 7-2).
        let mut f = vec![0x41, 0xab, 0x34, 0x12, 0x01, 0x00, 0x02, 0x00];
        // header IE: id 0x1a, len 1 (descriptor = len | id << 7), then HT2 (id 0x7f, len 0)
        let d1: u16 = 1 | (0x1a << 7);
        f.extend_from_slice(&d1.to_le_bytes());
        f.push(0xee);
        let ht2: u16 = 0x7f << 7;
        f.extend_from_slice(&ht2.to_le_bytes());
        f.push(0x00); // payload: a NALP dispatch (not 6LoWPAN)
        let r = NetDecoder::default().decode(LinkType::IEEE802_15_4_NOFCS, &f, 1, Timestamp::ZERO);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert_eq!(r.layers.len(), 1);
        assert_eq!(r.layers[0].range, 0..13, "header IEs belong to the MAC header");
        match &r.layers[0].info {
            LayerInfo::Ieee802154 { seq, dst_pan, src_pan, dst, src, .. } => {
                assert_eq!(*seq, None);
                assert_eq!(*dst_pan, Some(0x1234));
                assert_eq!(*src_pan, None);
                assert_eq!(dst.unwrap().as_bytes(), &[0x00, 0x01]);
                assert_eq!(src.unwrap().as_bytes(), &[0x00, 0x02]);
            }
            other => panic!("{other:?}"),
        }

        // Security enabled (2006): level 5, key id mode 1 -> 1 + 4 + 1 = 6 bytes of aux header.
        let f = [0x49, 0x98, 0x01, 0x34, 0x12, 0x01, 0x00, 0x02, 0x00, 0x0d, 1, 0, 0, 0, 7, 0xaa, 0xbb];
        let r = NetDecoder::default().decode(LinkType::IEEE802_15_4_NOFCS, &f, 1, Timestamp::ZERO);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].kind, FindingKind::EncryptedPayload);
        assert!(r.findings[0].message.starts_with("encrypted 802.15.4 payload not decoded"));
        assert_eq!(r.findings[0].span, Some(Span::Frame { start: 15, end: 17 }));
        assert_eq!(r.layers[0].range, 0..15);
        assert!(matches!(r.layers[0].info, LayerInfo::Ieee802154 { security: true, .. }));
    }

    #[test]
    fn beacon_command_are_layers_only_and_reserved_modes_are_malformed() {
        // beacon, src short, 2006
        let f = [0x00, 0x90, 0x01, 0x34, 0x12, 0x01, 0x00, 0xff, 0xcf, 0x00, 0x00];
        let r = NetDecoder::default().decode(LinkType::IEEE802_15_4_NOFCS, &f, 1, Timestamp::ZERO);
        assert_eq!(r.layers.len(), 1);
        assert!(r.findings.is_empty());
        assert!(matches!(
            r.layers[0].info,
            LayerInfo::Ieee802154 { frame_type: 0, src_pan: Some(0x1234), .. }
        ));
        // dst addressing mode 1 (reserved)
        let r = NetDecoder::default().decode(
            LinkType::IEEE802_15_4_NOFCS,
            &[0x41, 0x04, 0x01],
            1,
            Timestamp::ZERO,
        );
        assert_eq!(r.findings[0].kind, FindingKind::LinkMalformed);
        // cut inside the addresses
        let r = NetDecoder::default().decode(
            LinkType::IEEE802_15_4_NOFCS,
            &[0x41, 0xcc, 0x01, 0x34],
            1,
            Timestamp::ZERO,
        );
        assert_eq!(r.findings[0].kind, FindingKind::LinkTruncated);
        assert_eq!(r.layers.len(), 1);
    }
}
