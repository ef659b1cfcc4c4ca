//! Why settings could not be loaded.

/// The settings could not be read; the message names the setting and where it came from.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value is malformed or a key unknown.
    #[error("{0}")]
    Invalid(#[from] Box<figment::Error>),
    /// The values parse but do not make sense together.
    #[error("{setting}: {message}")]
    Inconsistent {
        /// The setting at fault.
        setting: &'static str,
        /// Why.
        message: String,
    },
}
