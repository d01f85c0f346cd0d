//! Persisted UI state (eframe storage), kept apart from the runtime state.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The storage key of [`Settings`].
pub const STORAGE_KEY: &str = "kudoscope-settings";
/// Most recent files remembered.
pub const MAX_RECENT: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::System, Theme::Light, Theme::Dark];
    pub fn label(self) -> &'static str {
        match self {
            Theme::System => "System",
            Theme::Light => "Light",
            Theme::Dark => "Dark",
        }
    }
    pub fn preference(self) -> egui::ThemePreference {
        match self {
            Theme::System => egui::ThemePreference::System,
            Theme::Light => egui::ThemePreference::Light,
            Theme::Dark => egui::ThemePreference::Dark,
        }
    }
}

/// What survives a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// UDP ports dissected as CoAP (5683 always is).
    pub coap_ports: Vec<u16>,
    /// Try the CoAP heuristic on other ports.
    pub heuristics: bool,
    /// Inner option numbers that carry an OSCORE ID update (draft-ietf-core-oscore-id-update
    /// suggests Recipient-ID 24 and Recipient-ID-Ack 32).
    pub id_update_options: Vec<u16>,
    pub theme: Theme,
    /// Most recent first.
    pub recent: Vec<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            coap_ports: vec![5683],
            heuristics: true,
            id_update_options: vec![24, 32],
            theme: Theme::System,
            recent: Vec::new(),
        }
    }
}

impl Settings {
    /// Puts `path` first in the recent list (no duplicates, at most [`MAX_RECENT`]).
    pub fn push_recent(&mut self, path: &Path) {
        self.recent.retain(|p| p != path);
        self.recent.insert(0, path.to_path_buf());
        self.recent.truncate(MAX_RECENT);
    }

    /// The analysis settings these imply.
    pub fn analyzer_config(&self) -> analyzer_core::analysis::AnalyzerConfig {
        let mut c = analyzer_core::analysis::AnalyzerConfig::default();
        for p in &self.coap_ports {
            if !c.coap_ports.contains(p) {
                c.coap_ports.push(*p);
            }
        }
        c.heuristics = self.heuristics;
        c
    }

    pub fn load(storage: Option<&dyn eframe::Storage>) -> Settings {
        storage.and_then(|s| eframe::get_value(s, STORAGE_KEY)).unwrap_or_default()
    }

    pub fn save(&self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STORAGE_KEY, self);
    }
}

/// Parses a list of numbers typed as `5683, 61616 5684`. Errors name the bad item.
pub fn parse_numbers(text: &str) -> Result<Vec<u16>, String> {
    let mut out = Vec::new();
    for item in text.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()) {
        let n: u16 = item.parse().map_err(|_| format!("`{item}` is not a number from 0 to 65535"))?;
        if !out.contains(&n) {
            out.push(n);
        }
    }
    Ok(out)
}

pub fn format_numbers(v: &[u16]) -> String {
    v.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Default)]
    struct MemStorage(HashMap<String, String>);
    impl eframe::Storage for MemStorage {
        fn get_string(&self, key: &str) -> Option<String> {
            self.0.get(key).cloned()
        }
        fn set_string(&mut self, key: &str, value: String) {
            self.0.insert(key.to_string(), value);
        }
        fn remove_string(&mut self, key: &str) {
            self.0.remove(key);
        }
        fn flush(&mut self) {}
    }

    #[test]
    fn settings_round_trip_through_eframe_storage() {
        let mut s = Settings {
            coap_ports: vec![5683, 61616],
            heuristics: false,
            id_update_options: vec![24, 40],
            theme: Theme::Dark,
            recent: vec![],
        };
        s.push_recent(Path::new("/tmp/a.pcapng"));
        let mut st = MemStorage::default();
        s.save(&mut st);
        assert!(st.0.get(STORAGE_KEY).unwrap().contains("61616"));
        assert_eq!(Settings::load(Some(&st)), s);
        assert_eq!(Settings::load(None), Settings::default());
        // Missing fields fall back to defaults; garbage falls back entirely.
        st.0.insert(STORAGE_KEY.into(), "(theme: Light)".into());
        let partial = Settings::load(Some(&st));
        assert_eq!((partial.theme, partial.coap_ports.clone()), (Theme::Light, vec![5683]));
        st.0.insert(STORAGE_KEY.into(), "not ron at all {".into());
        assert_eq!(Settings::load(Some(&st)), Settings::default());
    }

    #[test]
    fn recent_files_are_unique_most_recent_first_and_capped() {
        let mut s = Settings::default();
        for i in 0..12 {
            s.push_recent(Path::new(&format!("/c/{i}.pcap")));
        }
        s.push_recent(Path::new("/c/5.pcap"));
        assert_eq!(s.recent.len(), MAX_RECENT);
        assert_eq!(s.recent[0], PathBuf::from("/c/5.pcap"));
        assert_eq!(s.recent[1], PathBuf::from("/c/11.pcap"));
        assert_eq!(s.recent.iter().filter(|p| p.ends_with("5.pcap")).count(), 1);
        assert!(!s.recent.contains(&PathBuf::from("/c/0.pcap")));
    }

    #[test]
    fn number_lists() {
        assert_eq!(parse_numbers("5683, 61616 5683"), Ok(vec![5683, 61616]));
        assert_eq!(parse_numbers(""), Ok(vec![]));
        assert_eq!(parse_numbers("5683, 70000"), Err("`70000` is not a number from 0 to 65535".into()));
        assert_eq!(format_numbers(&[24, 32]), "24, 32");
        let s = Settings { coap_ports: vec![61616], ..Settings::default() };
        assert_eq!(s.analyzer_config().coap_ports, vec![5683, 61616]);
    }
}
