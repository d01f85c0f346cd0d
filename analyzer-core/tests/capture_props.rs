//! Property tests of the capture reader: arbitrary and mutated bytes never panic and keep the
//! reader's promises; generated pcap and pcapng files (written by the test-only writer in
//! `capture_writer/`) read back exactly, and every truncation of them yields a prefix of the
//! frames followed by a clean end (at a record boundary) or exactly one located `Truncated`.

// Test code throughout: lets clippy apply its in-test allowances (unwrap, indexing) here.
#![cfg(test)]

mod capture_writer;

use analyzer_core::capture::{CaptureError, CaptureReader, LinkType, MAX_RECORD_LEN, RawFrame};
use analyzer_core::time::Timestamp;
use capture_writer::{Iface, NgBlock, PcapFile, Rec, Section, Span, pcap, pcapng, units_to_time};
use proptest::prelude::*;
use proptest::sample::select;

/// Reads everything; checks the reader's promises on the way (numbering, one error at most,
/// `None` after the end or the error).
fn read_checked(bytes: &[u8]) -> Result<(Vec<RawFrame>, Option<CaptureError>), CaptureError> {
    let mut r = CaptureReader::new(bytes)?;
    let mut frames: Vec<RawFrame> = Vec::new();
    let mut err = None;
    while let Some(f) = r.next_frame() {
        match f {
            Ok(f) => {
                assert_eq!(f.number, frames.len() as u64 + 1);
                assert!(f.data.len() <= MAX_RECORD_LEN as usize);
                assert!(f.file_offset < bytes.len() as u64);
                assert!(f.ts.nanos < 1_000_000_000);
                if let Some(p) = frames.last() {
                    assert!(f.file_offset > p.file_offset);
                }
                frames.push(f);
            }
            Err(e) => {
                // One sentence, located.
                let text = e.to_string();
                assert!(!text.is_empty() && !text.contains('\n'));
                err = Some(e);
                break;
            }
        }
    }
    assert!(r.next_frame().is_none());
    assert!(r.next_frame().is_none());
    assert_eq!(r.stats().frames, frames.len() as u64);
    Ok((frames, err))
}

// ---- generated files ----

fn pcap_file() -> impl Strategy<Value = PcapFile> {
    (any::<bool>(), any::<bool>(), select(vec![0u32, 65_535, 48]), any::<u16>()).prop_flat_map(
        |(big_endian, nanos, snaplen, link)| {
            let max_data = if snaplen == 0 { 80 } else { snaplen.min(80) as usize };
            let frac_limit = if nanos { 1_000_000_000u32 } else { 1_000_000 };
            let rec =
                (any::<u32>(), 0..frac_limit, prop::collection::vec(any::<u8>(), 0..=max_data), 0u32..100)
                    .prop_map(|(secs, frac, data, extra)| Rec {
                        secs,
                        frac,
                        orig_len: data.len() as u32 + extra,
                        data,
                    });
            prop::collection::vec(rec, 0..6).prop_map(move |records| PcapFile {
                big_endian,
                nanos,
                snaplen,
                link: u32::from(link),
                records,
            })
        },
    )
}

fn pcap_expected(f: &PcapFile, spans: &[Span]) -> Vec<RawFrame> {
    let frame_spans = spans.iter().filter(|s| s.frame);
    f.records
        .iter()
        .zip(frame_spans)
        .enumerate()
        .map(|(i, (r, s))| {
            let nanos = if f.nanos { r.frac } else { r.frac * 1000 };
            RawFrame {
                number: i as u64 + 1,
                ts: Timestamp { secs: i64::from(r.secs), nanos },
                link_type: LinkType(f.link & 0xffff),
                interface: 0,
                orig_len: r.orig_len,
                data: r.data.clone(),
                file_offset: s.start as u64,
            }
        })
        .collect()
}

fn iface() -> impl Strategy<Value = Iface> {
    (
        any::<u16>(),
        select(vec![0u32, 16, 65_535]),
        select(vec![None, Some(3u8), Some(6), Some(9), Some(12), Some(0x8a), Some(0x80 | 20), Some(19)]),
        prop::option::of(-2_000_000_000i64..2_000_000_000),
    )
        .prop_map(|(link, snaplen, tsresol, tsoffset)| Iface { link, snaplen, tsresol, tsoffset })
}

fn section() -> impl Strategy<Value = Section> {
    (any::<bool>(), prop::collection::vec(iface(), 1..3)).prop_flat_map(|(big_endian, ifaces)| {
        let n = ifaces.len() as u32;
        let snap0 = ifaces[0].snaplen;
        let data = || prop::collection::vec(any::<u8>(), 0..40);
        let block = prop_oneof![
            4 => (0..n, any::<u64>(), data(), 0u32..50).prop_map(|(iface, units, data, extra)| NgBlock::Epb {
                iface,
                units,
                orig_len: data.len() as u32 + extra,
                data
            }),
            1 => (0u32..60, any::<u8>()).prop_map(move |(orig_len, fill)| {
                let caplen = if snap0 == 0 { orig_len } else { orig_len.min(snap0) };
                NgBlock::Spb { orig_len, data: vec![fill; caplen as usize] }
            }),
            1 => (0..n as u16, any::<u64>(), data()).prop_map(|(iface, units, data)| NgBlock::Opb {
                iface,
                units,
                orig_len: data.len() as u32,
                data
            }),
            1 => (select(vec![4u32, 5, 9, 10, 0xbad, 0x4000_0bad, 0x1234_5678]), prop::collection::vec(any::<u8>(), 0..20))
                .prop_map(|(btype, body)| NgBlock::Other { btype, body }),
        ];
        prop::collection::vec(block, 0..6).prop_map(move |blocks| Section {
            big_endian,
            blocks: ifaces.iter().cloned().map(NgBlock::Idb).chain(blocks).collect(),
        })
    })
}

fn pcapng_expected(sections: &[Section], spans: &[Span]) -> Vec<RawFrame> {
    let mut frame_spans = spans.iter().filter(|s| s.frame);
    let mut out = Vec::new();
    for s in sections {
        let ifaces: Vec<&Iface> =
            s.blocks.iter().filter_map(|b| if let NgBlock::Idb(i) = b { Some(i) } else { None }).collect();
        let time = |i: usize, units: u64| {
            let f = ifaces[i];
            let (secs, nanos) = units_to_time(f.tsresol.unwrap_or(6), units, f.tsoffset.unwrap_or(0));
            Timestamp { secs, nanos }
        };
        for b in &s.blocks {
            let (iface, ts, orig_len, data) = match b {
                NgBlock::Epb { iface, units, orig_len, data } => {
                    (*iface, time(*iface as usize, *units), *orig_len, data)
                }
                NgBlock::Opb { iface, units, orig_len, data } => {
                    (u32::from(*iface), time(usize::from(*iface), *units), *orig_len, data)
                }
                NgBlock::Spb { orig_len, data } => (0, Timestamp::ZERO, *orig_len, data),
                _ => continue,
            };
            out.push(RawFrame {
                number: out.len() as u64 + 1,
                ts,
                link_type: LinkType(u32::from(ifaces[iface as usize].link)),
                interface: iface,
                orig_len,
                data: data.clone(),
                file_offset: frame_spans.next().unwrap().start as u64,
            });
        }
    }
    out
}

/// Every cut of `bytes`: a prefix of `all`, then a clean end exactly at record boundaries,
/// else one `Truncated` located at the record that was cut.
fn check_every_cut(bytes: &[u8], spans: &[Span], all: &[RawFrame]) {
    for cut in 0..=bytes.len() {
        let result = read_checked(&bytes[..cut]);
        let expected: Vec<&RawFrame> = all
            .iter()
            .filter(|f| {
                let s = spans.iter().find(|s| s.start as u64 == f.file_offset).unwrap();
                s.end <= cut
            })
            .collect();
        let boundary = spans.iter().any(|s| s.end == cut);
        let cut_span = spans.iter().find(|s| s.start < cut && cut < s.end);
        match result {
            Err(CaptureError::Empty) => assert_eq!(cut, 0),
            Err(CaptureError::Truncated { offset: 0, frame: None, .. }) => {
                assert!(cut > 0 && cut < spans[0].end, "cut {cut}")
            }
            Err(e) => panic!("cut {cut}: {e:?}"),
            Ok((frames, err)) => {
                assert!(cut >= spans[0].end, "cut {cut} opened");
                assert_eq!(frames.iter().collect::<Vec<_>>(), expected, "cut {cut}");
                match err {
                    None => assert!(boundary, "cut {cut} inside a record ended cleanly"),
                    Some(CaptureError::Truncated { offset, frame, needed, available, .. }) => {
                        let s = cut_span.unwrap_or_else(|| panic!("cut {cut} at a boundary gave an error"));
                        assert_eq!(offset, s.start as u64, "cut {cut}");
                        assert_eq!(offset + available, cut as u64, "cut {cut}");
                        assert!(needed > available);
                        if let Some(n) = frame {
                            assert!(s.frame);
                            assert_eq!(n, expected.len() as u64 + 1);
                        }
                    }
                    Some(e) => panic!("cut {cut}: {e:?}"),
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = read_checked(&bytes);
    }

    /// Random bytes after a valid file header or section header go deeper than random files.
    #[test]
    fn arbitrary_records_after_a_valid_header_never_panic(
        ng in any::<bool>(),
        big_endian in any::<bool>(),
        tail in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        let head = if ng {
            pcapng(&[Section { big_endian, blocks: vec![] }]).0
        } else {
            pcap(&PcapFile { big_endian, nanos: false, snaplen: 0, link: 1, records: vec![] }).0
        };
        let _ = read_checked(&[head, tail].concat());
    }

    #[test]
    fn mutated_files_never_panic(
        sections in prop::collection::vec(section(), 1..3),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let (mut bytes, _) = pcapng(&sections);
        for (i, b) in edits {
            let at = i.index(bytes.len());
            bytes[at] = b;
        }
        let _ = read_checked(&bytes);
    }

    #[test]
    fn pcap_round_trip(f in pcap_file()) {
        let (bytes, spans) = pcap(&f);
        let (frames, err) = read_checked(&bytes).unwrap();
        prop_assert!(err.is_none(), "{:?}", err);
        prop_assert_eq!(frames, pcap_expected(&f, &spans));
    }

    #[test]
    fn pcapng_round_trip(sections in prop::collection::vec(section(), 1..4)) {
        let (bytes, spans) = pcapng(&sections);
        let (frames, err) = read_checked(&bytes).unwrap();
        prop_assert!(err.is_none(), "{:?}", err);
        prop_assert_eq!(frames, pcapng_expected(&sections, &spans));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn pcap_every_truncation(f in pcap_file()) {
        let (bytes, spans) = pcap(&f);
        check_every_cut(&bytes, &spans, &pcap_expected(&f, &spans));
    }

    #[test]
    fn pcapng_every_truncation(sections in prop::collection::vec(section(), 1..3)) {
        let (bytes, spans) = pcapng(&sections);
        check_every_cut(&bytes, &spans, &pcapng_expected(&sections, &spans));
    }
}
