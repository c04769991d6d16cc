//! `wasmtasks inspect`: a component file's name, tasks with their signatures and
//! declared defaults.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use wasmtasks::sandbox::TaskComponent;

use super::GlobalArgs;
use super::components::describe_task;
use super::context;
use crate::output::{self, Format, OutputArgs};

/// Arguments of `wasmtasks inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The component file (`.wasm`).
    component: PathBuf,
    #[command(flatten)]
    output: OutputArgs,
}

/// The name a component file stands for: the one it gives itself, else (a
/// component built with SDK 0.1) the file's stem.
pub fn component_name(component: &TaskComponent, path: &Path) -> anyhow::Result<String> {
    if let Some(name) = component.declared_name() {
        return Ok(name.to_owned());
    }
    let stem = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .ok_or_else(|| anyhow::anyhow!("cannot take a component name from {}", path.display()))?;
    anyhow::ensure!(
        wasmtasks::task::path::is_valid_name(stem),
        "the component gives itself no name and the file name `{stem}` is not a valid one (letters, digits, `_`, `-`)"
    );
    Ok(stem.to_owned())
}

pub async fn execute(args: InspectArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let settings = context::settings(global)?;
    let sandbox = context::sandbox(&settings, 1)?;
    let component = sandbox.load_file(&args.component).await?;
    // Only shown: a component that names itself not is shown by its file's stem,
    // whatever it is.
    let name = component_name(&component, &args.component).unwrap_or_else(|_| {
        args.component
            .file_stem()
            .map_or_else(|| "?".into(), |stem| stem.to_string_lossy().into_owned())
    });
    if args.output.format(Format::Table) == Format::Json {
        output::json(&serde_json::json!({
            "component": name,
            "declared_name": component.declared_name(),
            "contract": component.contract(),
            "digest": component.digest(),
            "size_bytes": component.size_bytes(),
            "cache": component.cache_status(),
            "tasks": component.tasks(),
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "component {name}  sha256:{}  {}  contract wasmtasks:task@{}",
        component.digest(),
        output::bytes(component.size_bytes() as u64),
        component.contract()
    );
    if component.declared_name().is_none() {
        println!(
            "(it gives itself no name: built with wasmtasks-guest 0.1, it records no signatures)"
        );
    }
    for task in component.tasks() {
        println!("  {}", describe_task(&name, task));
    }
    Ok(ExitCode::SUCCESS)
}
