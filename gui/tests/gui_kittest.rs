//! The app headless (egui_kittest + wgpu on a CPU adapter): open the real libcoap capture,
//! select a decrypted OSCORE frame, check the detail tree, switch to the timeline, click a
//! ladder arrow; the same with a KUDOS execution (samples/kudos/kudos-fs-request) and an ID
//! update (samples/idupdate/idupdate-success), and the audit's migration items
//! (samples/idupdate/idupdate-careless-early-ids). Expected texts come from the CLI
//! (`kudoscope -V`, `kudoscope timeline`, `kudoscope audit`) on the same captures. Snapshot
//! images under tests/snapshots/ (UPDATE_SNAPSHOTS=1 rewrites them).

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use kudoscope_gui::app::{App, Command, View};
use kudoscope_gui::model::RowKind;
use kudoscope_gui::settings::{Settings, Theme};
use std::path::PathBuf;

/// A capture by a path relative to the repository root (the working directory of every test
/// in this binary), so that paths shown in snapshots do not depend on where the checkout lives.
fn sample(rel: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    std::env::set_current_dir(&root).expect("repository root");
    PathBuf::from(rel)
}

fn open(rel: &str) -> App {
    let settings = Settings { theme: Theme::Light, ..Settings::default() };
    let mut app = App::new_inline(settings);
    // "Loaded 16 frames", without the wall-clock time: the snapshots do not depend on the
    // machine's speed, so nothing has to be masked.
    app.hide_timings = true;
    app.apply(Command::Open(sample(rel)), None);
    app
}

fn opened() -> App {
    open("samples/real/d02_libcoap_libcoap/d02_libcoap_libcoap.pcapng")
}

fn harness(app: App) -> Harness<'static, App> {
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .with_theme(egui::Theme::Light)
        .wgpu()
        .build_ui_state(|ui, app: &mut App| app.draw(ui), app)
}

/// Snapshot without the synthetic pointer (it would hide the label it last clicked).
fn snap(h: &mut Harness<'static, App>, name: &str) {
    h.remove_cursor();
    h.run();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    h.snapshot_options(name, &egui_kittest::SnapshotOptions::new().output_path(dir));
}

#[test]
fn select_a_decrypted_frame_then_switch_to_the_timeline() {
    let mut h = harness(opened());
    h.run();
    h.get_by_label("66 frames, 66 shown");
    h.get_by_label("Loaded 66 frames");
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
    // One association (the nine client processes share the context d02), one generation.
    assert_eq!(h.state().rt.timeline.as_ref().unwrap().lanes.len(), 1);
    h.get_by_label("d02 (client <-> server)");
    h.get_by_label("g0 d02 frames 1–65 (36 messages)");
    // No key update in d02: the ladder shows the messages of the window.
    h.get_by_label("No KUDOS or ID-update execution in this window: the messages of the window.");
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
    h.get_by_label("Key usage");
    h.get_by_label("q: encryptions per key");
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

#[test]
fn a_kudos_frame_then_its_ladder() {
    let mut h = harness(open("samples/kudos/kudos-fs-request.pcapng"));
    h.run();
    h.get_by_label("16 frames, 16 shown");
    h.get_by_label("Loaded 16 frames");
    // Frame 7: the divergent KUDOS request (`kudoscope -V`).
    h.get_by_label_contains("CON POST MID=21819").click();
    h.run();
    let c = h.state().rt.capture.as_ref().unwrap();
    assert_eq!(c.selected, Some(7));
    assert_eq!(c.row(7).unwrap().kind, RowKind::Kudos);
    // The KUDOS x byte is preselected: its OSCORE layer and its own fields are open.
    h.get_by_label("KUDOS x: 0x07");
    h.get_by_label("z: 0 (divergent)");
    h.get_by_label("p (no forward secrecy): 0");
    h.get_by_label("KUDOS nonce: e2d7f0714ebe52a5");
    h.get_by_label("[Generation: g0-temp1]");
    h.get_by_label("[Context: thermostat/g0-temp1 (g0-temp1), protected by the client]");
    h.get_by_label("[KUDOS #1 started: request-initiated by client, FS mode]");
    h.get_by_label("[CTX_TEMP g0-temp1 derived from g0]");
    snap(&mut h, "gui_kudos_packets");

    h.get_by_label("Timeline").click();
    h.run();
    h.get_by_label("thermostat (client <-> server)");
    h.get_by_label("KUDOS #1: request-initiated by client, FS mode, completed, frames 7-9, 0.402427 s");
    h.get_by_label(
        "round trip 0.002427 s; client confirmed after 0.002427 s; server confirmed after 0.402427 s",
    );
    h.get_by_label("#7 divergent request x=07 N=e2d7f0714ebe52a5 [g0-temp1]");
    h.get_by_label("#8 convergent response x=47 N=ed3fde832b7ad597 [g1]");
    h.get_by_label("#9 GET /sensors/temp [g1]");
    h.get_by_label("CTX_TEMP g0-temp1 derived from g0");
    h.get_by_label("CTX_NEW g1 derived from g0");
    h.get_by_label("client has key confirmation");
    h.get_by_label("server has key confirmation");
    h.get_by_label("KUDOS #1 completed in 0.402427s");
    h.get_by_label("g0 thermostat frames 1–6 (6 messages)");
    h.get_by_label("g1 thermostat/g1 frames 8–16 (9 messages)");
    snap(&mut h, "gui_kudos_timeline");

    // Clicking the convergent response's arrow selects frame 8.
    h.get_by_label_contains("#8 convergent response").click();
    h.run();
    assert_eq!(h.state().rt.capture.as_ref().unwrap().selected, Some(8));
    h.get_by_label("Packets").click();
    h.run();
    h.get_by_label("KUDOS x: 0x47");
    h.get_by_label("z: 1 (convergent)");
    h.get_by_label("KUDOS nonce: ed3fde832b7ad597");
    h.get_by_label("[Generation: g1]");
    h.get_by_label("[Context: thermostat/g1 (g1), protected by the server]");
    h.get_by_label("[Contexts tried: CTX_NEW from thermostat (Draft): verified]");
    h.get_by_label("[CTX_NEW g1 derived from g0]");
    h.get_by_label("[client has key confirmation]");
}

#[test]
fn an_id_update_frame_then_its_ladder() {
    let mut h = harness(open("samples/idupdate/idupdate-success.pcapng"));
    h.run();
    h.get_by_label("20 frames, 20 shown");
    h.get_by_label("Loaded 20 frames");
    // Frame 8 (`kudoscope -V`): the server's response offers Recipient-ID 78 and acknowledges 42.
    h.get_by_label_contains("ACK 2.04 Changed MID=39310").click();
    h.run();
    let c = h.state().rt.capture.as_ref().unwrap();
    assert_eq!(c.selected, Some(8));
    assert_eq!(c.row(8).unwrap().kind, RowKind::IdUpdate);
    h.get_by_label("Decrypted OSCORE (13 bytes of plaintext)");
    h.get_by_label("Code: 2.05 Content (69)");
    h.get_by_label("Opt #2: Recipient-ID: 78");
    h.get_by_label("Opt #3: Recipient-ID-Ack: 42");
    h.get_by_label("[server offers Recipient-ID 78]");

    h.get_by_label("Timeline").click();
    h.run();
    h.get_by_label("sensor (client <-> server)");
    h.get_by_label("0 KUDOS executions, 1 ID update");
    h.get_by_label("g0 sensor frames 1–14 (14 messages)");
    h.get_by_label("g0-id1 sensor/g0-id1 frames 15–20 (6 messages)");
    // `kudoscope timeline`: the same heading (one function in the core).
    h.get_by_label("ID update #1: started by client in a request, completed, frames 7-15, 17.004586 s");
    h.get_by_label("client confirmed after 10.003392 s; server confirmed after 15.003392 s");
    h.get_by_label("#7 Recipient-ID 42 [g0]");
    h.get_by_label("#8 Recipient-ID 78 + Ack 42 [g0]");
    h.get_by_label("ID update #1 started by client: offers Recipient-ID 42");
    h.get_by_label("client offers 42");
    h.get_by_label("server offers 78");
    h.get_by_label("CTX_B g0-id1 derived from g0 (new IDs)");
    // Acks at 8, 10, 12 (server) and 9, 11, 13 (client).
    assert_eq!(h.get_all_by_label("server acknowledges 42").count(), 3);
    assert_eq!(h.get_all_by_label("client acknowledges 78").count(), 3);
    h.get_by_label("client completes the ID update (3 Acks verified, 2 sent)");
    h.get_by_label("server completes the ID update (3 Acks verified, 3 sent)");
    h.get_by_label("ID update #1 completed: CTX_B valid");
    h.get_by_label("new IDs in use from frame 15 (client sends with g0-id1)");
    snap(&mut h, "gui_idupdate_timeline");

    // Clicking the client's last Ack selects frame 13.
    h.get_by_label("#13 Ack 78 [g0]").click();
    h.run();
    assert_eq!(h.state().rt.capture.as_ref().unwrap().selected, Some(13));
}

#[test]
fn the_audit_panel_lists_each_migration_item() {
    let mut h = harness(open("samples/idupdate/idupdate-careless-early-ids.pcapng"));
    h.run();
    h.get_by_label("Audit").click();
    h.run();
    h.get_by_label("Privacy report");
    // `kudoscope audit`: the client's ID change at 15 stays linked by MID, token, address, MAC.
    h.get_by_label(
        "client id_change at frame 15 · linked by: mid, token, address, mac · observer: same device",
    );
    h.get_by_label("server id_change at frame 16 · linked by: address, mac · observer: same device");
    h.get_by_label(
        "client address_change at frame 19 · linked by: kid, piv, cadence · observer: same device",
    );
    h.get_by_label("Message IDs continue: 0x5156 before, 0x5157 after (+1 <= 16)");
    h.get_by_label("the SSN restarted: first PIV after is 0 (last before 6)");
    h.get_by_label(
        "first PIV after (2) continues the counter before (1, +1 <= 32): the SSN was not restarted",
    );
    // Three boundaries of 13 items (the CLI's listing): 4 + 2 + 3 linked, 5 + 2 + 6 not
    // linked, 4 + 9 + 4 not applicable.
    assert_eq!(h.get_all_by_label("LINKED").count(), 9);
    assert_eq!(h.get_all_by_label("not linked").count(), 13);
    assert_eq!(h.get_all_by_label("n/a").count(), 17);
    h.get_by_label_contains("3 flow(s) in 1 presumed device(s); 1 true association(s)");
    h.get_by_label("audit.new_ids_on_old_network (1)");
    h.get_by_label("audit.linkable_migration (1)");
    h.get_by_label_contains("client uses its new ID 78 on the old network 192.0.2.1:52443");
    snap(&mut h, "gui_audit_migrations");

    // An evidence frame opens the packet list on it.
    h.get_all_by_label("#13").next().expect("evidence frame 13").click();
    h.run();
    assert_eq!(h.state().rt.view, View::Packets);
    assert_eq!(h.state().rt.capture.as_ref().unwrap().selected, Some(13));
}
