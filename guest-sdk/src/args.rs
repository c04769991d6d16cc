//! Binds a call's `args` (JSON array) and `kwargs` (JSON object) to a task's
//! parameters, the way Python binds a call to a function's signature.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::TaskError;
use crate::error_class::INVALID_ARGUMENTS;

/// One bindable parameter of a task (the `&TaskContext` parameter is not one).
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// The parameter's name, which is also its keyword.
    pub name: &'static str,
    /// Whether the parameter may be omitted (its type is an `Option`).
    pub optional: bool,
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
) -> Result<Bound, TaskError> {
    let positional = parse_args(args)?;
    let keywords = parse_kwargs(kwargs)?;
    if positional.len() > params.len() {
        return Err(too_many_positional(task, params, positional.len()));
    }
    let mut values: Vec<Option<Value>> = positional.into_iter().map(Some).collect();
    values.resize(params.len(), None);
    for (name, value) in keywords {
        let Some(index) = params.iter().position(|param| param.name == name) else {
            return Err(invalid(format!(
                "{task}() got an unexpected keyword argument '{name}'"
            )));
        };
        if values[index].is_some() {
            return Err(invalid(format!(
                "{task}() got multiple values for argument '{name}'"
            )));
        }
        values[index] = Some(value);
    }
    let missing: Vec<&str> = params
        .iter()
        .zip(&values)
        .filter(|(param, value)| !param.optional && value.is_none())
        .map(|(param, _)| param.name)
        .collect();
    if !missing.is_empty() {
        return Err(invalid(format!(
            "{task}() missing {} required {}: {}",
            missing.len(),
            plural(missing.len(), "argument", "arguments"),
            quoted_list(&missing)
        )));
    }
    Ok(Bound {
        task,
        params,
        values,
    })
}

impl Bound {
    /// Deserialises the value bound to parameter `index` (JSON `null` when an
    /// optional parameter was omitted).
    pub fn take<T: DeserializeOwned>(&mut self, index: usize) -> Result<T, TaskError> {
        let value = self.values[index].take().unwrap_or(Value::Null);
        T::deserialize(value).map_err(|error| {
            invalid(format!(
                "argument '{}' of {}(): {error}",
                self.params[index].name, self.task
            ))
        })
    }
}

fn parse_args(args: &str) -> Result<Vec<Value>, TaskError> {
    match serde_json::from_str(args) {
        Ok(Value::Array(values)) => Ok(values),
        Ok(other) => Err(invalid(format!(
            "args must be a JSON array: got {}",
            kind(&other)
        ))),
        Err(error) => Err(invalid(format!("args must be a JSON array: {error}"))),
    }
}

fn parse_kwargs(kwargs: &str) -> Result<Map<String, Value>, TaskError> {
    match serde_json::from_str(kwargs) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(invalid(format!(
            "kwargs must be a JSON object: got {}",
            kind(&other)
        ))),
        Err(error) => Err(invalid(format!("kwargs must be a JSON object: {error}"))),
    }
}

fn too_many_positional(task: &str, params: &[Param], given: usize) -> TaskError {
    let total = params.len();
    let required = params.iter().filter(|param| !param.optional).count();
    let takes = if required == total {
        format!(
            "{total} positional {}",
            plural(total, "argument", "arguments")
        )
    } else {
        format!("from {required} to {total} positional arguments")
    };
    let given_verb = plural(given, "was", "were");
    invalid(format!(
        "{task}() takes {takes} but {given} {given_verb} given"
    ))
}

fn invalid(message: String) -> TaskError {
    TaskError {
        exception_class_path: INVALID_ARGUMENTS.to_string(),
        message,
        detail: String::new(),
    }
}

fn plural(count: usize, one: &'static str, many: &'static str) -> &'static str {
    if count == 1 { one } else { many }
}

/// `'a'`, `'a' and 'b'`, `'a', 'b', and 'c'`: Python's way of listing names.
fn quoted_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("'{name}'")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [first, second] => format!("{first} and {second}"),
        [init @ .., last] => format!("{}, and {last}", init.join(", ")),
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

    fn message(result: Result<Bound, TaskError>) -> String {
        let error = result.expect_err("binding should fail");
        assert_eq!(error.exception_class_path, INVALID_ARGUMENTS);
        error.message
    }

    #[test]
    fn lists_names_like_python() {
        assert_eq!(quoted_list(&["a"]), "'a'");
        assert_eq!(quoted_list(&["a", "b"]), "'a' and 'b'");
        assert_eq!(quoted_list(&["a", "b", "c"]), "'a', 'b', and 'c'");
    }

    #[test]
    fn reports_every_missing_argument() {
        assert_eq!(
            message(bind("add", AB, "[]", "{}")),
            "add() missing 2 required arguments: 'a' and 'b'"
        );
    }

    #[test]
    fn counts_optional_parameters_as_a_range() {
        const PARAMS: &[Param] = &[
            Param {
                name: "a",
                optional: false,
            },
            Param {
                name: "b",
                optional: true,
            },
        ];
        assert_eq!(
            message(bind("f", PARAMS, "[1, 2, 3]", "{}")),
            "f() takes from 1 to 2 positional arguments but 3 were given"
        );
    }

    #[test]
    fn uses_singular_forms() {
        assert_eq!(
            message(bind("spin", &[], "[1]", "{}")),
            "spin() takes 0 positional arguments but 1 was given"
        );
        assert_eq!(
            message(bind("one", &AB[..1], "[1, 2]", "{}")),
            "one() takes 1 positional argument but 2 were given"
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
}
