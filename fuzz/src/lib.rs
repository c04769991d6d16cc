//! What the fuzz targets share: one tokio runtime, and a world of services over an
//! in-memory SQLite store with the `arith` example uploaded for tenant `default`,
//! an admin token for it, and the HTTP router over those services.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use wasmtasks::config::Settings;
use wasmtasks::registry::Registry;
use wasmtasks::service::Services;
use wasmtasks::service::components::UploadRequest;
use wasmtasks::service::tokens::TokenRequest;
use wasmtasks::tenant::{Principal, Role};
use wasmtasks_sandbox::{Sandbox, SandboxConfig};

/// The runtime every target blocks on.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

/// The bytes of an example component, built by the main workspace's test build
/// into `target/wasm-guests` (run `cargo test --workspace --no-run` first).
pub fn example(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/wasm-guests/wasm32-wasip2/release")
        .join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; build the examples first (`cargo test --workspace --no-run`)",
            path.display()
        )
    })
}

/// Services, a principal, its token and the router over them.
pub struct World {
    /// The service layer.
    pub services: Services,
    /// The admin of tenant `default`.
    pub admin: Principal,
    /// A bearer token of that admin.
    pub token: String,
    /// The HTTP router.
    pub router: axum::Router,
}

/// The world, made once per process.
pub fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| runtime().block_on(make_world()))
}

async fn make_world() -> World {
    let settings = Settings {
        database_url: "sqlite::memory:".to_owned(),
        ..Settings::default()
    };
    let store = wasmtasks::store::connect(&settings.database_url)
        .await
        .expect("an in-memory store");
    let sandbox = Sandbox::new(SandboxConfig::default()).expect("a sandbox");
    let services = Services::new(
        Arc::new(Registry::new(store, Arc::new(sandbox))),
        Arc::new(settings),
    );
    let operator = Principal::operator(wasmtasks::tenant::DEFAULT_TENANT);
    services
        .components()
        .upload(
            &operator,
            UploadRequest {
                bytes: example("arith"),
                name: None,
                allow_http: Vec::new(),
            },
        )
        .await
        .expect("arith uploads");
    let token = services
        .tokens()
        .create(
            &operator,
            TokenRequest {
                tenant: Some(wasmtasks::tenant::DEFAULT_TENANT.to_owned()),
                role: Role::Admin,
                name: "fuzz".to_owned(),
                expires_in_seconds: None,
            },
        )
        .await
        .expect("a token")
        .token;
    let router = wasmtasks_server::router(services.clone(), Default::default());
    World {
        admin: Principal::new(wasmtasks::tenant::DEFAULT_TENANT, Role::Admin),
        services,
        token,
        router,
    }
}
