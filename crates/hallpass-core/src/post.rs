//! Posts on the demo community board: what a title and a body may hold.
//!
//! Text is checked here and stored as typed; escaping it for a page is the renderer's job, so
//! `<script>` in a post is refused nowhere and must come out of the store exactly as it went in.

use std::fmt;

use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{ValidationError, user::UserId};

/// A post's public, stable identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct PostId(pub Uuid);

impl fmt::Display for PostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Longest title, in characters (Unicode scalar values).
pub const TITLE_MAX_CHARS: usize = 120;
/// Longest body, in characters (Unicode scalar values), counted after line endings become `\n`.
pub const BODY_MAX_CHARS: usize = 10_000;

/// A post title: one line of 1–120 characters, with no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostTitle(String);

impl PostTitle {
    /// Parses a title as typed: surrounding whitespace is dropped.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let title = input.trim();
        if title.is_empty() {
            return Err(ValidationError::new("title", "must not be empty"));
        }
        if title.chars().count() > TITLE_MAX_CHARS {
            return Err(ValidationError::new(
                "title",
                format!("must be at most {TITLE_MAX_CHARS} characters long"),
            ));
        }
        if title.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "title",
                "must be one line without control characters",
            ));
        }
        Ok(Self(title.to_owned()))
    }

    /// The title.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for PostTitle {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A post body: 1–10,000 characters over any number of lines.
///
/// Line endings are stored as `\n`: browsers send a textarea's lines as `\r\n`, and a body should
/// not change length (or compare unequal) depending on the client that sent it. Trailing
/// whitespace and leading blank lines are dropped, but the first line's indentation is kept, so
/// an indented first line (code, verse) survives. Control characters other than line breaks and
/// tabs (pasted code has them) are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostBody(String);

impl PostBody {
    /// Parses a body as typed; see the type's documentation for what is normalised.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let unified = input.replace("\r\n", "\n").replace('\r', "\n");
        let trimmed = unified.trim_end();
        let Some(first_visible) = trimmed.find(|c: char| !c.is_whitespace()) else {
            return Err(ValidationError::new("body", "must not be empty"));
        };
        let line_start = trimmed[..first_visible].rfind('\n').map_or(0, |i| i + 1);
        let body = &trimmed[line_start..];
        if body.chars().count() > BODY_MAX_CHARS {
            return Err(ValidationError::new(
                "body",
                format!("must be at most {BODY_MAX_CHARS} characters long"),
            ));
        }
        if body
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(ValidationError::new(
                "body",
                "must not contain control characters other than line breaks and tabs",
            ));
        }
        Ok(Self(body.to_owned()))
    }

    /// The body, lines separated by `\n`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for PostBody {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Parses a submitted post, reporting every field at fault at once so a form can mark them all.
pub fn parse_post(title: &str, body: &str) -> Result<(PostTitle, PostBody), Vec<ValidationError>> {
    match (PostTitle::parse(title), PostBody::parse(body)) {
        (Ok(title), Ok(body)) => Ok((title, body)),
        (title, body) => Err([title.err(), body.err()].into_iter().flatten().collect()),
    }
}

/// A post about to be created.
#[derive(Debug, Clone)]
pub struct NewPost {
    /// Identifier chosen by the caller.
    pub id: PostId,
    /// Who wrote it; the user must exist.
    pub author: UserId,
    /// The validated title.
    pub title: PostTitle,
    /// The validated body.
    pub body: PostBody,
    /// Creation time; also the first `updated_at`.
    pub created_at: OffsetDateTime,
}

/// A post as stored, with its author's display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    /// Public identifier.
    pub id: PostId,
    /// Who wrote it.
    pub author: UserId,
    /// The author's username as registered (display form), as of reading.
    pub author_name: String,
    /// The title as stored.
    pub title: String,
    /// The body as stored, lines separated by `\n`.
    pub body: String,
    /// When it was posted.
    pub created_at: OffsetDateTime,
    /// When it was last edited; equal to `created_at` until then.
    pub updated_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_follow_the_rules() {
        assert_eq!(
            PostTitle::parse("  Hello, board! ").unwrap().as_str(),
            "Hello, board!"
        );
        assert_eq!(PostTitle::parse("x").unwrap().as_str(), "x");
        let longest = "é".repeat(TITLE_MAX_CHARS);
        assert_eq!(PostTitle::parse(&longest).unwrap().as_str(), longest);
        assert_eq!(
            PostTitle::parse("<script>alert(\"x\")</script>")
                .unwrap()
                .as_str(),
            "<script>alert(\"x\")</script>"
        );
        for bad in [
            "",
            "   ",
            "\n\t",
            &"a".repeat(TITLE_MAX_CHARS + 1),
            "two\nlines",
            "tab\there",
            "nul\u{0}",
            "bell\u{7}",
            "del\u{7f}",
            "c1\u{85}control",
        ] {
            let err = PostTitle::parse(bad).unwrap_err();
            assert_eq!(err.field, "title", "{bad:?}");
        }
    }

    #[test]
    fn title_length_counts_characters_not_bytes() {
        assert!(PostTitle::parse(&"🦀".repeat(TITLE_MAX_CHARS)).is_ok());
        assert!(PostTitle::parse(&"🦀".repeat(TITLE_MAX_CHARS + 1)).is_err());
    }

    #[test]
    fn bodies_keep_lines_and_indentation() {
        let body = PostBody::parse("\n  \n    indented\nsecond line\n\nthird  \n\n").unwrap();
        assert_eq!(body.as_str(), "    indented\nsecond line\n\nthird");
        assert_eq!(PostBody::parse("x").unwrap().as_str(), "x");
        assert_eq!(
            PostBody::parse("fn f() {\n\tg()\n}").unwrap().as_str(),
            "fn f() {\n\tg()\n}"
        );
    }

    #[test]
    fn body_line_endings_are_unified() {
        assert_eq!(PostBody::parse("a\r\nb\rc\n").unwrap().as_str(), "a\nb\nc");
        // A full textarea sent with CRLF still fits: the length is counted after unifying.
        let lines = "a\r\n".repeat(BODY_MAX_CHARS / 2 - 1) + "b";
        assert!(lines.chars().count() > BODY_MAX_CHARS);
        assert_eq!(
            PostBody::parse(&lines).unwrap().as_str().chars().count(),
            BODY_MAX_CHARS - 1
        );
    }

    #[test]
    fn bodies_follow_the_rules() {
        assert!(PostBody::parse(&"ü".repeat(BODY_MAX_CHARS)).is_ok());
        for bad in [
            "",
            " \n\r\n\t ",
            &"a".repeat(BODY_MAX_CHARS + 1),
            "nul\u{0}",
            "escape\u{1b}[31m",
            "c1\u{85}control",
        ] {
            let err = PostBody::parse(bad).unwrap_err();
            assert_eq!(err.field, "body", "{bad:?}");
        }
    }

    #[test]
    fn posts_report_every_bad_field() {
        let (title, body) = parse_post(" Title ", "Body\n").unwrap();
        assert_eq!((title.as_str(), body.as_str()), ("Title", "Body"));
        let fields = |errors: Vec<ValidationError>| -> Vec<&str> {
            errors.into_iter().map(|e| e.field).collect()
        };
        assert_eq!(fields(parse_post("", "").unwrap_err()), ["title", "body"]);
        assert_eq!(fields(parse_post("", "ok").unwrap_err()), ["title"]);
        assert_eq!(fields(parse_post("ok", " ").unwrap_err()), ["body"]);
    }

    #[test]
    fn post_ids_display_as_uuids() {
        let id = PostId(Uuid::nil());
        assert_eq!(id.to_string(), "00000000-0000-0000-0000-000000000000");
    }
}
