//! `wasmtasks grant` and `wasmtasks revoke`: the HTTP origins a component may send
//! requests to. Everything else is denied; a change applies from the next attempt.

use std::process::ExitCode;

use clap::Args;
use wasmtasks::sandbox::OriginPattern;

use super::GlobalArgs;
use super::context;

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
    let api = context::api(global).await?;
    if args.origins.is_empty() {
        for origin in api.grants(&args.component).await? {
            println!("{origin}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    for change in api.grant(&args.component, &args.origins, granted).await? {
        println!("{change}");
    }
    Ok(ExitCode::SUCCESS)
}
