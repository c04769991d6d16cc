//! `wasmtasks upload`: validate a component and store it as the newest version of
//! its name.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;

use wasmtasks::sandbox::OriginPattern;

use super::GlobalArgs;
use super::context::Context;

/// Arguments of `wasmtasks upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The component file (`.wasm`).
    component: PathBuf,
    /// The component name [default: the file's stem].
    #[arg(long)]
    name: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Allow the component to send HTTP requests to this origin,
    /// `scheme://host[:port]` (the host may start with `*.`); repeat for several.
    #[arg(long = "allow-http", value_name = "URL-PATTERN")]
    allow_http: Vec<OriginPattern>,
}

pub async fn execute(args: UploadArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let name = match args.name {
        Some(name) => name,
        None => super::component_name(&args.component)?,
    };
    let bytes = std::fs::read(&args.component)
        .with_context(|| format!("cannot read {}", args.component.display()))?;
    let context = Context::open(global, 1).await?;
    let upload = context
        .registry
        .upload(context.tenant(), &name, bytes)
        .await?;
    let granted = super::grant::change(
        context.registry.store().as_ref(),
        context.tenant(),
        &name,
        &args.allow_http,
        true,
    )
    .await?;
    if args.json {
        let report = serde_json::json!({
            "name": upload.name,
            "version": upload.version,
            "digest": upload.digest,
            "created": upload.created,
            "allow_http": args.allow_http.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "tasks": upload.tasks,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let tasks: Vec<String> = upload
            .tasks
            .iter()
            .map(|t| format!("{name}.{}", t.name))
            .collect();
        if upload.created {
            println!(
                "uploaded {name} version {} (sha256:{})",
                upload.version, upload.digest
            );
        } else {
            println!(
                "{name}: these bytes already are version {} (sha256:{}); nothing changed",
                upload.version, upload.digest
            );
        }
        println!("tasks: {}", tasks.join(", "));
        for line in granted {
            println!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
