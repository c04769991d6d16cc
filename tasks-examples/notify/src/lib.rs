//! The seeds' notification task for wasmtasks: `send_notification` posts a message
//! to an ntfy-style topic URL read from the component's configuration (`ntfy_url`),
//! with the message as the body and an optional `Title` header, and returns the
//! HTTP status. The operator grants the URL's origin (`wasmtasks grant notify
//! --http https://ntfy.sh`). Failures are `notify.NotifyError`; the task's policy
//! (5 attempts, 1 s backoff base, like `flaky`) retries them, so a server error
//! (5xx) is tried again.
#![warn(missing_docs)]

use std::fmt;

/// Why a notification was not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyError {
    /// `ntfy_url` is not configured for this component.
    NotConfigured,
    /// The request could not be made (denied, unreachable, too large, ...).
    Http(String),
    /// The server failed (5xx): a later attempt may succeed.
    Server(u16),
}

impl fmt::Display for NotifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotifyError::NotConfigured => {
                f.write_str("ntfy_url is not configured: wasmtasks config set notify ntfy_url URL")
            }
            NotifyError::Http(why) => f.write_str(why),
            NotifyError::Server(status) => write!(f, "the server failed with HTTP {status}"),
        }
    }
}

#[wasmtasks_guest::component]
mod tasks {
    use wasmtasks_guest::{config, http, task};

    use super::NotifyError;

    /// Posts `message` (with the `Title` header when `title` is given) to the
    /// configured `ntfy_url`; returns the HTTP status.
    #[task(max_attempts = 5, backoff_factor = 1.0)]
    pub fn send_notification(message: String, title: Option<String>) -> Result<u16, NotifyError> {
        let url = config::get("ntfy_url").ok_or(NotifyError::NotConfigured)?;
        let mut request = http::post(&url).body(message);
        if let Some(title) = title {
            request = request.header("Title", title);
        }
        let response = request
            .send()
            .map_err(|e| NotifyError::Http(e.to_string()))?;
        if response.status >= 500 {
            return Err(NotifyError::Server(response.status));
        }
        Ok(response.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_url_it_says_how_to_configure_one() {
        // SAFETY: the only test touching this variable.
        unsafe { std::env::remove_var("WASMTASKS_CONFIG_NTFY_URL") };
        assert_eq!(
            tasks::send_notification("hi".into(), None),
            Err(NotifyError::NotConfigured)
        );
        let error = Component::run("send_notification", r#"["hi"]"#, "{}", None).unwrap_err();
        assert_eq!(error.exception_class_path(), "notify.NotifyError");
    }
}
