//! Parsers for the human units the command line accepts.

use std::time::Duration;

use clap::Args;
use wasmtasks::sandbox::LimitOverrides;

/// The per-attempt limit flags `run` and `enqueue` share.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Fuel (CPU budget) per attempt.
    #[arg(long, value_name = "N")]
    fuel: Option<u64>,
    /// Wall-clock timeout per attempt, e.g. 500ms, 30s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Linear-memory cap per attempt, e.g. 64MiB.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    memory: Option<u64>,
}

impl LimitArgs {
    /// The limits these flags ask for.
    pub fn overrides(&self) -> LimitOverrides {
        LimitOverrides {
            fuel: self.fuel,
            timeout: self.timeout,
            memory_bytes: self.memory,
        }
    }
}

pub use wasmtasks::config::parse_duration;

/// A size such as `64MiB`, `1GiB`, `500KB` or a plain number of bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    text.parse::<bytesize::ByteSize>()
        .map(|size| size.as_u64())
        .map_err(|error| format!("`{text}` is not a size like 64MiB or 1GiB: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_size("1024").unwrap(), 1024);
        assert!(parse_size("lots").unwrap_err().contains("`lots`"));
        assert_eq!(
            parse_duration("1500ms").unwrap(),
            Duration::from_millis(1500)
        );
        assert!(parse_duration("soon").unwrap_err().contains("`soon`"));
        let too_long = parse_duration("18446744073709551615s").unwrap_err();
        assert!(too_long.contains("maximum of 36500 days"), "{too_long}");
    }
}
