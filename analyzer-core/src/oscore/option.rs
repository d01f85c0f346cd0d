//! (stub: implemented by the OSCORE crypto work)
