//! View-model tests without a window, over the real libcoap capture
//! (samples/real/d02_libcoap_libcoap: its README lists every frame).

use analyzer_core::dissect::FieldValue;
use analyzer_core::finding::SpanSource;
use analyzer_core::oscore::engine::Status;
use kudoscope_gui::app::{App, Command, View};
use kudoscope_gui::loader::{self, Job, LoadSpec, Msg};
use kudoscope_gui::model::{CaptureModel, Column, MsgRole, RowKind, find_field, highlight, node_at};
use kudoscope_gui::settings::Settings;
use kudoscope_gui::timeline::Timeline;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

fn d02() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../samples/real/d02_libcoap_libcoap/d02_libcoap_libcoap.pcapng")
}

fn loaded() -> App {
    let mut app = App::new_inline(Settings::default());
    app.apply(Command::Open(d02()), None);
    app
}

fn model(app: &App) -> &CaptureModel {
    app.rt.capture.as_ref().expect("capture loaded")
}

#[test]
fn load_builds_one_row_per_frame_with_status_colours() {
    let app = loaded();
    let c = model(&app);
    assert!(c.complete);
    assert_eq!(c.error, None);
    assert_eq!(c.rows.len(), 66);
    // README: 16 OSCORE requests + 20 responses, all decrypted by an independent decoder; 30 empty ACKs.
    let opened = c.rows.iter().filter(|r| r.oscore == Some(Status::Decrypted)).count();
    assert_eq!(opened, 36);
    assert_eq!(c.rows.iter().filter(|r| r.role == MsgRole::EmptyAck).count(), 30);
    assert_eq!(c.rows.iter().filter(|r| r.role == MsgRole::Request).count(), 16);
    assert_eq!(c.rows.iter().filter(|r| r.kind == RowKind::Failed).count(), 0);
    let r1 = c.row(1).unwrap();
    assert_eq!(r1.kind, RowKind::Decrypted);
    assert_eq!(c.protocol(r1), "OSCORE");
    assert_eq!(c.endpoint(r1.src), "127.0.0.1:59107");
    assert_eq!(c.endpoint(r1.dst), "127.0.0.1:5683");
    assert!(c.info_of(r1).starts_with("CON POST MID=39807"), "{}", c.info_of(r1));
    assert!(c.info_of(r1).contains("=> GET /async?1"), "{}", c.info_of(r1));
    assert!(c.info_of(c.row(4).unwrap()).starts_with("ACK 0.00 Empty MID=39809"));
    assert_eq!(c.row(4).unwrap().kind, RowKind::Plain);
    // Every frame of the first 5,000 is cached: the detail needs no re-analysis.
    assert_eq!(c.cache.len(), 66);
}

#[test]
fn keys_and_contexts_come_from_the_default_keys_file() {
    let app = loaded();
    let c = model(&app);
    assert_eq!(app.rt.keys.as_ref().map(|k| k.len()), Some(1));
    assert_eq!(c.contexts.len(), 1);
    let ctx = &c.contexts[0];
    assert_eq!((ctx.name.as_str(), ctx.label.as_str(), ctx.derived), ("d02", "g0", false));
    assert_eq!(ctx.opened, 36);
    assert_eq!(ctx.id_context.as_deref(), Some("d93c4302b4ff"));
    assert_eq!(ctx.peers[0].sender_id, "b74f");
    assert_eq!(ctx.peers[1].sender_id, "2c");
    // The usage chart's q (from the rows) agrees with the engine's counters, per key.
    for (slot, peer) in ctx.peers.iter().enumerate() {
        assert_eq!(c.q_from_rows(ctx.id, slot == 1), peer.q, "{}", peer.role);
        let series = c.usage.iter().find(|s| s.ctx == ctx.id && s.sender_b == (slot == 1)).unwrap();
        assert_eq!(series.q, peer.q);
        assert_eq!(series.points.last().unwrap()[1], peer.q as f64);
    }
    assert_eq!(ctx.peers[0].q + ctx.peers[1].q, 36);
}

#[test]
fn filter_narrows_the_rows_and_reports_errors_with_the_column() {
    let mut app = loaded();
    app.apply(Command::ApplyFilter("oscore.kid == b7:4f".into()), None);
    let c = model(&app);
    assert_eq!(c.visible.len(), 16, "requests carry the client's kid");
    assert!(c.visible.iter().all(|i| c.rows[*i as usize].role == MsgRole::Request));
    app.apply(Command::ApplyFilter("!oscore".into()), None);
    assert_eq!(model(&app).visible.len(), 30);
    app.apply(Command::ApplyFilter("oscore.inner.code == 2.05 && udp.srcport == 5683".into()), None);
    let frames: Vec<u64> = model(&app).visible.iter().map(|i| model(&app).rows[*i as usize].number).collect();
    assert!(frames.contains(&5) && frames.contains(&29), "{frames:?}");
    assert!(!frames.contains(&1));
    app.apply(Command::ApplyFilter("oscore.kid = 01".into()), None);
    let e = app.rt.filter_error.clone().unwrap();
    assert_eq!(e.column, 12);
    assert_eq!(model(&app).visible.len(), frames.len(), "a bad filter keeps the previous result");
    app.apply(Command::ClearFilter, None);
    assert_eq!(model(&app).visible.len(), 66);
    assert_eq!(app.rt.filter_error, None);
}

#[test]
fn sorting_keeps_the_selection_and_cycles() {
    let mut app = loaded();
    app.apply(Command::Select(5), None);
    app.apply(Command::SortBy(Column::Length), None);
    let c = model(&app);
    let lens: Vec<u32> = c.visible.iter().map(|i| c.rows[*i as usize].orig_len).collect();
    assert!(lens.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(c.selected, Some(5));
    let pos = c.selected_position().unwrap();
    assert_eq!(c.rows[c.visible[pos] as usize].number, 5);
    app.apply(Command::SortBy(Column::Length), None);
    let c = model(&app);
    assert_eq!(c.sort, Some((Column::Length, false)));
    assert_eq!(c.rows[c.visible[0] as usize].orig_len, *lens.last().unwrap());
    app.apply(Command::SortBy(Column::Length), None);
    let c = model(&app);
    assert_eq!(c.sort, None);
    assert_eq!(c.visible, (0..66).collect::<Vec<u32>>());
    // Source sorts by text; ties keep frame order.
    app.apply(Command::SortBy(Column::Source), None);
    let c = model(&app);
    let first = &c.rows[c.visible[0] as usize];
    assert_eq!(c.endpoint(first.src), "127.0.0.1:34390");
    assert_eq!(first.number, 39);
}

#[test]
fn selection_moves_over_visible_rows() {
    let mut app = loaded();
    app.apply(Command::ApplyFilter("oscore.kid == b74f".into()), None);
    let c = app.rt.capture.as_mut().unwrap();
    assert_eq!(c.move_selection(1), Some(1), "nothing selected: first visible row");
    assert_eq!(c.move_selection(1), Some(3));
    assert_eq!(c.move_selection(-5), Some(1), "clamped at the top");
    assert_eq!(c.move_selection(100), Some(62), "last request (DELETE)");
}

#[test]
fn hex_highlights_follow_the_selected_field() {
    let mut app = loaded();
    app.apply(Command::Select(5), None);
    let d = app.rt.detail.as_ref().unwrap();
    assert_eq!(d.frame, 5);
    assert!(d.tree.roots.iter().any(|r| r.label.starts_with("Decrypted OSCORE")));
    // Preselected: the decrypted inner code, highlighted in the plaintext.
    let path = d.node.clone().unwrap();
    let node = node_at(&d.tree, &path).unwrap();
    assert_eq!(node.field.as_deref(), Some("oscore.inner.code"));
    assert_eq!(node.value, Some(FieldValue::Uint(0x45)), "2.05 Content");
    let (src, r) = highlight(node.span.as_ref(), &d.hex).unwrap();
    assert_eq!(src, SpanSource::Decrypted);
    assert_eq!(&d.hex.decrypted.as_ref().unwrap()[r], &[0x45]);

    // Frame 1: the kid is highlighted in the wire bytes.
    app.apply(Command::Select(1), None);
    let d = app.rt.detail.as_ref().unwrap();
    let path = find_field(&d.tree, "oscore.kid").unwrap();
    let node = node_at(&d.tree, &path).unwrap();
    let (src, r) = highlight(node.span.as_ref(), &d.hex).unwrap();
    assert_eq!(src, SpanSource::Frame);
    assert_eq!(&d.hex.frame[r], &[0xb7, 0x4f]);
    let path = find_field(&d.tree, "oscore.kid_context").unwrap();
    let node = node_at(&d.tree, &path).unwrap();
    let (_, r) = highlight(node.span.as_ref(), &d.hex).unwrap();
    assert_eq!(&d.hex.frame[r], &[0xd9, 0x3c, 0x43, 0x02, 0xb4, 0xff]);
    // Nodes without span highlight nothing; spans past the data are clipped.
    assert_eq!(highlight(None, &d.hex), None);
    let far = analyzer_core::finding::Span::Frame { start: 10, end: 100_000 };
    assert_eq!(highlight(Some(&far), &d.hex), Some((SpanSource::Frame, 10..d.hex.frame.len())));
}

#[test]
fn uncached_frames_are_re_analysed_to_the_same_record() {
    // Load keeping no records: selecting a frame runs a Detail job (replay up to the frame).
    let mut spec = LoadSpec::new(d02());
    spec.cache_first = 0;
    let msgs = loader::run_inline(Job::Load(spec.clone()));
    assert!(!msgs.iter().any(|m| matches!(m, Msg::Records(_))));
    let full = loader::run_inline(Job::Load(LoadSpec::new(d02())));
    let cached: Vec<_> = full
        .into_iter()
        .filter_map(|m| if let Msg::Records(r) = m { Some(r) } else { None })
        .flatten()
        .collect();
    let again = loader::run_inline(Job::Detail { spec, frame: 40, window: 10 });
    let recs: Vec<_> = again
        .into_iter()
        .filter_map(|m| if let Msg::Records(r) = m { Some(r) } else { None })
        .flatten()
        .collect();
    assert_eq!(recs.first().map(|r| r.0), Some(35));
    assert_eq!(recs.last().map(|r| r.0), Some(45));
    for (n, r) in &recs {
        let (_, c) = cached.iter().find(|(m, _)| m == n).unwrap();
        assert_eq!(r.record, c.record, "frame {n}");
        assert_eq!(r.data, c.data);
    }

    let mut app = App::new_inline(Settings::default());
    app.apply(Command::Open(d02()), None);
    app.rt.capture.as_mut().unwrap().cache.clear();
    app.apply(Command::Select(40), None);
    assert_eq!(app.rt.detail.as_ref().map(|d| d.frame), Some(40));
    // The app re-analyses a window of DETAIL_WINDOW frames around the selection.
    const { assert!(kudoscope_gui::app::DETAIL_WINDOW >= 132) };
    assert!(model(&app).cache.get(1).is_some() && model(&app).cache.get(66).is_some());
}

#[test]
fn a_cancelled_job_stops_and_says_so() {
    let mut out: Vec<Msg> = Vec::new();
    loader::run(Job::Load(LoadSpec::new(d02())), &AtomicBool::new(true), &mut out);
    assert!(matches!(out.last(), Some(Msg::Failed(e)) if e == "cancelled"));
    assert!(!out.iter().any(|m| matches!(m, Msg::LoadDone(_))));
}

#[test]
fn missing_and_damaged_files_are_reported() {
    let mut app = App::new_inline(Settings::default());
    app.apply(Command::Open(PathBuf::from("/nonexistent/x.pcap")), None);
    assert!(app.rt.status.starts_with("Error: /nonexistent/x.pcap: cannot read"), "{}", app.rt.status);
    // A capture cut in the middle of a record: the frames before are kept.
    let bytes = std::fs::read(d02()).unwrap();
    let cut = std::env::temp_dir().join(format!("kudoscope-gui-cut-{}.pcapng", std::process::id()));
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    app.apply(Command::Open(cut.clone()), None);
    let c = model(&app);
    assert!(c.complete);
    assert!(c.rows.len() >= 20 && c.rows.len() < 66, "{}", c.rows.len());
    assert!(c.error.as_deref().unwrap().contains("file cut short"), "{:?}", c.error);
    std::fs::remove_file(cut).unwrap();
}

#[test]
fn timeline_lanes_per_association_with_generation_bands() {
    let app = loaded();
    let c = model(&app);
    let tl = Timeline::from_model(c);
    // README: nine client processes (one UDP port each) talk to 127.0.0.1:5683, all with d02.
    assert_eq!(tl.lanes.len(), 9);
    for l in &tl.lanes {
        assert_eq!(l.context.as_deref(), Some("d02"));
        assert_eq!(l.phases.len(), 1);
        assert_eq!((l.phases[0].label.as_str(), l.phases[0].context.as_str()), ("g0", "d02"));
        assert_eq!(l.peers[1], "127.0.0.1:5683");
    }
    let first = &tl.lanes[0];
    assert_eq!(first.label, "127.0.0.1:59107 <-> 127.0.0.1:5683 · d02");
    let frames: Vec<u64> = first.messages.iter().map(|m| m.frame).collect();
    assert_eq!(frames, vec![1, 2, 3, 4, 5, 6]);
    let dirs: Vec<bool> = first.messages.iter().map(|m| m.from_a).collect();
    assert_eq!(dirs, vec![true, false, true, false, false, true]);
    // Observer lane: frames 43, 44, 45, 46, 50, 55, 61, 63; its band spans the decrypted ones.
    let obs = tl.lanes.iter().find(|l| l.peers[0] == "127.0.0.1:41602").unwrap();
    assert_eq!(
        obs.messages.iter().map(|m| m.frame).collect::<Vec<_>>(),
        vec![43, 44, 45, 46, 50, 55, 61, 63]
    );
    assert_eq!(obs.phases[0].first_frame, 43);
    assert!(tl.lanes.iter().all(|l| l.markers.is_empty()), "no KUDOS or ID update in d02");
    assert!(tl.end > 2.0 && tl.start == 0.0);
}

#[test]
fn id_update_option_numbers_come_from_the_settings() {
    // Mark Uri-Path (11) as if it were an ID-update option: the rows carrying it change colour.
    let s = Settings { id_update_options: vec![11], ..Settings::default() };
    let mut app = App::new_inline(s);
    app.apply(Command::Open(d02()), None);
    let c = model(&app);
    assert_eq!(c.row(1).unwrap().kind, RowKind::IdUpdate);
    assert_eq!(c.row(5).unwrap().kind, RowKind::Decrypted);
    let tl = Timeline::from_model(c);
    assert!(tl.lanes[0].markers.iter().any(|m| m.frame == 1));
}

#[test]
fn reveal_switches_to_the_packet_list_and_clears_a_hiding_filter() {
    let mut app = loaded();
    app.apply(Command::ApplyFilter("oscore".into()), None);
    app.apply(Command::SetView(View::Audit), None);
    app.apply(Command::Reveal(4), None);
    assert_eq!(app.rt.view, View::Packets);
    assert_eq!(model(&app).selected, Some(4));
    assert_eq!(model(&app).visible.len(), 66);
    assert!(app.rt.scroll_to_selected);
}

#[test]
fn export_wireshark_uat_and_add_context() {
    let mut app = loaded();
    let out = std::env::temp_dir().join(format!("kudoscope-gui-uat-{}", std::process::id()));
    app.apply(Command::ExportUat(out.clone()), None);
    let text = std::fs::read_to_string(&out).unwrap();
    // Wireshark oscore_contexts UAT: sender id, recipient id, secret, salt, id context, alg.
    assert!(
        text.contains(
            "\"b74f\",\"2c\",\"23bdccbf309272385249b1b8ddaf695f\",\"a4a26dcd20c451a9\",\"d93c4302b4ff\""
        ),
        "{text}"
    );
    std::fs::remove_file(out).unwrap();
    // A context typed in the app joins the analysis (a second, unused one here).
    let form = kudoscope_gui::views::ContextForm {
        name: "typed".into(),
        master_secret: "0102030405060708090a0b0c0d0e0f10".into(),
        client_id: "01".into(),
        server_id: "".into(),
        ..Default::default()
    };
    app.apply(Command::AddContext(form.to_toml()), None);
    let c = model(&app);
    assert_eq!(c.contexts.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(), vec!["d02", "typed"]);
    assert_eq!(c.contexts[1].opened, 0);
    app.apply(Command::AddContext("[[context]]\nname = 1".into()), None);
    assert!(app.rt.status.starts_with("Context not added"), "{}", app.rt.status);
}

#[test]
fn selecting_a_frame_makes_its_association_the_current_lane() {
    let mut app = loaded();
    app.apply(Command::Select(44), None);
    let tl = app.rt.timeline.as_ref().unwrap();
    let lane = &tl.lanes[app.rt.timeline_view.lane];
    assert_eq!(lane.peers[0], "127.0.0.1:41602", "frame 44 belongs to the observer (README)");
    app.apply(Command::Select(2), None);
    assert_eq!(app.rt.timeline_view.lane, 0);
}

#[test]
fn a_dropped_file_is_a_capture_or_else_keys() {
    let mut app = App::new_inline(Settings::default());
    app.apply(Command::OpenAny(d02()), None);
    assert_eq!(model(&app).rows.len(), 66);
    // The libcoap oscore_conf of the same capture: imported, then the capture is re-analysed.
    let conf = d02().with_file_name("keys").join("libcoap-client.conf");
    app.apply(Command::OpenAny(conf.clone()), None);
    assert!(app.rt.spec.as_ref().unwrap().keys.contains(&conf));
    let c = model(&app);
    assert!(c.complete);
    assert_eq!(c.contexts.len(), 2, "{:?}", c.contexts.iter().map(|x| &x.name).collect::<Vec<_>>());
    assert_eq!(c.contexts.iter().map(|x| x.opened).sum::<u64>(), 36, "each message opened once");
    assert_eq!(c.rows.iter().filter(|r| r.kind == RowKind::Failed).count(), 0);
    // Not a capture, not keys: an error in the status line, the capture stays.
    app.apply(Command::OpenAny(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")), None);
    assert!(app.rt.status.starts_with("Keys not imported"), "{}", app.rt.status);
    assert_eq!(model(&app).rows.len(), 66);
}
