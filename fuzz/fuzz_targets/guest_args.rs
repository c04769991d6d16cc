//! The guest SDK binding a call's `args` and `kwargs` (any text) to a task's
//! parameters and deserialising them: it answers or refuses, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmtasks_guest::__private::{Param, bind};

static PARAMS: [Param; 3] = [
    Param {
        name: "a",
        optional: false,
    },
    Param {
        name: "title",
        optional: true,
    },
    Param {
        name: "values",
        optional: true,
    },
];

fuzz_target!(|input: &str| {
    let (args, kwargs) = input.split_once('\u{1}').unwrap_or((input, "{}"));
    if let Ok(mut bound) = bind("fuzz.task", &PARAMS, args, kwargs) {
        let _ = bound.take::<i64>(0);
        let _ = bound.take::<Option<String>>(1);
        let _ = bound.take::<Option<Vec<f64>>>(2);
    }
});
