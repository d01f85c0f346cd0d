//! Command-line arguments.

use analyzer_core::analysis::AnalyzerConfig;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const ABOUT: &str = "Analyzer for OSCORE-protected CoAP captures (pcap, pcapng)";

const LONG_ABOUT: &str = "\
kudoscope reads pcap/pcapng captures of CoAP traffic (Ethernet, Linux cooked, raw IP, loopback,
IEEE 802.15.4 + 6LoWPAN), dissects every CoAP message, links requests, responses,
retransmissions, Observe notifications and Block-wise transfers, and reports what is malformed.

Without a subcommand it prints one line per frame, like tshark:
  kudoscope samples/coap-basic.pcapng
  kudoscope -V samples/coap-basic.pcapng          full dissection tree
  kudoscope --format json samples/coap-basic.pcapng   one JSON object per frame (docs/json-output.md)
  kudoscope --keys keys.toml capture.pcapng       decrypt OSCORE (keys: docs/keys-format.md)
  kudoscope keys list capture.pcapng              contexts, what they opened, key usage
  kudoscope timeline capture.pcapng               KUDOS key updates as a ladder per association
  kudoscope audit --fail-on high capture.pcapng   privacy audit + all findings (docs/audit.md)

Exit status: 0 on success; 2 when the capture cannot be read or is damaged part-way (the frames
read before the damage are printed first) or the arguments are wrong; `audit --fail-on SEVERITY`
exits 1 when a finding is at or above SEVERITY.";

#[derive(Debug, Parser)]
#[command(
    name = "kudoscope",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    disable_version_flag = true
)]
pub struct Cli {
    /// Print the version (like tshark, -V is --verbose).
    #[arg(short = 'v', long = "version", action = clap::ArgAction::Version)]
    version: Option<bool>,
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub show: ShowArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Count frames, CoAP messages by type and code, exchanges, unanswered requests,
    /// retransmissions, OSCORE outcomes and findings.
    Stats(StatsArgs),
    /// OSCORE keys: list the contexts and what they opened in a capture, or export them.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Key updates as a ladder per association: KUDOS executions (nonces offered, CTX_TEMP and
    /// CTX_NEW derived, key confirmation) and context generations.
    Timeline(TimelineArgs),
    /// Privacy and findings audit: what an on-path observer can still link across each ID
    /// change and network migration (PROTOCOLS.md §4.7), the observer's key-less clustering,
    /// and every finding of the capture. Exit status 1 with --fail-on when a finding is at or
    /// above that severity (docs/audit.md).
    Audit(AuditArgs),
}

/// `kudoscope audit` (docs/audit.md).
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Capture file (pcap or pcapng).
    #[arg(value_name = "CAPTURE")]
    pub capture: PathBuf,
    /// Output format (JSON: one object, docs/audit.md).
    #[arg(short = 'T', long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit with status 1 when any finding is at or above this severity (info, low, medium,
    /// high, critical).
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<analyzer_core::Severity>,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

fn parse_severity(s: &str) -> Result<analyzer_core::Severity, String> {
    analyzer_core::Severity::parse(s)
        .ok_or_else(|| format!("unknown severity '{s}' (expected info, low, medium, high or critical)"))
}

#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// Capture file (pcap or pcapng).
    #[arg(value_name = "CAPTURE")]
    pub capture: PathBuf,
    /// Output format (JSON: associations -> procedures, docs/json-output.md).
    #[arg(short = 'T', long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Show derived master secrets and salts instead of fingerprints.
    #[arg(long)]
    pub show_secrets: bool,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Analyse CAPTURE and show every context (loaded and derived): algorithms, IDs, lineage,
    /// messages opened, key usage against the limits. Secrets appear only with --show-secrets.
    List(KeysListArgs),
    /// Write the loaded contexts in another format (this prints master secrets: it is the point).
    Export(KeysExportArgs),
}

#[derive(Debug, Args)]
pub struct KeysListArgs {
    /// Capture file (pcap or pcapng).
    #[arg(value_name = "CAPTURE")]
    pub capture: PathBuf,
    /// Show master secrets instead of their fingerprints.
    #[arg(long)]
    pub show_secrets: bool,
    /// Output format.
    #[arg(short = 'T', long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

/// Keys export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Wireshark's `oscore_contexts` UAT file (AES-CCM-16-64-128 + HKDF-SHA-256 only).
    WiresharkUat,
    /// kudoscope's TOML keys format (docs/keys-format.md).
    Toml,
}

#[derive(Debug, Args)]
pub struct KeysExportArgs {
    /// Output format.
    #[arg(short = 'T', long, value_enum)]
    pub format: ExportFormat,
    /// Keys to export (any format --keys reads; repeatable).
    #[arg(short = 'k', long = "keys", value_name = "PATH")]
    pub keys: Vec<PathBuf>,
    /// Export the default keys file of this capture (CAPTURE.keys.toml) when no --keys is given.
    #[arg(value_name = "CAPTURE")]
    pub capture: Option<PathBuf>,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable text.
    Text,
    /// JSON: one object per line per frame (`stats`: one object).
    Json,
}

/// Settings shared by every command that analyses a capture.
#[derive(Debug, Args)]
pub struct AnalysisArgs {
    /// Also dissect UDP port PORT as CoAP (repeatable; 5683 always is).
    #[arg(short = 'p', long = "coap-port", value_name = "PORT")]
    pub coap_ports: Vec<u16>,
    /// Do not try the CoAP heuristic on other UDP ports.
    #[arg(long)]
    pub no_heuristics: bool,
    /// Verify IPv4 and UDP checksums (off by default, like Wireshark).
    #[arg(long)]
    pub check_checksums: bool,
    /// OSCORE keys (repeatable): a kudoscope TOML file, a Wireshark `oscore_contexts` file or
    /// profile directory, an aiocoap security-context directory, or a libcoap oscore_conf file
    /// (detected automatically). Without it, CAPTURE.keys.toml (or CAPTURE-STEM.keys.toml)
    /// next to the capture is used when present.
    #[arg(short = 'k', long = "keys", value_name = "PATH")]
    pub keys: Vec<std::path::PathBuf>,
    /// Do not look for a default keys file next to the capture.
    #[arg(long)]
    pub no_default_keys: bool,
    /// Option number of OSCORE ID update's Recipient-ID (the draft suggests 24).
    #[arg(long, value_name = "N", default_value_t = 24)]
    pub recipient_id_option: u16,
    /// Option number of OSCORE ID update's Recipient-ID-Ack (the draft suggests 32).
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub recipient_id_ack_option: u16,
}

impl AnalysisArgs {
    pub fn config(&self) -> AnalyzerConfig {
        let mut c = AnalyzerConfig::default();
        for p in &self.coap_ports {
            if !c.coap_ports.contains(p) {
                c.coap_ports.push(*p);
            }
        }
        c.heuristics = !self.no_heuristics;
        c.net.verify_checksums = self.check_checksums;
        c.id_update.recipient_id_option = self.recipient_id_option;
        c.id_update.recipient_id_ack_option = self.recipient_id_ack_option;
        c
    }
}

/// The default command: print the frames of a capture.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Capture file (pcap or pcapng).
    #[arg(value_name = "CAPTURE", required = true)]
    pub capture: Option<PathBuf>,
    /// Print the full dissection tree of every frame (like tshark -V).
    #[arg(short = 'V', long)]
    pub verbose: bool,
    /// Output format.
    #[arg(short = 'T', long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Stop after N frames.
    #[arg(short = 'c', long = "count", value_name = "N")]
    pub count: Option<u64>,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Capture file (pcap or pcapng).
    #[arg(value_name = "CAPTURE")]
    pub capture: PathBuf,
    /// Output format.
    #[arg(short = 'T', long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}
