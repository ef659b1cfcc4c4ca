//! The `hallpass` command line.

mod keys;
mod user;

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use clap::{Args, Parser, Subcommand};
use hallpass_core::clock::SystemClock;
use hallpass_store::Stores;

use crate::{
    config::{self, Overrides, Settings},
    startup::{Application, redact_url, shutdown_signal},
    telemetry,
};

/// hallpass: sessions and tokens for web apps, in one server.
#[derive(Debug, Parser)]
#[command(name = "hallpass", version)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Settings every subcommand takes; they override the file and the environment.
#[derive(Debug, Args)]
struct GlobalArgs {
    /// TOML settings file.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long, global = true)]
    listen: Option<SocketAddr>,
    /// The URL users reach hallpass at.
    #[arg(long, global = true)]
    public_url: Option<String>,
    /// sqlite://FILE or postgres://…
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// redis://… for the revocation bus and shared rate limits.
    #[arg(long, global = true)]
    redis_url: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (applies pending migrations first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage access-token signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Work with access tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// List the signing keys: which signs, which are published, when each retires.
    List,
    /// Make a new key now; it is published at once and signs an hour later.
    Rotate,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Decode an access token and verify it offline against the published keys.
    Inspect {
        /// The access token.
        token: String,
        /// Verify against this JWKS file instead of the keys in the database.
        #[arg(long, value_name = "FILE")]
        jwks: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from standard input.
    Create {
        /// The username.
        name: String,
        /// A role to grant (repeatable), e.g. --role admin.
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
        /// Optional email address.
        #[arg(long)]
        email: Option<String>,
    },
    /// Remove every second factor (and the recovery codes) of a user who lost them all: the
    /// way back in when no administrator can sign in to do it (docs/factors.md).
    RemoveFactors {
        /// The username.
        name: String,
    },
}

impl Cli {
    /// Runs the chosen subcommand.
    pub async fn run(self) -> anyhow::Result<()> {
        let overrides = Overrides {
            listen: self.global.listen,
            public_url: self.global.public_url,
            database_url: self.global.database_url,
            redis_url: self.global.redis_url,
        };
        let (settings, warnings) =
            config::load(self.global.config.as_deref(), std::env::vars(), &overrides)?;
        telemetry::init_logging(settings.log_format);
        for warning in warnings {
            tracing::warn!("{warning}");
        }
        match self.command {
            Command::Serve => serve(&settings).await,
            Command::Migrate => {
                Stores::open(&settings.database_url, &settings.store_options()).await?;
                println!(
                    "migrations applied to {}",
                    redact_url(&settings.database_url)
                );
                Ok(())
            }
            Command::User {
                command: UserCommand::Create { name, roles, email },
            } => user::create(&settings, &name, &roles, email.as_deref()).await,
            Command::User {
                command: UserCommand::RemoveFactors { name },
            } => user::remove_factors(&settings, &name).await,
            Command::Keys {
                command: KeysCommand::List,
            } => keys::list(&settings).await,
            Command::Keys {
                command: KeysCommand::Rotate,
            } => keys::rotate(&settings).await,
            Command::Token {
                command: TokenCommand::Inspect { token, jwks },
            } => keys::inspect(&settings, &token, jwks.as_deref()).await,
        }
    }
}

async fn serve(settings: &Settings) -> anyhow::Result<()> {
    let app = Application::build(settings, Arc::new(SystemClock)).await?;
    tracing::info!(
        address = %app.local_addr()?,
        public_url = %settings.public_url,
        database = %redact_url(&settings.database_url),
        "hallpass is listening"
    );
    app.run_until(shutdown_signal()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }
}
