//! Binding a call's `args` (JSON array) and `kwargs` (JSON object) to a task's
//! parameters, the way Python binds a call to a function's signature, with
//! Python's `TypeError` wording. The guest SDK binds with it inside the sandbox
//! and the host checks enqueued jobs with it, so both word a refusal alike.
//!
//! ```
//! use serde_json::json;
//! use wasmtasks_signature::{Parameter, bind};
//!
//! let params = [Parameter::new("a", true), Parameter::new("b", true)];
//! let kwargs = json!({"b": 2});
//! let bound = bind("add", &params, vec![json!(1)], kwargs.as_object().unwrap().clone());
//! assert_eq!(bound.unwrap(), vec![Some(json!(1)), Some(json!(2))]);
//! let error = bind("add", &params, vec![], serde_json::Map::new()).unwrap_err();
//! assert_eq!(error, "add() missing 2 required arguments: 'a' and 'b'");
//! ```

#![warn(missing_docs)]

use serde_json::Value;

/// What binding needs of one parameter: its name (also its keyword) and whether
/// a call must give it.
pub trait Param {
    /// The parameter's name, which is also its keyword.
    fn name(&self) -> &str;
    /// Whether a call must give a value for it.
    fn required(&self) -> bool;
}

/// A parameter by name and requiredness, for callers with no type of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parameter<'a> {
    name: &'a str,
    required: bool,
}

impl<'a> Parameter<'a> {
    /// A parameter called `name`.
    pub const fn new(name: &'a str, required: bool) -> Self {
        Parameter { name, required }
    }
}

impl Param for Parameter<'_> {
    fn name(&self) -> &str {
        self.name
    }

    fn required(&self) -> bool {
        self.required
    }
}

/// Binds `args` and `kwargs` to `params`: the value of each parameter, in order
/// (`None` for an optional one the call leaves out), or the refusal in Python's
/// words, naming `task`. Values are moved, not read: pass owned JSON values, or
/// references to check a call without copying it.
pub fn bind<P, V, K>(
    task: &str,
    params: &[P],
    args: Vec<V>,
    kwargs: impl IntoIterator<Item = (K, V)>,
) -> Result<Vec<Option<V>>, String>
where
    P: Param,
    K: AsRef<str>,
{
    if args.len() > params.len() {
        return Err(too_many_positional(task, params, args.len()));
    }
    let mut values: Vec<Option<V>> = args.into_iter().map(Some).collect();
    values.resize_with(params.len(), || None);
    for (name, value) in kwargs {
        let name = name.as_ref();
        let Some(index) = params.iter().position(|param| param.name() == name) else {
            return Err(format!(
                "{task}() got an unexpected keyword argument '{name}'"
            ));
        };
        if values[index].is_some() {
            return Err(format!(
                "{task}() got multiple values for argument '{name}'"
            ));
        }
        values[index] = Some(value);
    }
    let missing: Vec<&str> = params
        .iter()
        .zip(&values)
        .filter(|(param, value)| param.required() && value.is_none())
        .map(|(param, _)| param.name())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{task}() missing {} required {}: {}",
            missing.len(),
            plural(missing.len(), "argument", "arguments"),
            quoted_list(&missing)
        ));
    }
    Ok(values)
}

/// The refusal of a value that does not fit parameter `name` of `task`.
pub fn wrong_value(task: &str, name: &str, problem: &str) -> String {
    format!("argument '{name}' of {task}(): {problem}")
}

fn too_many_positional<P: Param>(task: &str, params: &[P], given: usize) -> String {
    let total = params.len();
    let required = params.iter().filter(|param| param.required()).count();
    let takes = if required == total {
        format!(
            "{total} positional {}",
            plural(total, "argument", "arguments")
        )
    } else {
        format!("from {required} to {total} positional arguments")
    };
    let given_verb = plural(given, "was", "were");
    format!("{task}() takes {takes} but {given} {given_verb} given")
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

/// The kind of a JSON value in words (`an object`), for refusals.
pub fn kind(value: &Value) -> &'static str {
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

    const AB: &[Parameter<'static>] = &[Parameter::new("a", true), Parameter::new("b", true)];

    fn refusal(params: &[Parameter<'_>], args: Value, kwargs: Value) -> String {
        let Value::Array(args) = args else { panic!() };
        let Value::Object(kwargs) = kwargs else {
            panic!()
        };
        bind("f", params, args.iter().collect(), kwargs.iter()).expect_err("binding should fail")
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
            refusal(AB, json!([]), json!({})),
            "f() missing 2 required arguments: 'a' and 'b'"
        );
        assert_eq!(
            refusal(AB, json!([1]), json!({})),
            "f() missing 1 required argument: 'b'"
        );
    }

    #[test]
    fn counts_optional_parameters_as_a_range() {
        let params = [Parameter::new("a", true), Parameter::new("b", false)];
        assert_eq!(
            refusal(&params, json!([1, 2, 3]), json!({})),
            "f() takes from 1 to 2 positional arguments but 3 were given"
        );
        let Value::Object(none) = json!({}) else {
            panic!()
        };
        assert_eq!(
            bind("f", &params, vec![json!(1)], none).unwrap(),
            vec![Some(json!(1)), None]
        );
        let one = json!(1);
        let by_reference = bind("f", &params, vec![&one], Vec::<(&str, &Value)>::new());
        assert_eq!(by_reference.unwrap(), vec![Some(&one), None]);
    }

    #[test]
    fn uses_singular_forms() {
        assert_eq!(
            refusal(&[], json!([1]), json!({})),
            "f() takes 0 positional arguments but 1 was given"
        );
        assert_eq!(
            refusal(&AB[..1], json!([1, 2]), json!({})),
            "f() takes 1 positional argument but 2 were given"
        );
    }

    #[test]
    fn refuses_unknown_and_repeated_keywords() {
        assert_eq!(
            refusal(AB, json!([1]), json!({"c": 3})),
            "f() got an unexpected keyword argument 'c'"
        );
        assert_eq!(
            refusal(AB, json!([1]), json!({"a": 3})),
            "f() got multiple values for argument 'a'"
        );
    }

    #[test]
    fn wrong_values_name_the_parameter() {
        assert_eq!(
            wrong_value("add", "a", "expected an integer, got a string"),
            "argument 'a' of add(): expected an integer, got a string"
        );
    }
}
