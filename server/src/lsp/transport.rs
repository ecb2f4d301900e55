//! The frame reader in front of tower-lsp. tower-lsp stops reading for good at the first message
//! it cannot decode (a body that is not JSON or not JSON-RPC, a broken header), and allocates
//! whatever `Content-Length` claims, so one bad message would end the session. This reader
//! re-frames the client's bytes and passes on only messages tower-lsp can read:
//!
//! - [`FrameReader`] (sans I/O) cuts the byte stream into UTF-8 JSON bodies. A bad or missing
//!   `Content-Length`, a header line that is not one, a body that is not JSON, or one cut short by
//!   the next header, is reported once; reading then resumes at the next `Content-Length` header.
//!   Bodies are capped at [`MAX_BODY`] and buffered as their bytes arrive, never allocated ahead.
//! - [`classify`] checks that a body is a JSON-RPC 2.0 message tower-lsp accepts.
//! - What cannot be passed on and can be answered becomes a [`REJECT_METHOD`] request carrying the
//!   JSON-RPC error and the message's id (null when unknown); `ProtocolEdge` (in `lsp/mod.rs`)
//!   answers it, so every response leaves through tower-lsp's one writer. Responses from the
//!   client are never answered: a malformed one is dropped with a line on stderr.

use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tower_lsp::jsonrpc::{Request, Response};

/// The largest message body read: a larger `Content-Length` is refused without reading it.
pub(crate) const MAX_BODY: usize = 64 * 1024 * 1024;
/// The longest header line, and the longest header block.
const MAX_HEADER_LINE: usize = 8 * 1024;
const MAX_HEADER_BLOCK: usize = 64 * 1024;
/// The method of the requests this reader makes up to have a malformed message answered.
pub(crate) const REJECT_METHOD: &str = "$/safemig/rejectMalformedMessage";
/// JSON-RPC's codes: the bytes are not a JSON message; the JSON is not a valid request.
pub(crate) const PARSE_ERROR: i64 = -32700;
pub(crate) const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;

const CONTENT_LENGTH: &[u8] = b"content-length";

/// What the reader found next.
#[derive(Debug, PartialEq)]
pub(crate) enum Event {
    /// A well-formed body: UTF-8 JSON.
    Message { body: Vec<u8>, value: Value },
    /// Bytes that are not a message (`PARSE_ERROR`), or JSON nested too deep to read
    /// (`INVALID_REQUEST`); `why` is for people.
    Malformed { code: i64, why: String },
}

/// Cuts a byte stream into messages. [`FrameReader::push`] what arrives, then take
/// [`FrameReader::next`] until it returns `None`.
#[derive(Default)]
pub(crate) struct FrameReader {
    buf: Vec<u8>,
    /// The first byte not consumed yet; offsets in `state` are relative to it.
    pos: usize,
    state: State,
}

#[derive(Debug, Clone, Copy, Default)]
enum State {
    /// Between messages: blank bytes are skipped, anything else starts a header block.
    #[default]
    Between,
    /// A header block starts at `pos`; `at` is the next line's start, `length` what the block's
    /// `Content-Length` said so far (`Some(None)`: more than a `u64`).
    Header { at: usize, length: Option<Option<u64>> },
    /// The body starts at `pos`; the bytes before `scanned` hold no header.
    Body { length: usize, scanned: usize },
    /// Skipping to the next `Content-Length` header after a malformed message.
    Resync,
}

impl FrameReader {
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes held (for the fuzz target's bound on memory).
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The next message or malformation; `None` when more bytes are needed.
    pub(crate) fn next(&mut self) -> Option<Event> {
        loop {
            let rest = &self.buf[self.pos..];
            match self.state {
                State::Between => {
                    // Line breaks and spaces between messages are not worth an error.
                    let blank = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
                    self.pos += blank;
                    if blank == rest.len() {
                        return None;
                    }
                    self.state = State::Header { at: 0, length: None };
                }
                State::Resync => match find_content_length(rest, 0) {
                    Some(i) => {
                        self.pos += i;
                        self.state = State::Header { at: 0, length: None };
                    }
                    None => {
                        // Keep what could be the start of the header name.
                        self.pos += rest.len().saturating_sub(CONTENT_LENGTH.len() - 1);
                        return None;
                    }
                },
                State::Header { at, length } => match header_line(rest, at) {
                    Line::Incomplete => return None,
                    Line::Bad(why) => {
                        // Resume at the offending line (a header of the next message may start
                        // there), always past the block's first byte.
                        return Some(self.resync(at.max(1), why));
                    }
                    Line::Header { next, content_length } => {
                        let length = match (content_length, length) {
                            (Some(_), Some(_)) => {
                                return Some(self.resync(at.max(1), "two Content-Length headers".into()))
                            }
                            (Some(value), None) => Some(value),
                            (None, length) => length,
                        };
                        if next > MAX_HEADER_BLOCK {
                            return Some(self.resync(1, "a header block longer than 64 KB".into()));
                        }
                        self.state = State::Header { at: next, length };
                    }
                    Line::End { next } => {
                        let why = match length {
                            None => Some("no Content-Length header".to_string()),
                            Some(Some(n)) if n <= MAX_BODY as u64 => None,
                            Some(n) => Some(format!(
                                "a Content-Length of {} bytes, over the limit of 64 MB",
                                n.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string())
                            )),
                        };
                        if let Some(why) = why {
                            // The body, if any, is skipped like any other bytes.
                            return Some(self.resync(next, why));
                        }
                        self.pos += next;
                        let length = length.flatten().map_or(0, |n| n as usize);
                        self.state = State::Body { length, scanned: 0 };
                    }
                },
                State::Body { length, scanned } => {
                    let available = &rest[..rest.len().min(length)];
                    // A header inside the body: the length was too long, or the body never came.
                    match find_header_line(available, scanned) {
                        Scan::Found(i) => {
                            self.state = State::Resync;
                            self.pos += i;
                            let why = format!("a body cut short by the next header after {i} of {length} bytes");
                            return Some(Event::Malformed { code: PARSE_ERROR, why });
                        }
                        Scan::NotBefore(scanned) if available.len() < length => {
                            self.state = State::Body { length, scanned };
                            return None;
                        }
                        Scan::NotBefore(_) => {}
                    }
                    return Some(match parse_body(available) {
                        Ok(value) => {
                            let body = available.to_vec();
                            self.pos += length;
                            self.state = State::Between;
                            Event::Message { body, value }
                        }
                        // Its length may have been wrong: the next header may be in it. (Deep
                        // nesting too: serde_json stops there before it reads the rest.)
                        Err(unreadable) => {
                            self.state = State::Resync;
                            match unreadable {
                                Unreadable::NotJson(why) => Event::Malformed { code: PARSE_ERROR, why },
                                Unreadable::TooDeep => Event::Malformed {
                                    code: INVALID_REQUEST,
                                    why: "JSON nested more than 128 levels deep".into(),
                                },
                            }
                        }
                    });
                }
            }
        }
    }

    /// Reports `why` and skips to the next `Content-Length` header from `from` (relative to
    /// `pos`, and past at least one byte, so that reading always advances).
    fn resync(&mut self, from: usize, why: String) -> Event {
        self.pos += from.max(1);
        self.state = State::Resync;
        Event::Malformed { code: PARSE_ERROR, why }
    }
}

enum Line {
    Incomplete,
    Header { next: usize, content_length: Option<Option<u64>> },
    End { next: usize },
    Bad(String),
}

/// The header line at `at` in `rest`.
fn header_line(rest: &[u8], at: usize) -> Line {
    let tail = &rest[at..];
    let Some(end) = tail.iter().take(MAX_HEADER_LINE).position(|&b| b == b'\n') else {
        return if tail.len() >= MAX_HEADER_LINE {
            Line::Bad("a header line longer than 8 KB".into())
        } else {
            Line::Incomplete
        };
    };
    let next = at + end + 1;
    let line = tail[..end].strip_suffix(b"\r").unwrap_or(&tail[..end]);
    if line.is_empty() {
        return Line::End { next };
    }
    let shown = || String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned();
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return Line::Bad(format!("`{}`, not a header line", shown()));
    };
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    if name.is_empty() || !name.iter().all(|&b| b.is_ascii_graphic()) {
        return Line::Bad(format!("`{}`, not a header line", shown()));
    }
    if name.eq_ignore_ascii_case(CONTENT_LENGTH) {
        let digits = value.trim_ascii();
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Line::Bad(format!("a Content-Length of `{}`", String::from_utf8_lossy(digits)));
        }
        // All digits: only too many of them fails (more than a u64).
        let length = std::str::from_utf8(digits).ok().and_then(|d| d.parse::<u64>().ok());
        return Line::Header { next, content_length: Some(length) };
    }
    if find_content_length(line, 0).is_some() {
        // The next message's header glued to a line of this one.
        return Line::Bad(format!("`{}`, a header line with a Content-Length inside", shown()));
    }
    Line::Header { next, content_length: None }
}

/// Where `content-length` (any case) first occurs in `bytes` at or after `from`.
fn find_content_length(bytes: &[u8], from: usize) -> Option<usize> {
    let tail = bytes.get(from..)?;
    tail.windows(CONTENT_LENGTH.len()).position(|w| w.eq_ignore_ascii_case(CONTENT_LENGTH)).map(|i| from + i)
}

enum Scan {
    Found(usize),
    /// No header starts before this offset; one may start at it once more bytes arrive.
    NotBefore(usize),
}

/// A whole `Content-Length: <digits>` line in a body. JSON cannot hold one: outside a string the
/// name is not JSON, and inside one the raw line break is not allowed. So a body that holds one
/// was cut short, and the next message starts there.
fn find_header_line(body: &[u8], scanned: usize) -> Scan {
    let mut from = scanned;
    while let Some(i) = find_content_length(body, from) {
        let whole = header_line_at(&body[i + CONTENT_LENGTH.len()..]);
        match whole {
            Some(true) => return Scan::Found(i),
            Some(false) => from = i + 1,
            // The line is not complete yet: look again from here.
            None => return Scan::NotBefore(i),
        }
    }
    Scan::NotBefore(body.len().saturating_sub(CONTENT_LENGTH.len() - 1).max(from))
}

/// Whether `rest` (what follows a `content-length`) completes a header line: `: <digits>` and a
/// line break. `None`: not known until more bytes arrive.
fn header_line_at(rest: &[u8]) -> Option<bool> {
    let blanks = |i: &mut usize| {
        while rest.get(*i).is_some_and(|&b| b == b' ' || b == b'\t') {
            *i += 1;
        }
    };
    let mut i = 0;
    blanks(&mut i);
    if *rest.get(i)? != b':' {
        return Some(false);
    }
    i += 1;
    blanks(&mut i);
    let digits = i;
    while rest.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    if i == rest.len() {
        return None;
    }
    if i == digits {
        return Some(false);
    }
    blanks(&mut i);
    if *rest.get(i)? == b'\r' {
        i += 1;
    }
    Some(*rest.get(i)? == b'\n')
}

enum Unreadable {
    NotJson(String),
    TooDeep,
}

fn parse_body(body: &[u8]) -> Result<Value, Unreadable> {
    if let Err(e) = std::str::from_utf8(body) {
        return Err(Unreadable::NotJson(format!("a body that is not UTF-8 ({e})")));
    }
    serde_json::from_slice(body).map_err(|e| {
        // serde_json gives up at 128 levels; tower-lsp's own parse would too.
        if e.to_string().starts_with("recursion limit exceeded") {
            Unreadable::TooDeep
        } else {
            Unreadable::NotJson(format!("a body that is not JSON ({e})"))
        }
    })
}

/// What to do with a JSON message.
#[derive(Debug, PartialEq)]
pub(crate) enum Verdict {
    /// tower-lsp can read it.
    Pass,
    /// Answer with this error; `id` is the message's, or null.
    Answer { id: Value, code: i64, why: String },
    /// A response from the client that is not one: it cannot be answered.
    Drop(String),
}

/// Whether `message` is a JSON-RPC 2.0 request, notification or response that tower-lsp reads.
pub(crate) fn classify(message: &Value) -> Verdict {
    let invalid = |id: Value, why: &str| Verdict::Answer { id, code: INVALID_REQUEST, why: why.into() };
    let Value::Object(fields) = message else {
        let why = match message {
            Value::Array(items) if !items.is_empty() => "a batch, which LSP does not use",
            Value::Array(_) => "an empty array, not a message",
            _ => "not a JSON object",
        };
        return invalid(Value::Null, why);
    };
    if !fields.contains_key("method") && (fields.contains_key("result") || fields.contains_key("error")) {
        return match Response::deserialize(message) {
            Ok(_) => Verdict::Pass,
            Err(e) => Verdict::Drop(format!("a response that is not JSON-RPC 2.0 ({e})")),
        };
    }
    let id = match fields.get("id") {
        None => Value::Null,
        Some(id @ (Value::String(_) | Value::Null)) => id.clone(),
        Some(Value::Number(n)) if n.is_i64() => json!(n),
        Some(_) => return invalid(Value::Null, "its id is neither a string nor an integer"),
    };
    if fields.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return invalid(id, "its `jsonrpc` is not \"2.0\"");
    }
    match fields.get("method") {
        // Ours, made up for the messages this reader rejects: not the client's to call.
        Some(Value::String(method)) if method == REJECT_METHOD => {
            return match fields.get("id") {
                Some(_) => Verdict::Answer { id, code: METHOD_NOT_FOUND, why: format!("no method `{method}`") },
                None => Verdict::Drop(format!("a notification `{method}`")),
            };
        }
        Some(Value::String(_)) => {}
        Some(_) => return invalid(id, "its method is not a string"),
        None => return invalid(id, "it has no method"),
    }
    match Request::deserialize(message) {
        Ok(_) => Verdict::Pass,
        Err(e) => invalid(id, &format!("not a JSON-RPC request ({e})")),
    }
}

/// The request that has `ProtocolEdge` answer `id` with this error.
fn reject(id: Value, code: i64, why: &str) -> Vec<u8> {
    let message = format!("malformed message: {why}");
    json!({"jsonrpc": "2.0", "id": id, "method": REJECT_METHOD, "params": {"code": code, "message": message}})
        .to_string()
        .into_bytes()
}

/// Reads the client's bytes from `input` and writes what tower-lsp can read to `output`, until
/// `input` ends (or `output` closes).
pub(crate) async fn forward_messages(mut input: impl AsyncRead + Unpin, mut output: impl AsyncWrite + Unpin) {
    let mut reader = FrameReader::default();
    let mut chunk = vec![0; 64 * 1024];
    'read: loop {
        while let Some(event) = reader.next() {
            let body = match event {
                Event::Message { body, value } => match classify(&value) {
                    Verdict::Pass => body,
                    Verdict::Answer { id, code, why } => {
                        eprintln!("safemig lsp: answered a malformed message from the client with an error: {why}");
                        reject(id, code, &why)
                    }
                    Verdict::Drop(why) => {
                        eprintln!("safemig lsp: dropped a message from the client: {why}");
                        continue;
                    }
                },
                Event::Malformed { code, why } => {
                    eprintln!("safemig lsp: a malformed message from the client: {why}");
                    reject(Value::Null, code, &why)
                }
            };
            let header = format!("Content-Length: {}\r\n\r\n", body.len());
            if output.write_all(header.as_bytes()).await.is_err() || output.write_all(&body).await.is_err() {
                break 'read;
            }
        }
        match input.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => reader.push(&chunk[..n]),
        }
    }
    // Closing the output tells tower-lsp the client is gone.
    let _ = output.shutdown().await;
}

#[cfg(test)]
#[path = "transport_fuzz.rs"]
mod fuzz;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event of `input`, pushed in chunks of `chunk` bytes.
    fn events(input: &[u8], chunk: usize) -> Vec<Event> {
        let mut reader = FrameReader::default();
        let mut out = Vec::new();
        for part in input.chunks(chunk.max(1)) {
            reader.push(part);
            while let Some(event) = reader.next() {
                out.push(event);
            }
        }
        out
    }

    /// The events as short strings: the body, or `!code`.
    fn shown(input: &[u8], chunk: usize) -> Vec<String> {
        events(input, chunk)
            .into_iter()
            .map(|e| match e {
                Event::Message { body, .. } => String::from_utf8_lossy(&body).into_owned(),
                Event::Malformed { code, .. } => format!("!{code}"),
            })
            .collect()
    }

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    /// The same events whatever the chunking.
    fn assert_events(input: &str, expected: &[&str]) {
        for chunk in [1, 2, 3, 7, 64, input.len()] {
            assert_eq!(shown(input.as_bytes(), chunk), expected, "chunks of {chunk}: {input:?}");
        }
    }

    #[test]
    fn good_frames_pass_whole() {
        let input = format!("{}\r\n{}Content-Type: x\r\ncontent-length:2\n\n[]", frame("{}"), frame(r#"{"a":1}"#));
        assert_events(&input, &["{}", r#"{"a":1}"#, "[]"]);
    }

    #[test]
    fn each_malformation_is_reported_once_and_reading_resumes_at_the_next_header() {
        let good = frame("{}");
        for bad in [
            "Content-Length: abc\r\n\r\n{\"x\":1}".to_string(),
            "Content-Length: -3\r\n\r\n{}".into(),
            "Content-Type: a\r\n\r\n{\"x\":1}".into(),
            "{\"x\":1}".into(),
            "garbage\r\n".into(),
            "Content-Length: 3\r\n\r\n{\"x\":1}".into(),
            "Content-Length: 500\r\n\r\n{\"x\":".into(),
            "Content-Length: 4\r\n\r\n\u{fffd}".into(),
            "Content-Length: 0\r\n\r\n".into(),
            "Content-Length: 67108865\r\n\r\n".into(),
            "Content-Length: 99999999999999999999999\r\n\r\n".into(),
            "Content-Length: 12\r\nContent-Ty".into(),
            "Content-Length: 12\r\nX-Next: ".into(),
            "Content-Le".into(),
            "x".repeat(10_000),
            "X: y\r\n".repeat(20_000),
        ] {
            assert_events(&format!("{bad}{good}"), &["!-32700", "{}"]);
        }
    }

    #[test]
    fn a_second_content_length_starts_the_next_message() {
        assert_events(&format!("Content-Length: 2\r\n{}{}", frame("[]"), frame("{}")), &["!-32700", "[]", "{}"]);
    }

    #[test]
    fn a_body_with_json_text_that_looks_like_a_header_is_a_body() {
        // Inside a JSON string the line break is escaped: not a header.
        let body = r#"{"text":"Content-Length: 5\r\n\r\nhi"}"#;
        assert_events(&frame(body), &[body]);
    }

    #[test]
    fn invalid_utf8_is_a_parse_error() {
        let mut input = b"Content-Length: 8\r\n\r\n[\"\xff\xfe\"]  ".to_vec();
        input.extend_from_slice(frame("{}").as_bytes());
        assert_eq!(shown(&input, 5), ["!-32700", "{}"]);
    }

    #[test]
    fn json_nested_too_deep_is_an_invalid_request() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert_events(&format!("{}{}", frame(&deep), frame("{}")), &["!-32600", "{}"]);
        let fine = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert_events(&frame(&fine), &[fine.as_str()]);
    }

    #[test]
    fn a_huge_length_is_never_allocated() {
        let mut reader = FrameReader::default();
        reader.push(b"Content-Length: 9223372036854775807\r\n\r\n");
        assert!(matches!(reader.next(), Some(Event::Malformed { code: PARSE_ERROR, .. })));
        let mut reader = FrameReader::default();
        reader.push(b"Content-Length: 60000000\r\n\r\n{");
        assert_eq!(reader.next(), None);
        assert!(reader.capacity() < 1024, "{}", reader.capacity());
    }

    fn verdict(message: Value) -> Verdict {
        classify(&message)
    }

    fn invalid(id: Value) -> impl Fn(&Verdict) -> bool {
        move |v| matches!(v, Verdict::Answer { id: i, code: INVALID_REQUEST, .. } if *i == id)
    }

    #[test]
    fn json_rpc_messages_pass_and_others_are_answered_or_dropped() {
        for good in [
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}),
            json!({"jsonrpc": "2.0", "id": "a", "method": "shutdown"}),
            json!({"jsonrpc": "2.0", "id": null, "method": "x"}),
            json!({"jsonrpc": "2.0", "method": "exit", "params": null}),
            json!({"jsonrpc": "2.0", "id": 1, "result": null}),
            json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -1, "message": "no"}}),
            // Not JSON-RPC, but tower-lsp reads it as a result: the server's request is not left
            // waiting.
            json!({"jsonrpc": "2.0", "id": 1, "result": 1, "error": {"code": 1, "message": "m"}}),
        ] {
            assert_eq!(verdict(good.clone()), Verdict::Pass, "{good}");
        }
        for (bad, id) in [
            (json!({}), Value::Null),
            (json!([]), Value::Null),
            (json!([{"jsonrpc": "2.0", "method": "exit"}]), Value::Null),
            (json!(null), Value::Null),
            (json!(5), Value::Null),
            (json!({"jsonrpc": "1.0", "id": 1, "method": "x"}), json!(1)),
            (json!({"id": "k", "method": "x"}), json!("k")),
            (json!({"jsonrpc": "2.0", "id": 2, "method": 5}), json!(2)),
            (json!({"jsonrpc": "2.0", "id": 3}), json!(3)),
            (json!({"jsonrpc": "2.0", "method": {}}), Value::Null),
            (json!({"jsonrpc": "2.0", "id": {"a": 1}, "method": "x"}), Value::Null),
            (json!({"jsonrpc": "2.0", "id": [1], "method": "x"}), Value::Null),
            (json!({"jsonrpc": "2.0", "id": 1.5, "method": "x"}), Value::Null),
            (json!({"jsonrpc": "2.0", "id": u64::MAX, "method": "x"}), Value::Null),
        ] {
            let v = verdict(bad.clone());
            assert!(invalid(id)(&v), "{bad}: {v:?}");
        }
        // The reader's own method is not the client's to call.
        let ours = verdict(json!({"jsonrpc": "2.0", "id": 7, "method": REJECT_METHOD, "params": {"code": 0}}));
        assert!(matches!(&ours, Verdict::Answer { id, code: METHOD_NOT_FOUND, .. } if *id == 7), "{ours:?}");
        let ours = verdict(json!({"jsonrpc": "2.0", "method": REJECT_METHOD, "params": {"code": 0}}));
        assert!(matches!(ours, Verdict::Drop(_)), "{ours:?}");
        for bad_response in [
            json!({"jsonrpc": "2.0", "id": 1, "error": "boom"}),
            json!({"jsonrpc": "2.0", "id": {"a": 1}, "result": 1}),
            json!({"jsonrpc": "1.0", "id": 1, "result": 1}),
        ] {
            assert!(matches!(verdict(bad_response.clone()), Verdict::Drop(_)), "{bad_response}");
        }
    }

    #[tokio::test]
    async fn forwarding_reframes_messages_and_turns_malformed_ones_into_rejections() {
        let input = format!(
            "{}Content-Length: x\r\n\r\n{}{}",
            frame(r#"{"jsonrpc":"2.0","method":"initialized"}"#),
            frame(r#"{"jsonrpc":"2.0","id":4,"method":7}"#),
            frame(r#"{"jsonrpc":"2.0","id":4,"error":7}"#),
        );
        let mut out = Vec::new();
        forward_messages(input.as_bytes(), &mut out).await;
        let got: Vec<Value> = shown(&out, out.len())
            .iter()
            .map(|b| serde_json::from_str(b).expect("forwarded frames are JSON"))
            .collect();
        assert_eq!(got.len(), 3, "{got:#?}");
        assert_eq!(got[0], json!({"jsonrpc": "2.0", "method": "initialized"}));
        assert_eq!(
            (&got[1]["id"], &got[1]["method"], &got[1]["params"]["code"]),
            (&Value::Null, &json!(REJECT_METHOD), &json!(-32700))
        );
        assert_eq!((&got[2]["id"], &got[2]["params"]["code"]), (&json!(4), &json!(-32600)));
    }
}
