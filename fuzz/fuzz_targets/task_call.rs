//! Any `args` and `kwargs` text into a real task through the sandbox (JSON into
//! the guest over WIT, the return value back out): the attempt returns or fails
//! with a class, and the host never errors or panics.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use wasmtasks_fuzz::{example, runtime};
use wasmtasks_sandbox::{
    AttemptOutcome, Capabilities, Limits, Sandbox, SandboxConfig, TaskCall, TaskComponent,
    TaskContext,
};

const TASKS: [&str; 3] = ["add", "fib", "sum"];

fn loaded() -> &'static (Sandbox, Arc<TaskComponent>) {
    static LOADED: OnceLock<(Sandbox, Arc<TaskComponent>)> = OnceLock::new();
    LOADED.get_or_init(|| {
        let sandbox = Sandbox::new(SandboxConfig::default()).expect("a sandbox");
        let arith = runtime()
            .block_on(sandbox.load(example("arith")))
            .expect("arith loads");
        (sandbox, arith)
    })
}

fuzz_target!(|input: &str| {
    let Some(pick) = input.chars().next() else {
        return;
    };
    let rest = &input[pick.len_utf8()..];
    let (args, kwargs) = rest.split_once('\u{1}').unwrap_or((rest, "{}"));
    let task = TASKS[(pick as usize) % TASKS.len()];
    let (sandbox, arith) = loaded();
    let call = TaskCall {
        task: task.to_owned(),
        args: args.to_owned(),
        kwargs: kwargs.to_owned(),
        context: TaskContext {
            task_result_id: "fuzz".to_owned(),
            attempt: 1,
            task_path: format!("arith.{task}"),
            queue_name: "default".to_owned(),
            priority: 0,
        },
        capabilities: Capabilities::default(),
    };
    let limits = Limits {
        fuel: 50_000_000,
        ..Limits::default()
    };
    let report = runtime()
        .block_on(sandbox.run(arith, &call, limits))
        .expect("the host runs the attempt");
    if let AttemptOutcome::Failed(failure) = report.outcome {
        assert!(!failure.exception_class_path.is_empty());
    }
});
