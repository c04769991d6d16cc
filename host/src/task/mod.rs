//! The task model, named after Django's `django.tasks`: [`TaskResult`],
//! [`TaskStatus`], [`TaskError`], the per-attempt [`AttemptRecord`], task paths and
//! argument validation.

mod arguments;
pub mod path;
mod result;
mod status;

pub use arguments::{Arguments, ArgumentsError};
pub use path::{TaskPath, TaskPathError};
pub use result::{AttemptRecord, TaskError, TaskResult};
pub use status::TaskStatus;
pub use wasmtasks_sandbox::TaskContext;
