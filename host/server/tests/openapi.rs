//! The OpenAPI document checked into the repository (`host/server/openapi.json`)
//! is the one the handlers generate, so clients can be written against the file.
//! After changing the API: `WASMTASKS_UPDATE_OPENAPI=1 cargo test -p
//! wasmtasks-server --test openapi`, then commit the file.

use std::path::Path;

#[test]
fn the_checked_in_document_is_the_generated_one() {
    let generated = serde_json::to_string_pretty(&wasmtasks_server::openapi()).unwrap() + "\n";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    if std::env::var_os("WASMTASKS_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "{} is out of date with the handlers: run `WASMTASKS_UPDATE_OPENAPI=1 cargo test -p wasmtasks-server --test openapi` and commit it",
        path.display()
    );
}

#[test]
fn the_document_is_openapi_3_1_with_every_route() {
    let document = serde_json::to_value(wasmtasks_server::openapi()).unwrap();
    assert!(
        document["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        document["openapi"]
    );
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/api/v1/jobs",
        "/api/v1/jobs/bulk",
        "/api/v1/jobs/{id}",
        "/api/v1/jobs/{id}/cancel",
        "/api/v1/jobs/{id}/retry",
        "/api/v1/components",
        "/api/v1/components/{name}",
        "/api/v1/components/{name}/config/{key}",
        "/api/v1/components/{name}/grants",
        "/api/v1/queues",
        "/api/v1/tenants",
        "/api/v1/tokens",
        "/api/v1/whoami",
    ] {
        assert!(paths.contains_key(path), "{path} is missing");
    }
    assert!(
        document["components"]["securitySchemes"]["token"].is_object(),
        "the bearer token scheme is declared"
    );
}
