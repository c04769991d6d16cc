//! `wasmtasks token`: API tokens. `create` prints the token alone on standard
//! output (everything else on standard error), so a script can capture it:
//! `TOKEN=$(wasmtasks token create alice --role member)`. It is shown this once;
//! only a hash of it is kept.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use wasmtasks::service::tokens::{TokenInfo, TokenRequest};
use wasmtasks::tenant::Role;

use super::GlobalArgs;
use super::context;
use super::units::parse_duration;
use crate::output::{self, Format, OutputArgs};

/// Arguments of `wasmtasks token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token and print it (once).
    Create {
        /// The tenant it acts for (none for an operator token).
        #[arg(required_unless_present = "operator")]
        tenant: Option<String>,
        /// What it may do: reader, member or admin.
        #[arg(long, default_value = "member", value_parser = parse_role)]
        role: Role,
        /// An operator token instead: administers every tenant.
        #[arg(long, conflicts_with_all = ["tenant", "role"])]
        operator: bool,
        /// A name for people.
        #[arg(long, default_value = "")]
        name: String,
        /// How long it works, e.g. 90d, 12h [default: until revoked].
        #[arg(long, value_parser = parse_duration)]
        expires: Option<Duration>,
    },
    /// List the tokens (no secrets).
    List {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Revoke a token by its id.
    Revoke {
        /// The token's id (the part after `wt_`, before the second `_`; `token list` shows it).
        id: String,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    match text.parse()? {
        Role::Operator => Err("use --operator for an operator token".into()),
        role => Ok(role),
    }
}

/// Prints tokens, one a line.
pub fn print_tokens(tokens: &[TokenInfo]) {
    for token in tokens {
        let state = match (&token.revoked_at, &token.expires_at) {
            (Some(at), _) => format!("revoked {}", output::time(*at)),
            (None, Some(at)) => format!("expires {}", output::time(*at)),
            (None, None) => "no expiry".to_owned(),
        };
        println!(
            "{:<14} {:<16} {:<8} {:<20} {}",
            token.id,
            token.tenant.as_deref().unwrap_or("(operator)"),
            token.role.as_str(),
            if token.name.is_empty() {
                "-"
            } else {
                &token.name
            },
            state
        );
    }
}

pub async fn execute(args: TokenArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let api = context::api(global).await?;
    match args.command {
        TokenCommand::Create {
            tenant,
            role,
            operator,
            name,
            expires,
        } => {
            let request = TokenRequest {
                tenant: if operator { None } else { tenant },
                role: if operator { Role::Operator } else { role },
                name,
                expires_in_seconds: expires.map(|expires| expires.as_secs()),
            };
            let created = api.token_create(request).await?;
            let info = &created.info;
            eprintln!(
                "created token {} ({} of {}); it is shown once, keep it secret",
                info.id,
                info.role,
                info.tenant.as_deref().unwrap_or("every tenant")
            );
            println!("{}", created.token);
        }
        TokenCommand::List { output } => {
            let tokens = api.tokens().await?;
            if output.format(Format::Table) == Format::Json {
                output::json(&tokens)?;
            } else {
                print_tokens(&tokens);
            }
        }
        TokenCommand::Revoke { id } => {
            let token = api.token_revoke(&id).await?;
            println!("revoked token {}", token.id);
        }
    }
    Ok(ExitCode::SUCCESS)
}
