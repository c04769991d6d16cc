//! The `wasmtasks` binary: a thin layer over the library, its service layer and
//! its HTTP server. See `wasmtasks --help` for the exit codes.

mod client;
mod commands;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;
use commands::LogFormat;

/// The log filter of long-running commands (worker, serve, dev): one line per
/// finished attempt, startup and shutdown; quiet for everything else.
const LONG_RUNNING_FILTER: &str = "warn,wasmtasks=info,wasmtasks_cli=info,wasmtasks_server=info";

fn main() -> ExitCode {
    let cli = commands::Cli::parse();
    if !cli.is_long_running() {
        end_quietly_on_a_closed_pipe();
    }
    init_logging(cli.global().log_format, cli.is_long_running());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(cli.execute()) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}

/// Lets a write to a closed pipe end the process, as it does other Unix tools
/// (`wasmtasks jobs | head`), where Rust's default ignores SIGPIPE and `println!`
/// then panics. Not for workers and servers: they must survive a closed stderr.
fn end_quietly_on_a_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called once at start-up, before any thread exists; SIG_DFL is a
    // valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Logs go to stderr, filtered by `WASMTASKS_LOG` (or `RUST_LOG`), in `format`.
fn init_logging(format: LogFormat, long_running: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = ["WASMTASKS_LOG", "RUST_LOG"]
        .into_iter()
        .find_map(|var| EnvFilter::try_from_env(var).ok())
        .unwrap_or_else(|| {
            EnvFilter::new(if long_running {
                LONG_RUNNING_FILTER
            } else {
                "warn"
            })
        });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}
