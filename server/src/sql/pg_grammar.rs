//! PostgreSQL's own parser (libpg_query, through the `pg_query` crate) on one statement's text:
//! the exact verdict on whether PostgreSQL accepts it, and where it stops when it does not.
//!
//! Only PostgreSQL's raw parser runs (scanner and grammar, as on the server before any catalog
//! lookup), and no parse tree crosses into Rust: `pg_query_split_with_parser` returns statement
//! locations or the error, a few microseconds per statement.

use std::ffi::{c_char, c_int, CStr, CString};

/// What PostgreSQL's parser says about a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Accepted,
    /// PostgreSQL rejects the text: its message, and the byte offset it points at.
    Rejected {
        message: String,
        offset: usize,
    },
    /// The parser gave up for a reason that depends on where it runs, not on the grammar.
    Unjudged {
        message: String,
    },
}

/// `pg_query::split_with_parser` drops the error's cursor position, the one fact a diagnostic
/// needs most, so the C function it wraps is called directly. These mirror `pg_query.h` of the
/// pinned `pg_query` version (server/Cargo.toml); the position tests in `syntax_cases` fail if a
/// new version changes the layout.
#[repr(C)]
struct PgQueryError {
    message: *mut c_char,
    funcname: *mut c_char,
    filename: *mut c_char,
    lineno: c_int,
    cursorpos: c_int,
    context: *mut c_char,
}

#[repr(C)]
struct PgQuerySplitStmt {
    stmt_location: c_int,
    stmt_len: c_int,
}

#[repr(C)]
struct PgQuerySplitResult {
    stmts: *mut *mut PgQuerySplitStmt,
    n_stmts: c_int,
    stderr_buffer: *mut c_char,
    error: *mut PgQueryError,
}

// The `pg_query` crate links libpg_query statically; this `use` keeps it linked into every binary.
use pg_query as _;

unsafe extern "C" {
    fn pg_query_split_with_parser(input: *const c_char) -> PgQuerySplitResult;
    fn pg_query_free_split_result(result: PgQuerySplitResult);
}

/// PostgreSQL's verdict on `text` (one statement, or several: all must be valid).
pub(crate) fn judge(text: &str) -> Verdict {
    let input = match CString::new(text) {
        Ok(input) => input,
        // PostgreSQL reads a query string up to its first NUL byte; a client cannot send one.
        Err(err) => {
            return Verdict::Rejected {
                message: "a NUL character, which PostgreSQL does not accept in a query".into(),
                offset: err.nul_position(),
            }
        }
    };
    // SAFETY: `input` is a NUL-terminated string that outlives the call. libpg_query keeps its
    // parser state per thread, so concurrent calls from rayon's threads are safe. The result is
    // read before it is freed, exactly once, by the library's own free function.
    unsafe {
        let result = pg_query_split_with_parser(input.as_ptr());
        let verdict = match result.error.as_ref() {
            None => Verdict::Accepted,
            Some(error) => {
                let message = c_text(error.message);
                if c_text(error.funcname) == "check_stack_depth" {
                    Verdict::Unjudged { message }
                } else {
                    Verdict::Rejected { offset: byte_offset(text, error.cursorpos), message }
                }
            }
        };
        pg_query_free_split_result(result);
        verdict
    }
}

/// # Safety
/// `ptr` is null or a NUL-terminated string that lives until the caller frees the result.
unsafe fn c_text(ptr: *const c_char) -> String {
    if ptr.is_null() {
        return String::new();
    }
    unsafe { CStr::from_ptr(ptr) }.to_string_lossy().into_owned()
}

/// PostgreSQL's cursor position counts characters from 1 (0: none); a position past the end is
/// the end of the input.
fn byte_offset(text: &str, cursorpos: c_int) -> usize {
    let Some(index) = usize::try_from(cursorpos).ok().and_then(|p| p.checked_sub(1)) else { return 0 };
    text.char_indices().nth(index).map(|(i, _)| i).unwrap_or(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_from_one() {
        let sql = "CREATE TABLE café (é int DEFUALT 1);";
        let Verdict::Rejected { message, offset } = judge(sql) else { panic!() };
        assert_eq!(offset, sql.find("DEFUALT").unwrap());
        assert_eq!(message, "syntax error at or near \"DEFUALT\"");
        let Verdict::Rejected { offset, message } = judge("SELECT (1") else { panic!() };
        assert_eq!((offset, message.as_str()), (9, "syntax error at end of input"));
    }

    #[test]
    fn nul_bytes_and_deep_nesting_get_no_panic() {
        assert!(matches!(judge("SELECT 1\0;"), Verdict::Rejected { offset: 8, .. }));
        let deep = format!("SELECT {}1{};", "(".repeat(200_000), ")".repeat(200_000));
        assert!(!matches!(judge(&deep), Verdict::Accepted), "a stack this deep is not checked");
        assert_eq!(judge(""), Verdict::Accepted);
        assert_eq!(judge("-- +goose Up\n"), Verdict::Accepted);
    }
}
