//! Binds a call's `args` (JSON array) and `kwargs` (JSON object) to a task's
//! parameters, the way Python binds a call to a function's signature (the rules
//! and their wording are `wasmtasks-signature`'s, which the host shares).

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use wasmtasks_signature::{kind, wrong_value};

use crate::RunError;

/// One bindable parameter of a task (the `&TaskContext` parameter is not one).
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// The parameter's name, which is also its keyword.
    pub name: &'static str,
    /// Whether the parameter may be omitted (its type is an `Option`).
    pub optional: bool,
}

impl wasmtasks_signature::Param for Param {
    fn name(&self) -> &str {
        self.name
    }

    fn required(&self) -> bool {
        !self.optional
    }
}

/// The JSON value bound to each parameter of one call, ready to deserialise.
#[derive(Debug)]
pub struct Bound {
    task: &'static str,
    params: &'static [Param],
    values: Vec<Option<Value>>,
}

/// Binds `args` and `kwargs` to `params`, or explains why the call does not fit.
pub fn bind(
    task: &'static str,
    params: &'static [Param],
    args: &str,
    kwargs: &str,
) -> Result<Bound, RunError> {
    let positional = parse_args(args)?;
    let keywords = parse_kwargs(kwargs)?;
    let values = wasmtasks_signature::bind(task, params, positional, keywords)
        .map_err(RunError::InvalidArguments)?;
    Ok(Bound {
        task,
        params,
        values,
    })
}

impl Bound {
    /// Deserialises the value bound to parameter `index` (JSON `null` when an
    /// optional parameter was omitted).
    pub fn take<T: DeserializeOwned>(&mut self, index: usize) -> Result<T, RunError> {
        let value = self.values[index].take().unwrap_or(Value::Null);
        T::deserialize(&value).map_err(|error| {
            // With the `arbitrary_precision` feature a number read from a `Value`
            // into an integer or float type fails as just "invalid number"; read
            // from text, serde names what it got ("invalid type: floating point
            // `1.5`, expected i64"), so the message comes from there.
            let message = match serde_json::from_str::<T>(&value.to_string()) {
                Err(from_text) => {
                    let message = from_text.to_string();
                    match message.rfind(" at line ") {
                        Some(end) if from_text.line() > 0 => message[..end].to_owned(),
                        _ => message,
                    }
                }
                Ok(_) => error.to_string(),
            };
            RunError::InvalidArguments(wrong_value(self.task, self.params[index].name, &message))
        })
    }
}

fn parse_args(args: &str) -> Result<Vec<Value>, RunError> {
    match serde_json::from_str(args) {
        Ok(Value::Array(values)) => Ok(values),
        Ok(other) => Err(invalid(format!(
            "args must be a JSON array: got {}",
            kind(&other)
        ))),
        Err(error) => Err(invalid(format!("args must be a JSON array: {error}"))),
    }
}

fn parse_kwargs(kwargs: &str) -> Result<Map<String, Value>, RunError> {
    match serde_json::from_str(kwargs) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(invalid(format!(
            "kwargs must be a JSON object: got {}",
            kind(&other)
        ))),
        Err(error) => Err(invalid(format!("kwargs must be a JSON object: {error}"))),
    }
}

fn invalid(message: String) -> RunError {
    RunError::InvalidArguments(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AB: &[Param] = &[
        Param {
            name: "a",
            optional: false,
        },
        Param {
            name: "b",
            optional: false,
        },
    ];

    fn message(result: Result<Bound, RunError>) -> String {
        match result.expect_err("binding should fail") {
            RunError::InvalidArguments(message) => message,
            other => panic!("not an argument error: {other:?}"),
        }
    }

    #[test]
    fn reports_every_missing_argument() {
        assert_eq!(
            message(bind("add", AB, "[]", "{}")),
            "add() missing 2 required arguments: 'a' and 'b'"
        );
    }

    #[test]
    fn names_the_wrong_json_kind() {
        assert_eq!(
            message(bind("add", AB, "{}", "{}")),
            "args must be a JSON array: got an object"
        );
        assert_eq!(
            message(bind("add", AB, "[]", "null")),
            "kwargs must be a JSON object: got null"
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_names_its_parameter() {
        let mut bound = bind("add", AB, r#"["x", 2]"#, "{}").unwrap();
        let RunError::InvalidArguments(message) = bound.take::<i64>(0).unwrap_err() else {
            panic!("not an argument error")
        };
        assert_eq!(
            message,
            "argument 'a' of add(): invalid type: string \"x\", expected i64"
        );
    }
}
