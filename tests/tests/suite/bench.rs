//! `wasmtasks bench` end to end with tiny workloads: every figure its report
//! promises is there and was measured. The figures themselves are not judged
//! (performance is reported by benchmarks, never asserted by tests).

use serde_json::Value;
use wasmtasks_tests::postgres::{TestDatabase, server_url};
use wasmtasks_tests::{Workspace, example};

/// The median `key` of `report`, which must be a positive number.
#[track_caller]
fn positive(report: &Value, key: &str) -> f64 {
    let value = report["median"][key]
        .as_f64()
        .unwrap_or_else(|| panic!("no median {key} in {report:#}"));
    assert!(value > 0.0, "median {key} is {value}: {report:#}");
    value
}

#[test]
fn bench_reports_latency_as_clients_see_it_and_an_idle_workers_cpu() {
    let workspace = Workspace::new();
    let arith = example("arith");
    let run = workspace.run(&[
        "bench",
        "--component",
        arith.to_str().unwrap(),
        "--jobs",
        "100",
        "--latency-jobs",
        "5",
        "--runs",
        "1",
        "--idle-seconds",
        "1",
    ]);
    run.expect_code(0);
    let report = run.json();
    for key in [
        "processing_jobs_per_second",
        "w2_p50_ms",
        "w2_p99_ms",
        "w2_client_p50_ms",
        "w2_client_p99_ms",
        "w2_http_client_p50_ms",
        "w2_http_client_p99_ms",
        "idle_pickup_ms",
    ] {
        positive(&report, key);
    }
    let idle = report["median"]["idle_cpu_percent"].as_f64().unwrap();
    assert!((0.0..100.0).contains(&idle), "idle CPU {idle}%");
    assert_eq!(
        report["idle"][0]["idle_seconds"].as_f64().map(f64::round),
        Some(1.0)
    );
    // Each job's client time spans its store time (the enqueue call before, the
    // wait's answer after), so every percentile does too.
    let w2 = &report["w2"][0];
    for (client, store) in [("client_p50_ms", "p50_ms"), ("client_p99_ms", "p99_ms")] {
        assert!(
            w2[client].as_f64() >= w2[store].as_f64(),
            "{client} below {store}: {w2}"
        );
    }
}

#[test]
fn bench_scale_out_drains_with_one_two_and_four_workers_on_postgres() {
    // Only to learn whether the server is there (and to fail when CI=true and it
    // is not): bench makes databases of its own on it.
    let Some(_database) = TestDatabase::create() else {
        return;
    };
    let workspace = Workspace::new();
    let arith = example("arith");
    let run = workspace.run(&[
        "--database",
        &server_url(),
        "bench",
        "--scale-out",
        "--component",
        arith.to_str().unwrap(),
        "--jobs",
        "300",
        "--concurrency",
        "8",
        "--runs",
        "1",
    ]);
    run.expect_code(0);
    let report = run.json();
    for workers in [1, 2, 4] {
        positive(&report, &format!("workers_{workers}_jobs_per_second"));
    }
    let counts: Vec<u64> = report["scale_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| run["workers"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [1, 2, 4]);
}
