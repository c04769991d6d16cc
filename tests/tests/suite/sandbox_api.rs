//! The sandbox library called directly: determinism, isolation between attempts,
//! its own limits and errors, and concurrency.

use std::sync::Arc;

use serde_json::json;
use wasmtasks_sandbox::{
    AttemptOutcome, AttemptReport, CacheStatus, Capabilities, Limits, Sandbox, SandboxConfig,
    SandboxError, TaskCall, TaskComponent, TaskContext,
};
use wasmtasks_tests::example;

fn call(task: &str, args: &str) -> TaskCall {
    TaskCall {
        task: task.to_owned(),
        args: args.to_owned(),
        kwargs: "{}".to_owned(),
        context: TaskContext {
            task_result_id: "result-1".to_owned(),
            attempt: 1,
            task_path: format!("example.{task}"),
            queue_name: "default".to_owned(),
            priority: 0,
        },
        capabilities: Capabilities::default(),
    }
}

async fn load(sandbox: &Sandbox, name: &str) -> Arc<TaskComponent> {
    sandbox
        .load_file(&example(name))
        .await
        .unwrap_or_else(|error| panic!("loading {name}: {error}"))
}

async fn run(sandbox: &Sandbox, component: &TaskComponent, call: &TaskCall) -> AttemptReport {
    sandbox
        .run(component, call, Limits::default())
        .await
        .expect("the call runs")
}

#[track_caller]
fn returned(report: &AttemptReport) -> &serde_json::Value {
    match &report.outcome {
        AttemptOutcome::Returned(value) => value,
        AttemptOutcome::Failed(failure) => panic!("the attempt failed: {failure:?}"),
    }
}

#[tokio::test]
async fn fuel_is_deterministic_and_metrics_are_recorded() {
    let sandbox = Sandbox::new(SandboxConfig::default()).unwrap();
    let arith = load(&sandbox, "arith").await;
    let fib = call("fib", "[15]");
    let first = run(&sandbox, &arith, &fib).await;
    let second = run(&sandbox, &arith, &fib).await;
    assert_eq!(returned(&first), &json!(610));
    assert_eq!(returned(&second), &json!(610));
    assert_eq!(first.metrics.fuel_consumed, second.metrics.fuel_consumed);
    assert!(first.metrics.fuel_consumed > 0);
    assert!(first.metrics.peak_memory_bytes >= 64 << 10);
    assert!(first.metrics.duration_us > 0);
    assert_eq!((first.stdout.as_str(), first.stderr.as_str()), ("", ""));
}

#[tokio::test]
async fn every_attempt_gets_a_fresh_instance() {
    let sandbox = Sandbox::new(SandboxConfig::default()).unwrap();
    let hostile = load(&sandbox, "hostile").await;
    let counter = call("counter", "[]");
    for _ in 0..3 {
        assert_eq!(
            returned(&run(&sandbox, &hostile, &counter).await),
            &json!(1)
        );
    }
}

#[tokio::test]
async fn the_context_reaches_tasks_that_take_it() {
    let sandbox = Sandbox::new(SandboxConfig::default()).unwrap();
    let flaky = load(&sandbox, "flaky").await;
    let mut until = call("until_attempt", "[3]");
    until.context.attempt = 3;
    let report = run(&sandbox, &flaky, &until).await;
    assert_eq!(returned(&report), &json!("succeeded on attempt 3"));
    until.context.attempt = 2;
    match run(&sandbox, &flaky, &until).await.outcome {
        AttemptOutcome::Failed(failure) => {
            assert_eq!(failure.exception_class_path, "flaky.TransientError");
            assert_eq!(
                failure.message,
                "attempt 2 failed: this task only succeeds from attempt 3 on"
            );
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_return_value_over_the_limit_is_invalid() {
    let sandbox = Sandbox::new(SandboxConfig {
        max_return_bytes: 16,
        ..SandboxConfig::default()
    })
    .unwrap();
    let welcome = load(&sandbox, "welcome").await;
    let report = run(&sandbox, &welcome, &call("welcome", r#"["a@b.c", "a"]"#)).await;
    match report.outcome {
        AttemptOutcome::Failed(failure) => {
            assert_eq!(failure.exception_class_path, "wasmtasks.InvalidReturnValue");
            assert!(
                failure.message.ends_with("bytes; the limit is 16"),
                "{failure:?}"
            );
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    // A small value still fits.
    let arith = load(&sandbox, "arith").await;
    assert_eq!(
        returned(&run(&sandbox, &arith, &call("add", "[2, 3]")).await),
        &json!(5)
    );
}

#[tokio::test]
async fn output_is_capped_at_the_configured_size() {
    let sandbox = Sandbox::new(SandboxConfig {
        output_cap: 100,
        ..SandboxConfig::default()
    })
    .unwrap();
    let hostile = load(&sandbox, "hostile").await;
    let report = run(&sandbox, &hostile, &call("flood", r#"["stdout", 1000]"#)).await;
    assert_eq!(returned(&report), &json!(1000));
    assert!(
        report.stdout.contains("\n[... 900 bytes truncated ...]\n"),
        "{}",
        report.stdout
    );
    assert_eq!(
        report.stdout.len(),
        100 + "\n[... 900 bytes truncated ...]\n".len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_attempts_all_succeed() {
    let sandbox = Arc::new(Sandbox::new(SandboxConfig::default()).unwrap());
    let arith = load(&sandbox, "arith").await;
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..32_i64 {
        let (sandbox, arith) = (Arc::clone(&sandbox), Arc::clone(&arith));
        attempts.spawn(async move {
            let report = run(&sandbox, &arith, &call("add", &format!("[{i}, {i}]"))).await;
            (i, returned(&report).clone())
        });
    }
    let mut seen = Vec::new();
    while let Some(joined) = attempts.join_next().await {
        let (i, value) = joined.expect("the attempt task does not panic");
        assert_eq!(value, json!(2 * i));
        seen.push(i);
    }
    seen.sort();
    assert_eq!(seen, (0..32).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attempts_beyond_the_pool_wait_for_a_slot() {
    let sandbox = Arc::new(
        Sandbox::new(SandboxConfig {
            pool_slots: 2,
            ..SandboxConfig::default()
        })
        .unwrap(),
    );
    let arith = load(&sandbox, "arith").await;
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..8_i64 {
        let (sandbox, arith) = (Arc::clone(&sandbox), Arc::clone(&arith));
        attempts.spawn(async move {
            let report = run(&sandbox, &arith, &call("fib", &format!("[{}]", 10 + i))).await;
            returned(&report).as_u64().unwrap()
        });
    }
    let mut results = attempts.join_all().await;
    results.sort();
    assert_eq!(results, [55, 89, 144, 233, 377, 610, 987, 1597]);
}

#[tokio::test]
async fn a_memory_limit_above_the_maximum_is_refused() {
    let sandbox = Sandbox::new(SandboxConfig::default()).unwrap();
    let arith = load(&sandbox, "arith").await;
    let limits = Limits {
        memory_bytes: 2 << 30,
        ..Limits::default()
    };
    let error = sandbox
        .run(&arith, &call("add", "[1, 2]"), limits)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            SandboxError::LimitTooHigh {
                what: "a memory limit",
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "a memory limit of 2147483648 bytes is above this sandbox's maximum of 1073741824 bytes"
    );
}

#[tokio::test]
async fn an_unknown_task_is_an_error_listing_the_tasks() {
    let sandbox = Sandbox::new(SandboxConfig::default()).unwrap();
    let arith = load(&sandbox, "arith").await;
    let error = sandbox
        .run(&arith, &call("mul", "[1, 2]"), Limits::default())
        .await
        .unwrap_err();
    match error {
        SandboxError::UnknownTask { task, available } => {
            assert_eq!(task, "mul");
            assert_eq!(available, "add, fib, sum");
        }
        other => panic!("expected UnknownTask, got {other:?}"),
    }
}

#[tokio::test]
async fn loading_the_same_bytes_twice_returns_the_same_component() {
    let sandbox = Sandbox::new(SandboxConfig::default()).unwrap();
    let bytes = std::fs::read(example("arith")).unwrap();
    let first = sandbox.load(bytes.clone()).await.unwrap();
    let second = sandbox.load(bytes.clone()).await.unwrap();
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(first.digest(), wasmtasks_sandbox::digest(&bytes));
    assert_eq!(first.size_bytes(), bytes.len());
    assert_eq!(first.cache_status(), CacheStatus::Disabled);
    let loaded = sandbox.loaded(first.digest()).expect("it is loaded");
    assert!(Arc::ptr_eq(&first, &loaded));
    let names: Vec<&str> = first.tasks().iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["add", "fib", "sum"]);
}

#[tokio::test]
async fn a_new_sandbox_reads_what_another_compiled_into_the_cache() {
    let cache = tempfile::tempdir().unwrap();
    let config = SandboxConfig {
        cache_dir: Some(cache.path().to_owned()),
        ..SandboxConfig::default()
    };
    let first = Sandbox::new(config.clone()).unwrap();
    assert_eq!(
        load(&first, "welcome").await.cache_status(),
        CacheStatus::Miss
    );
    let second = Sandbox::new(config).unwrap();
    let welcome = load(&second, "welcome").await;
    assert_eq!(welcome.cache_status(), CacheStatus::Hit);
    let report = run(&second, &welcome, &call("welcome", r#"["a@b.c", "a"]"#)).await;
    assert_eq!(returned(&report)["subject"], "Welcome, a!");
}

#[tokio::test]
async fn bytes_that_are_no_task_component_are_refused() {
    let sandbox = Sandbox::new(SandboxConfig::default()).unwrap();
    let error = sandbox.load(b"not wasm".to_vec()).await.unwrap_err();
    assert!(matches!(error, SandboxError::NotWasm), "{error:?}");
    let error = sandbox.load(b"\0asm\x01\0\0\0".to_vec()).await.unwrap_err();
    assert!(matches!(error, SandboxError::CoreModule), "{error:?}");
    let error = sandbox
        .load(b"\0asm\x0d\0\x01\0".to_vec())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SandboxError::WrongWorld { found, .. } if found == "nothing"),
        "{error:?}"
    );
    let mut truncated = std::fs::read(example("arith")).unwrap();
    truncated.truncate(truncated.len() / 2);
    let error = sandbox.load(truncated).await.unwrap_err();
    assert!(matches!(error, SandboxError::Invalid(_)), "{error:?}");
}

/// `bytes` with a custom section appended: the same code, another digest.
fn variant(bytes: &[u8], n: u32) -> Vec<u8> {
    let name = b"wasmtasks-test-variant";
    let payload = n.to_le_bytes();
    let size = 1 + name.len() + payload.len();
    assert!(size < 128 && name.len() < 128, "one-byte LEB128 lengths");
    let mut out = bytes.to_vec();
    out.extend([0, size as u8, name.len() as u8]);
    out.extend(name);
    out.extend(payload);
    out
}

#[tokio::test]
async fn loaded_components_stay_within_their_budget_and_come_back_when_needed() {
    let budget = 4 << 20;
    let sandbox = Sandbox::new(SandboxConfig {
        max_loaded_bytes: budget,
        ..SandboxConfig::default()
    })
    .unwrap();
    let arith = std::fs::read(example("arith")).unwrap();
    let mut first = None;
    for n in 0..24 {
        let component = sandbox.load(variant(&arith, n)).await.unwrap();
        let (count, bytes) = sandbox.loaded_usage();
        assert!(
            bytes <= budget || count == 1,
            "{count} loaded, {bytes} bytes"
        );
        assert_eq!(
            returned(&run(&sandbox, &component, &call("add", "[2, 3]")).await),
            &json!(5)
        );
        first.get_or_insert(component.digest().to_owned());
    }
    let (count, _) = sandbox.loaded_usage();
    assert!((1..24).contains(&count), "{count} of 24 still loaded");
    // The first was let go, and loads (and runs) again.
    let first = first.unwrap();
    assert!(sandbox.loaded(&first).is_none());
    let again = sandbox.load(variant(&arith, 0)).await.unwrap();
    assert_eq!(again.digest(), first);
    assert_eq!(
        returned(&run(&sandbox, &again, &call("add", "[1, 1]")).await),
        &json!(2)
    );
}
