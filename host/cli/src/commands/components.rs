//! `wasmtasks components`: uploaded components and their versions; `show NAME`
//! for one with its tasks' signatures; `delete NAME[@DIGEST]` for versions no job
//! needs.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use wasmtasks::sandbox::TaskDefinition;
use wasmtasks::store::ComponentVersion;

use super::GlobalArgs;
use super::context;
use crate::output::{self, Format, OutputArgs};

/// Arguments of `wasmtasks components`.
#[derive(Debug, Args)]
pub struct ComponentsArgs {
    #[command(subcommand)]
    command: Option<ComponentsCommand>,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Subcommand)]
enum ComponentsCommand {
    /// List every component and version (the default).
    List {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// One component: its versions, tasks with signatures and defaults, grants.
    Show {
        /// The component's name.
        name: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Delete every version of a component (`NAME`) or one (`NAME@DIGEST-PREFIX`),
    /// unless READY or RUNNING jobs pin it.
    Delete {
        /// `NAME` or `NAME@DIGEST-PREFIX`.
        target: String,
    },
}

pub async fn execute(args: ComponentsArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let api = context::api(global).await?;
    match args.command {
        None => list(&*api, &args.output).await,
        Some(ComponentsCommand::List { output }) => list(&*api, &output).await,
        Some(ComponentsCommand::Show { name, output }) => {
            let details = api.component(&name).await?;
            if output.format(Format::Table) == Format::Json {
                output::json(&details)?;
                return Ok(ExitCode::SUCCESS);
            }
            for version in &details.versions {
                println!(
                    "{} v{}  sha256:{}  {}  uploaded {}",
                    version.name,
                    version.version,
                    version.digest,
                    output::bytes(version.size_bytes),
                    output::time(version.uploaded_at)
                );
                for task in &version.tasks {
                    println!("  {}", describe_task(&version.name, task));
                }
            }
            let grants: Vec<String> = details.grants.iter().map(ToString::to_string).collect();
            println!(
                "HTTP: {}",
                if grants.is_empty() {
                    "no origins granted".to_owned()
                } else {
                    grants.join(", ")
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(ComponentsCommand::Delete { target }) => {
            let (name, digest) = match target.split_once('@') {
                Some((name, digest)) => (name, Some(digest)),
                None => (target.as_str(), None),
            };
            for deleted in api.delete_component(name, digest).await? {
                println!(
                    "deleted {name} v{} (sha256:{})",
                    deleted.version, deleted.digest
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `name.task(a: int) -> int  priority 0, queue default, …`.
pub fn describe_task(component: &str, task: &TaskDefinition) -> String {
    let mut details = vec![
        format!("priority {}", task.priority),
        format!("queue {}", task.queue_name),
    ];
    if task.takes_context {
        details.push("takes context".into());
    }
    if let Some(attempts) = task.retry.max_attempts {
        details.push(format!("max_attempts {attempts}"));
    }
    if let Some(factor) = task.retry.backoff_factor {
        details.push(format!("backoff_factor {factor}"));
    }
    if let Some(fuel) = task.limits.fuel {
        details.push(format!("fuel {fuel}"));
    }
    if let Some(timeout) = task.limits.timeout {
        details.push(format!("timeout {}", humantime::format_duration(timeout)));
    }
    if let Some(memory) = task.limits.memory_bytes {
        details.push(format!("memory {}", output::bytes(memory)));
    }
    format!(
        "{component}.{}  [{}]",
        task.python_signature(),
        details.join(", ")
    )
}

async fn list(api: &dyn crate::client::Api, output: &OutputArgs) -> anyhow::Result<ExitCode> {
    let versions: Vec<ComponentVersion> = api.components().await?;
    if output.format(Format::Table) == Format::Json {
        output::json(&versions)?;
        return Ok(ExitCode::SUCCESS);
    }
    if versions.is_empty() {
        println!("no components uploaded (use `wasmtasks upload FILE.wasm`)");
    }
    let mut previous = "";
    for version in &versions {
        let newest = version.name != previous;
        let tasks: Vec<String> = version
            .tasks
            .iter()
            .map(TaskDefinition::python_signature)
            .collect();
        println!(
            "{:<20} v{:<4} {}  {:>9}  {}{}",
            version.name,
            version.version,
            &version.digest[..16],
            output::bytes(version.size_bytes),
            tasks.join(", "),
            if newest { "  (newest)" } else { "" }
        );
        previous = &version.name;
    }
    Ok(ExitCode::SUCCESS)
}
