//! The `hallpass` command line.

use std::{io::Read, net::SocketAddr, path::PathBuf, sync::Arc};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use hallpass_core::{
    audit::{AuditEvent, AuditKind},
    clock::{Clock, SystemClock},
    password::{HashMemory, Password, PasswordHasher},
    user::{NewUser, UserId, Username, parse_roles},
};
use hallpass_store::Stores;
use uuid::Uuid;

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
                Stores::open(&settings.database_url).await?;
                println!(
                    "migrations applied to {}",
                    redact_url(&settings.database_url)
                );
                Ok(())
            }
            Command::User {
                command: UserCommand::Create { name, roles, email },
            } => create_user(&settings, &name, &roles, email.as_deref()).await,
        }
    }
}

async fn serve(settings: &Settings) -> anyhow::Result<()> {
    if settings.redis_url.is_some() {
        tracing::warn!(
            "redis_url is set, but this release carries no revocations over Redis yet: each node \
             sees another node's revocations within session_cache_ttl"
        );
    }
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

async fn create_user(
    settings: &Settings,
    name: &str,
    roles: &[String],
    email: Option<&str>,
) -> anyhow::Result<()> {
    let username = Username::parse(name)?;
    let roles = parse_roles(roles.iter().map(String::as_str))?;
    let email = email.map(hallpass_core::user::Email::parse).transpose()?;
    let mut input = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut input)
        .context("reading the password from standard input")?;
    let typed = input.strip_suffix('\n').unwrap_or(&input);
    let typed = typed.strip_suffix('\r').unwrap_or(typed);
    if typed.is_empty() {
        bail!(
            "no password on standard input (try: echo 'a long passphrase' | hallpass user create {name})"
        );
    }
    let password = Password::parse(typed, "password", &[username.as_str()])?;
    let argon2 = settings.argon2;
    let hasher = PasswordHasher::new(argon2.m_cost, argon2.t_cost, argon2.p_cost)?;
    let salt = crate::auth::random_bytes().map_err(|e| anyhow::anyhow!("{e}"))?;
    let password_hash = tokio::task::spawn_blocking(move || {
        hasher.hash(password.expose(), salt, &mut HashMemory::default())
    })
    .await??;
    let stores = Stores::open(&settings.database_url).await?;
    let now = SystemClock.now();
    let user = stores
        .users
        .create_user(&NewUser {
            id: UserId(Uuid::new_v4()),
            username,
            email,
            roles,
            password_hash,
            created_at: now,
        })
        .await?;
    let mut event = AuditEvent::new(AuditKind::Signup, now);
    event.subject = Some(user.id);
    event.detail = Some("created from the command line".to_owned());
    stores.audit.append(&event).await?;
    let roles: Vec<&str> = user.roles.iter().map(|r| r.as_str()).collect();
    println!(
        "created user {} ({}) roles [{}]",
        user.username,
        user.id,
        roles.join(", ")
    );
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
