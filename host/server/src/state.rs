//! What every handler shares.

use wasmtasks::service::Services;

/// The state of the router: the service layer and the server's options.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The one way into wasmtasks.
    pub services: Services,
    /// How the server was configured.
    pub options: ServerOptions,
}

/// Limits of the HTTP front.
#[derive(Debug, Clone, Copy)]
pub struct ServerOptions {
    /// The largest JSON body accepted, in bytes (a bulk enqueue is one body).
    pub max_body_bytes: usize,
    /// How long a request may take before it is answered 408 (long-polls end
    /// before it).
    pub request_timeout: std::time::Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            max_body_bytes: 64 << 20,
            request_timeout: std::time::Duration::from_secs(330),
        }
    }
}
