//! Malformed messages (issue 12, item 6): whatever the client writes, the session goes on. Bodies
//! that are not JSON-RPC are answered with JSON-RPC errors, a bad or missing `Content-Length`
//! resynchronises on the next header, a huge one is refused without allocating it, a `$/` request
//! gets `MethodNotFound`. After each, a hover proves the server still answers.

use super::*;

/// A frame with a correct header.
fn frame(body: &str) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

/// A hover request on the `CREATE INDEX` of [`MIGRATION`], with our own id.
fn hover_body(id: i64) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/hover",
           "params": {"textDocument": {"uri": URI}, "position": {"line": 2, "character": 16}}})
    .to_string()
}

fn is_null_id_error(m: &Value) -> bool {
    m.get("id") == Some(&Value::Null) && m.get("error").is_some()
}

/// A client with [`MIGRATION`] open and analysed.
fn started() -> LspClient {
    let (mut client, _) = start(json!({}));
    client.open(URI, 1, MIGRATION);
    client.diagnostics(URI, Some(1));
    client
}

/// The response to hover `id` is the index's hover.
fn hover_answered(client: &mut LspClient, id: i64) {
    let response = client.wait_for(&format!("the response to hover #{id}"), |m| m["id"] == id);
    let text = response["result"]["contents"]["value"].as_str().unwrap_or_default();
    assert!(text.contains("SHARE on `orders`"), "{response:#}");
}

/// One more round trip, then no error with a null id is left unread.
fn no_more_null_errors(client: &mut LspClient, id: i64) {
    client.send_raw(hover_body(id).as_bytes());
    hover_answered(client, id);
    assert!(!client.seen(is_null_id_error), "an extra error response");
}

#[test]
fn bodies_that_are_not_json_rpc_are_answered_and_the_session_goes_on() {
    let mut client = started();
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let deep_params = format!(r#"{{"jsonrpc":"2.0","id":8,"method":"textDocument/hover","params":{deep}}}"#);
    // (body, code, the id of the answer)
    let cases: Vec<(Vec<u8>, i64, Value)> = vec![
        (b"{}".to_vec(), -32600, Value::Null),
        (b"[]".to_vec(), -32600, Value::Null),
        (b"null".to_vec(), -32600, Value::Null),
        (b"\"a string\"".to_vec(), -32600, Value::Null),
        // A batch: LSP has none, and its `shutdown` must not run.
        (br#"[{"jsonrpc":"2.0","id":1,"method":"shutdown"}]"#.to_vec(), -32600, Value::Null),
        (br#"{"jsonrpc":"1.0","id":1,"method":"textDocument/hover"}"#.to_vec(), -32600, json!(1)),
        (br#"{"id":2,"method":"textDocument/hover"}"#.to_vec(), -32600, json!(2)),
        (br#"{"jsonrpc":"2.0","id":3,"method":5}"#.to_vec(), -32600, json!(3)),
        (br#"{"jsonrpc":"2.0","id":"four"}"#.to_vec(), -32600, json!("four")),
        (br#"{"jsonrpc":"2.0","method":["x"]}"#.to_vec(), -32600, Value::Null),
        (br#"{"jsonrpc":"2.0","id":{"a":1},"method":"textDocument/hover"}"#.to_vec(), -32600, Value::Null),
        (br#"{"jsonrpc":"2.0","id":1.5,"method":"textDocument/hover"}"#.to_vec(), -32600, Value::Null),
        (br#"{"jsonrpc":"2.0","id":true,"method":"textDocument/hover"}"#.to_vec(), -32600, Value::Null),
        (deep.clone().into_bytes(), -32600, Value::Null),
        (deep_params.into_bytes(), -32600, Value::Null),
        (br#"{"jsonrpc":"2.0","id":5,"method":"textDocument/hover","params":"#.to_vec(), -32700, Value::Null),
        (b"\xff\xfe{}".to_vec(), -32700, Value::Null),
        (b"{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":\"\xff\"}".to_vec(), -32700, Value::Null),
    ];
    for (i, (body, code, id)) in cases.iter().enumerate() {
        client.send_raw(body);
        let what = format!("the error for {}", String::from_utf8_lossy(body));
        let answer = client.wait_for(&what, |m| m.get("id") == Some(id) && m.get("error").is_some());
        assert_eq!(answer["error"]["code"], *code, "{}: {answer:#}", String::from_utf8_lossy(body));
        assert_eq!(answer["jsonrpc"], "2.0", "{answer:#}");
        no_more_null_errors(&mut client, 100 + i as i64);
    }

    // A response from the client that tower-lsp could not read is dropped, never answered.
    client.send_raw(br#"{"jsonrpc":"2.0","id":9,"error":"boom"}"#);
    client.send_raw(br#"{"jsonrpc":"2.0","id":9,"result":1,"error":{"code":1,"message":"m"}}"#);
    no_more_null_errors(&mut client, 200);
    assert!(!client.seen(|m| m["id"] == 9), "a response was answered");

    // Valid messages still work as before: a notification with no params, a request.
    client.send_raw(br#"{"jsonrpc":"2.0","method":"initialized"}"#);
    no_more_null_errors(&mut client, 201);
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_bad_or_missing_content_length_resynchronises_on_the_next_header() {
    let mut client = started();
    let shutdown = |id: i64| json!({"jsonrpc": "2.0", "id": id, "method": "shutdown"}).to_string();
    let long_line = "x".repeat(100_000);
    // Each case is followed, in the same write, by a good frame, which must be answered.
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("a Content-Length that is not a number", format!("Content-Length: abc\r\n\r\n{}", shutdown(50)).into_bytes()),
        ("a negative Content-Length", format!("Content-Length: -5\r\n\r\n{}", shutdown(51)).into_bytes()),
        (
            "no Content-Length",
            format!("Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}", shutdown(52)).into_bytes(),
        ),
        ("no header at all", shutdown(53).into_bytes()),
        ("a Content-Length too short", format!("Content-Length: 10\r\n\r\n{}", shutdown(54)).into_bytes()),
        // The server must not wait for the 5,000 bytes: the next header is in what it read.
        ("a Content-Length too long", format!("Content-Length: 5000\r\n\r\n{}", shutdown(55)).into_bytes()),
        ("garbage between frames", b"garbage!!\r\n".to_vec()),
        ("a header line with no end", long_line.into_bytes()),
        ("a header block cut short", b"Content-Length: 12\r\nContent-Ty".to_vec()),
    ];
    for (i, (what, bad)) in cases.into_iter().enumerate() {
        let id = 300 + i as i64;
        let mut bytes = bad;
        bytes.extend(frame(&hover_body(id)));
        client.write_raw(&bytes);
        hover_answered(&mut client, id);
        let error = client.wait_for(&format!("the parse error for {what}"), is_null_id_error);
        assert_eq!(error["error"]["code"], -32700, "{what}: {error:#}");
        no_more_null_errors(&mut client, 400 + i as i64);
    }
    // None of the swallowed `shutdown`s ran: the session goes on and ends cleanly.
    assert!(!client.seen(|m| (50..=55).contains(&m["id"].as_i64().unwrap_or(0))), "a swallowed request ran");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// A frame split at every byte arrives whole: resynchronising never mistakes a slow client for a
/// broken one.
#[test]
fn a_frame_written_a_byte_at_a_time_is_read_whole() {
    let mut client = started();
    for byte in frame(&hover_body(77)) {
        client.write_raw(&[byte]);
    }
    hover_answered(&mut client, 77);
    assert!(!client.seen(is_null_id_error), "a good frame was refused");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// Run under a 512 MiB address-space limit: allocating the claimed length would fail the test
/// instead of taking the machine.
#[test]
fn a_huge_content_length_is_refused_without_allocating_it() {
    let mut client = LspClient::spawn_with_memory_limit(512 * 1024 * 1024);
    client.initialize(init_params(json!({})));
    client.open(URI, 1, MIGRATION);
    client.diagnostics(URI, Some(1));
    for (i, length) in ["9223372036854775807", "18446744073709551616", "1073741824", "67108865"].iter().enumerate() {
        let id = 500 + i as i64;
        let mut bytes = format!("Content-Length: {length}\r\n\r\n").into_bytes();
        bytes.extend(frame(&hover_body(id)));
        client.write_raw(&bytes);
        hover_answered(&mut client, id);
        let error = client.wait_for("the too-large error", is_null_id_error);
        assert_eq!(error["error"]["code"], -32700, "{error:#}");
        let message = error["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("64 MB"), "{message}");
    }
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_dollar_request_gets_method_not_found_and_a_dollar_notification_nothing() {
    let mut client = started();
    let unknown = client.request("$/safemig/noSuchThing", json!({})).expect_err("an error response");
    assert_eq!(unknown["code"], -32601, "MethodNotFound: {unknown:#}");
    let progress = client.request("$/progress", json!({"token": 1, "value": {}})).expect_err("an error response");
    assert_eq!(progress["code"], -32601, "MethodNotFound: {progress:#}");
    // Notifications starting `$/` are ignored: no answer, nothing logged as an error.
    client.notify("$/safemig/noSuchThing", json!({}));
    client.notify("$/setTrace", json!({"value": "off"}));
    no_more_null_errors(&mut client, 600);
    assert!(!client.seen(|m| m.get("error").is_some()), "a notification was answered");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}
