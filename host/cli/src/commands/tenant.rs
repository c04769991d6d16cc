//! `wasmtasks tenant`: the operator's tenants — create, list, show, set the HTTP
//! ceiling and the quotas, delete.

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use wasmtasks::sandbox::OriginPattern;
use wasmtasks::store::{Quotas, Tenant};

use super::GlobalArgs;
use super::context;
use super::units::{parse_duration, parse_size};
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
    /// Change a tenant: its HTTP ceiling, its quotas. A quota given `none` is
    /// lifted; those not given stay as they are.
    Set {
        /// The tenant.
        name: String,
        /// The origins its admins may grant their components (replacing the
        /// current ones); repeat for several, `none` for none.
        #[arg(long = "http-ceiling", value_name = "URL-PATTERN")]
        http_ceiling: Vec<String>,
        #[command(flatten)]
        quotas: Box<QuotaArgs>,
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

/// The quota flags of `tenant set`; each takes a value or `none`.
#[derive(Debug, Args)]
struct QuotaArgs {
    /// Attempts running at once across every worker.
    #[arg(long, value_name = "N|none")]
    max_running: Option<String>,
    /// READY jobs the tenant may have.
    #[arg(long, value_name = "N|none")]
    max_queued: Option<String>,
    /// Jobs per second it may enqueue (per API process).
    #[arg(long, value_name = "PER-SECOND|none")]
    enqueue_rate: Option<String>,
    /// Jobs it may enqueue at once [default: one second's worth].
    #[arg(long, value_name = "N|none")]
    enqueue_burst: Option<String>,
    /// The most fuel per attempt.
    #[arg(long, value_name = "N|none")]
    max_fuel: Option<String>,
    /// The longest timeout per attempt, e.g. 5m.
    #[arg(long, value_name = "DURATION|none")]
    max_timeout: Option<String>,
    /// The most memory per attempt, e.g. 256MiB.
    #[arg(long, value_name = "SIZE|none")]
    max_memory: Option<String>,
    /// The largest component it may upload, e.g. 32MiB.
    #[arg(long, value_name = "SIZE|none")]
    max_component_size: Option<String>,
    /// Component versions it may keep.
    #[arg(long, value_name = "N|none")]
    max_components: Option<String>,
    /// Its share of worker slots beside other tenants (1 to 1000).
    #[arg(long, value_name = "N")]
    weight: Option<u32>,
}

impl QuotaArgs {
    /// Whether any quota flag was given.
    fn any(&self) -> bool {
        [
            &self.max_running,
            &self.max_queued,
            &self.enqueue_rate,
            &self.enqueue_burst,
            &self.max_fuel,
            &self.max_timeout,
            &self.max_memory,
            &self.max_component_size,
            &self.max_components,
        ]
        .iter()
        .any(|flag| flag.is_some())
            || self.weight.is_some()
    }

    /// `current` with the flags given applied.
    fn apply(self, current: Quotas) -> anyhow::Result<Quotas> {
        let number = |text: &str| text.parse::<u64>().map_err(|e| e.to_string());
        let small = |text: &str| text.parse::<u32>().map_err(|e| e.to_string());
        let ms = |text: &str| parse_duration(text).map(|d| d.as_millis() as u64);
        let rate = |text: &str| text.parse::<f64>().map_err(|e| e.to_string());
        Ok(Quotas {
            max_running: change(
                "--max-running",
                self.max_running,
                current.max_running,
                small,
            )?,
            max_queued: change("--max-queued", self.max_queued, current.max_queued, number)?,
            enqueue_rate: change(
                "--enqueue-rate",
                self.enqueue_rate,
                current.enqueue_rate,
                rate,
            )?,
            enqueue_burst: change(
                "--enqueue-burst",
                self.enqueue_burst,
                current.enqueue_burst,
                small,
            )?,
            max_fuel: change("--max-fuel", self.max_fuel, current.max_fuel, number)?,
            max_timeout_ms: change(
                "--max-timeout",
                self.max_timeout,
                current.max_timeout_ms,
                ms,
            )?,
            max_memory_bytes: change(
                "--max-memory",
                self.max_memory,
                current.max_memory_bytes,
                parse_size,
            )?,
            max_component_bytes: change(
                "--max-component-size",
                self.max_component_size,
                current.max_component_bytes,
                parse_size,
            )?,
            max_components: change(
                "--max-components",
                self.max_components,
                current.max_components,
                small,
            )?,
            weight: self.weight.unwrap_or(current.weight),
        })
    }
}

/// The new value of one quota: unchanged without the flag, lifted by `none`.
fn change<T>(
    flag: &str,
    given: Option<String>,
    current: Option<T>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> anyhow::Result<Option<T>> {
    match given.as_deref() {
        None => Ok(current),
        Some("none") => Ok(None),
        Some(text) => parse(text)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("{flag} {text}: give a value or `none`")),
    }
}

/// Prints the quotas, one `name value` line each.
fn print_quotas(quotas: &Quotas) {
    println!("quotas:");
    let line = |name: &str, value: Option<String>| {
        println!(
            "  {name:<20} {}",
            value.unwrap_or_else(|| "no limit".into())
        );
    };
    line("max_running", quotas.max_running.map(|n| n.to_string()));
    line("max_queued", quotas.max_queued.map(|n| n.to_string()));
    line(
        "enqueue_rate",
        quotas.enqueue_rate.map(|rate| match quotas.enqueue_burst {
            Some(burst) => format!("{rate}/s (burst {burst})"),
            None => format!("{rate}/s"),
        }),
    );
    line("max_fuel", quotas.max_fuel.map(|n| n.to_string()));
    line(
        "max_timeout",
        quotas.max_timeout_ms.map(|ms| format!("{ms} ms")),
    );
    line(
        "max_memory",
        quotas.max_memory_bytes.map(|n| format!("{n} bytes")),
    );
    line(
        "max_component_size",
        quotas.max_component_bytes.map(|n| format!("{n} bytes")),
    );
    line(
        "max_components",
        quotas.max_components.map(|n| n.to_string()),
    );
    line("weight", Some(quotas.weight.to_string()));
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
            print_quotas(&details.tenant.quotas);
            super::token::print_tokens(&details.tokens);
        }
        TenantCommand::Set {
            name,
            http_ceiling,
            quotas,
        } => {
            if http_ceiling.is_empty() && !quotas.any() {
                bail!(
                    "nothing to set: give --http-ceiling or a quota (see `wasmtasks tenant set --help`)"
                );
            }
            let mut tenant = None;
            if !http_ceiling.is_empty() {
                let ceiling = if http_ceiling == ["none"] {
                    Vec::new()
                } else {
                    http_ceiling
                        .iter()
                        .map(|origin| origin.parse::<OriginPattern>())
                        .collect::<Result<_, _>>()?
                };
                tenant = Some(api.tenant_set_http_ceiling(&name, &ceiling).await?);
            }
            if quotas.any() {
                let current = api.tenant(&name).await?.tenant.quotas;
                let quotas = (*quotas).apply(current)?;
                tenant = Some(api.tenant_set_quotas(&name, &quotas).await?);
            }
            let tenant = tenant.expect("one of them was set");
            print_tenant(&tenant);
            print_quotas(&tenant.quotas);
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
