//! `wasmtasks upload`: validate a component and store it as the newest version of
//! its name: the name it gives itself (its crate's), unless `--name` says
//! otherwise. A file's name never renames a component.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use wasmtasks::sandbox::OriginPattern;
use wasmtasks::service::components::UploadRequest;

use super::GlobalArgs;
use super::context;
use crate::output::{self, Format, OutputArgs};

/// Arguments of `wasmtasks upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The component file (`.wasm`).
    component: PathBuf,
    /// The name to store it under [default: the name the component gives itself].
    #[arg(long)]
    name: Option<String>,
    /// Allow the component to send HTTP requests to this origin,
    /// `scheme://host[:port]` (the host may start with `*.`); repeat for several.
    #[arg(long = "allow-http", value_name = "URL-PATTERN")]
    allow_http: Vec<OriginPattern>,
    #[command(flatten)]
    output: OutputArgs,
}

pub async fn execute(args: UploadArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let bytes = context::read(&args.component)?;
    let api = context::api(global).await?;
    let report = api
        .upload(UploadRequest {
            bytes,
            name: args.name,
            allow_http: args.allow_http,
        })
        .await?;
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    if args.output.format(Format::Table) == Format::Json {
        output::json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    let name = &report.name;
    if report.created {
        println!(
            "uploaded {name} version {} (sha256:{})",
            report.version, report.digest
        );
    } else {
        println!(
            "{name}: these bytes already are version {} (sha256:{}); nothing changed",
            report.version, report.digest
        );
    }
    println!("tasks:");
    for task in &report.tasks {
        println!("  {name}.{}", task.python_signature());
    }
    for change in &report.granted {
        println!("{change}");
    }
    Ok(ExitCode::SUCCESS)
}
