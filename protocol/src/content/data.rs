//! Base64 data in a source: it must decode, and begin as its media type does. The CLI keeps the
//! message and sends it again on every turn, so data the API refuses would fail them all.

use base64::{Engine, engine::general_purpose::STANDARD};

use super::ContentError;

/// A media type and how its data begins.
#[derive(Debug, Clone, Copy)]
pub(super) struct Signature {
    media_type: &'static str,
    begins: fn(&[u8]) -> bool,
}

pub(super) const JPEG: Signature = Signature {
    media_type: "image/jpeg",
    begins: |data| data.starts_with(&[0xff, 0xd8, 0xff]),
};
pub(super) const PNG: Signature = Signature {
    media_type: "image/png",
    begins: |data| data.starts_with(b"\x89PNG\r\n\x1a\n"),
};
pub(super) const GIF: Signature = Signature {
    media_type: "image/gif",
    begins: |data| data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a"),
};
pub(super) const WEBP: Signature = Signature {
    media_type: "image/webp",
    begins: |data| data.len() >= 12 && data.starts_with(b"RIFF") && &data[8..12] == b"WEBP",
};
pub(super) const PDF: Signature = Signature {
    media_type: "application/pdf",
    begins: |data| data.starts_with(b"%PDF-"),
};

/// Whether `data` is base64 of something that begins as `signature` says.
pub(super) fn check(data: &str, signature: Signature) -> Result<(), ContentError> {
    let problem = |problem: String| ContentError::Field {
        block: "",
        path: "data".to_owned(),
        problem,
    };
    let decoded = STANDARD
        .decode(data)
        .map_err(|error| problem(format!("not base64 ({error})")))?;
    if !(signature.begins)(&decoded) {
        return Err(problem(format!(
            "not {} data: it does not begin as one does",
            signature.media_type
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_must_decode_and_begin_as_its_type() {
        let png = STANDARD.encode(b"\x89PNG\r\n\x1a\n rest");
        assert_eq!(check(&png, PNG), Ok(()));
        assert!(check(&png, JPEG).is_err());
        assert!(check("%%%", PNG).is_err());
        assert!(check("", PDF).is_err());
        assert_eq!(check(&STANDARD.encode(b"%PDF-1.7"), PDF), Ok(()));
        assert_eq!(
            check(&STANDARD.encode(b"RIFF\0\0\0\0WEBPVP8 "), WEBP),
            Ok(())
        );
        assert_eq!(check(&STANDARD.encode(b"GIF89a.."), GIF), Ok(()));
    }
}
