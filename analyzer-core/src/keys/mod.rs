//! Keys files: kudoscope's TOML format, importers (Wireshark `oscore_contexts` UAT, aiocoap
//! security-context directories, libcoap `oscore_conf`), and the Wireshark UAT exporter.
