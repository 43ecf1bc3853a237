//! Request bodies, encoded here rather than by reqwest so that the exact byte count is known
//! before sending (the 1 MB limit of seed 001, ESL §2.1).

use rand::RngExt;
use rand::distr::Alphanumeric;

/// An encoded request body and its `Content-Type`.
pub(crate) struct Body {
    pub(crate) content_type: String,
    pub(crate) bytes: Vec<u8>,
}

/// `application/x-www-form-urlencoded` (seed 001, ESL §2.1).
pub(crate) fn form(params: &[(&str, &str)]) -> Body {
    let text = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().copied())
        .finish();
    Body {
        content_type: "application/x-www-form-urlencoded".to_owned(),
        bytes: text.into_bytes(),
    }
}

/// The file part of a multipart body.
pub(crate) struct FilePart<'a> {
    pub(crate) field: &'a str,
    pub(crate) bytes: &'a [u8],
}

/// `multipart/form-data` (RFC 7578): the text fields, then one file part.
///
/// The seed shows only `pic` as a "file" parameter; we send every other parameter (the
/// signed ones and `sign`) as text parts of the same body, and name the file after its format
/// (`label.png`, `label.jpg`, …).
pub(crate) fn multipart(params: &[(&str, &str)], file: &FilePart<'_>) -> Body {
    let boundary = boundary_for(file.bytes);
    let (ext, mime) = sniff(file.bytes);
    let mut out = Vec::with_capacity(file.bytes.len() + 256 + params.len() * 96);
    for (k, v) in params {
        out.extend_from_slice(b"--");
        out.extend_from_slice(boundary.as_bytes());
        out.extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"");
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b"\"\r\n\r\n");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"--");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"");
    out.extend_from_slice(file.field.as_bytes());
    out.extend_from_slice(b"\"; filename=\"label.");
    out.extend_from_slice(ext.as_bytes());
    out.extend_from_slice(b"\"\r\nContent-Type: ");
    out.extend_from_slice(mime.as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(file.bytes);
    out.extend_from_slice(b"\r\n--");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"--\r\n");
    Body {
        content_type: format!("multipart/form-data; boundary={boundary}"),
        bytes: out,
    }
}

/// A random boundary that does not occur in `data`.
fn boundary_for(data: &[u8]) -> String {
    loop {
        let tail: String = rand::rng()
            .sample_iter(Alphanumeric)
            .take(32)
            .map(char::from)
            .collect();
        let boundary = format!("esl-{tail}");
        if !data
            .windows(boundary.len())
            .any(|w| w == boundary.as_bytes())
        {
            return boundary;
        }
    }
}

/// File extension and MIME type from the image's magic bytes.
fn sniff(bytes: &[u8]) -> (&'static str, &'static str) {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        ("png", "image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        ("jpg", "image/jpeg")
    } else if bytes.starts_with(b"BM") {
        ("bmp", "image/bmp")
    } else {
        ("bin", "application/octet-stream")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encodes() {
        let b = form(&[("a", "x y"), ("b", "&=")]);
        assert_eq!(b.bytes, b"a=x+y&b=%26%3D");
    }

    #[test]
    fn multipart_layout() {
        let b = multipart(
            &[("shop_id", "1")],
            &FilePart {
                field: "pic",
                bytes: b"\x89PNG\r\n\x1a\nDATA",
            },
        );
        let text = String::from_utf8_lossy(&b.bytes);
        let boundary = b.content_type.split("boundary=").nth(1).unwrap();
        assert!(text.starts_with(&format!("--{boundary}\r\n")));
        assert!(text.contains("name=\"pic\"; filename=\"label.png\"\r\nContent-Type: image/png"));
        assert!(text.ends_with(&format!("--{boundary}--\r\n")));
    }
}
