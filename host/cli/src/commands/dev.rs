//! `wasmtasks dev [DIR]`: Django's `db_worker --reload` for components. It
//! builds the task crate (or Python task project) into a component, uploads it, and runs a worker on the local
//! queue in the same process; then, on every change saved in the crate, builds
//! again and uploads the new version, which new jobs pin. A build that fails is
//! shown, and the version before keeps running.

use crate::output::tell;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use notify::{RecursiveMode, Watcher};
use wasmtasks::service::Services;
use wasmtasks::service::components::UploadRequest;
use wasmtasks::tenant::{DEFAULT_TENANT, Principal};
use wasmtasks::worker::{Shutdown, Worker};

use super::GlobalArgs;
use super::context;
use super::worker::{WorkerArgs, forward_signals, log_start};

/// How long the crate must be quiet after a change before it is built.
const SETTLE: Duration = Duration::from_millis(150);

/// Arguments of `wasmtasks dev`.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// The task crate or Python task project [default: the current directory].
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Where cargo puts its output [default: the crate's target/].
    #[arg(long, value_name = "DIR")]
    target_dir: Option<PathBuf>,
    /// The worker's flags (queues, concurrency, …).
    #[command(flatten)]
    worker: WorkerArgs,
}

pub async fn execute(args: DevArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    context::local_only(global, "dev")?;
    let dir = args
        .dir
        .canonicalize()
        .with_context(|| format!("cannot find the crate {}", args.dir.display()))?;
    let python = wasmtasks_toolchain::python::is_python_project(&dir);
    anyhow::ensure!(
        python || dir.join("Cargo.toml").is_file(),
        "{} has no Cargo.toml, nor a pyproject.toml with [tool.wasmtasks]: give the task crate's or Python task project's directory",
        dir.display()
    );
    let settings = context::settings(global)?;
    let options = args.worker.options(&settings, None)?;
    let services = context::services(settings, options.concurrency).await?;
    let principal = Principal::operator(global.tenant.as_deref().unwrap_or(DEFAULT_TENANT));
    let target_dir = args.target_dir.as_deref();
    if !build_and_upload(&dir, target_dir, &services, &principal).await? {
        tell!("dev: fix the build; the first version is uploaded once it builds");
    }
    let shutdown = Shutdown::default();
    tokio::spawn(forward_signals(shutdown.clone()));
    let worker = Worker::new(
        services.registry().clone(),
        services.settings().clone(),
        options,
    )?;
    log_start(&worker, services.registry(), services.settings());
    let running = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { worker.run(shutdown).await }
    });
    let (changed, mut changes) = tokio::sync::mpsc::unbounded_channel();
    let target = match &args.target_dir {
        Some(target) => std::path::absolute(target)?,
        None if python => dir.join("build"),
        None => dir.join("target"),
    };
    // What wasmtasks writes itself may lie in the crate: cargo's output, the local
    // queue's database, the compile cache. Their changes are not edits.
    let settings = services.settings();
    let mut ignored = wasmtasks::store::database_files(&settings.database_url);
    ignored.extend(
        [Some(target), settings.cache_dir.clone()]
            .into_iter()
            .flatten()
            .map(|dir| {
                let dir = std::path::absolute(&dir).unwrap_or(dir);
                dir.canonicalize().unwrap_or(dir)
            }),
    );
    let root = dir.clone();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !event.kind.is_access()
            && event
                .paths
                .iter()
                .any(|path| is_edit(path, &root, &ignored))
        {
            let _ = changed.send(Instant::now());
        }
    })
    .context("cannot watch the crate for changes")?;
    watcher
        .watch(&dir, RecursiveMode::Recursive)
        .with_context(|| format!("cannot watch {}", dir.display()))?;
    tell!("dev: watching {} (Ctrl-C to stop)", dir.display());
    loop {
        tokio::select! {
            _ = shutdown.stop_claiming.cancelled() => break,
            Some(first) = changes.recv() => {
                // Let a burst of writes (an editor's save) settle, then build once.
                while let Ok(Some(_)) = tokio::time::timeout(SETTLE, changes.recv()).await {}
                let saved = first.elapsed();
                let started = Instant::now();
                if build_and_upload(&dir, target_dir, &services, &principal).await? {
                    tell!(
                        "dev: the new version runs {:.2}s after the change was saved",
                        (saved + started.elapsed()).as_secs_f64()
                    );
                }
            }
        }
    }
    drop(watcher);
    running.await.context("the worker panicked")??;
    Ok(ExitCode::SUCCESS)
}

/// Whether a change to `path` (under the watched `root`) can change the build: not
/// in or under one of the `ignored` files and directories, not an editor's backup
/// file, nothing hidden (`.git`, `.venv`, an editor's swap file) and no
/// `__pycache__` at any level below `root`.
fn is_edit(path: &Path, root: &Path, ignored: &[PathBuf]) -> bool {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy())
        .unwrap_or_default();
    let below = path.strip_prefix(root).unwrap_or(path);
    let generated = below.components().any(|part| {
        let part = part.as_os_str().to_string_lossy();
        part.starts_with('.') || part == "__pycache__"
    });
    !(ignored.iter().any(|ignored| path.starts_with(ignored)) || generated || name.ends_with('~'))
}

/// What a build made.
enum Built {
    /// A Python project's component.
    Component(PathBuf),
    /// The directory of cargo's `.wasm` files.
    CargoOut(PathBuf),
}

/// Builds the crate or project (into `target_dir`, else its own) and uploads its
/// component; false (and the build's output shown) when the build fails, so the
/// version before keeps running.
async fn build_and_upload(
    dir: &Path,
    target_dir: Option<&Path>,
    services: &Services,
    principal: &Principal,
) -> anyhow::Result<bool> {
    let started = Instant::now();
    let crate_dir = dir.to_owned();
    let target_dir = target_dir.map(Path::to_owned);
    let built = tokio::task::spawn_blocking(move || {
        if wasmtasks_toolchain::python::is_python_project(&crate_dir) {
            wasmtasks_toolchain::python::build_python(&crate_dir, target_dir.as_deref())
                .map(Built::Component)
        } else {
            wasmtasks_toolchain::build(&crate_dir, target_dir.as_deref()).map(Built::CargoOut)
        }
    })
    .await
    .context("the build thread failed")?;
    let wasm = match built {
        Ok(Built::Component(wasm)) => wasm,
        Ok(Built::CargoOut(out)) => component_file(dir, &out)?,
        Err(error) => {
            tell!("dev: {error}; the version before keeps running");
            return Ok(false);
        }
    };
    let bytes = context::read(&wasm)?;
    match services
        .components()
        .upload(
            principal,
            UploadRequest {
                bytes,
                ..UploadRequest::default()
            },
        )
        .await
    {
        Ok(report) => {
            for warning in &report.warnings {
                tell!("warning: {warning}");
            }
            let what = if report.created {
                format!("uploaded {} version {}", report.name, report.version)
            } else {
                format!("{} version {} is unchanged", report.name, report.version)
            };
            tell!(
                "dev: built in {:.2}s; {what}",
                started.elapsed().as_secs_f64()
            );
            Ok(true)
        }
        Err(error) => {
            tell!("dev: the component was refused: {error}; the version before keeps running");
            Ok(false)
        }
    }
}

/// The component a crate builds: `<library name>.wasm` in `out` (the package's
/// name with `-` as `_`, unless `[lib] name` says otherwise).
fn component_file(dir: &Path, out: &Path) -> anyhow::Result<PathBuf> {
    let path = dir.join("Cargo.toml");
    let manifest: toml::Table = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .parse()
        .with_context(|| format!("{} is not valid TOML", path.display()))?;
    let name = |table: &str| {
        manifest
            .get(table)
            .and_then(|table| table.get("name"))
            .and_then(|name| name.as_str())
            .map(str::to_owned)
    };
    let name = name("lib")
        .or_else(|| name("package"))
        .with_context(|| format!("{} names no package", path.display()))?;
    let wasm = out.join(format!("{}.wasm", name.replace('-', "_")));
    anyhow::ensure!(
        wasm.is_file(),
        "the build made no {} (is the crate a cdylib?)",
        wasm.display()
    );
    Ok(wasm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_edits_and_what_tools_write_is_not() {
        let root = Path::new("/home/me/.projects/notify");
        let ignored = [root.join("build"), root.join("queue.sqlite3")];
        for edit in ["notify.py", "src/lib.rs", "Cargo.toml", "pyproject.toml"] {
            assert!(is_edit(&root.join(edit), root, &ignored), "{edit}");
        }
        for generated in [
            "build/notify.wasm",
            "queue.sqlite3",
            ".venv/lib/python3.12/site-packages/x.py",
            "__pycache__/notify.cpython-312.pyc",
            "tests/__pycache__/t.pyc",
            ".notify.py.swp",
            "notify.py~",
            ".git/index",
        ] {
            assert!(
                !is_edit(&root.join(generated), root, &ignored),
                "{generated}"
            );
        }
    }
}
