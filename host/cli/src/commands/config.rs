//! `wasmtasks config`: the configuration values and secrets a component reads with
//! `wasmtasks_guest::config::get`. Changes take effect for the next attempt.

use std::io::Read;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use wasmtasks::sandbox::{ConfigValue, REDACTED};

use super::GlobalArgs;
use super::context;
use crate::output::{self, Format, OutputArgs};

/// Arguments of `wasmtasks config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Set one value of a component (a secret with --secret).
    Set {
        /// The component's name.
        component: String,
        /// The key the task reads.
        key: String,
        /// The value [default: read from standard input, keeping it out of the shell's history].
        value: Option<String>,
        /// Redact the value wherever an attempt's output is kept, and never print it.
        #[arg(long)]
        secret: bool,
    },
    /// Remove one value of a component.
    Unset {
        /// The component's name.
        component: String,
        /// The key.
        key: String,
    },
    /// List a component's values from the store and the configuration file; secrets are not shown.
    List {
        /// The component's name.
        component: String,
        #[command(flatten)]
        output: OutputArgs,
    },
}

pub async fn execute(args: ConfigArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let api = context::api(global).await?;
    match args.command {
        ConfigCommand::Set {
            component,
            key,
            value,
            secret,
        } => {
            let value = match value {
                Some(value) => value,
                None => read_stdin()?,
            };
            api.config_set(&component, &key, ConfigValue { value, secret })
                .await?;
            let kind = if secret { "secret" } else { "value" };
            println!("set {kind} {component}.{key}");
        }
        ConfigCommand::Unset { component, key } => {
            api.config_unset(&component, &key).await?;
            println!("unset {component}.{key}");
        }
        ConfigCommand::List { component, output } => {
            let entries = api.config_list(&component).await?;
            if output.format(Format::Table) == Format::Json {
                output::json(&entries)?;
                return Ok(ExitCode::SUCCESS);
            }
            for entry in entries {
                let shown = entry.value.as_deref().unwrap_or(REDACTED);
                let from = if entry.source == "file" {
                    "  (configuration file)"
                } else {
                    ""
                };
                println!("{} = {shown}{from}", entry.key);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The value piped in, without its final line break.
fn read_stdin() -> anyhow::Result<String> {
    let mut value = String::new();
    std::io::stdin()
        .read_to_string(&mut value)
        .context("cannot read the value from standard input")?;
    let trimmed = value.strip_suffix('\n').unwrap_or(&value);
    Ok(trimmed.strip_suffix('\r').unwrap_or(trimmed).to_owned())
}
