//! `wasmtasks login URL`: checks a token against a server and saves it for that
//! server in the user's configuration directory (readable by its owner only).
//! Then `--server URL` (or `WASMTASKS_SERVER=URL`) needs no token.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;

use super::GlobalArgs;
use crate::client::{Remote, save_token};

/// Arguments of `wasmtasks login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The server, e.g. http://127.0.0.1:8000.
    server: String,
}

pub async fn execute(args: LoginArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let token = match &global.token {
        Some(token) => token.clone(),
        None if std::io::stdin().is_terminal() => {
            rpassword::prompt_password(format!("token for {}: ", args.server))
                .context("cannot read the token")?
        }
        None => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("cannot read the token from standard input")?;
            line
        }
    };
    let token = token.trim().to_owned();
    let remote = Remote::new(&args.server, Some(&token), global.tenant.as_deref())?;
    let who = remote.whoami().await?;
    let path = save_token(&args.server, &token)?;
    println!(
        "logged in to {} as {} of tenant {} (token saved in {})",
        args.server,
        who.role,
        who.tenant,
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}
