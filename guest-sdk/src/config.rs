//! The component's configuration, as the operator set it
//! (`wasmtasks config set COMPONENT KEY VALUE [--secret]`).
//!
//! A component sees its own keys only. Secrets read here are ordinary strings to
//! the task, but the host replaces their values with `[REDACTED]` wherever it keeps
//! the attempt's output (stdout, stderr, errors, the return value).
//!
//! Built natively (for unit tests), [`get`] reads the environment variable
//! `WASMTASKS_CONFIG_<KEY>` instead, the key upper-cased with `-` and `.` as `_`.

/// The value of `key`, or `None` if the operator set no such key for this component.
#[cfg(target_arch = "wasm32")]
pub fn get(key: &str) -> Option<String> {
    crate::bindings::wasmtasks::task::config::get(key)
}

/// The value of `key`, or `None` if the operator set no such key for this component.
#[cfg(not(target_arch = "wasm32"))]
pub fn get(key: &str) -> Option<String> {
    std::env::var(native_variable(key)).ok()
}

/// The environment variable standing for `key` in a native build.
#[cfg(not(target_arch = "wasm32"))]
fn native_variable(key: &str) -> String {
    let key: String = key
        .chars()
        .map(|c| match c {
            '-' | '.' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    format!("WASMTASKS_CONFIG_{key}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_builds_read_the_environment() {
        assert_eq!(
            native_variable("ntfy-url.v2"),
            "WASMTASKS_CONFIG_NTFY_URL_V2"
        );
        assert_eq!(get("surely-not-set-anywhere"), None);
    }
}
