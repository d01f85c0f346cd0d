//! Keys files: kudoscope's TOML format, importers (Wireshark `oscore_contexts` UAT, aiocoap
//! security-context directories, libcoap `oscore_conf`), and the Wireshark UAT exporter.
//!
//! CONTRACT (other modules and the front ends rely on these names and meanings):
//! - [`KeyContext`]: the inputs of one OSCORE security context for *both* peers, with a name,
//!   a [`ContextSource`] (path, line, [`KeysFormat`]), the two Sender IDs with an
//!   [`Orientation`] (client/server, or local/peer when the file is one endpoint's view),
//!   optional [`EndpointHint`]s per peer, optional [`KeyLimits`] and a [`ContextRole`]
//!   (initial, or KUDOS bootstrap linked to an initial context by name).
//!   [`KeyContext::params`] / [`KeyContext::client_params`] / [`KeyContext::server_params`]
//!   give the [`crate::oscore::ContextParams`] from either peer's view.
//! - [`KeySet`]: contexts from several sources; names are unique, bootstrap links resolve.
//!   [`KeySet::load`] is what `--keys FILE` (repeatable) does.
//! - [`detect_and_load`]: one path in any supported format; [`find_default_keys`]: the
//!   `CAPTURE.keys.toml` next to a capture.
//! - [`parse_toml`] / [`to_toml`], [`parse_wireshark_uat`] / [`export_wireshark_uat`],
//!   [`parse_aiocoap`] / [`load_aiocoap_dir`], [`parse_libcoap`].
//! - [`KeysError`]: `path:line:column: field "name": message`; never contains a secret.
//! - [`KeyContext::summary`]: the `keys list` description (secret only with `show_secrets`).
//!
//! The TOML format is documented in docs/keys-format.md. Keys files are only ever read.

pub mod aiocoap;
pub mod detect;
pub mod error;
pub mod libcoap;
pub mod listing;
pub mod model;
pub mod toml_format;
pub mod wireshark;

pub use aiocoap::{load_aiocoap_dir, parse_aiocoap};
pub use detect::{
    DEFAULT_KEYS_SUFFIX, Detected, MAX_KEYS_FILE_BYTES, default_keys_candidates, detect_and_load,
    detect_format, find_default_keys, parse_text, read_text, sniff_format,
};
pub use error::{KeysError, KeysErrorKind, KeysWarning, Location};
pub use libcoap::parse_libcoap;
pub use listing::{ContextSummary, LimitsSummary, PeerSummary, SecretSummary};
pub use model::{
    ContextRole, ContextSource, EndpointHint, EndpointRole, KeyContext, KeyLimits, KeySet, KeysFormat,
    LoadedKeys, NameOrigin, Orientation, Peer, PeerSlot, check_name, derived_name,
};
pub use toml_format::{parse_toml, to_toml};
pub use wireshark::{
    ExportError, Skipped, UatExport, export_wireshark_uat, parse_wireshark_uat, uat_unsupported_reason,
};
