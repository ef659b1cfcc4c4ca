//! Settings: defaults, overridden by a TOML file, by `HALLPASS_*` environment variables, and by
//! flags, in that order (docs/configuration.md). Loaded once into typed values; nothing reads the environment later.

mod check;
mod de;
mod duration;
mod email;
mod error;
mod factors;
mod load;
mod ops;
mod providers;
mod runtime;
mod settings;

pub use duration::ConfigDuration;
pub use email::{EmailSettings, SmtpPassword};
pub use error::ConfigError;
pub use factors::FactorSettings;
pub use load::{Overrides, load};
pub use ops::{MIN_OPS_TOKEN_CHARS, OpsAccess, OpsToken};
pub use providers::ProviderSettings;
pub use runtime::ServerConfig;
pub use settings::{
    Argon2Settings, LogFormat, RateLimitSettings, SessionLimitPolicy, Settings, SqliteSynchronous,
};
