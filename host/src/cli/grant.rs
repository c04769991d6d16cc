//! `wasmtasks grant` and `wasmtasks revoke`: the HTTP origins a component may send
//! requests to. Everything else is denied; a change applies from the next attempt.

use std::process::ExitCode;

use clap::Args;
use wasmtasks::sandbox::OriginPattern;
use wasmtasks::store::{ComponentGrant, Store};

use super::GlobalArgs;
use super::context::Context;

/// Arguments of `wasmtasks grant` and `wasmtasks revoke`.
#[derive(Debug, Args)]
pub struct GrantArgs {
    /// The component's name.
    component: String,
    /// An origin, `scheme://host[:port]`; the host may start with `*.` (any
    /// subdomain). Repeat for several. Without any, list the component's origins.
    #[arg(long = "http", value_name = "URL-PATTERN")]
    origins: Vec<OriginPattern>,
}

pub async fn execute(
    args: GrantArgs,
    granted: bool,
    global: &GlobalArgs,
) -> anyhow::Result<ExitCode> {
    let context = Context::open(global, 1).await?;
    let store = context.registry.store();
    for line in change(
        store.as_ref(),
        context.tenant(),
        &args.component,
        &args.origins,
        granted,
    )
    .await?
    {
        println!("{line}");
    }
    if args.origins.is_empty() {
        for origin in store
            .component_grant_list(context.tenant(), &args.component)
            .await?
        {
            println!("{origin}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Grants (or revokes) `origins` to `component`; one line per origin saying what changed.
pub async fn change(
    store: &dyn Store,
    tenant: &str,
    component: &str,
    origins: &[OriginPattern],
    granted: bool,
) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::with_capacity(origins.len());
    for origin in origins {
        let changed = store
            .component_grant_change(ComponentGrant {
                tenant: tenant.to_owned(),
                component: component.to_owned(),
                origin: origin.clone(),
                granted,
            })
            .await?;
        let verb = match (granted, changed) {
            (true, true) => "granted",
            (true, false) => "already granted",
            (false, true) => "revoked",
            (false, false) => "was not granted",
        };
        lines.push(format!("{component}: {verb} {origin}"));
    }
    Ok(lines)
}
