//! Panic containment. A panic in one handler must cost that one answer, not the editor session:
//! tower-lsp polls every handler inside its single serve future, so an uncaught panic there would
//! end the process.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;

/// Runs `fut`, turning a panic inside it into `Err(message)`.
pub(crate) async fn catch_panic<F: Future>(fut: F) -> Result<F::Output, String> {
    // Unwind safety: handlers share state only through DashMap/locks that do not poison and
    // through values that are replaced whole, so a half-run handler leaves nothing torn.
    AssertUnwindSafe(fut).catch_unwind().await.map_err(panic_message)
}

/// Runs synchronous engine work on tokio's blocking pool, off the async executor, turning a panic
/// into `Err(message)`.
pub(crate) async fn run_blocking<T, F>(work: F) -> Result<T, String>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => Ok(value),
        Err(e) if e.is_panic() => Err(panic_message(e.into_panic())),
        Err(e) => Err(format!("the analysis task was cancelled: {e}")),
    }
}

pub(crate) use crate::engine::panic_message;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_future_becomes_an_error_and_the_next_one_runs() {
        let failed = catch_panic(async {
            if "x".len() == 1 {
                panic!("statement 3 made the recognizer trip");
            }
            1
        })
        .await;
        assert_eq!(failed, Err("statement 3 made the recognizer trip".to_string()));
        assert_eq!(catch_panic(async { 2 }).await, Ok(2));
    }

    #[tokio::test]
    async fn a_panicking_blocking_job_becomes_an_error() {
        let code = 7;
        let failed = run_blocking(move || -> u32 { panic!("rule {code} indexed past the end") }).await;
        assert_eq!(failed, Err("rule 7 indexed past the end".to_string()));
        assert_eq!(run_blocking(|| 40 + 2).await, Ok(42));
    }
}
