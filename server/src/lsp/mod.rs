//! The language server: a thin adapter from LSP to the engine. It converts (positions, findings,
//! config problems) and schedules (analysis off the async executor, latest text wins); every
//! decision about SQL is the engine's.
//!
//! - `server`: the `LanguageServer` handlers and the open-document state.
//! - `documents`: one buffer's rope, its analysis job and the snapshot hovers read.
//! - `convert`: bytes ⇄ positions (UTF-16 or negotiated UTF-8) and findings → diagnostics.
//! - `settings`: `safemig.toml` + `initializationOptions` + `didChangeConfiguration`.
//! - `hover`, `symbols`: the statement's locks and findings, and the outline.
//! - `navigation`: hover, definition, references, completion and code lenses from the replayed
//!   schema of the project.
//! - `guard`: panics become a logged error instead of a dead server.
//! - `transport`: malformed messages from the client are answered with JSON-RPC errors (or
//!   dropped) instead of ending the session; reading resumes at the next header.
//! - `workspace`: which files of the workspace get diagnostics, and how they are analysed.
//! - `watcher`: our own file watcher, for clients that cannot watch files for us.

mod actions;
mod convert;
mod documents;
mod guard;
mod hover;
mod live_hover;
mod navigation;
mod server;
mod settings;
mod symbols;
mod transport;
mod watcher;
mod workspace;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::{self, BoxFuture, FutureExt};
use tokio::sync::Notify;
use tower_lsp::jsonrpc::{Error, ErrorCode, Id, Request, Response};
use tower_lsp::{LspService, Server};
use tower_service::Service;

/// Buffer between the frame filter and tower-lsp's reader.
const INPUT_PIPE_BYTES: usize = 256 * 1024;

/// How the session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// `shutdown` then `exit`, or the client closed stdin.
    Cleanly,
    /// `exit` without `shutdown` first: the specification asks for exit code 1.
    ExitWithoutShutdown,
}

/// Serves LSP on stdin/stdout until the client sends `exit` (or closes stdin).
pub fn serve_stdio() -> anyhow::Result<Ended> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let shutdown_requested = Arc::new(AtomicBool::new(false));
    let exited = Arc::new(Notify::new());
    let exit_seen = runtime.block_on({
        let shutdown_requested = Arc::clone(&shutdown_requested);
        let exited = Arc::clone(&exited);
        async move {
            let (service, socket) = LspService::build(|client| server::Backend::new(client, shutdown_requested))
                .custom_method("safemig/migrationStatus", server::Backend::migration_status)
                .finish();
            let service = ProtocolEdge { inner: service, exited: Arc::clone(&exited) };
            let (client_messages, filtered) = tokio::io::duplex(INPUT_PIPE_BYTES);
            tokio::spawn(transport::forward_messages(tokio::io::stdin(), filtered));
            let serve = Server::new(client_messages, tokio::io::stdout(), socket).serve(service);
            // tower-lsp keeps reading stdin after `exit`; the protocol says the process ends.
            tokio::select! {
                () = serve => false,
                () = exited.notified() => true,
            }
        }
    });
    // Analyses still running have no one left to report to; the blocked stdin read neither.
    runtime.shutdown_background();
    Ok(if exit_seen && !shutdown_requested.load(Ordering::SeqCst) {
        Ended::ExitWithoutShutdown
    } else {
        Ended::Cleanly
    })
}

/// The edge between the transport and tower-lsp's router:
/// - signals when `exit` arrives;
/// - reads `"params": null` on the protocol's parameterless messages as no params, as the
///   specification allows and some clients send (tower-lsp alone would refuse `shutdown` and drop
///   `exit`);
/// - answers the transport's [`transport::REJECT_METHOD`] requests with their error;
/// - answers a `$/` request tower-lsp does not know with `MethodNotFound` (tower-lsp answers
///   nothing, as it should for a `$/` notification, and the client would wait forever).
struct ProtocolEdge<S> {
    inner: S,
    exited: Arc<Notify>,
}

impl<S> Service<Request> for ProtocolEdge<S>
where
    S: Service<Request, Response = Option<Response>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if request.method() == transport::REJECT_METHOD {
            let (_, id, params) = request.into_parts();
            return future::ready(Ok(Some(rejection(id.unwrap_or(Id::Null), params)))).boxed();
        }
        let is_exit = request.method() == "exit";
        let request = match request.method() {
            "shutdown" | "exit" if request.params() == Some(&serde_json::Value::Null) => {
                let (method, id, _) = request.into_parts();
                let builder = Request::build(method);
                match id {
                    Some(id) => builder.id(id).finish(),
                    None => builder.finish(),
                }
            }
            _ => request,
        };
        let dollar_request = match request.id() {
            Some(id) if request.method().starts_with("$/") => Some(id.clone()),
            _ => None,
        };
        let response = self.inner.call(request);
        if is_exit {
            self.exited.notify_one();
        }
        async move {
            let response = response.await?;
            Ok(match (response, dollar_request) {
                (None, Some(id)) => Some(Response::from_error(id, Error::method_not_found())),
                (response, _) => response,
            })
        }
        .boxed()
    }
}

/// The error response a [`transport::REJECT_METHOD`] request carries.
fn rejection(id: Id, params: Option<serde_json::Value>) -> Response {
    let params = params.unwrap_or_default();
    let code = params["code"].as_i64().unwrap_or(transport::INVALID_REQUEST);
    let message = params["message"].as_str().unwrap_or("malformed message").to_string();
    Response::from_error(id, Error { code: ErrorCode::from(code), message: message.into(), data: None })
}
