//! `wasmtasks tenant`: the operator's tenants — create, list, show, set the HTTP
//! ceiling, delete.

use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, Subcommand};
use wasmtasks::sandbox::OriginPattern;
use wasmtasks::store::Tenant;

use super::GlobalArgs;
use super::context;
use crate::output::{self, Format, OutputArgs};

/// Arguments of `wasmtasks tenant`.
#[derive(Debug, Args)]
pub struct TenantArgs {
    #[command(subcommand)]
    command: TenantCommand,
}

#[derive(Debug, Subcommand)]
enum TenantCommand {
    /// Create a tenant.
    Create {
        /// Its name: letters, digits, `_` or `-`.
        name: String,
    },
    /// List the tenants.
    List {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show a tenant and its tokens.
    Show {
        /// The tenant.
        name: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Change a tenant.
    Set {
        /// The tenant.
        name: String,
        /// The origins its admins may grant their components (replacing the
        /// current ones); repeat for several, `none` for none.
        #[arg(long = "http-ceiling", value_name = "URL-PATTERN", required = true)]
        http_ceiling: Vec<String>,
    },
    /// Delete a tenant and everything it owns: jobs, components, configuration,
    /// grants, tokens.
    Delete {
        /// The tenant.
        name: String,
        /// Yes, delete all of it.
        #[arg(long)]
        yes: bool,
    },
}

fn print_tenant(tenant: &Tenant) {
    let ceiling: Vec<String> = tenant
        .http_ceiling
        .iter()
        .map(ToString::to_string)
        .collect();
    println!(
        "{:<20}  created {}  HTTP ceiling: {}",
        tenant.name,
        output::time(tenant.created_at),
        if ceiling.is_empty() {
            "none".to_owned()
        } else {
            ceiling.join(", ")
        }
    );
}

pub async fn execute(args: TenantArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let api = context::api(global).await?;
    match args.command {
        TenantCommand::Create { name } => {
            let tenant = api.tenant_create(&name).await?;
            println!("created tenant {}", tenant.name);
        }
        TenantCommand::List { output } => {
            let tenants = api.tenants().await?;
            if output.format(Format::Table) == Format::Json {
                output::json(&tenants)?;
            } else {
                tenants.iter().for_each(print_tenant);
            }
        }
        TenantCommand::Show { name, output } => {
            let details = api.tenant(&name).await?;
            if output.format(Format::Table) == Format::Json {
                output::json(&details)?;
                return Ok(ExitCode::SUCCESS);
            }
            print_tenant(&details.tenant);
            super::token::print_tokens(&details.tokens);
        }
        TenantCommand::Set { name, http_ceiling } => {
            let ceiling = if http_ceiling == ["none"] {
                Vec::new()
            } else {
                http_ceiling
                    .iter()
                    .map(|origin| origin.parse::<OriginPattern>())
                    .collect::<Result<_, _>>()?
            };
            let tenant = api.tenant_set_http_ceiling(&name, &ceiling).await?;
            print_tenant(&tenant);
        }
        TenantCommand::Delete { name, yes } => {
            if !yes {
                bail!(
                    "deleting tenant `{name}` deletes all its jobs, components, configuration and tokens; add --yes to do it"
                );
            }
            let deleted = api.tenant_delete(&name).await?;
            println!(
                "deleted tenant {name}: {} jobs, {} component versions, {} tokens",
                deleted.jobs, deleted.component_versions, deleted.tokens
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
