//! View-model tests without a window, over the real libcoap capture
//! (samples/real/d02_libcoap_libcoap: its README lists every frame).

use analyzer_core::dissect::FieldValue;
use analyzer_core::finding::Severity;
use analyzer_core::finding::SpanSource;
use analyzer_core::oscore::engine::Status;
use analyzer_core::timeline::{Outcome, ProcedureKind};
use kudoscope_gui::app::{App, Command, View};
use kudoscope_gui::loader::{self, Job, LoadSpec, Msg};
use kudoscope_gui::model::{CaptureModel, Column, MsgRole, RowKind, find_field, highlight, node_at};
use kudoscope_gui::settings::Settings;
use kudoscope_gui::timeline::Tick;
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
        assert_eq!(series.count, peer.q);
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
fn timeline_one_lane_per_context_lineage_with_every_message() {
    let app = loaded();
    let tl = app.rt.timeline.as_ref().unwrap();
    // README: nine client processes (one UDP port each) talk to 127.0.0.1:5683, all with the
    // one context d02: one association (the core's lanes follow context lineages).
    assert_eq!(tl.lanes.len(), 1);
    let lv = &tl.lanes[0];
    assert_eq!(lv.lane.name, "d02");
    assert_eq!(lv.lane.peer_names, ["client", "server"]);
    assert_eq!(lv.lane.endpoints[0].len(), 9);
    assert_eq!(lv.lane.phases.len(), 1);
    assert_eq!((lv.lane.phases[0].label.as_str(), lv.lane.phases[0].messages), ("g0", 36));
    assert!(lv.lane.procedures.is_empty(), "no KUDOS or ID update in d02");
    // Every frame is a tick: the 36 OSCORE messages and the 30 empty ACKs between the same
    // endpoints; directions from the README (frames 1-6: request, ACK, request, ACK, 2.05, ACK).
    assert_eq!(lv.ticks.len(), 66);
    let rows = &model(&app).rows;
    let ticks: Vec<Tick> = lv.ticks.iter().filter_map(|i| Tick::of(rows, *i)).collect();
    let first: Vec<(u64, bool)> = ticks.iter().take(6).map(|t| (t.frame, t.from_a)).collect();
    assert_eq!(first, vec![(1, true), (2, false), (3, true), (4, false), (5, false), (6, true)]);
    assert_eq!(ticks.iter().find(|t| t.frame == 4).unwrap().kind, RowKind::Plain);
    // From the first frame to the last (the ACK of frame 66, after the last OSCORE message).
    let last = model(&app).row(66).unwrap().rel_nanos as f64 / 1e9;
    assert_eq!((tl.start, tl.end), (0.0, last));
    assert!(tl.secs(lv.lane.phases[0].last_ts) < last);
}

fn kudos_fs_request() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../samples/kudos/kudos-fs-request.pcapng")
}

#[test]
fn timeline_of_a_kudos_execution_comes_from_the_core() {
    let mut app = App::new_inline(Settings::default());
    app.apply(Command::Open(kudos_fs_request()), None);
    let c = model(&app);
    assert_eq!(c.rows.len(), 16);
    assert_eq!(c.row(7).unwrap().kind, RowKind::Kudos);
    assert_eq!(c.protocol(c.row(8).unwrap()), "KUDOS");
    let tl = app.rt.timeline.as_ref().unwrap();
    assert_eq!(tl.lanes.len(), 1);
    let lane = &tl.lanes[0].lane;
    assert_eq!(lane.name, "thermostat");
    // `kudoscope timeline`: g0 frames 1-6, g1 frames 8-16; KUDOS #1 frames 7-9, completed.
    let phases: Vec<(&str, u64, u64)> =
        lane.phases.iter().map(|p| (p.label.as_str(), p.first_frame, p.last_frame)).collect();
    assert_eq!(phases, vec![("g0", 1, 6), ("g1", 8, 16)]);
    assert_eq!(lane.procedures.len(), 1);
    let p = &lane.procedures[0];
    assert_eq!(p.kind, ProcedureKind::Kudos);
    assert_eq!(p.outcome, Outcome::Completed);
    let arrows: Vec<String> = p.messages.iter().map(kudoscope_gui::timeline::message_text).collect();
    assert_eq!(
        arrows,
        vec![
            "divergent request x=07 N=e2d7f0714ebe52a5",
            "convergent response x=47 N=ed3fde832b7ad597",
            "GET /sensors/temp"
        ]
    );
    let contexts: Vec<&str> = p.messages.iter().map(|m| m.context_label.as_str()).collect();
    assert_eq!(contexts, vec!["g0-temp1", "g1", "g1"]);
    assert!(p.markers.iter().any(|m| m.frame == 8 && m.text == "client has key confirmation"));
    assert!(p.markers.iter().any(|m| m.frame == 9 && m.text == "server has key confirmation"));
    assert_eq!(
        p.title(lane),
        "KUDOS #1: request-initiated by client, FS mode, completed, frames 7-9, 0.402427 s"
    );
    // Times are seconds since the first frame (frame 7 at 34.003183 s).
    assert!((tl.secs(p.start_ts) - 34.003183).abs() < 1e-9);
    // The procedure is in the window that covers it, not in one before it.
    assert_eq!(tl.procedures_in(lane, 30.0, 35.0).len(), 1);
    assert!(tl.procedures_in(lane, 0.0, 30.0).is_empty());
    // Frame 7 (protected by CTX_TEMP) is on the lane too.
    assert_eq!(tl.lanes[0].ticks.len(), 16);
    // The KUDOS frame's detail preselects its x byte.
    let mut app = app;
    app.apply(Command::Select(7), None);
    let d = app.rt.detail.as_ref().unwrap();
    let n = node_at(&d.tree, d.node.as_ref().unwrap()).unwrap();
    assert_eq!(n.field.as_deref(), Some("kudos.x"));
    assert_eq!(highlight(n.span.as_ref(), &d.hex).map(|(s, r)| (s, r.len())), Some((SpanSource::Frame, 1)));
}

#[test]
fn v_per_key_comes_from_the_tag_mismatch_frames() {
    let mut app = App::new_inline(Settings::default());
    app.apply(
        Command::Open(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../samples/oscore-key-limits.pcapng")),
        None,
    );
    let c = model(&app);
    // README: forgeries 21/23/25/27 with the client's kid, v limit 3 (reached at 25, exceeded at 27).
    assert_eq!(c.failures.len(), 1);
    let v = &c.failures[0];
    let ctx = c.contexts.iter().find(|x| x.id == v.ctx).unwrap();
    assert_eq!((ctx.name.as_str(), v.sender_b, ctx.limit_v), ("meter", false, 3));
    let times: Vec<f64> =
        [21u64, 23, 25, 27].iter().map(|f| c.row(*f).unwrap().rel_nanos as f64 / 1e9).collect();
    assert_eq!(v.points, times.iter().zip(1..).map(|(t, n)| [*t, f64::from(n)]).collect::<Vec<_>>());
    assert_eq!(v.count, ctx.peers[0].v);
    assert_eq!(v.count, 4);
    // q: 10 per key (limit 8), from the rows, equal to the engine's counters.
    for (slot, peer) in ctx.peers.iter().enumerate() {
        let q = c.usage.iter().find(|s| s.ctx == ctx.id && s.sender_b == (slot == 1)).unwrap();
        assert_eq!((q.count, peer.q), (10, 10));
    }
}

#[test]
fn audit_report_per_migration_and_grouped_findings() {
    let mut app = App::new_inline(Settings::default());
    app.apply(
        Command::Open(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../samples/idupdate/idupdate-careless-early-ids.pcapng"),
        ),
        None,
    );
    let c = model(&app);
    let r = c.audit.as_ref().unwrap();
    // `kudoscope audit`: one association, three boundaries.
    assert_eq!((r.frames, r.oscore_messages, r.associations.len()), (24, 24, 1));
    let a = &r.associations[0];
    let m: Vec<(&str, &str, u64)> = a.migrations.iter().map(|m| (m.peer, m.kind.as_str(), m.frame)).collect();
    assert_eq!(
        m,
        vec![("client", "id_change", 15), ("server", "id_change", 16), ("client", "address_change", 19)]
    );
    assert_eq!(a.migrations[0].linked_items, vec!["mid", "token", "address", "mac"]);
    let mid = a.migrations[0].items.iter().find(|i| i.item == "mid").unwrap();
    assert_eq!((mid.linked, mid.frames.as_slice()), (Some(true), &[13u64, 15][..]));
    // Findings grouped by (severity, kind), most severe first, each with its frames.
    let g: Vec<(Severity, &str, u64, usize)> =
        c.finding_groups.iter().map(|g| (g.severity, g.kind, g.count, g.listed.len())).collect();
    assert_eq!(
        g,
        vec![
            (Severity::High, "audit.new_ids_on_old_network", 1, 1),
            (Severity::Low, "audit.linkable_migration", 1, 1)
        ]
    );
    let f = &r.findings[c.finding_groups[0].listed.start];
    assert_eq!(f.frames, vec![15, 13, 19]);
    // The ID-update messages are coloured as such (the core's frame events).
    assert_eq!(c.row(7).unwrap().kind, RowKind::IdUpdate);
    let tl = app.rt.timeline.as_ref().unwrap();
    let p = &tl.lanes[0].lane.procedures[0];
    assert_eq!(p.kind, ProcedureKind::IdUpdate);
    assert_eq!((p.start_frame, p.end_frame), (7, 15));
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
    let tick = app.rt.timeline.as_ref().unwrap().lanes[0]
        .ticks
        .iter()
        .filter_map(|i| Tick::of(&c.rows, *i))
        .find(|t| t.frame == 1);
    assert_eq!(tick.map(|t| t.kind), Some(RowKind::IdUpdate), "the timeline ticks share the colour");
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
    // oscore-multi-context: six contexts, six associations (`kudoscope timeline`).
    let mut app = App::new_inline(Settings::default());
    app.apply(
        Command::Open(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../samples/oscore-multi-context.pcapng"),
        ),
        None,
    );
    let names: Vec<String> =
        app.rt.timeline.as_ref().unwrap().lanes.iter().map(|l| l.lane.name.clone()).collect();
    assert_eq!(names, vec!["tenant-a", "tenant-b", "plug-x", "plug-y", "e-to-s1", "e-to-s3"]);
    let lane = |app: &App| names[app.rt.timeline_view.lane].clone();
    for (frame, want) in [(25, "plug-x"), (1, "tenant-a"), (11, "e-to-s3"), (10, "e-to-s1")] {
        app.apply(Command::Select(frame), None);
        assert_eq!(lane(&app), want, "frame {frame}");
    }
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
