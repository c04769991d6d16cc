//! `wasmtasks config`: the configuration values and secrets a component reads with
//! `wasmtasks_guest::config::get`. Changes take effect for the next attempt.

use std::io::Read;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use wasmtasks::sandbox::{ConfigValue, REDACTED};
use wasmtasks::store::ComponentConfigSet;
use wasmtasks::task::path::is_valid_name;

use super::GlobalArgs;
use super::context::Context;

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
    },
}

pub async fn execute(args: ConfigArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let context = Context::open(global, 1).await?;
    let store = context.registry.store();
    match args.command {
        ConfigCommand::Set {
            component,
            key,
            value,
            secret,
        } => {
            check_names(&component, &key)?;
            let value = match value {
                Some(value) => value,
                None => read_stdin()?,
            };
            store
                .component_config_set(ComponentConfigSet {
                    tenant: context.tenant().to_owned(),
                    component: component.clone(),
                    key: key.clone(),
                    value: ConfigValue { value, secret },
                })
                .await?;
            let kind = if secret { "secret" } else { "value" };
            println!("set {kind} {component}.{key}");
        }
        ConfigCommand::Unset { component, key } => {
            if !store
                .component_config_delete(context.tenant(), &component, &key)
                .await?
            {
                eprintln!("error: {component} has no value `{key}` in the store");
                return Ok(ExitCode::from(2));
            }
            println!("unset {component}.{key}");
        }
        ConfigCommand::List { component } => {
            let capabilities = wasmtasks::capabilities::resolve(
                store.as_ref(),
                &context.settings,
                context.tenant(),
                &component,
            )
            .await?;
            for (key, value) in capabilities.config_values() {
                let shown = if value.secret { REDACTED } else { &value.value };
                println!("{key} = {shown}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn check_names(component: &str, key: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        is_valid_name(component),
        "invalid component name `{component}`: use letters, digits, `_` or `-`"
    );
    anyhow::ensure!(
        is_valid_name(key),
        "invalid key `{key}`: use letters, digits, `_` or `-`"
    );
    Ok(())
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
