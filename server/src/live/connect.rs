//! The connection to the dev database: where its URL comes from, how it is redacted, TLS like
//! libpq, timeouts, and the read-only transaction every query of safemig runs in.
//!
//! - [`resolve_url`]: `[database] url`, else the environment variable `url_env`, else that key in
//!   the workspace's `.env` (read, never loaded into the process environment).
//! - [`connect`]: URL (`postgres://…`) and key=value forms; `sslmode` as libpq reads it
//!   (`disable`, `prefer` (default), `require`, `verify-ca`, `verify-full`, `sslrootcert`);
//!   `application_name=safemig`; the session starts with `default_transaction_read_only=on` and
//!   a `statement_timeout` where the server accepts startup options.
//! - [`LiveClient::read`]: a [`ReadTxn`] — `BEGIN READ ONLY`, `SET LOCAL statement_timeout`,
//!   `lock_timeout` and `idle_in_transaction_session_timeout`, queries through the extended
//!   protocol (one statement per call: text from a migration cannot smuggle a `COMMIT`), and a
//!   `ROLLBACK` at the end, also when the transaction is dropped unfinished.
//! - [`LiveError`]: what went wrong, in words a user can act on, never with a credential in it.
//! - [`Backoff`]: the delay between reconnect attempts.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::sync::{Mutex, OwnedMutexGuard};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Row};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::config::{DatabaseConfig, Secret};

/// The `lock_timeout` of introspection queries: catalog reads never wait long behind a migration
/// that holds a strong lock.
pub const LOCK_TIMEOUT: Duration = Duration::from_millis(1_000);

/// How long the server lets a transaction of ours sit idle before it ends the session: a safety
/// net for a transaction whose owner vanished without its `ROLLBACK`.
const IDLE_IN_TRANSACTION: Duration = Duration::from_secs(30);

/// What went wrong with the dev database. Messages name the host and port, never a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LiveError {
    /// The URL (or key=value string) cannot be read.
    #[error("the database URL is not valid: {}", redact(.0))]
    InvalidUrl(String),
    /// The `.env` file or the environment variable holding the URL cannot be read.
    #[error("cannot read the database URL from {}: {}", redact(source_name), redact(reason))]
    UrlSource { source_name: String, reason: String },
    /// Nothing answers at the address (refused, timed out, no such host), or the server cannot
    /// take a connection now.
    #[error("cannot reach the database at {}: {}", redact(target), redact(reason))]
    Unreachable { target: String, reason: String },
    /// The server answered and refused the login: wrong password, unknown role or database, no
    /// `pg_hba.conf` entry, no `CONNECT` privilege.
    #[error("the database at {} refused the login: {}", redact(target), redact(reason))]
    LoginRefused { target: String, reason: String },
    /// TLS could not be set up (the server has none under `sslmode=require`, a certificate
    /// failed verification, an unreadable `sslrootcert`).
    #[error("TLS with the database at {} failed: {}", redact(target), redact(reason))]
    Tls { target: String, reason: String },
    /// The statement was canceled: `statement_timeout` or `lock_timeout`.
    #[error("the query was canceled after {}: {}", millis(*after), redact(reason))]
    Timeout {
        after: Duration,
        reason: String,
        /// The statement waited for a lock someone else holds (`lock_timeout`), rather than
        /// running too long itself.
        lock: bool,
    },
    /// The server rejected the query.
    #[error("the query failed: {}{}", redact(message), sqlstate_suffix(code))]
    QueryFailed {
        /// The SQLSTATE, e.g. `25006` (read-only transaction); empty when the error did not come
        /// from the server.
        code: String,
        message: String,
    },
    /// The connection is gone; reconnect (see [`Backoff`]).
    #[error("the connection to the database is closed")]
    Closed,
}

impl LiveError {
    /// The SQLSTATE of a query the server rejected.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            LiveError::QueryFailed { code, .. } if !code.is_empty() => Some(code),
            _ => None,
        }
    }

    /// The connection cannot be used any more (or never was): reconnect with a [`Backoff`].
    pub fn needs_reconnect(&self) -> bool {
        matches!(self, LiveError::Unreachable { .. } | LiveError::Closed)
    }
}

fn millis(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

fn sqlstate_suffix(code: &str) -> String {
    if code.is_empty() {
        String::new()
    } else {
        format!(" (SQLSTATE {code})")
    }
}

// ---------------------------------------------------------------------------------------------
// Where the URL comes from
// ---------------------------------------------------------------------------------------------

/// The dev database's URL: `None` when the database is disabled or no source names one.
///
/// Precedence: `cfg.url`; the process environment's `cfg.url_env`; the same key in
/// `<root>/.env` (parsed with dotenvy, without touching the process environment). Empty values
/// count as unset.
pub fn resolve_url(cfg: &DatabaseConfig, root: Option<&Path>) -> Result<Option<Secret>, LiveError> {
    resolve_url_with(cfg, root, |name| std::env::var(name).ok())
}

/// [`resolve_url`] with the environment given as a lookup function (for tests).
pub fn resolve_url_with(
    cfg: &DatabaseConfig,
    root: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<Secret>, LiveError> {
    if !cfg.enabled {
        return Ok(None);
    }
    if let Some(url) = cfg.url.as_ref().filter(|u| !u.expose().trim().is_empty()) {
        return Ok(Some(url.clone()));
    }
    let name = cfg.url_env.trim();
    if name.is_empty() {
        return Ok(None);
    }
    if let Some(value) = env(name).filter(|v| !v.trim().is_empty()) {
        return Ok(Some(Secret::new(value)));
    }
    match root {
        Some(root) => dotenv_value(&root.join(".env"), name),
        None => Ok(None),
    }
}

/// The first `name=…` entry of a `.env` file. A missing file is no URL; a line dotenvy cannot
/// read is skipped unless no entry is found (its text is never quoted: it may hold a secret).
fn dotenv_value(path: &Path, name: &str) -> Result<Option<Secret>, LiveError> {
    let source_name = path.display().to_string();
    // Capped, and only a regular file: a FIFO or `/dev/zero` named `.env` is refused, not read.
    let text = match crate::config::read_config_file(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            return Err(LiveError::UrlSource { source_name, reason: e.to_string() })
        }
        Err(e) => return Err(LiveError::UrlSource { source_name, reason: e.kind().to_string() }),
    };
    let iter = dotenvy::from_read_iter(text.as_bytes());
    let mut bad_lines = 0usize;
    for item in iter {
        match item {
            Ok((key, value)) if key == name => {
                return Ok((!value.trim().is_empty()).then(|| Secret::new(value)));
            }
            Ok(_) => {}
            Err(dotenvy::Error::LineParse(..)) => bad_lines += 1,
            // A read error repeats forever on some readers: stop at the first.
            Err(dotenvy::Error::Io(e)) => {
                return Err(LiveError::UrlSource { source_name, reason: e.kind().to_string() });
            }
            Err(_) => bad_lines += 1,
        }
    }
    if bad_lines > 0 {
        let reason = format!("no `{name}` entry, and {bad_lines} line(s) could not be parsed");
        return Err(LiveError::UrlSource { source_name, reason });
    }
    Ok(None)
}

// ---------------------------------------------------------------------------------------------
// Redaction
// ---------------------------------------------------------------------------------------------

/// `text` (a URL, or any message that may quote one) with every password replaced by `***`: the
/// user-info password of each word that looks like a connection string, with or without its
/// scheme (`postgres://app:***@host/db`, `app:***@host/db`), and every `password=` parameter
/// (key=value form or query string). The one redaction every message about configuration,
/// settings or the database goes through.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        out.push_str(&redact_userinfo(&rest[..word_end]));
        let space_end = rest[word_end..].find(|c: char| !c.is_whitespace()).map_or(rest.len(), |n| word_end + n);
        out.push_str(&rest[word_end..space_end]);
        rest = &rest[space_end..];
    }
    mask_password_params(&out)
}

/// One word with the password of its `user:password@` masked.
fn redact_userinfo(word: &str) -> String {
    let start = word.find("://").map_or(0, |s| s + 3);
    let rest = &word[start..];
    let base_end = rest.find(['?', '#']).unwrap_or(rest.len());
    let mut out = word.to_string();
    if let Some(at) = rest[..base_end].rfind('@') {
        if let Some(colon) = rest[..at].find(':').filter(|c| c + 1 < at) {
            out.replace_range(start + colon + 1..start + at, "***");
        }
    }
    out
}

/// `message` with every trace of `secret` (a connection string) removed: the whole string
/// becomes its [`redact`]ed form, and its password (as written and percent-decoded) becomes
/// `***`.
pub fn scrub(message: &str, secret: &Secret) -> String {
    let raw = secret.expose();
    let mut out = if raw.is_empty() { message.to_string() } else { message.replace(raw, &redact(raw)) };
    for password in passwords_in(raw) {
        if !password.is_empty() {
            out = out.replace(&password, "***");
        }
    }
    out
}

/// Masks the value of every `…password=` parameter (also `sslpassword`).
fn mask_password_params(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let mut out = String::with_capacity(s.len());
    let mut pos = 0;
    while let Some(found) = lower[pos..].find("password") {
        let key_end = pos + found + "password".len();
        let mut i = key_end;
        let bytes = s.as_bytes();
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] != b'=' {
            out.push_str(&s[pos..key_end]);
            pos = key_end;
            continue;
        }
        i += 1;
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        out.push_str(&s[pos..i]);
        let value_end = if bytes.get(i) == Some(&b'\'') {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'\'' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            (j + 1).min(bytes.len())
        } else {
            let mut j = i;
            while j < bytes.len() && !bytes[j].is_ascii_whitespace() && bytes[j] != b'&' && bytes[j] != b'#' {
                j += 1;
            }
            j
        };
        if value_end > i {
            out.push_str("***");
        }
        pos = value_end;
    }
    out.push_str(&s[pos..]);
    out
}

/// The passwords a connection string carries, as written and decoded.
fn passwords_in(s: &str) -> Vec<String> {
    let mut found = Vec::new();
    if let Ok(conn) = ConnString::parse(s) {
        for (key, value) in conn.params() {
            if key.ends_with("password") {
                found.push(value);
            }
        }
        if let ConnString::Url { userinfo: Some(userinfo), query, .. } = &conn {
            if let Some((_, password)) = userinfo.split_once(':') {
                found.push(password.to_string());
                found.push(percent_decode(password));
            }
            for (key, value) in query {
                if percent_decode(key).to_ascii_lowercase().ends_with("password") {
                    found.push(value.clone());
                }
            }
        }
    }
    // Longest first, so a password that contains another is replaced whole.
    found.sort_by_key(|p| std::cmp::Reverse(p.len()));
    found.dedup();
    found
}

// ---------------------------------------------------------------------------------------------
// Connection strings
// ---------------------------------------------------------------------------------------------

/// Keys tokio-postgres reads itself.
const CLIENT_KEYS: &[&str] = &[
    "user",
    "password",
    "dbname",
    "options",
    "application_name",
    "host",
    "hostaddr",
    "port",
    "connect_timeout",
    "tcp_user_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_retries",
    "target_session_attrs",
    "channel_binding",
    "load_balance_hosts",
    "sslnegotiation",
];

/// A connection string split into its parts, so that safemig can apply the TLS parameters
/// tokio-postgres does not know and drop the parameters of other tools (Prisma's
/// `connection_limit`, `pgbouncer`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
enum ConnString {
    Url {
        /// `postgres://` or `postgresql://`.
        prefix: String,
        userinfo: Option<String>,
        /// Host(s), port(s) and path, as written.
        rest: String,
        /// Raw (percent-encoded) query pairs.
        query: Vec<(String, String)>,
    },
    KeyValue(Vec<(String, String)>),
}

impl ConnString {
    fn parse(s: &str) -> Result<ConnString, String> {
        let s = s.trim();
        for prefix in ["postgres://", "postgresql://"] {
            if s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix) {
                let body = &s[prefix.len()..];
                let (base, query) = body.split_once('?').unwrap_or((body, ""));
                let base = base.split('#').next().unwrap_or("");
                let query = query.split('#').next().unwrap_or("");
                let (userinfo, rest) = match base.rfind('@') {
                    Some(at) => (Some(base[..at].to_string()), base[at + 1..].to_string()),
                    None => (None, base.to_string()),
                };
                let mut pairs = Vec::new();
                for pair in query.split('&').filter(|p| !p.is_empty()) {
                    let (k, v) = pair.split_once('=').ok_or_else(|| "a query parameter has no `=`".to_string())?;
                    pairs.push((k.to_string(), v.to_string()));
                }
                return Ok(ConnString::Url { prefix: prefix.to_string(), userinfo, rest, query: pairs });
            }
        }
        if s.contains("://") {
            return Err("only postgres:// and postgresql:// URLs are supported".into());
        }
        parse_key_values(s).map(ConnString::KeyValue)
    }

    /// Every parameter, decoded, with lower-cased keys.
    fn params(&self) -> Vec<(String, String)> {
        match self {
            ConnString::Url { query, .. } => {
                query.iter().map(|(k, v)| (percent_decode(k).to_ascii_lowercase(), percent_decode(v))).collect()
            }
            ConnString::KeyValue(pairs) => pairs.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect(),
        }
    }
}

/// `key = value` pairs, values optionally single-quoted with backslash escapes (libpq's
/// key=value syntax).
fn parse_key_values(s: &str) -> Result<Vec<(String, String)>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut pairs = Vec::new();
    let skip_ws = |i: &mut usize| {
        while *i < chars.len() && chars[*i].is_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        if i >= chars.len() {
            return Ok(pairs);
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '=' {
            i += 1;
        }
        let key: String = chars[start..i].iter().collect();
        skip_ws(&mut i);
        if i >= chars.len() || chars[i] != '=' {
            return Err(format!("expected `=` after `{key}`"));
        }
        i += 1;
        skip_ws(&mut i);
        let mut value = String::new();
        if i < chars.len() && chars[i] == '\'' {
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(format!("the value of `{key}` has no closing quote")),
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some('\\') => {
                        if let Some(c) = chars.get(i + 1) {
                            value.push(*c);
                        }
                        i += 2;
                    }
                    Some(c) => {
                        value.push(*c);
                        i += 1;
                    }
                }
            }
        } else {
            while i < chars.len() && !chars[i].is_whitespace() {
                if chars[i] == '\\' {
                    if let Some(c) = chars.get(i + 1) {
                        value.push(*c);
                    }
                    i += 2;
                } else {
                    value.push(chars[i]);
                    i += 1;
                }
            }
            if value.is_empty() {
                return Err(format!("`{key}` has no value"));
            }
        }
        pairs.push((key, value));
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(b) = hex {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn quote_kv(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// libpq's `sslmode`, plus the spellings other drivers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslChoice {
    Disable,
    /// TLS when the server has it, without certificate verification; plain otherwise.
    Prefer,
    /// TLS, without certificate verification (libpq semantics).
    Require,
    /// TLS, the certificate chain verified, not the host name.
    VerifyCa,
    /// TLS, the chain and the host name verified.
    VerifyFull,
}

impl SslChoice {
    fn parse(value: &str) -> Option<SslChoice> {
        match value.trim().to_ascii_lowercase().as_str() {
            "disable" | "allow" | "false" | "0" => Some(SslChoice::Disable),
            "prefer" => Some(SslChoice::Prefer),
            "require" | "no-verify" | "true" | "1" => Some(SslChoice::Require),
            "verify-ca" => Some(SslChoice::VerifyCa),
            "verify-full" => Some(SslChoice::VerifyFull),
            _ => None,
        }
    }
}

/// A connection string turned into tokio-postgres' config and what safemig applies itself.
struct Prepared {
    config: tokio_postgres::Config,
    ssl: SslChoice,
    root_cert: Option<PathBuf>,
    /// Prisma's `?schema=`: becomes the session's `search_path`.
    search_path: Option<String>,
}

/// Parameters of libpq or other tools that safemig does not apply (client certificates, GSS,
/// pool sizes): dropped rather than refused.
fn prepare(url: &str) -> Result<Prepared, String> {
    let conn = ConnString::parse(url)?;
    let mut ssl = SslChoice::Prefer;
    let mut root_cert = None;
    let mut search_path = None;
    let mut handle = |key: &str, value: &str| -> Result<bool, String> {
        match key {
            "sslmode" => {
                ssl = SslChoice::parse(value).ok_or_else(|| format!("unknown sslmode `{value}`"))?;
                Ok(false)
            }
            "ssl" => {
                ssl = SslChoice::parse(value).ok_or_else(|| format!("unknown ssl value `{value}`"))?;
                Ok(false)
            }
            "sslrootcert" => {
                root_cert = Some(PathBuf::from(value));
                Ok(false)
            }
            "schema" => {
                search_path = Some(value.to_string());
                Ok(false)
            }
            k => Ok(CLIENT_KEYS.contains(&k)),
        }
    };
    let rebuilt = match &conn {
        ConnString::Url { prefix, userinfo, rest, query } => {
            let mut kept = Vec::new();
            for (k, v) in query {
                let key = percent_decode(k).to_ascii_lowercase();
                if handle(&key, &percent_decode(v))? {
                    kept.push(format!("{k}={v}"));
                }
            }
            let mut s = prefix.clone();
            if let Some(u) = userinfo {
                s.push_str(u);
                s.push('@');
            }
            s.push_str(rest);
            if !kept.is_empty() {
                s.push('?');
                s.push_str(&kept.join("&"));
            }
            s
        }
        ConnString::KeyValue(pairs) => {
            let mut kept = Vec::new();
            for (k, v) in pairs {
                let key = k.to_ascii_lowercase();
                if handle(&key, v)? {
                    kept.push(format!("{key}={}", quote_kv(v)));
                }
            }
            kept.join(" ")
        }
    };
    let config = tokio_postgres::Config::from_str(&rebuilt).map_err(|e| error_text(&e))?;
    Ok(Prepared { config, ssl, root_cert, search_path })
}

/// `host:port` (or the socket directory) of the first address, for messages.
fn target_of(config: &tokio_postgres::Config) -> String {
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) if h.contains(':') => format!("[{h}]"),
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(path)) => return format!("{}/.s.PGSQL.{port}", path.display()),
        None => match config.get_hostaddrs().first() {
            Some(addr) => addr.to_string(),
            None => "localhost".into(),
        },
    };
    let db = config.get_dbname().map(|d| format!("/{d}")).unwrap_or_default();
    format!("{host}:{port}{db}")
}

/// The error and its causes, `: `-joined (tokio-postgres' `Display` shows only the first).
fn error_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

// ---------------------------------------------------------------------------------------------
// TLS
// ---------------------------------------------------------------------------------------------

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// libpq's `sslmode=require`/`prefer`: any certificate is accepted (the channel is encrypted,
/// the server not authenticated), but the handshake signatures are still verified, so the peer
/// must hold the key of the certificate it presents.
#[derive(Debug)]
struct AcceptAnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// `sslmode=verify-ca`: the chain must lead to a trusted root; the host name is not checked.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

fn tls_config(ssl: SslChoice, root_cert: Option<&Path>) -> Result<ClientConfig, String> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let config = match ssl {
        SslChoice::Disable | SslChoice::Prefer | SslChoice::Require => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate {
                algorithms: provider.signature_verification_algorithms,
            }))
            .with_no_client_auth(),
        SslChoice::VerifyCa | SslChoice::VerifyFull => {
            let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
            let root_cert = root_cert.map(Path::to_path_buf).or_else(default_root_cert);
            if let Some(path) = root_cert {
                if path.as_os_str() != "system" {
                    let pem = std::fs::read(&path)
                        .map_err(|e| format!("cannot read sslrootcert {}: {}", path.display(), e.kind()))?;
                    let mut added = 0;
                    for cert in CertificateDer::pem_slice_iter(&pem) {
                        let cert = cert.map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
                        roots.add(cert).map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
                        added += 1;
                    }
                    if added == 0 {
                        return Err(format!("sslrootcert {} holds no PEM certificate", path.display()));
                    }
                }
            }
            let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| e.to_string())?;
            if ssl == SslChoice::VerifyCa {
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(ChainOnly(verifier)))
                    .with_no_client_auth()
            } else {
                builder.with_webpki_verifier(verifier).with_no_client_auth()
            }
        }
    };
    Ok(config)
}

/// libpq's default `sslrootcert`, when it exists.
fn default_root_cert() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    let path = Path::new(&home).join(".postgresql").join("root.crt");
    path.is_file().then_some(path)
}

// ---------------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------------

struct Session {
    client: Client,
    /// A transaction of ours may still be open (its owner was dropped mid-way): `ROLLBACK`
    /// before the next one.
    dirty: bool,
}

/// A connection to the dev database. Queries go through [`LiveClient::read`] only.
pub struct LiveClient {
    session: Arc<Mutex<Session>>,
    closed: Arc<AtomicBool>,
    statement_timeout: Duration,
    target: String,
    /// The role it logged in as (a name, not a credential).
    user: Option<String>,
    tls: bool,
    secret: Secret,
}

impl std::fmt::Debug for LiveClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveClient").field("target", &self.target).field("tls", &self.tls).finish_non_exhaustive()
    }
}

/// Connects to the database `url` names (URL or key=value form), with `cfg`'s timeouts.
///
/// The whole attempt (DNS, TCP, TLS, authentication) is bounded by `connect_timeout_ms`. Under
/// `sslmode=prefer` a server without TLS, or a failed TLS handshake, falls back to a plain
/// connection like libpq. A server (or pooler) that refuses startup options gets a second
/// attempt without them: the read-only transaction sets its own limits anyway.
pub async fn connect(url: &Secret, cfg: &DatabaseConfig) -> Result<LiveClient, LiveError> {
    let prepared = prepare(url.expose()).map_err(|e| LiveError::InvalidUrl(scrub(&e, url)))?;
    let target = target_of(&prepared.config);
    let connect_timeout = Duration::from_millis(cfg.connect_timeout_ms.max(1));
    let statement_timeout = Duration::from_millis(cfg.statement_timeout_ms.max(1));

    let mut config = prepared.config.clone();
    config.application_name("safemig");
    config.connect_timeout(connect_timeout);
    let mut options = config.get_options().map(str::to_string).unwrap_or_default();
    let base_options = options.clone();
    for (name, value) in [
        ("default_transaction_read_only", "on".to_string()),
        ("statement_timeout", statement_timeout.as_millis().to_string()),
    ]
    .into_iter()
    .chain(prepared.search_path.iter().map(|p| ("search_path", p.clone())))
    {
        if !options.is_empty() {
            options.push(' ');
        }
        options.push_str(&format!("-c {name}={}", value.replace('\\', "\\\\").replace(' ', "\\ ")));
    }
    config.options(options);

    let attempt = async {
        let first = connect_with(&config, &prepared).await;
        match first {
            Err(e) if rejects_startup_options(&e) => {
                let mut plain = config.clone();
                plain.options(base_options);
                connect_with(&plain, &prepared).await
            }
            other => other,
        }
    };
    // tokio-postgres bounds each address; this bounds the whole attempt (TLS and login too).
    let (client, connection_task, tls) =
        match tokio::time::timeout(connect_timeout + Duration::from_millis(250), attempt).await {
            Ok(Ok(connected)) => connected,
            Ok(Err(e)) => return Err(connect_error(&e, &target, url)),
            Err(_) => {
                return Err(LiveError::Unreachable {
                    target,
                    reason: format!("no answer within {} ms", connect_timeout.as_millis()),
                })
            }
        };
    let closed = Arc::new(AtomicBool::new(false));
    let flag = closed.clone();
    tokio::spawn(async move {
        // The connection's own error (if any) is not logged: it reaches the caller as `Closed`.
        let _ = connection_task.await;
        flag.store(true, Ordering::SeqCst);
    });
    Ok(LiveClient {
        session: Arc::new(Mutex::new(Session { client, dirty: false })),
        closed,
        statement_timeout,
        target,
        user: prepared.config.get_user().map(str::to_string),
        tls,
        secret: url.clone(),
    })
}

type ConnectionTask = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), tokio_postgres::Error>> + Send>>;

/// Why a connection attempt failed: the server or network, or safemig's own TLS setup.
enum ConnectFailure {
    Postgres(tokio_postgres::Error),
    TlsSetup(String),
}

impl From<tokio_postgres::Error> for ConnectFailure {
    fn from(e: tokio_postgres::Error) -> Self {
        ConnectFailure::Postgres(e)
    }
}

async fn connect_with(
    config: &tokio_postgres::Config,
    prepared: &Prepared,
) -> Result<(Client, ConnectionTask, bool), ConnectFailure> {
    if prepared.ssl == SslChoice::Disable {
        let mut plain = config.clone();
        plain.ssl_mode(SslMode::Disable);
        let (client, connection) = plain.connect(NoTls).await?;
        return Ok((client, Box::pin(connection), false));
    }
    let tls_config = tls_config(prepared.ssl, prepared.root_cert.as_deref()).map_err(ConnectFailure::TlsSetup)?;
    let mut with_tls = config.clone();
    with_tls.ssl_mode(if prepared.ssl == SslChoice::Prefer { SslMode::Prefer } else { SslMode::Require });
    match with_tls.connect(MakeRustlsConnect::new(tls_config)).await {
        Ok((client, connection)) => Ok((client, Box::pin(connection), true)),
        Err(e) if prepared.ssl == SslChoice::Prefer && is_tls_error(&e) => {
            let mut plain = config.clone();
            plain.ssl_mode(SslMode::Disable);
            let (client, connection) = plain.connect(NoTls).await?;
            Ok((client, Box::pin(connection), false))
        }
        Err(e) => Err(e.into()),
    }
}

fn is_tls_error(e: &tokio_postgres::Error) -> bool {
    e.to_string().starts_with("error performing TLS handshake")
}

fn rejects_startup_options(e: &ConnectFailure) -> bool {
    let ConnectFailure::Postgres(e) = e else { return false };
    e.as_db_error().is_some_and(|db| {
        db.code() == &SqlState::PROTOCOL_VIOLATION
            || db.message().contains("unsupported startup parameter")
            || db.message().contains("unrecognized configuration parameter")
    })
}

fn connect_error(e: &ConnectFailure, target: &str, url: &Secret) -> LiveError {
    let target = target.to_string();
    let e = match e {
        ConnectFailure::Postgres(e) => e,
        ConnectFailure::TlsSetup(reason) => return LiveError::Tls { target, reason: scrub(reason, url) },
    };
    if let Some(db) = e.as_db_error() {
        let reason = scrub(db.message(), url);
        let code = db.code();
        let refused = [
            SqlState::INVALID_PASSWORD,
            SqlState::INVALID_AUTHORIZATION_SPECIFICATION,
            SqlState::INVALID_CATALOG_NAME,
            SqlState::INSUFFICIENT_PRIVILEGE,
        ];
        if refused.contains(code) || code.code().starts_with("28") {
            return LiveError::LoginRefused { target, reason };
        }
        return LiveError::Unreachable { target, reason: format!("{reason} (SQLSTATE {})", code.code()) };
    }
    let text = scrub(&error_text(e), url);
    if is_tls_error(e) {
        return LiveError::Tls { target, reason: text.trim_start_matches("error performing TLS handshake: ").into() };
    }
    if text.contains("password missing") || text.starts_with("authentication error") {
        return LiveError::LoginRefused { target, reason: text };
    }
    let reason = text.strip_prefix("error connecting to server: ").unwrap_or(&text).to_string();
    LiveError::Unreachable { target, reason }
}

impl LiveClient {
    /// A read-only transaction with the configured `statement_timeout`.
    pub async fn read(&self) -> Result<ReadTxn, LiveError> {
        self.read_with_timeout(self.statement_timeout).await
    }

    /// A read-only transaction whose statements are canceled after `timeout` (data probes use a
    /// shorter one than the catalog snapshot).
    pub async fn read_with_timeout(&self, timeout: Duration) -> Result<ReadTxn, LiveError> {
        if self.is_closed() {
            return Err(LiveError::Closed);
        }
        let mut session = self.session.clone().lock_owned().await;
        let timeout = timeout.max(Duration::from_millis(1));
        if session.dirty {
            session.client.batch_execute("ROLLBACK").await.map_err(|e| self.query_error(&e, timeout))?;
            session.dirty = false;
        }
        session.dirty = true;
        let ms = timeout.as_millis();
        let lock_ms = LOCK_TIMEOUT.min(timeout).as_millis();
        let idle_ms = (IDLE_IN_TRANSACTION + timeout).as_millis();
        // Simple protocol, our own text only: BEGIN cannot go through the extended protocol
        // together with the SETs.
        let begin = format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL statement_timeout = {ms}; \
             SET LOCAL lock_timeout = {lock_ms}; SET LOCAL idle_in_transaction_session_timeout = {idle_ms}"
        );
        let started =
            tokio::time::timeout(timeout + Duration::from_secs(1), session.client.batch_execute(&begin)).await;
        match started {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(self.query_error(&e, timeout)),
            Err(_) => {
                return Err(LiveError::Timeout { after: timeout, reason: "BEGIN got no answer".into(), lock: false })
            }
        }
        Ok(ReadTxn { session: Some(session), timeout, secret: self.secret.clone(), closed: self.closed.clone() })
    }

    /// The connection is gone (server restart, network): reconnect.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// `host:port/dbname`, for status messages (no credentials).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// `user@host:port/database` (the target with the role), for a status line.
    pub fn display_name(&self) -> String {
        match &self.user {
            Some(user) => format!("{user}@{}", self.target),
            None => self.target.clone(),
        }
    }

    /// The connection is encrypted.
    pub fn tls(&self) -> bool {
        self.tls
    }

    pub fn statement_timeout(&self) -> Duration {
        self.statement_timeout
    }

    fn query_error(&self, e: &tokio_postgres::Error, timeout: Duration) -> LiveError {
        query_error(e, timeout, &self.secret, &self.closed)
    }
}

fn query_error(e: &tokio_postgres::Error, timeout: Duration, secret: &Secret, closed: &AtomicBool) -> LiveError {
    if let Some(db) = e.as_db_error() {
        let message = scrub(db.message(), secret);
        let code = db.code();
        if code == &SqlState::QUERY_CANCELED {
            return LiveError::Timeout { after: timeout, reason: message, lock: false };
        }
        if code == &SqlState::LOCK_NOT_AVAILABLE {
            return LiveError::Timeout { after: LOCK_TIMEOUT.min(timeout), reason: message, lock: true };
        }
        let session_ended = [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::IDLE_SESSION_TIMEOUT,
            SqlState::IDLE_IN_TRANSACTION_SESSION_TIMEOUT,
        ];
        if session_ended.contains(code) {
            closed.store(true, Ordering::SeqCst);
            return LiveError::Closed;
        }
        return LiveError::QueryFailed { code: code.code().to_string(), message };
    }
    if e.is_closed()
        || closed.load(Ordering::SeqCst)
        || e.to_string().starts_with("error communicating with the server")
    {
        closed.store(true, Ordering::SeqCst);
        return LiveError::Closed;
    }
    LiveError::QueryFailed { code: String::new(), message: scrub(&error_text(e), secret) }
}

/// A `READ ONLY` transaction on the dev database. Every statement goes through the extended
/// protocol (one statement per call); [`ReadTxn::finish`] rolls back, and so does dropping it.
pub struct ReadTxn {
    session: Option<OwnedMutexGuard<Session>>,
    timeout: Duration,
    secret: Secret,
    closed: Arc<AtomicBool>,
}

impl std::fmt::Debug for ReadTxn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadTxn").field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

impl ReadTxn {
    /// Runs one statement and returns its rows.
    pub async fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, LiveError> {
        let Some(session) = self.session.as_ref() else { return Err(LiveError::Closed) };
        // The server cancels at `timeout`; this covers a server that stopped answering.
        match tokio::time::timeout(self.timeout + Duration::from_secs(1), session.client.query(sql, params)).await {
            Ok(Ok(rows)) => Ok(rows),
            Ok(Err(e)) => Err(query_error(&e, self.timeout, &self.secret, &self.closed)),
            Err(_) => {
                Err(LiveError::Timeout { after: self.timeout, reason: "the server did not answer".into(), lock: false })
            }
        }
    }

    /// Runs one statement that returns exactly one row.
    pub async fn query_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row, LiveError> {
        let mut rows = self.query(sql, params).await?;
        match rows.len() {
            1 => Ok(rows.remove(0)),
            n => Err(LiveError::QueryFailed { code: String::new(), message: format!("expected one row, got {n}") }),
        }
    }

    /// The session inside this read-only transaction, for readers written against
    /// `tokio_postgres::GenericClient` (the ledgers). Their statements run in this transaction.
    pub fn client(&self) -> Option<&Client> {
        self.session.as_ref().map(|s| &s.client)
    }

    /// The statement timeout of this transaction.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Ends the transaction (`ROLLBACK`: nothing was written, nothing is kept).
    pub async fn finish(mut self) -> Result<(), LiveError> {
        let Some(mut session) = self.session.take() else { return Ok(()) };
        match session.client.batch_execute("ROLLBACK").await {
            Ok(()) => {
                session.dirty = false;
                Ok(())
            }
            Err(e) => Err(query_error(&e, self.timeout, &self.secret, &self.closed)),
        }
    }
}

impl Drop for ReadTxn {
    fn drop(&mut self) {
        let Some(mut session) = self.session.take() else { return };
        // Keep the session locked until the ROLLBACK is through, so no other transaction
        // interleaves. Without a runtime the flag makes the next `read` roll back first.
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if session.client.batch_execute("ROLLBACK").await.is_ok() {
                    session.dirty = false;
                }
            });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reconnecting
// ---------------------------------------------------------------------------------------------

/// Delays between reconnect attempts: 1 s, doubling up to 60 s; [`Backoff::reset`] after a
/// success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(Duration::from_secs(1), Duration::from_secs(60))
    }
}

impl Backoff {
    pub fn new(first: Duration, max: Duration) -> Self {
        let first = first.min(max);
        Backoff { first, max, next: first }
    }

    /// The delay before the next attempt; each call doubles the one after it, up to the maximum.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay
    }

    /// A connection succeeded: the next failure waits the first delay again.
    pub fn reset(&mut self) {
        self.next = self.first;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_masks_url_userinfo_and_password_params() {
        assert_eq!(
            redact("postgres://app:hunter2@db.example.com:5432/dev?sslmode=require"),
            "postgres://app:***@db.example.com:5432/dev?sslmode=require"
        );
        assert_eq!(redact("postgresql://app@localhost/dev"), "postgresql://app@localhost/dev");
        assert_eq!(
            redact("postgres://h/db?user=a&password=s3cret&sslmode=disable"),
            "postgres://h/db?user=a&password=***&sslmode=disable"
        );
        assert_eq!(redact("host=h password='a b\\' c' user=x"), "host=h password=*** user=x");
        assert_eq!(redact("host=h password = plain dbname=d"), "host=h password = *** dbname=d");
        // An `@` in the password (unencoded) still leaves nothing of it.
        assert!(!redact("postgres://app:p@ss@host/db").contains("ss@"));
    }

    #[test]
    fn redact_masks_connection_strings_anywhere_in_a_message() {
        assert_eq!(
            redact("found \"app:hunter2@db:5432/dev\" under `database`"),
            "found \"app:***@db:5432/dev\" under `database`"
        );
        assert_eq!(redact("no `postgres://a:b@h/d` entry"), "no `postgres://a:***@h/d` entry");
        assert_eq!(redact("/tmp/x/postgres:/a:pw@h:1/dev is not"), "/tmp/x/postgres:***@h:1/dev is not");
        assert_eq!(redact("lock_timeout: host=h password=s3 user=u"), "lock_timeout: host=h password=*** user=u");
        // Not connection strings: unchanged.
        for text in ["mail u1@x.io, id=5", "12:30 at noon", "a:@b", "@:x"] {
            assert_eq!(redact(text), text);
        }
    }

    #[test]
    fn scrub_removes_raw_and_decoded_passwords() {
        let secret = Secret::new("postgres://app:p%40ss%2Fw0rd@host/db");
        let message = "failed for postgres://app:p%40ss%2Fw0rd@host/db with p@ss/w0rd and p%40ss%2Fw0rd";
        let scrubbed = scrub(message, &secret);
        assert!(!scrubbed.contains("w0rd"), "{scrubbed}");
        assert!(scrubbed.contains("postgres://app:***@host/db"), "{scrubbed}");
    }

    #[test]
    fn connection_strings_drop_foreign_parameters_and_read_sslmode() {
        let p = prepare(
            "postgres://u:pw@h:6543/d?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem&schema=app&connection_limit=1",
        )
        .expect("parses");
        assert_eq!(p.ssl, SslChoice::VerifyFull);
        assert_eq!(p.root_cert.as_deref(), Some(Path::new("/tmp/ca.pem")));
        assert_eq!(p.search_path.as_deref(), Some("app"));
        assert_eq!(p.config.get_ports(), [6543]);
        assert_eq!(p.config.get_password(), Some(&b"pw"[..]));
        let p =
            prepare("host=h port=5433 user=u password='x y' dbname=d sslmode=verify-ca sslcert=/c").expect("parses");
        assert_eq!(p.ssl, SslChoice::VerifyCa);
        assert_eq!(p.config.get_password(), Some(&b"x y"[..]));
        assert_eq!(target_of(&p.config), "h:5433/d");
        assert!(prepare("postgres://h/d?sslmode=sometimes").is_err());
        assert!(prepare("mysql://h/d").is_err());
    }

    #[test]
    fn backoff_doubles_to_a_minute_and_resets() {
        let mut b = Backoff::default();
        let delays: Vec<u64> = (0..8).map(|_| b.next_delay().as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60]);
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_secs(1));
    }
}
