//! Durations written the way people write them: `30s`, `15m`, `2h`, `30d`.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// A non-negative duration read from `30s`, `15m`, `2h`, `30d` (or `0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ConfigDuration(std::time::Duration);

impl ConfigDuration {
    /// `n` seconds.
    pub const fn seconds(n: u64) -> Self {
        Self(std::time::Duration::from_secs(n))
    }
    /// `n` minutes.
    pub const fn minutes(n: u64) -> Self {
        Self::seconds(n * 60)
    }
    /// `n` hours.
    pub const fn hours(n: u64) -> Self {
        Self::minutes(n * 60)
    }
    /// `n` days.
    pub const fn days(n: u64) -> Self {
        Self::hours(n * 24)
    }

    /// As a standard duration.
    pub fn std(self) -> std::time::Duration {
        self.0
    }

    /// As a `time` duration, for date arithmetic.
    pub fn time(self) -> time::Duration {
        time::Duration::try_from(self.0).unwrap_or(time::Duration::MAX)
    }
}

/// A duration setting that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a duration: write it like 30s, 15m, 2h or 30d")]
pub struct InvalidDuration(String);

impl FromStr for ConfigDuration {
    type Err = InvalidDuration;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        if trimmed == "0" {
            return Ok(Self::seconds(0));
        }
        humantime::parse_duration(trimmed)
            .map(Self)
            .map_err(|_| InvalidDuration(s.to_owned()))
    }
}

impl fmt::Display for ConfigDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs();
        match secs {
            0 => write!(f, "0s"),
            s if s % 86_400 == 0 => write!(f, "{}d", s / 86_400),
            s if s % 3_600 == 0 => write!(f, "{}h", s / 3_600),
            s if s % 60 == 0 => write!(f, "{}m", s / 60),
            s => write!(f, "{s}s"),
        }
    }
}

impl Serialize for ConfigDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ConfigDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = ConfigDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as 30s, 15m, 2h or 30d")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                if v == 0 {
                    Ok(ConfigDuration::seconds(0))
                } else {
                    Err(E::custom(format!(
                        "{v} has no unit: write it like {v}s or {v}m"
                    )))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom("a duration cannot be negative"))
                    .and_then(|v| self.visit_u64(v))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(
            "30s".parse::<ConfigDuration>().unwrap(),
            ConfigDuration::seconds(30)
        );
        assert_eq!(
            "15m".parse::<ConfigDuration>().unwrap(),
            ConfigDuration::minutes(15)
        );
        assert_eq!(
            "2h".parse::<ConfigDuration>().unwrap(),
            ConfigDuration::hours(2)
        );
        assert_eq!(
            "30d".parse::<ConfigDuration>().unwrap(),
            ConfigDuration::days(30)
        );
        assert_eq!(
            "0".parse::<ConfigDuration>().unwrap(),
            ConfigDuration::seconds(0)
        );
        assert!("soon".parse::<ConfigDuration>().is_err());
        assert!("-5m".parse::<ConfigDuration>().is_err());
    }

    #[test]
    fn displays_in_the_largest_whole_unit() {
        assert_eq!(ConfigDuration::days(30).to_string(), "30d");
        assert_eq!(ConfigDuration::seconds(90).to_string(), "90s");
        assert_eq!(ConfigDuration::minutes(90).to_string(), "90m");
    }
}
