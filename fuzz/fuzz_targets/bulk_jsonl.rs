//! A bulk enqueue file of any text, read as `wasmtasks enqueue --file` reads it
//! (one job per line) and checked by the services as a bulk enqueue is: every
//! line is taken or refused with a message, never a panic or an internal error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmtasks::enqueue::{EnqueueRequest, JobSpec};
use wasmtasks::service::ErrorKind;
use wasmtasks_fuzz::{runtime, world};

fuzz_target!(|text: &str| {
    let world = world();
    let requests: Vec<EnqueueRequest> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .filter_map(|line| serde_json::from_str::<JobSpec>(line).ok())
        .map(EnqueueRequest::from)
        .collect();
    if requests.is_empty() {
        return;
    }
    let checked = runtime().block_on(world.services.jobs().validate_many(&world.admin, requests));
    if let Err(error) = checked {
        assert_ne!(error.kind(), ErrorKind::Internal, "{error}");
    }
});
