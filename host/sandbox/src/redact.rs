//! Redaction of secret values, in whole texts and in streamed output.
//!
//! Each secret is matched as written and in the escaped forms a guest prints it in
//! without meaning to: inside a JSON string (the SDK's structured log), as Rust's
//! `Debug` shows a string (`{:?}`, a panic on `unwrap()` of an `Err(secret)`), and
//! those two nested. Streamed output is redacted before it is truncated, so a cut
//! never leaves half a secret behind.
//!
//! What it cannot catch: a guest that encodes a secret on purpose (hex, base64,
//! one character per line). Secrets only go to components their owner trusts;
//! redaction keeps honest components from leaking them by accident.

use std::borrow::Cow;
use std::sync::Arc;

use crate::capabilities::REDACTED;

/// The secrets of one attempt, each with its escaped forms, longest first.
#[derive(Debug, Clone, Default)]
pub(crate) struct Redactor {
    patterns: Arc<[Vec<u8>]>,
}

impl Redactor {
    /// A redactor for `secrets` (empty ones are ignored).
    pub(crate) fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Self {
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        for secret in secrets.into_iter().filter(|s| !s.is_empty()) {
            let json = json_escaped(secret);
            let forms = [
                debug_escaped(&json),
                json_escaped(&json),
                debug_escaped(secret),
                json,
                secret.to_owned(),
            ];
            for form in forms {
                let form = form.into_bytes();
                if !patterns.contains(&form) {
                    patterns.push(form);
                }
            }
        }
        patterns.sort_by_key(|pattern| std::cmp::Reverse(pattern.len()));
        Redactor {
            patterns: patterns.into(),
        }
    }

    /// Whether there is nothing to redact.
    pub(crate) fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// `text` with every secret replaced by [`REDACTED`] (borrowed when it holds
    /// none, so a large text is not copied to be checked).
    pub(crate) fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let bytes = text.as_bytes();
        let found = (0..bytes.len()).any(|at| {
            let rest = &bytes[at..];
            self.patterns.iter().any(|p| rest.starts_with(p))
        });
        if !found {
            return Cow::Borrowed(text);
        }
        let mut out = Vec::with_capacity(text.len());
        self.redact_into(bytes, bytes.len(), &mut out);
        // Patterns are whole UTF-8 strings, so matches start and end on character
        // boundaries and the result is UTF-8 again.
        Cow::Owned(
            String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into()),
        )
    }

    /// `text` with every secret replaced by [`REDACTED`], not copied when it holds
    /// none.
    pub(crate) fn redact_owned(&self, text: String) -> String {
        match self.redact(&text) {
            Cow::Owned(redacted) => redacted,
            Cow::Borrowed(_) => text,
        }
    }

    /// `value` with every string in it (keys included) redacted.
    pub(crate) fn redact_json(&self, value: serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        if self.is_empty() {
            return value;
        }
        match value {
            Value::String(text) => Value::String(self.redact_owned(text)),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| self.redact_json(v)).collect())
            }
            Value::Object(fields) => Value::Object(
                fields
                    .into_iter()
                    .map(|(key, v)| (self.redact_owned(key), self.redact_json(v)))
                    .collect(),
            ),
            other => other,
        }
    }

    /// Redacts the matches of `bytes` that start before `upto` into `out`, copying
    /// the rest of what it passes; returns how many bytes of `bytes` it consumed
    /// (at least `upto`, more when a match runs past it).
    pub(crate) fn redact_into(&self, bytes: &[u8], upto: usize, out: &mut Vec<u8>) -> usize {
        let mut at = 0;
        let mut copied = 0;
        while at < upto.min(bytes.len()) {
            let rest = &bytes[at..];
            match self.patterns.iter().find(|p| rest.starts_with(p)) {
                Some(pattern) => {
                    out.extend_from_slice(&bytes[copied..at]);
                    out.extend_from_slice(REDACTED.as_bytes());
                    at += pattern.len();
                    copied = at;
                }
                None => at += 1,
            }
        }
        out.extend_from_slice(&bytes[copied..at]);
        at
    }

    /// Bytes a stream must hold back: a match may start this far from its end.
    pub(crate) fn holdback(&self) -> usize {
        self.patterns.first().map_or(0, |longest| longest.len() - 1)
    }
}

/// `text` as it appears inside a JSON string.
fn json_escaped(text: &str) -> String {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    quoted[1..quoted.len() - 1].to_owned()
}

/// `text` as it appears inside Rust's `Debug` form of a string.
fn debug_escaped(text: &str) -> String {
    let quoted = format!("{text:?}");
    quoted[1..quoted.len() - 1].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_as_written_and_escaped() {
        let redactor = Redactor::new(["pa\"ss\\word", "", "x\ny"]);
        let texts = [
            "raw pa\"ss\\word end",
            r#"{"message":"pa\"ss\\word"}"#,
            r#"Err("pa\"ss\\word")"#,
            r#"log: "{\"message\":\"pa\\\"ss\\\\word\"}""#,
            "x\\ny and x\ny",
        ];
        for text in texts {
            let redacted = redactor.redact(text);
            assert!(redacted.contains(REDACTED), "{text} -> {redacted}");
            assert!(!redacted.contains("word"), "{text} -> {redacted}");
            assert!(!redacted.contains("x\\ny") && !redacted.contains("x\ny"));
        }
        assert_eq!(redactor.redact("nothing here"), "nothing here");
        assert!(Redactor::new([""]).is_empty());
    }

    #[test]
    fn the_longest_secret_is_hidden_whole() {
        let redactor = Redactor::new(["s3cr3t", "s3cr3t-and-more"]);
        assert_eq!(redactor.redact("a s3cr3t-and-more b"), "a [REDACTED] b");
        assert_eq!(redactor.holdback(), "s3cr3t-and-more".len() - 1);
    }

    #[test]
    fn a_match_past_the_limit_is_consumed_whole() {
        let redactor = Redactor::new(["secret"]);
        let mut out = Vec::new();
        let consumed = redactor.redact_into(b"abcsecretdef", 4, &mut out);
        assert_eq!((consumed, out.as_slice()), (9, b"abc[REDACTED]".as_slice()));
    }
}
