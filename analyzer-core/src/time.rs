//! Capture timestamps.

use std::fmt;

/// A capture timestamp: seconds and nanoseconds since the Unix epoch (UTC).
///
/// Nanosecond precision is kept whatever the file's resolution; pcapng `if_tsresol` values
/// finer than 1 ns are truncated to nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    pub secs: i64,
    /// Always `< 1_000_000_000`.
    pub nanos: u32,
}

impl Timestamp {
    pub const ZERO: Timestamp = Timestamp { secs: 0, nanos: 0 };

    /// Builds a timestamp, normalising `nanos >= 1e9` into seconds.
    pub fn new(secs: i64, nanos: u32) -> Self {
        let carry = i64::from(nanos / 1_000_000_000);
        Timestamp { secs: secs.saturating_add(carry), nanos: nanos % 1_000_000_000 }
    }

    /// Total nanoseconds since the epoch (saturating).
    pub fn as_nanos(self) -> i128 {
        i128::from(self.secs) * 1_000_000_000 + i128::from(self.nanos)
    }

    pub fn from_nanos(n: i128) -> Self {
        let secs = n.div_euclid(1_000_000_000);
        let nanos = n.rem_euclid(1_000_000_000);
        Timestamp {
            secs: i64::try_from(secs).unwrap_or(if secs < 0 { i64::MIN } else { i64::MAX }),
            nanos: u32::try_from(nanos).unwrap_or(0),
        }
    }

    /// `self - earlier` as a signed duration in nanoseconds.
    pub fn nanos_since(self, earlier: Timestamp) -> i128 {
        self.as_nanos() - earlier.as_nanos()
    }

    /// Seconds as f64 (for display and plots only, never for ordering).
    pub fn as_secs_f64(self) -> f64 {
        self.secs as f64 + f64::from(self.nanos) / 1e9
    }
}

/// A signed duration in nanoseconds, displayed as seconds with 6 decimals (like tshark).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Nanos(pub i128);

impl fmt::Display for Nanos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.0 < 0;
        let abs = self.0.unsigned_abs();
        let secs = abs / 1_000_000_000;
        let micros = (abs % 1_000_000_000) / 1_000;
        write!(f, "{}{}.{:06}", if neg { "-" } else { "" }, secs, micros)
    }
}

impl fmt::Display for Timestamp {
    /// `secs.nanos` (epoch time, 9 decimals), like tshark's `frame.time_epoch`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:09}", self.secs, self.nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_subtracts() {
        let a = Timestamp::new(10, 1_500_000_000);
        assert_eq!(a, Timestamp { secs: 11, nanos: 500_000_000 });
        let b = Timestamp::new(9, 900_000_000);
        assert_eq!(a.nanos_since(b), 1_600_000_000);
        assert_eq!(Nanos(a.nanos_since(b)).to_string(), "1.600000");
        assert_eq!(Nanos(-1_500).to_string(), "-0.000001");
        assert_eq!(Timestamp::from_nanos(a.as_nanos()), a);
        assert_eq!(Timestamp::from_nanos(-1), Timestamp { secs: -1, nanos: 999_999_999 });
    }
}
