//! The app headless (egui_kittest + wgpu on a CPU adapter): open the real libcoap capture,
//! select a decrypted OSCORE frame, check the detail tree, switch to the timeline, click a
//! ladder arrow; snapshot images under tests/snapshots/ (UPDATE_SNAPSHOTS=1 rewrites them).
//!
//! d02 has no KUDOS execution; when a KUDOS sample lands, the same steps with a KUDOS frame
//! belong in a test of their own next to these.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use kudoscope_gui::app::{App, Command, View};
use kudoscope_gui::settings::{Settings, Theme};
use std::path::PathBuf;

/// The capture by a path relative to the repository root (the working directory of every test
/// in this binary), so that paths shown in snapshots do not depend on where the checkout lives.
fn d02() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    std::env::set_current_dir(&root).expect("repository root");
    PathBuf::from("samples/real/d02_libcoap_libcoap/d02_libcoap_libcoap.pcapng")
}

fn opened() -> App {
    let settings = Settings { theme: Theme::Light, ..Settings::default() };
    let mut app = App::new_inline(settings);
    app.apply(Command::Open(d02()), None);
    app
}

fn harness(app: App) -> Harness<'static, App> {
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .with_theme(egui::Theme::Light)
        .wgpu()
        .build_ui_state(|ui, app: &mut App| app.draw(ui), app)
}

/// Snapshot with the load time (wall clock, varies) masked.
fn snap(h: &mut Harness<'static, App>, name: &str) {
    let rect = h.query_by_label_contains("Loaded 66 frames in").map(|n| n.rect());
    if let Some(r) = rect {
        h.mask(r);
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    h.snapshot_options(name, &egui_kittest::SnapshotOptions::new().output_path(dir));
}

#[test]
fn select_a_decrypted_frame_then_switch_to_the_timeline() {
    let mut h = harness(opened());
    h.run();
    h.get_by_label_contains("66 frames, 66 shown");
    // Frame 5: the delayed 2.05 "done" of GET /async?1 (README listing).
    h.get_by_label_contains("CON 2.04 Changed MID=63851").click();
    h.run();
    assert_eq!(h.state().rt.capture.as_ref().unwrap().selected, Some(5));
    h.get_by_label_contains("Decrypted OSCORE (");
    h.get_by_label("Code: 2.05 Content (69)");
    assert!(h.query_by_label_contains("[Context: d02").is_none(), "the OSCORE layer starts closed");
    h.get_by_label("Object Security for Constrained RESTful Environments: decrypted").click();
    h.run();
    h.get_by_label("[Context: d02 (g0), protected by the server]");
    h.get_by_label("[AAD request_piv: 01]");
    // 2.05, Content-Format 0 (0xc0), payload marker, "done" (README frame 5).
    h.get_by_label("Decrypted OSCORE plaintext (7 bytes)");
    snap(&mut h, "gui_packets_decrypted");

    h.get_by_label("Timeline").click();
    h.run();
    assert_eq!(h.state().rt.view, View::Timeline);
    h.get_by_label("127.0.0.1:59107 <-> 127.0.0.1:5683 · d02");
    h.get_by_label("g0 d02 #1–#5");
    h.get_by_label("Ladder: 127.0.0.1:59107 <-> 127.0.0.1:5683 · d02");
    // Nine associations, one band each.
    assert_eq!(h.state().rt.timeline.as_ref().unwrap().lanes.len(), 9);
    h.get_by_label("g0 d02 #43–#63");
    snap(&mut h, "gui_timeline");

    // Clicking an arrow of the ladder selects its frame.
    h.get_by_label_contains("#3 CON POST MID=39809").click();
    h.run();
    assert_eq!(h.state().rt.capture.as_ref().unwrap().selected, Some(3));
    h.get_by_label("Packets").click();
    h.run();
    h.get_by_label_contains("Code: GET (1)");
}

#[test]
fn keys_and_audit_panels() {
    let mut h = harness(opened());
    h.run();
    h.get_by_label("Keys").click();
    h.run();
    h.get_by_label("Contexts loaded");
    h.get_by_label("d02");
    h.get_by_label("g0 (0)");
    h.get_by_label_contains("client: 16, server: 20 / 1048576");
    snap(&mut h, "gui_keys");
    h.get_by_label("Audit").click();
    h.run();
    h.get_by_label("Key usage (q: encryptions per key)");
    h.get_by_label_contains("d02 g0 client: q = 16");
    snap(&mut h, "gui_audit");
}

#[test]
fn typing_a_filter_narrows_the_list() {
    let mut h = harness(opened());
    h.run();
    let edit = h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Filter:");
    edit.click();
    h.run();
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Filter:")
        .type_text("oscore.kid == b74f && !kudos");
    h.run();
    h.get_by_label("Apply").click();
    h.run();
    assert_eq!(h.state().rt.capture.as_ref().unwrap().visible.len(), 16);
    h.get_by_label_contains("66 frames, 16 shown");
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Filter:").click();
    h.run();
    h.key_press(egui::Key::End);
    h.run();
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Filter:").type_text(" &&");
    h.run();
    h.get_by_label("Apply").click();
    h.run();
    let rt = &h.state().rt;
    assert_eq!(rt.filter_text, "oscore.kid == b74f && !kudos &&");
    assert_eq!(rt.filter_error.as_ref().map(|e| e.column), Some(32));
    h.get_by_label_contains("column 32: expected a field name");
}
