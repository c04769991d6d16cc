//! Checking a job's arguments against its task's recorded signature when it is
//! enqueued, so a call that cannot bind is refused before anything is stored
//! instead of failing on a worker. Arity and names are bound exactly as the guest
//! SDK binds them (`wasmtasks-signature`, so the refusals read the same); each
//! value is then checked against its parameter's JSON Schema with a validator
//! compiled once per task version (the `jsonschema` crate). A task whose
//! component records no signature (contract 0.1.0) is not checked here; the
//! guest still refuses a bad call when it runs.

use wasmtasks_sandbox::{ParamSpec, TaskDefinition};
use wasmtasks_signature::{Param, bind, wrong_value};

use crate::task::Arguments;

/// The compiled check of one task's arguments.
pub struct ArgumentCheck {
    task: String,
    params: Vec<CheckedParam>,
}

impl std::fmt::Debug for ArgumentCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArgumentCheck")
            .field("task", &self.task)
            .finish_non_exhaustive()
    }
}

struct CheckedParam {
    name: String,
    required: bool,
    /// `None` when the schema accepts any value (`{}` or `true`).
    validator: Option<jsonschema::Validator>,
}

impl Param for CheckedParam {
    fn name(&self) -> &str {
        &self.name
    }

    fn required(&self) -> bool {
        self.required
    }
}

impl ArgumentCheck {
    /// The check of `task`'s signature; `None` when it records none.
    pub fn compile(task: &TaskDefinition) -> Result<Option<ArgumentCheck>, String> {
        let Some(signature) = &task.signature else {
            return Ok(None);
        };
        let params = signature
            .params
            .iter()
            .map(|param| compile_param(&task.name, param))
            .collect::<Result<_, _>>()?;
        Ok(Some(ArgumentCheck {
            task: task.name.clone(),
            params,
        }))
    }

    /// Whether `arguments` bind to the parameters and each value fits its schema;
    /// the first problem, in the guest SDK's words, when not.
    pub fn check(&self, arguments: &Arguments) -> Result<(), String> {
        let bound = bind(
            &self.task,
            &self.params,
            arguments.args.iter().collect(),
            arguments.kwargs.iter(),
        )?;
        for (param, value) in self.params.iter().zip(bound) {
            let (Some(validator), Some(value)) = (&param.validator, value) else {
                continue;
            };
            if let Err(error) = validator.validate(value) {
                let location = error.instance_path().to_string();
                let problem = if location.is_empty() {
                    error.to_string()
                } else {
                    format!("at {location}: {error}")
                };
                return Err(wrong_value(&self.task, &param.name, &problem));
            }
        }
        Ok(())
    }
}

fn compile_param(task: &str, param: &ParamSpec) -> Result<CheckedParam, String> {
    let accepts_anything = match &param.schema {
        serde_json::Value::Bool(true) => true,
        serde_json::Value::Object(map) => map.keys().all(|key| key.starts_with('$')),
        _ => false,
    };
    let validator = if accepts_anything {
        None
    } else {
        Some(jsonschema::validator_for(&param.schema).map_err(|error| {
            format!(
                "task `{task}` declares an invalid JSON Schema for parameter `{}`: {error}",
                param.name
            )
        })?)
    };
    Ok(CheckedParam {
        name: param.name.clone(),
        required: param.required,
        validator,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wasmtasks_sandbox::{LimitOverrides, RetryPolicy, Signature};

    use super::*;

    fn task(params: Vec<(&str, bool, serde_json::Value)>) -> TaskDefinition {
        TaskDefinition {
            name: "add".into(),
            priority: 0,
            queue_name: "default".into(),
            takes_context: false,
            retry: RetryPolicy::default(),
            limits: LimitOverrides::default(),
            signature: Some(Signature {
                params: params
                    .into_iter()
                    .map(|(name, required, schema)| ParamSpec {
                        name: name.into(),
                        required,
                        schema,
                    })
                    .collect(),
                returns: json!({}),
            }),
        }
    }

    fn arguments(args: serde_json::Value, kwargs: serde_json::Value) -> Arguments {
        Arguments::from_values(args, kwargs).unwrap()
    }

    #[test]
    fn arity_names_and_types_are_checked_like_the_guest() {
        let integer = json!({"type": "integer"});
        let check = ArgumentCheck::compile(&task(vec![
            ("a", true, integer.clone()),
            ("b", true, integer),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(check.check(&arguments(json!([1]), json!({"b": 2}))), Ok(()));
        assert_eq!(
            check.check(&arguments(json!([1]), json!({}))).unwrap_err(),
            "add() missing 1 required argument: 'b'"
        );
        assert_eq!(
            check
                .check(&arguments(json!([1, 2, 3]), json!({})))
                .unwrap_err(),
            "add() takes 2 positional arguments but 3 were given"
        );
        assert_eq!(
            check
                .check(&arguments(json!([1, 2]), json!({"c": 1})))
                .unwrap_err(),
            "add() got an unexpected keyword argument 'c'"
        );
        let wrong = check
            .check(&arguments(json!(["x", 2]), json!({})))
            .unwrap_err();
        assert!(
            wrong.starts_with("argument 'a' of add(): \"x\" is not of type \"integer\""),
            "{wrong}"
        );
    }

    #[test]
    fn nested_problems_say_where() {
        let list = json!({"type": "array", "items": {"type": "number"}});
        let check = ArgumentCheck::compile(&task(vec![("values", true, list)]))
            .unwrap()
            .unwrap();
        let wrong = check
            .check(&arguments(json!([[1, "two"]]), json!({})))
            .unwrap_err();
        assert!(
            wrong.starts_with("argument 'values' of add(): at /1: "),
            "{wrong}"
        );
    }

    #[test]
    fn any_value_schemas_and_unsigned_tasks_check_only_what_they_can() {
        let check = ArgumentCheck::compile(&task(vec![("x", false, json!({}))]))
            .unwrap()
            .unwrap();
        assert_eq!(
            check.check(&arguments(json!([{"any": "thing"}]), json!({}))),
            Ok(())
        );
        assert_eq!(check.check(&arguments(json!([]), json!({}))), Ok(()));
        let mut unsigned = task(vec![]);
        unsigned.signature = None;
        assert!(ArgumentCheck::compile(&unsigned).unwrap().is_none());
    }

    #[test]
    fn a_broken_schema_is_refused_with_its_parameter() {
        let error = ArgumentCheck::compile(&task(vec![("a", true, json!({"type": "integr"}))]))
            .unwrap_err();
        assert!(error.contains("parameter `a`"), "{error}");
    }
}
