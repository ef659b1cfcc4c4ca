//! The enrollment QR code, drawn on the server as inline SVG: no image service sees the secret,
//! and nothing in it needs a CSP exception (presentation attributes only, no style, no script).

use qrcode::{EcLevel, QrCode, render::svg};

/// The SVG for `uri`, or `None` if it is too long for a QR code (it never is for an
/// `otpauth://` URI of a valid account).
pub(crate) fn svg(uri: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(uri.as_bytes(), EcLevel::M).ok()?;
    let drawn = code
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // Inline in HTML the XML declaration is only noise.
    Some(
        drawn
            .trim_start_matches(r#"<?xml version="1.0" standalone="yes"?>"#)
            .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_svg_has_no_style_or_script() {
        let svg =
            super::svg("otpauth://totp/example.com:alice?secret=ABC&issuer=example.com").unwrap();
        assert!(svg.starts_with("<svg"));
        for banned in ["style", "<script", "href"] {
            assert!(!svg.contains(banned), "{banned}");
        }
    }
}
