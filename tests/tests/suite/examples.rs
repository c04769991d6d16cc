//! Every example task through `wasmtasks run`, succeeding and failing as its
//! author intended.

use serde_json::json;
use wasmtasks_tests::Workspace;

#[test]
fn arith_add_takes_positional_and_negative_numbers() {
    let workspace = Workspace::new();
    let run = workspace.task("arith", "add", &["2", "3"]);
    assert_eq!(run.returned(), json!(5));
    let result = run.json();
    assert_eq!(result["task_path"], "arith.add");
    assert_eq!(result["args"], json!([2, 3]));
    assert_eq!(result["kwargs"], json!({}));
    assert_eq!(result["backend"], "immediate");
    assert_eq!(result["attempts"], 1);
    assert_eq!(result["worker_ids"].as_array().unwrap().len(), 1);

    let run = workspace.task("arith", "add", &["-7", "3"]);
    assert_eq!(run.returned(), json!(-4));
    assert_eq!(run.json()["args"], json!([-7, 3]));
}

#[test]
fn arith_add_binds_kwargs_alone_and_after_positionals() {
    let workspace = Workspace::new();
    let run = workspace.task("arith", "add", &["--kwargs", r#"{"a": 1, "b": 2}"#]);
    assert_eq!(run.returned(), json!(3));
    assert_eq!(run.json()["kwargs"], json!({"a": 1, "b": 2}));

    let run = workspace.task("arith", "add", &["2", "--kwargs", r#"{"b": -5}"#]);
    assert_eq!(run.returned(), json!(-3));
}

#[test]
fn arith_fib_computes_and_costs_more_fuel_for_larger_n() {
    let workspace = Workspace::new();
    let small = workspace.task("arith", "fib", &["10"]);
    assert_eq!(small.returned(), json!(55));
    let large = workspace.task("arith", "fib", &["20"]);
    assert_eq!(large.returned(), json!(6765));
    let fuel = |run: &wasmtasks_tests::Run| run.attempt()["fuel_consumed"].as_u64().unwrap();
    // fib(20) makes about 120 times the calls of fib(10).
    assert!(
        fuel(&large) > 50 * fuel(&small),
        "{} vs {}",
        fuel(&large),
        fuel(&small)
    );
}

#[test]
fn arith_sum_adds_floats_including_negatives_and_none() {
    let workspace = Workspace::new();
    let run = workspace.task("arith", "sum", &["[0.5, 1.5, 2.0]"]);
    assert_eq!(run.returned(), json!(4.0));
    let run = workspace.task("arith", "sum", &["[-1.5, 0.5]"]);
    assert_eq!(run.returned(), json!(-1.0));
    // Rust's float `sum` of nothing is -0.0; it compares equal to 0.
    let run = workspace.task("arith", "sum", &["--kwargs", r#"{"values": []}"#]);
    assert_eq!(run.returned().as_f64(), Some(0.0));
}

#[test]
fn welcome_renders_the_email_on_its_declared_queue_and_priority() {
    let workspace = Workspace::new();
    let run = workspace.task("welcome", "welcome", &["ada@example.com", "ada"]);
    let email = run.returned();
    assert_eq!(email["to"], "ada@example.com");
    assert_eq!(email["subject"], "Welcome, ada!");
    let body = email["body"].as_str().unwrap();
    assert!(body.starts_with("Hi ada,\n"), "{body}");
    let result = run.json();
    assert_eq!(result["task_path"], "welcome.welcome");
    assert_eq!(result["queue_name"], "emails");
    assert_eq!(result["priority"], 10);
}

#[test]
fn welcome_run_overrides_priority_and_queue() {
    let workspace = Workspace::new();
    let run = workspace.task(
        "welcome",
        "welcome",
        &[
            "--priority",
            "-5",
            "--queue",
            "bulk",
            "--kwargs",
            r#"{"user_email": "bo@example.com", "username": "bo"}"#,
        ],
    );
    assert_eq!(run.returned()["subject"], "Welcome, bo!");
    let result = run.json();
    assert_eq!(result["priority"], -5);
    assert_eq!(result["queue_name"], "bulk");
}

#[test]
fn welcome_without_at_fails_with_its_own_error_class() {
    let workspace = Workspace::new();
    let run = workspace.task("welcome", "welcome", &["nobody", "ada"]);
    let failure = run.failure();
    assert_eq!(failure.class, "welcome.WelcomeError");
    assert_eq!(
        failure.message(),
        r#"invalid email address "nobody": it has no '@'"#
    );
    let attempt = run.attempt();
    assert_eq!(attempt["status"], "FAILED");
    assert_eq!(
        attempt["error"]["exception_class_path"],
        "welcome.WelcomeError"
    );
}

#[test]
fn flaky_succeeds_when_n_is_the_first_attempt() {
    let workspace = Workspace::new();
    let run = workspace.task("flaky", "until_attempt", &["1"]);
    assert_eq!(run.returned(), json!("succeeded on attempt 1"));
}

#[test]
fn flaky_fails_transiently_on_attempt_one_of_two() {
    let workspace = Workspace::new();
    let run = workspace.task("flaky", "until_attempt", &["--kwargs", r#"{"n": 2}"#]);
    let failure = run.failure();
    assert_eq!(failure.class, "flaky.TransientError");
    // The attempt number comes from the context the host passes: the first attempt.
    assert_eq!(
        failure.message(),
        "attempt 1 failed: this task only succeeds from attempt 2 on"
    );
    assert_eq!(run.json()["attempts"], 1);
}
