//! `hallpass user create`, `hallpass user remove-factors`.

use std::io::Read;

use anyhow::{Context, bail};
use hallpass_core::{
    audit::{AuditEvent, AuditKind},
    clock::{Clock, SystemClock},
    password::{HashMemory, Password, PasswordHasher},
    user::{NewUser, UserId, Username, parse_roles},
};
use hallpass_store::Stores;
use uuid::Uuid;

use crate::config::Settings;

/// Creates a user; the password is read from standard input.
pub(super) async fn create(
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
    let salt = crate::infra::random::random_bytes().map_err(|e| anyhow::anyhow!("{e}"))?;
    let password_hash = tokio::task::spawn_blocking(move || {
        hasher.hash(password.expose(), salt, &mut HashMemory::default())
    })
    .await??;
    let stores = Stores::open(&settings.database_url, &settings.store_options()).await?;
    let now = SystemClock.now();
    let user = stores
        .users
        .create_user(&NewUser {
            id: UserId(Uuid::new_v4()),
            username,
            email,
            email_verified: false,
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

/// Removes every factor of `name` (the recovery codes go with the last), audited.
pub(super) async fn remove_factors(settings: &Settings, name: &str) -> anyhow::Result<()> {
    let username = Username::parse(name)?;
    let stores = Stores::open(&settings.database_url, &settings.store_options()).await?;
    let user = stores
        .users
        .user_by_username(&username)
        .await?
        .with_context(|| format!("no user {name}"))?;
    let factors = stores.factors.factors(user.id).await?;
    for factor in &factors {
        stores.factors.delete_factor(user.id, factor.id).await?;
    }
    let mut event = AuditEvent::new(AuditKind::FactorRemoved, SystemClock.now());
    event.subject = Some(user.id);
    event.detail = Some(format!(
        "{} factor(s) removed from the command line",
        factors.len()
    ));
    stores.audit.append(&event).await?;
    println!(
        "removed {} factor(s) of {}; the password alone signs in now",
        factors.len(),
        user.username
    );
    Ok(())
}
