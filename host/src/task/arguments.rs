//! Task arguments: a JSON array of positional values and a JSON object of keyword
//! values, validated before anything runs or is stored.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Validated arguments of one call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Arguments {
    /// Positional arguments.
    pub args: Vec<Value>,
    /// Keyword arguments.
    pub kwargs: Map<String, Value>,
}

/// Arguments that are not JSON of the right shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgumentsError {
    /// `args` is not a JSON array.
    #[error("args must be a JSON array, got {0}")]
    ArgsNotArray(String),
    /// `kwargs` is not a JSON object.
    #[error("kwargs must be a JSON object, got {0}")]
    KwargsNotObject(String),
    /// Text that should be JSON is not.
    #[error("{what} is not valid JSON: {error}")]
    Json {
        /// Which input.
        what: &'static str,
        /// The parser's message.
        error: String,
    },
}

impl Arguments {
    /// Arguments from JSON values of any shape, checking the shapes.
    pub fn from_values(args: Value, kwargs: Value) -> Result<Self, ArgumentsError> {
        let args = match args {
            Value::Array(args) => args,
            other => return Err(ArgumentsError::ArgsNotArray(kind(&other).into())),
        };
        let kwargs = match kwargs {
            Value::Object(kwargs) => kwargs,
            Value::Null => Map::new(),
            other => return Err(ArgumentsError::KwargsNotObject(kind(&other).into())),
        };
        Ok(Arguments { args, kwargs })
    }

    /// Positional arguments as given on a command line: each is a JSON value, and a
    /// word that is not JSON is taken as a string (`alice` means `"alice"`).
    pub fn from_command_line(
        words: &[String],
        kwargs: Option<&str>,
    ) -> Result<Self, ArgumentsError> {
        let args = words
            .iter()
            .map(|word| serde_json::from_str(word).unwrap_or_else(|_| Value::String(word.clone())))
            .collect();
        let kwargs = match kwargs {
            None => Value::Null,
            Some(text) => serde_json::from_str(text).map_err(|error| ArgumentsError::Json {
                what: "--kwargs",
                error: error.to_string(),
            })?,
        };
        Arguments::from_values(Value::Array(args), kwargs)
    }

    /// The positional arguments as JSON text.
    pub fn args_json(&self) -> String {
        Value::Array(self.args.clone()).to_string()
    }

    /// The keyword arguments as JSON text.
    pub fn kwargs_json(&self) -> String {
        Value::Object(self.kwargs.clone()).to_string()
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn command_line_words_are_json_or_strings() {
        let words = ["2", "alice", "[1,2]", "\"quoted\"", "true"].map(String::from);
        let arguments = Arguments::from_command_line(&words, Some(r#"{"x": 1}"#)).unwrap();
        assert_eq!(
            arguments.args,
            vec![
                json!(2),
                json!("alice"),
                json!([1, 2]),
                json!("quoted"),
                json!(true)
            ]
        );
        assert_eq!(arguments.kwargs_json(), r#"{"x":1}"#);
    }

    #[test]
    fn wrong_shapes_are_named() {
        let error = Arguments::from_command_line(&[], Some("[1]")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "kwargs must be a JSON object, got an array"
        );
        let error = Arguments::from_command_line(&[], Some("{oops")).unwrap_err();
        assert!(
            error.to_string().starts_with("--kwargs is not valid JSON"),
            "{error}"
        );
        let error = Arguments::from_values(json!({"a": 1}), json!({})).unwrap_err();
        assert_eq!(
            error.to_string(),
            "args must be a JSON array, got an object"
        );
    }
}
