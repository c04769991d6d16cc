//! The welcome-email task for wasmtasks: `welcome` renders the email a new user
//! receives, on the `emails` queue at priority 10, and fails with
//! `welcome.WelcomeError` when the address has no `@`, which shows how a task's
//! error type becomes the exception class path the host records.
#![warn(missing_docs)]

use std::fmt;

use serde::Serialize;

/// The rendered email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WelcomeEmail {
    /// The recipient's address.
    pub to: String,
    /// `Welcome, {username}!`.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
}

/// Why a welcome email cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WelcomeError {
    /// The address has no `@`.
    InvalidEmail(String),
}

impl fmt::Display for WelcomeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WelcomeError::InvalidEmail(address) => {
                write!(f, "invalid email address {address:?}: it has no '@'")
            }
        }
    }
}

impl std::error::Error for WelcomeError {}

#[wasmtasks_guest::component]
mod tasks {
    use wasmtasks_guest::task;

    use super::{WelcomeEmail, WelcomeError};

    /// Renders the welcome email for `username` at `user_email`.
    #[task(queue_name = "emails", priority = 10)]
    pub fn welcome(user_email: String, username: String) -> Result<WelcomeEmail, WelcomeError> {
        if !user_email.contains('@') {
            return Err(WelcomeError::InvalidEmail(user_email));
        }
        Ok(WelcomeEmail {
            subject: format!("Welcome, {username}!"),
            body: format!(
                "Hi {username},\n\nyour account is ready. We are glad to have you.\n\nThe team"
            ),
            to: user_email,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn renders_the_email() {
        let email = tasks::welcome("ada@example.com".into(), "ada".into()).unwrap();
        assert_eq!(email.to, "ada@example.com");
        assert_eq!(email.subject, "Welcome, ada!");
        assert!(email.body.starts_with("Hi ada,"));
    }

    #[test]
    fn declares_its_queue_and_priority() {
        let [definition] = Component::describe().tasks.try_into().unwrap();
        assert_eq!(definition.name, "welcome");
        assert_eq!(definition.queue_name, "emails");
        assert_eq!(definition.priority, 10);
    }

    #[test]
    fn returns_the_email_as_a_json_object() {
        let kwargs = r#"{"user_email": "ada@example.com", "username": "ada"}"#;
        let json: Value =
            serde_json::from_str(&Component::run("welcome", "[]", kwargs, None).unwrap()).unwrap();
        assert_eq!(json["to"], json!("ada@example.com"));
        assert_eq!(json["subject"], json!("Welcome, ada!"));
        assert!(json["body"].is_string());
    }

    #[test]
    fn an_address_without_at_is_a_welcome_error() {
        let error = Component::run("welcome", r#"["nobody", "ada"]"#, "{}", None).unwrap_err();
        assert_eq!(error.exception_class_path(), "welcome.WelcomeError");
        assert_eq!(
            error.message(),
            r#"invalid email address "nobody": it has no '@'"#
        );
    }
}
