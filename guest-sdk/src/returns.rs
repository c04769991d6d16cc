//! Turns what a task function returns into the JSON text or [`RunError`] the
//! host receives.

use std::fmt::Display;

use serde::Serialize;

use crate::{RunError, TaskError};

/// Serialises a task's return value to JSON text.
pub fn value<T: Serialize>(task: &str, value: T) -> Result<String, RunError> {
    serde_json::to_string(&value).map_err(|error| {
        RunError::InvalidReturnValue(format!(
            "{task}() returned a value that cannot be serialised as JSON: {error}"
        ))
    })
}

/// Serialises the `Ok` value of a task returning `Result`, or reports its `Err`.
pub fn result<T: Serialize, E: Display>(
    task: &str,
    result: Result<T, E>,
) -> Result<String, RunError> {
    match result {
        Ok(ok) => value(task, ok),
        Err(error) => Err(RunError::Failed(task_error(&error))),
    }
}

/// The `TaskError` reporting `error`: its class path, `to_string()` and `{:#}` detail.
pub fn task_error<E: Display>(error: &E) -> TaskError {
    let message = error.to_string();
    let alternate = format!("{error:#}");
    TaskError {
        exception_class_path: error_class_path::<E>(),
        detail: if alternate == message {
            String::new()
        } else {
            alternate
        },
        message,
    }
}

/// The dotted class path reported for errors of type `E`:
/// `welcome::WelcomeError` becomes `welcome.WelcomeError` (generic parameters dropped).
pub fn error_class_path<E: ?Sized>() -> String {
    let name = std::any::type_name::<E>();
    let name = name.split_once('<').map_or(name, |(path, _generics)| path);
    name.replace("::", ".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::fmt;

    #[derive(Debug)]
    struct Chained;

    impl Display for Chained {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            if f.alternate() {
                f.write_str("outer: inner cause")
            } else {
                f.write_str("outer")
            }
        }
    }

    #[test]
    fn class_path_keeps_the_crate_and_drops_generics() {
        assert_eq!(
            error_class_path::<Chained>(),
            "wasmtasks_guest.returns.tests.Chained"
        );
        assert_eq!(error_class_path::<Vec<String>>(), "alloc.vec.Vec");
        assert_eq!(error_class_path::<std::io::Error>(), "std.io.error.Error");
    }

    #[test]
    fn detail_is_the_alternate_form_only_when_it_differs() {
        let error = task_error(&Chained);
        assert_eq!(error.message, "outer");
        assert_eq!(error.detail, "outer: inner cause");
        let plain = task_error(&"plain");
        assert_eq!(plain.exception_class_path, "&str");
        assert_eq!(plain.detail, "");
    }

    #[test]
    fn unserialisable_values_are_reported() {
        let map: HashMap<(u8, u8), u8> = HashMap::from([((1, 2), 3)]);
        let RunError::InvalidReturnValue(message) =
            value("pairs", map).expect_err("tuple keys are not JSON")
        else {
            panic!("not a return-value error")
        };
        assert!(
            message.starts_with("pairs() returned a value that cannot be serialised as JSON: ")
        );
    }
}
