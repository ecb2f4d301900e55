//! A minimal LSP client that drives the built `safemig lsp --stdio` over its stdin/stdout, for the
//! end-to-end suite and the latency bench. JSON-RPC with `Content-Length` framing; a reader thread
//! feeds a channel, and every wait has a deadline, so a hung server fails instead of hanging CI.
//! Requests from the server (`client/registerCapability`, `workspace/configuration`) are answered
//! as they arrive and recorded.

#![allow(dead_code)] // Each user of this module needs a different part of it.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long any single wait may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(30);

pub struct LspClient {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    /// Messages read while waiting for something else, oldest first.
    backlog: VecDeque<Value>,
    next_id: i64,
    /// What `workspace/configuration` answers for each item.
    pub settings: Value,
    /// Requests the server sent us, in order.
    pub server_requests: Vec<Value>,
    /// How `workspace/applyEdit` is answered: applied, or refused as an editor may.
    pub apply_edits: bool,
    /// What the server wrote to stderr, shown when a test fails.
    server_stderr: Arc<Mutex<Vec<u8>>>,
}

impl LspClient {
    /// Starts `safemig lsp --stdio`.
    pub fn spawn() -> LspClient {
        LspClient::spawn_with(&["lsp", "--stdio"])
    }

    pub fn spawn_with(args: &[&str]) -> LspClient {
        let mut command = Command::new(env!("CARGO_BIN_EXE_safemig"));
        command.args(args);
        LspClient::spawn_command(command)
    }

    /// Starts `safemig lsp --stdio` with its address space limited to `bytes` from the start
    /// (`prlimit --as`), so that a reproducer that allocates without bound fails instead of taking
    /// the machine.
    pub fn spawn_with_memory_limit(bytes: u64) -> LspClient {
        let mut command = Command::new("prlimit");
        command.arg(format!("--as={bytes}")).arg("--").arg(env!("CARGO_BIN_EXE_safemig")).args(["lsp", "--stdio"]);
        LspClient::spawn_command(command)
    }

    fn spawn_command(mut command: Command) -> LspClient {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the safemig binary");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let server_stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&server_stderr);
        std::thread::spawn(move || {
            let mut chunk = [0; 4096];
            while let Ok(n @ 1..) = stderr.read(&mut chunk) {
                sink.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(&chunk[..n]);
            }
        });
        let (tx, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if tx.send(message).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        LspClient {
            child,
            stdin,
            incoming,
            backlog: VecDeque::new(),
            next_id: 0,
            settings: Value::Null,
            server_requests: Vec::new(),
            apply_edits: true,
            server_stderr,
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the next message of any kind (or panics after [`TIMEOUT`]); messages in the
    /// backlog come first.
    pub fn next_message(&mut self) -> Value {
        self.wait_for("any message", |_| true)
    }

    /// Writes one framed message.
    pub fn send(&mut self, message: &Value) {
        let body = serde_json::to_vec(message).expect("serialize a message");
        self.send_raw(&body);
    }

    /// Writes `body` with a correct header, whatever it contains.
    pub fn send_raw(&mut self, body: &[u8]) {
        let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        frame.extend_from_slice(body);
        self.write_raw(&frame);
    }

    /// Writes `bytes` as they are: no header, no framing.
    pub fn write_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(bytes).expect("write to the server");
        stdin.flush().expect("flush to the server");
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        let message = if params.is_null() {
            json!({"jsonrpc": "2.0", "method": method})
        } else {
            json!({"jsonrpc": "2.0", "method": method, "params": params})
        };
        self.send(&message);
    }

    /// Sends a request without waiting; returns its id.
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        self.next_id += 1;
        let id = self.next_id;
        // Parameterless requests (`shutdown`) go without a `params` member, as editors send them.
        let message = if params.is_null() {
            json!({"jsonrpc": "2.0", "id": id, "method": method})
        } else {
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
        };
        self.send(&message);
        id
    }

    /// Sends a request and waits for its response: `Ok(result)` or `Err(error object)`.
    pub fn request(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.send_request(method, params);
        let response = self.wait_for(&format!("the response to {method} #{id}"), |m| {
            m.get("id") == Some(&json!(id)) && m.get("method").is_none()
        });
        match response.get("error") {
            Some(error) => Err(error.clone()),
            None => Ok(response.get("result").cloned().unwrap_or(Value::Null)),
        }
    }

    /// `initialize` + `initialized`; returns the server's `InitializeResult`.
    pub fn initialize(&mut self, params: Value) -> Value {
        let result = self.request("initialize", params).expect("initialize succeeds");
        self.notify("initialized", json!({}));
        result
    }

    pub fn open(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "sql", "version": version, "text": text}}),
        );
    }

    /// One incremental edit: replace `[start, end)` (line, character) with `text`.
    pub fn change(&mut self, uri: &str, version: i64, start: (u32, u32), end: (u32, u32), text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{
                    "range": {
                        "start": {"line": start.0, "character": start.1},
                        "end": {"line": end.0, "character": end.1}
                    },
                    "text": text
                }]
            }),
        );
    }

    /// Waits for `publishDiagnostics` on `uri` (for `version`, when given); returns its params.
    pub fn diagnostics(&mut self, uri: &str, version: Option<i64>) -> Value {
        self.wait_for(&format!("diagnostics for {uri} at version {version:?}"), |m| {
            m.get("method").and_then(Value::as_str) == Some("textDocument/publishDiagnostics")
                && m["params"]["uri"].as_str() == Some(uri)
                && version.is_none_or(|v| m["params"]["version"].as_i64() == Some(v))
        })["params"]
            .clone()
    }

    /// Waits for `publishDiagnostics` on `uri` whose params satisfy `accept` (earlier ones for
    /// the file, which other changes may have caused, are skipped); returns its params.
    pub fn diagnostics_where(&mut self, uri: &str, mut accept: impl FnMut(&Value) -> bool) -> Value {
        self.wait_for(&format!("matching diagnostics for {uri}"), |m| {
            m.get("method").and_then(Value::as_str) == Some("textDocument/publishDiagnostics")
                && m["params"]["uri"].as_str() == Some(uri)
                && accept(&m["params"])
        })["params"]
            .clone()
    }

    /// Waits for a notification named `method` whose params satisfy `accept`.
    pub fn notification(&mut self, method: &str, mut accept: impl FnMut(&Value) -> bool) -> Value {
        self.wait_for(&format!("a {method} notification"), |m| {
            m.get("method").and_then(Value::as_str) == Some(method) && m.get("id").is_none() && accept(&m["params"])
        })["params"]
            .clone()
    }

    /// Waits for the first message (seen earlier or arriving within [`TIMEOUT`]) that satisfies
    /// `accept`, keeping the others for later waits.
    pub fn wait_for(&mut self, what: &str, mut accept: impl FnMut(&Value) -> bool) -> Value {
        if let Some(i) = self.backlog.iter().position(&mut accept) {
            return self.backlog.remove(i).expect("index from position");
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = match self.incoming.recv_timeout(left) {
                Ok(message) => message,
                Err(RecvTimeoutError::Timeout) => {
                    panic!("timed out after {TIMEOUT:?} waiting for {what}; unread: {:#?}", self.backlog)
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the server closed its output while we waited for {what}; unread: {:#?}", self.backlog)
                }
            };
            if message.get("method").is_some() && message.get("id").is_some() {
                self.answer_server_request(&message);
            }
            if accept(&message) {
                return message;
            }
            self.backlog.push_back(message);
        }
    }

    /// Whether a message read so far (and not waited for) satisfies `accept`; reads what has
    /// already arrived first, without waiting.
    pub fn seen(&mut self, mut accept: impl FnMut(&Value) -> bool) -> bool {
        while let Ok(message) = self.incoming.try_recv() {
            if message.get("method").is_some() && message.get("id").is_some() {
                self.answer_server_request(&message);
            }
            self.backlog.push_back(message);
        }
        self.backlog.iter().any(&mut accept)
    }

    /// Forgets every message read so far that nobody waited for.
    pub fn clear_backlog(&mut self) {
        self.backlog.clear();
        while self.incoming.try_recv().is_ok() {}
    }

    fn answer_server_request(&mut self, request: &Value) {
        let result = match request["method"].as_str() {
            Some("workspace/configuration") => {
                let items = request["params"]["items"].as_array().map_or(0, Vec::len);
                Value::Array(vec![self.settings.clone(); items])
            }
            Some("workspace/applyEdit") => json!({"applied": self.apply_edits}),
            _ => Value::Null,
        };
        self.server_requests.push(request.clone());
        let id = request["id"].clone();
        self.send(&json!({"jsonrpc": "2.0", "id": id, "result": result}));
    }

    /// `shutdown`, `exit`, then waits for the process to end.
    pub fn shutdown_and_exit(mut self) -> ExitStatus {
        self.request("shutdown", Value::Null).expect("shutdown succeeds");
        self.notify("exit", Value::Null);
        self.wait_exit()
    }

    /// Waits (up to [`TIMEOUT`]) for the process to end on its own.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the server process") {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not exit within {TIMEOUT:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.server_stderr.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }

    /// Closes the server's stdin, as a client that went away would.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }
}

impl Drop for LspClient {
    fn drop(&mut self) {
        // A failed test must not leave its server behind.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            let stderr = self.server_stderr.lock().unwrap_or_else(PoisonError::into_inner);
            eprintln!("--- the server's stderr ---\n{}", String::from_utf8_lossy(&stderr));
        }
    }
}

/// Reads one framed message; `None` at end of stream or on a framing error.
fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<usize>().ok();
            }
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// A `file://` URI for a path (ASCII paths, as the tests use).
pub fn file_uri(path: &std::path::Path) -> String {
    format!("file://{}", path.display())
}
