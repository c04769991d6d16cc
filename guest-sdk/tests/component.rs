//! Drives a small `#[component]` through the functions the host calls
//! (`Component::describe` / `Component::run`), natively.

use std::fmt;

use serde_json::{Value, json};
use wasmtasks_guest::bindings::exports::wasmtasks::task::tasks::Guest;
use wasmtasks_guest::{Limits, RetryPolicy, RunError, TaskContext, TaskError};

/// An error with a cause, as a task would report one.
#[derive(Debug)]
pub enum Failure {
    /// Fails with a message and a cause.
    Because(&'static str, &'static str),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Failure::Because(message, cause) = self;
        if f.alternate() {
            write!(f, "{message}: {cause}")
        } else {
            f.write_str(message)
        }
    }
}

#[wasmtasks_guest::component]
mod tasks {
    use super::Failure;
    use serde::Serialize;
    use wasmtasks_guest::{TaskContext, task};

    #[task]
    pub fn add(a: i64, b: i64) -> i64 {
        a + b
    }

    #[task(priority = -5, queue_name = "emails")]
    pub fn greet(name: String, greeting: Option<String>) -> String {
        format!("{}, {name}!", greeting.as_deref().unwrap_or("Hello"))
    }

    #[wasmtasks_guest::task(takes_context, max_attempts = 5, backoff_factor = 2.0)]
    pub fn attempt(context: &TaskContext, label: String) -> String {
        format!("{label} #{} of {}", context.attempt, context.task_path)
    }

    #[task(fuel = 1_000_000, timeout_ms = 5000, memory_bytes = 67108864)]
    pub fn fail(fail: bool) -> Result<u8, Failure> {
        if fail {
            Err(Failure::Because("it broke", "disk on fire"))
        } else {
            Ok(7)
        }
    }

    #[derive(Serialize)]
    pub struct Pair {
        pub left: Vec<u8>,
        pub right: Option<f64>,
    }

    #[task]
    pub fn pair(r#type: u8) -> Pair {
        Pair {
            left: vec![r#type],
            right: None,
        }
    }

    #[task]
    pub fn keyed() -> std::collections::HashMap<(u8, u8), u8> {
        std::collections::HashMap::from([((1, 2), 3)])
    }
}

use tasks::Pair;

fn run(task: &str, args: &str, kwargs: &str) -> Result<String, RunError> {
    Component::run(task, args, kwargs, None)
}

fn invalid(task: &str, args: &str, kwargs: &str) -> String {
    match run(task, args, kwargs).expect_err("the call should be rejected") {
        RunError::InvalidArguments(message) => message,
        other => panic!("not an argument error: {other:?}"),
    }
}

fn schema(text: &str) -> Value {
    serde_json::from_str(text).expect("a schema is JSON")
}

fn context(attempt: u32) -> TaskContext {
    TaskContext {
        task_result_id: "0193".to_string(),
        attempt,
        task_path: "component.attempt".to_string(),
        queue_name: "default".to_string(),
        priority: 0,
    }
}

#[test]
fn functions_stay_plain_functions() {
    assert_eq!(tasks::add(2, 3), 5);
    assert_eq!(tasks::greet("Ada".into(), None), "Hello, Ada!");
    assert_eq!(
        tasks::attempt(&context(2), "x".into()),
        "x #2 of component.attempt"
    );
    let Pair { left, right } = tasks::pair(4);
    assert_eq!((left, right), (vec![4], None));
}

#[test]
fn describes_every_task_with_its_declared_defaults() {
    let description = <Component as Guest>::describe();
    assert_eq!(description.name, "component", "the crate's name");
    let definitions = description.tasks;
    let names: Vec<&str> = definitions.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["add", "greet", "attempt", "fail", "pair", "keyed"]);
    let add = &definitions[0];
    assert_eq!(
        (
            add.priority,
            add.queue_name.as_str(),
            add.takes_context,
            add.retry,
            add.limits
        ),
        (
            0,
            "default",
            false,
            RetryPolicy::default(),
            Limits::default()
        )
    );
    assert_eq!(
        (definitions[1].priority, definitions[1].queue_name.as_str()),
        (-5, "emails")
    );
    assert!(definitions[2].takes_context);
    assert_eq!(
        definitions[2].retry,
        RetryPolicy {
            max_attempts: Some(5),
            backoff_factor: Some(2.0)
        }
    );
    assert_eq!(
        definitions[3].limits,
        Limits {
            fuel: Some(1_000_000),
            timeout_ms: Some(5000),
            memory_bytes: Some(67_108_864)
        }
    );
}

#[test]
fn records_each_signature_with_json_schemas() {
    let tasks = Component::describe().tasks;
    let add = &tasks[0];
    let params: Vec<(&str, bool)> = add
        .params
        .iter()
        .map(|p| (p.name.as_str(), p.required))
        .collect();
    assert_eq!(params, [("a", true), ("b", true)]);
    assert_eq!(schema(&add.params[0].schema)["type"], "integer");
    assert_eq!(schema(&add.returns)["type"], "integer");
    let greet = &tasks[1];
    assert!(!greet.params[1].required, "an Option may be left out");
    assert_eq!(
        schema(&greet.params[1].schema)["type"],
        json!(["string", "null"])
    );
    // The context is not a parameter; a `Result` returns its `Ok` type.
    assert_eq!(tasks[2].params.len(), 1);
    assert_eq!(schema(&tasks[3].returns)["type"], "integer");
    // A raw identifier is its plain name; a type without `JsonSchema` takes anything.
    assert_eq!(tasks[4].params[0].name, "type");
    assert_eq!(schema(&tasks[4].returns), json!({}));
    assert!(tasks[5].params.is_empty());
}

#[test]
fn binds_positional_and_keyword_arguments() {
    assert_eq!(run("add", "[2, 3]", "{}").unwrap(), "5");
    assert_eq!(run("add", "[2]", r#"{"b": 3}"#).unwrap(), "5");
    assert_eq!(run("add", "[]", r#"{"b": 3, "a": 2}"#).unwrap(), "5");
    assert_eq!(
        <Component as Guest>::run("add".into(), "[1, 1]".into(), "{}".into(), None).unwrap(),
        "2"
    );
}

#[test]
fn option_parameters_may_be_omitted() {
    assert_eq!(
        run("greet", r#"["Ada"]"#, "{}").unwrap(),
        r#""Hello, Ada!""#
    );
    assert_eq!(
        run("greet", r#"["Ada", null]"#, "{}").unwrap(),
        r#""Hello, Ada!""#
    );
    assert_eq!(
        run("greet", "[]", r#"{"name": "Ada", "greeting": "Hi"}"#).unwrap(),
        r#""Hi, Ada!""#
    );
    assert_eq!(
        invalid("greet", "[]", "{}"),
        "greet() missing 1 required argument: 'name'"
    );
    assert_eq!(
        invalid("greet", r#"["a", "b", "c"]"#, "{}"),
        "greet() takes from 1 to 2 positional arguments but 3 were given"
    );
}

#[test]
fn raw_identifiers_bind_by_their_plain_name() {
    assert_eq!(
        run("pair", "[]", r#"{"type": 9}"#).unwrap(),
        r#"{"left":[9],"right":null}"#
    );
}

#[test]
fn reports_binding_errors_like_python() {
    assert_eq!(
        invalid("add", "[1]", "{}"),
        "add() missing 1 required argument: 'b'"
    );
    assert_eq!(
        invalid("add", "[]", "{}"),
        "add() missing 2 required arguments: 'a' and 'b'"
    );
    assert_eq!(
        invalid("add", "[1, 2, 3]", "{}"),
        "add() takes 2 positional arguments but 3 were given"
    );
    assert_eq!(
        invalid("add", "[1, 2]", r#"{"c": 3}"#),
        "add() got an unexpected keyword argument 'c'"
    );
    assert_eq!(
        invalid("add", "[1, 2]", r#"{"a": 3}"#),
        "add() got multiple values for argument 'a'"
    );
    assert_eq!(
        invalid("add", r#"["x", 2]"#, "{}"),
        r#"argument 'a' of add(): invalid type: string "x", expected i64"#
    );
    assert_eq!(
        invalid("add", "[1]", r#"{"b": 1.5}"#),
        "argument 'b' of add(): invalid type: floating point `1.5`, expected i64"
    );
    assert_eq!(
        invalid("keyed", "[1]", "{}"),
        "keyed() takes 0 positional arguments but 1 was given"
    );
    assert_eq!(
        invalid("keyed", "[]", r#"{"x": 1}"#),
        "keyed() got an unexpected keyword argument 'x'"
    );
}

#[test]
fn reports_malformed_json() {
    assert_eq!(
        invalid("add", "[1,", "{}"),
        "args must be a JSON array: EOF while parsing a value at line 1 column 3"
    );
    assert_eq!(
        invalid("add", r#"{"a": 1}"#, "{}"),
        "args must be a JSON array: got an object"
    );
    assert_eq!(
        invalid("add", "[]", "nope"),
        "kwargs must be a JSON object: expected ident at line 1 column 2"
    );
    assert_eq!(
        invalid("add", "[]", "[]"),
        "kwargs must be a JSON object: got an array"
    );
}

#[test]
fn passes_the_context_to_tasks_that_take_it() {
    assert_eq!(
        Component::run("attempt", r#"["run"]"#, "{}", Some(context(3))).unwrap(),
        r#""run #3 of component.attempt""#
    );
    assert_eq!(
        invalid("attempt", "[]", "{}"),
        "attempt() missing 1 required argument: 'label'"
    );
    let error = Component::run("attempt", r#"["run"]"#, "{}", None).unwrap_err();
    assert_eq!(error.exception_class_path(), "wasmtasks.MissingContext");
    assert_eq!(
        error.message(),
        "attempt() takes a context but the host passed none"
    );
}

#[test]
fn errors_carry_their_type_path_message_and_detail() {
    assert_eq!(run("fail", "[false]", "{}").unwrap(), "7");
    let RunError::Failed(error) = run("fail", "[true]", "{}").unwrap_err() else {
        panic!("not the task's own error")
    };
    assert_eq!(
        error,
        TaskError {
            exception_class_path: "component.Failure".into(),
            message: "it broke".into(),
            detail: "it broke: disk on fire".into(),
        }
    );
    assert_eq!(
        wasmtasks_guest::error_class_path::<Failure>(),
        "component.Failure"
    );
}

#[test]
fn unserialisable_return_values_are_reported() {
    let error = run("keyed", "[]", "{}").unwrap_err();
    assert_eq!(error.exception_class_path(), "wasmtasks.InvalidReturnValue");
    assert_eq!(
        error.message(),
        "keyed() returned a value that cannot be serialised as JSON: key must be a string"
    );
}

#[test]
fn unknown_tasks_are_not_found() {
    let error = run("nope", "[]", "{}").unwrap_err();
    assert_eq!(error.exception_class_path(), "wasmtasks.TaskNotFound");
    assert_eq!(
        error.message(),
        "this component has no task named 'nope'; its tasks are: add, greet, attempt, fail, pair, keyed"
    );
}
