//! Unsigned integers as the JSON wire form takes them: up to `i64::MAX`, the
//! range the API documents (`int64`, at least 0) and the stores can keep. Use as
//! `#[serde(deserialize_with = "wasmtasks_sandbox::int64::optional")]`.

use serde::{Deserialize, Deserializer, de::Error};

/// An optional unsigned integer, refused above `i64::MAX`.
pub fn optional<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    let value = Option::<u64>::deserialize(deserializer)?;
    match value {
        Some(number) if i64::try_from(number).is_err() => Err(D::Error::custom(format!(
            "{number} is too large: at most {} is allowed",
            i64::MAX
        ))),
        _ => Ok(value),
    }
}

#[cfg(test)]
mod tests {
    #[derive(Debug, serde::Deserialize)]
    struct Wire {
        #[serde(default, deserialize_with = "super::optional")]
        number: Option<u64>,
    }

    #[test]
    fn numbers_past_int64_are_refused_by_name() {
        let parse = |json: &str| serde_json::from_str::<Wire>(json).map(|w| w.number);
        assert_eq!(parse("{}").unwrap(), None);
        assert_eq!(parse(r#"{"number":null}"#).unwrap(), None);
        assert_eq!(
            parse(r#"{"number":9223372036854775807}"#).unwrap(),
            Some(i64::MAX as u64)
        );
        let error = parse(r#"{"number":9223372036854775808}"#)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("9223372036854775808 is too large"),
            "{error}"
        );
    }
}
