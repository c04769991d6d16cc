//! NUL characters (U+0000), which PostgreSQL's `text` and `jsonb` cannot hold. So
//! that both dialects keep the same data: a job's arguments and a configuration
//! value may not contain one (refused when they are given, see [`has_nul`]); what
//! a guest leaves behind (return value, output, error) has each replaced by U+FFFD,
//! on every dialect, since a completion must never be refused for its content
//! (the completer would retry it forever).

use std::borrow::Cow;

use serde_json::Value;

/// `text` with each NUL character replaced by U+FFFD.
pub(crate) fn storable(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// `value` with NUL characters replaced in every string and key, as [`storable`].
pub(crate) fn storable_value(value: &Value) -> Cow<'_, Value> {
    fn replace(value: &Value) -> Value {
        match value {
            Value::String(text) => Value::String(storable(text).into_owned()),
            Value::Array(items) => Value::Array(items.iter().map(replace).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, item)| (storable(key).into_owned(), replace(item)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    if has_nul(value) {
        Cow::Owned(replace(value))
    } else {
        Cow::Borrowed(value)
    }
}

/// Whether a string or key anywhere in `value` holds a NUL character.
pub fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map
            .iter()
            .any(|(key, item)| key.contains('\0') || has_nul(item)),
        _ => false,
    }
}
