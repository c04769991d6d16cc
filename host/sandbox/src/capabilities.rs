//! What the operator grants one component for one attempt: its configuration
//! values, some of them secret, and the origins it may send HTTP requests to.
//! Resolved by the host for the attempt and kept in the attempt's store; a
//! guest reads its own values only, and every secret value is replaced with
//! [`REDACTED`] in what the attempt leaves behind.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::http::{HttpLimits, OriginPattern};
use crate::redact::Redactor;

/// What replaces a secret's value in output, errors and return values.
pub const REDACTED: &str = "[REDACTED]";

/// One configuration value. Its `Debug` form hides a secret's value.
#[derive(Clone, PartialEq, Eq)]
pub struct ConfigValue {
    /// The value.
    pub value: String,
    /// Whether it is a secret, to be redacted wherever the attempt's output is kept.
    pub secret: bool,
}

impl std::fmt::Debug for ConfigValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = if self.secret { REDACTED } else { &self.value };
        f.debug_struct("ConfigValue")
            .field("value", &value)
            .field("secret", &self.secret)
            .finish()
    }
}

/// The capabilities of one attempt. The default grants nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    config: BTreeMap<String, ConfigValue>,
    http_origins: Vec<OriginPattern>,
    http_limits: HttpLimits,
}

impl Capabilities {
    /// Grants `key` with `value`.
    pub fn set_config(&mut self, key: impl Into<String>, value: ConfigValue) {
        self.config.insert(key.into(), value);
    }

    /// Allows HTTP requests to `origin`.
    pub fn allow_http(&mut self, origin: OriginPattern) {
        if !self.http_origins.contains(&origin) {
            self.http_origins.push(origin);
        }
    }

    /// The origins HTTP requests may go to.
    pub fn http_origins(&self) -> &[OriginPattern] {
        &self.http_origins
    }

    /// Sets the limits on HTTP requests.
    pub fn set_http_limits(&mut self, limits: HttpLimits) {
        self.http_limits = limits;
    }

    /// The limits on HTTP requests.
    pub fn http_limits(&self) -> HttpLimits {
        self.http_limits
    }

    /// The allowed origins, shared with the attempt's `wasi:http` hooks.
    pub(crate) fn http_allow_list(&self) -> Arc<[OriginPattern]> {
        self.http_origins.iter().cloned().collect()
    }

    /// Every configuration value granted, by key.
    pub fn config_values(&self) -> impl Iterator<Item = (&str, &ConfigValue)> {
        self.config.iter().map(|(key, value)| (key.as_str(), value))
    }

    /// The value of `key`, if granted.
    pub fn config(&self, key: &str) -> Option<&str> {
        self.config.get(key).map(|entry| entry.value.as_str())
    }

    /// What redacts this attempt's secrets from what it leaves behind.
    pub(crate) fn redactor(&self) -> Redactor {
        Redactor::new(
            self.config
                .values()
                .filter(|entry| entry.secret)
                .map(|entry| entry.value.as_str()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn granted() -> Capabilities {
        let mut capabilities = Capabilities::default();
        let secret = |value: &str| ConfigValue {
            value: value.into(),
            secret: true,
        };
        capabilities.set_config("token", secret("s3cr3t"));
        capabilities.set_config("long", secret("s3cr3t-and-more"));
        capabilities.set_config("empty", secret(""));
        capabilities.set_config(
            "url",
            ConfigValue {
                value: "http://x".into(),
                secret: false,
            },
        );
        capabilities
    }

    #[test]
    fn secrets_are_redacted_longest_first_and_plain_values_kept() {
        let capabilities = granted();
        assert_eq!(
            capabilities
                .redactor()
                .redact("a s3cr3t-and-more b s3cr3t http://x"),
            "a [REDACTED] b [REDACTED] http://x"
        );
        assert_eq!(capabilities.config("url"), Some("http://x"));
        assert_eq!(capabilities.config("other"), None);
        assert!(!format!("{capabilities:?}").contains("s3cr3t"));
    }

    #[test]
    fn json_strings_and_keys_are_redacted() {
        let value = serde_json::json!({"s3cr3t": ["x s3cr3t", 1, null]});
        assert_eq!(
            granted().redactor().redact_json(value),
            serde_json::json!({"[REDACTED]": ["x [REDACTED]", 1, null]})
        );
    }
}
