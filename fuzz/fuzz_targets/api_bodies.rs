//! Any body to the API's write routes: every answer is a success or a 4xx
//! problem, never a 5xx (a bug) or a panic. The first byte picks the route.
#![no_main]

use axum::body::Body;
use axum::http::{Method, Request, header};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;
use wasmtasks_fuzz::{runtime, world};

const ROUTES: [(&str, &str); 8] = [
    ("POST", "/api/v1/jobs"),
    ("POST", "/api/v1/jobs/bulk"),
    ("POST", "/api/v1/jobs/validate"),
    ("POST", "/api/v1/jobs/retry"),
    ("PUT", "/api/v1/components/arith/config/key"),
    ("POST", "/api/v1/components/arith/grants"),
    ("POST", "/api/v1/schedules"),
    ("POST", "/api/v1/tokens"),
];

fuzz_target!(|input: &[u8]| {
    let Some((&pick, body)) = input.split_first() else {
        return;
    };
    let (method, path) = ROUTES[usize::from(pick) % ROUTES.len()];
    let world = world();
    let request = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).expect("a method"))
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {}", world.token))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_vec()))
        .expect("a request");
    let response = runtime()
        .block_on(world.router.clone().oneshot(request))
        .expect("the router answers");
    assert!(
        !response.status().is_server_error(),
        "{method} {path} answered {}",
        response.status()
    );
});
