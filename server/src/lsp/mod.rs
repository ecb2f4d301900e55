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
//! - `transport`: malformed frames from the client are dropped instead of ending the session.
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

use tokio::sync::Notify;
use tower_lsp::jsonrpc::{Request, Response};
use tower_lsp::{LspService, Server};
use tower_service::Service;

/// Buffer between the frame filter and tower-lsp's reader.
const INPUT_PIPE_BYTES: usize = 256 * 1024;

/// Serves LSP on stdin/stdout until the client sends `exit` (or closes stdin).
pub fn serve_stdio() -> anyhow::Result<()> {
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
            tokio::spawn(transport::forward_well_formed_frames(tokio::io::stdin(), filtered));
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
    if exit_seen && !shutdown_requested.load(Ordering::SeqCst) {
        anyhow::bail!("the client sent `exit` without `shutdown` first");
    }
    Ok(())
}

/// The edge between the transport and tower-lsp's router: signals when `exit` arrives, and reads
/// `"params": null` on the protocol's parameterless messages as no params, as the specification
/// allows and some clients send (tower-lsp alone would refuse `shutdown` and drop `exit`).
struct ProtocolEdge<S> {
    inner: S,
    exited: Arc<Notify>,
}

impl<S: Service<Request, Response = Option<Response>>> Service<Request> for ProtocolEdge<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
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
        let response = self.inner.call(request);
        if is_exit {
            self.exited.notify_one();
        }
        response
    }
}
