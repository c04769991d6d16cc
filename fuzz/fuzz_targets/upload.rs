//! Any bytes uploaded as a component: stored, or refused with a clear error,
//! never a panic or an internal error. Seed the corpus with the examples.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmtasks::service::ErrorKind;
use wasmtasks::service::components::UploadRequest;
use wasmtasks_fuzz::{runtime, world};

fuzz_target!(|bytes: &[u8]| {
    let world = world();
    let uploaded = runtime().block_on(world.services.components().upload(
        &world.admin,
        UploadRequest {
            bytes: bytes.to_vec(),
            name: Some("fuzzed".to_owned()),
            allow_http: Vec::new(),
        },
    ));
    if let Err(error) = uploaded {
        assert_ne!(error.kind(), ErrorKind::Internal, "{error}");
    }
});
