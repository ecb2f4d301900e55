//! The fuzz target of the frame reader (issue 12): arbitrary byte streams, cut into arbitrary
//! chunks, never panic, never make the reader hold more than twice what it was given (a claimed
//! length is never allocated), read the same whatever the chunking, and a valid frame that follows
//! is always read. A proptest harness, so that it runs on stable: `cargo test` runs a short budget
//! (`PROPTEST_CASES`, default 300 streams per property); a long run is
//! `PROPTEST_CASES=10000000 cargo test --release -p safemig --lib lsp::transport::fuzz`.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};

use super::{classify, Event, FrameReader};

/// Pieces that make streams interesting: headers, numbers, line breaks, JSON, frames, noise.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    let text = |s: &'static str| Just(s.as_bytes().to_vec());
    prop_oneof![
        4 => proptest::collection::vec(any::<u8>(), 0..24),
        2 => text("Content-Length: "),
        1 => text("content-length:"),
        1 => text("Content-Length:\t"),
        2 => (0u64..300).prop_map(|n| n.to_string().into_bytes()),
        1 => any::<u64>().prop_map(|n| n.to_string().into_bytes()),
        1 => text("99999999999999999999999"),
        3 => text("\r\n"),
        1 => text("\n"),
        1 => text("\r"),
        2 => text("\r\n\r\n"),
        1 => text("Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n"),
        1 => text("X-Other: "),
        3 => proptest::sample::select(vec!["{", "}", "[", "]", "\"", ":", ",", "\\", "null", "[[[[[[[[[[[[[[[[[["])
            .prop_map(|s| s.as_bytes().to_vec()),
        1 => text(r#"{"jsonrpc":"2.0","id":1,"method":"textDocument/hover"}"#),
        1 => any::<u16>().prop_map(|n| frame(&json!({"jsonrpc": "2.0", "method": "x", "params": n}).to_string())),
    ]
}

fn frame(body: &str) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

/// Every event of `input` pushed in `chunks` (cycled), checking the memory bound as it goes.
fn read(input: &[u8], chunks: &[usize]) -> Result<Vec<Event>, TestCaseError> {
    let mut reader = FrameReader::default();
    let mut events = Vec::new();
    let mut pushed = 0;
    let mut rest = input;
    for &size in chunks.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (part, tail) = rest.split_at(size.clamp(1, rest.len()));
        rest = tail;
        reader.push(part);
        pushed += part.len();
        prop_assert!(reader.capacity() <= 2 * pushed + 64, "holds {} after {pushed} bytes", reader.capacity());
        while let Some(event) = reader.next() {
            // Each event consumes at least one byte: the reader always advances.
            prop_assert!(events.len() < pushed, "more events than bytes");
            if let Event::Message { value, .. } = &event {
                let _ = classify(value);
            }
            events.push(event);
        }
    }
    Ok(events)
}

fn runner() -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(300);
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
}

#[test]
fn any_stream_then_a_valid_frame() {
    let stream =
        (proptest::collection::vec(fragment(), 0..40), proptest::collection::vec(1usize..200, 1..12), any::<u32>());
    runner()
        .run(&stream, |(fragments, chunks, n)| {
            let marker = json!({"jsonrpc": "2.0", "method": "fuzz/marker", "params": {"n": n}});
            let mut input = fragments.concat();
            input.extend(frame(&marker.to_string()));
            let events = read(&input, &chunks)?;
            // Resynchronised: the frame after the noise is read, and is the last thing read.
            match events.last() {
                Some(Event::Message { value, .. }) => prop_assert_eq!(value, &marker),
                other => prop_assert!(false, "the last event is {:?}", other),
            }
            // The same events whatever the chunking.
            let whole = read(&input, &[input.len()])?;
            prop_assert_eq!(&events, &whole);
            Ok(())
        })
        .map_err(|e| e.to_string())
        .expect("the frame reader holds on any stream");
}

#[test]
fn valid_frames_are_read_exactly() {
    let text = proptest::collection::vec(any::<char>(), 0..40).prop_map(|c| c.into_iter().collect::<String>());
    let bodies = proptest::collection::vec((text, any::<i64>()), 1..8);
    let stream = (bodies, proptest::collection::vec(1usize..64, 1..12));
    runner()
        .run(&stream, |(bodies, chunks)| {
            let messages: Vec<Value> =
                bodies.into_iter().map(|(text, id)| json!({"jsonrpc": "2.0", "id": id, "text": text})).collect();
            let input: Vec<u8> = messages.iter().flat_map(|m| frame(&m.to_string())).collect();
            let read: Vec<Value> = read(&input, &chunks)?
                .into_iter()
                .map(|e| match e {
                    Event::Message { value, .. } => Ok(value),
                    other => Err(TestCaseError::fail(format!("{other:?}"))),
                })
                .collect::<Result<_, _>>()?;
            prop_assert_eq!(read, messages);
            Ok(())
        })
        .map_err(|e| e.to_string())
        .expect("valid frames are read exactly");
}
