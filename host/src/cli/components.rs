//! `wasmtasks components`: uploaded components, their versions and tasks.

use std::process::ExitCode;

use clap::Args;

use super::GlobalArgs;
use super::context::Context;

/// Arguments of `wasmtasks components`.
#[derive(Debug, Args)]
pub struct ComponentsArgs {
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub async fn execute(args: ComponentsArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let context = Context::open(global, 1).await?;
    let versions = context
        .registry
        .store()
        .component_list(context.tenant())
        .await?;
    if args.json {
        let list: Vec<_> = versions
            .iter()
            .map(|v| {
                serde_json::json!({
                    "name": v.name, "version": v.version, "digest": v.digest,
                    "size_bytes": v.size_bytes, "uploaded_at": v.uploaded_at, "tasks": v.tasks,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    if versions.is_empty() {
        println!("no components uploaded (use `wasmtasks upload FILE.wasm`)");
    }
    let mut previous = "";
    for version in &versions {
        let newest = version.name != previous;
        let tasks: Vec<&str> = version.tasks.iter().map(|t| t.name.as_str()).collect();
        println!(
            "{:<20} v{:<4} {}  {:>9} bytes  {}{}",
            version.name,
            version.version,
            &version.digest[..16],
            version.size_bytes,
            tasks.join(", "),
            if newest { "  (newest)" } else { "" }
        );
        previous = &version.name;
    }
    Ok(ExitCode::SUCCESS)
}
