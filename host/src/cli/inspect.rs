//! `wasmtasks inspect`: a component's tasks and their declared defaults.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use wasmtasks::sandbox::TaskDefinition;

use super::GlobalArgs;
use super::context;

/// Arguments of `wasmtasks inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The component file (`.wasm`).
    component: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub async fn execute(args: InspectArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let name = super::component_name(&args.component)?;
    let settings = context::settings(global)?;
    let sandbox = context::sandbox(&settings, 1)?;
    let component = sandbox.load_file(&args.component).await?;
    if args.json {
        let report = serde_json::json!({
            "component": name,
            "digest": component.digest(),
            "size_bytes": component.size_bytes(),
            "cache": component.cache_status(),
            "tasks": component.tasks(),
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "component {name}  sha256:{}  {} bytes",
            component.digest(),
            component.size_bytes()
        );
        println!(
            "{:<24} {:>8}  {:<16} {:<8} {:<18} limits",
            "task", "priority", "queue", "context", "retry"
        );
        for task in component.tasks() {
            println!("{}", row(&name, task));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn row(component: &str, task: &TaskDefinition) -> String {
    let retry = match (task.retry.max_attempts, task.retry.backoff_factor) {
        (None, None) => "-".to_owned(),
        (attempts, factor) => format!(
            "attempts={} backoff={}",
            attempts.map_or("-".into(), |a| a.to_string()),
            factor.map_or("-".into(), |f| f.to_string())
        ),
    };
    let limits = serde_json::to_string(&task.limits).unwrap_or_default();
    format!(
        "{:<24} {:>8}  {:<16} {:<8} {:<18} {}",
        format!("{component}.{}", task.name),
        task.priority,
        task.queue_name,
        if task.takes_context { "yes" } else { "no" },
        retry,
        if limits == "{}" { "-".into() } else { limits },
    )
}
