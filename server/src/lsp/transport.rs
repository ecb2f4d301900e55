//! A filter in front of tower-lsp's reader. tower-lsp stops reading for good at the first frame
//! it cannot decode (a body that is not JSON or not UTF-8, a broken header), which would end the
//! session over one bad message. This filter re-frames the input and passes on only frames that
//! are well-formed JSON; the others are reported on stderr and dropped.

use serde::de::IgnoredAny;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// Copies well-formed frames from `input` to `output` until `input` ends (or `output` closes).
pub(crate) async fn forward_well_formed_frames(input: impl AsyncRead + Unpin, mut output: impl AsyncWrite + Unpin) {
    let mut input = BufReader::new(input);
    loop {
        let frame = match read_frame(&mut input).await {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(e) => {
                eprintln!("safemig lsp: stopped reading the client's messages: {e}");
                break;
            }
        };
        let body = match frame {
            Frame::Body(body) => body,
            Frame::Dropped(why) => {
                eprintln!("safemig lsp: dropped a message from the client: {why}");
                continue;
            }
        };
        let header = format!("Content-Length: {}\r\n\r\n", body.len());
        if output.write_all(header.as_bytes()).await.is_err() || output.write_all(&body).await.is_err() {
            break;
        }
    }
    // Closing the output tells tower-lsp the client is gone.
    let _ = output.shutdown().await;
}

enum Frame {
    Body(Vec<u8>),
    Dropped(String),
}

/// Reads one header block and its body. `Ok(None)` at the end of the input.
async fn read_frame(input: &mut (impl AsyncBufRead + Unpin)) -> std::io::Result<Option<Frame>> {
    let mut length: Option<usize> = None;
    let mut bad_header = None;
    let mut line = Vec::new();
    let mut saw_header = false;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line).await? == 0 {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if saw_header {
                break;
            }
            continue; // Stray blank lines between messages.
        }
        saw_header = true;
        match text.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => match value.trim().parse() {
                Ok(n) => length = Some(n),
                Err(_) => bad_header = Some(format!("a Content-Length of `{}`", value.trim())),
            },
            Some(_) => {} // Content-Type and the like.
            None => bad_header = Some(format!("a header line `{text}`")),
        }
    }
    let Some(length) = length else {
        return Ok(Some(Frame::Dropped(bad_header.unwrap_or_else(|| "no Content-Length header".into()))));
    };
    let mut body = vec![0; length];
    input.read_exact(&mut body).await?;
    if let Some(why) = bad_header {
        return Ok(Some(Frame::Dropped(why)));
    }
    match serde_json::from_slice::<IgnoredAny>(&body) {
        Ok(_) => Ok(Some(Frame::Body(body))),
        Err(e) => Ok(Some(Frame::Dropped(format!("its body is not JSON ({e})")))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn filtered(input: &[u8]) -> String {
        let mut out = Vec::new();
        forward_well_formed_frames(input, &mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    }

    #[tokio::test]
    async fn good_frames_pass_and_bad_ones_are_dropped() {
        let input = b"Content-Length: 2\r\n\r\n{}\
Content-Length: 5\r\n\r\n{\"a\":\
Content-Length: 4\r\n\r\n\xff\xfe[]\
Content-Type: x\r\nContent-Length: 2\r\n\r\n[]";
        assert_eq!(filtered(input).await, "Content-Length: 2\r\n\r\n{}Content-Length: 2\r\n\r\n[]");
    }

    #[tokio::test]
    async fn a_frame_without_length_is_skipped() {
        let input = b"Bogus\r\n\r\nContent-Length: 2\r\n\r\n{}";
        assert_eq!(filtered(input).await, "Content-Length: 2\r\n\r\n{}");
    }
}
