//! A small synchronous client of the Prometheus HTTP API (`/api/v1/query_range`), over `ureq`:
//! HTTP and HTTPS (a custom CA file, as air-gapped clusters run their own CA), a bearer token
//! read from a file at every request (a ServiceAccount token is rotated in place) or basic
//! auth, a timeout per request, retries with exponential backoff on connection errors and 5xx,
//! and Prometheus's own message on 4xx.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::range::Range;
use super::response::{self, ParseError, RangeAnswer};
use crate::artifacts::bounded::{read_bounded, read_bounded_string, CA_LIMIT, SECRET_LIMIT};
use crate::{Error, Result};

/// How to reach a server.
#[derive(Clone, Debug)]
pub struct ClientSettings {
    /// Base URL: `http://prometheus:9090`, or with a path prefix (`https://host/prometheus`).
    pub url: String,
    /// PEM file of the CA certificates to trust for HTTPS (instead of the public roots).
    pub ca_file: Option<PathBuf>,
    /// File holding a bearer token.
    pub token_file: Option<PathBuf>,
    /// Basic auth: user name and a file holding the password.
    pub basic_auth: Option<(String, PathBuf)>,
    /// Per request, connection to last byte.
    pub timeout: Duration,
    /// Further attempts after a connection error or a 5xx answer.
    pub retries: u32,
    /// Wait before the first retry; doubled for each one after.
    pub backoff: Duration,
}

impl ClientSettings {
    pub fn new(url: &str) -> ClientSettings {
        ClientSettings {
            url: url.to_owned(),
            ca_file: None,
            token_file: None,
            basic_auth: None,
            timeout: Duration::from_secs(60),
            retries: 3,
            backoff: Duration::from_millis(500),
        }
    }
}

/// A connected-on-demand client.
pub struct Client {
    base: String,
    agent: ureq::Agent,
    settings: ClientSettings,
}

/// A failed attempt: whether another may succeed, and what to say.
struct Failure {
    retry: bool,
    message: String,
}

impl Client {
    pub fn new(settings: ClientSettings) -> Result<Client> {
        let url = settings.url.trim().trim_end_matches('/').to_owned();
        let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
        if rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) {
            return Err(Error::config(format!(
                "--prometheus '{}' is not a server URL: expected http://HOST:PORT or https://HOST:PORT",
                settings.url
            )));
        }
        let mut config = ureq::Agent::config_builder()
            .timeout_global(Some(settings.timeout))
            .http_status_as_error(false)
            .user_agent(concat!("kubelstm/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &settings.ca_file {
            config = config.tls_config(tls_with_ca(ca)?);
        }
        for file in settings.token_file.iter().chain(settings.basic_auth.as_ref().map(|(_, f)| f)) {
            read_secret(file)?; // a missing or unreadable file is found before any request
        }
        Ok(Client { base: url, agent: config.build().into(), settings })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Runs one range query, retrying what may be transient.
    pub fn query_range(&self, query: &str, range: &Range) -> Result<RangeAnswer> {
        let mut wait = self.settings.backoff;
        let mut attempt = 0;
        loop {
            match self.attempt(query, range) {
                Ok(answer) => return Ok(answer),
                Err(f) if f.retry && attempt < self.settings.retries => {
                    attempt += 1;
                    std::thread::sleep(wait);
                    wait = wait.saturating_mul(2);
                }
                Err(f) => {
                    let tries = if f.retry { format!(" (after {} attempts)", attempt + 1) } else { String::new() };
                    return Err(Error::prometheus(&self.base, format!("{}{tries}", f.message)));
                }
            }
        }
    }

    fn attempt(&self, query: &str, range: &Range) -> std::result::Result<RangeAnswer, Failure> {
        let url = format!("{}/api/v1/query_range", self.base);
        let (start, end, step) = (range.start.to_string(), range.end.to_string(), range.step.to_string());
        let mut request = self.agent.post(&url);
        if let Some(file) = &self.settings.token_file {
            let token = read_secret(file).map_err(|e| Failure { retry: false, message: e.to_string() })?;
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        if let Some((user, file)) = &self.settings.basic_auth {
            let password = read_secret(file).map_err(|e| Failure { retry: false, message: e.to_string() })?;
            request =
                request.header("Authorization", format!("Basic {}", base64(format!("{user}:{password}").as_bytes())));
        }
        let form = [("query", query), ("start", start.as_str()), ("end", end.as_str()), ("step", step.as_str())];
        let mut response = request.send_form(form).map_err(|e| transport_failure(&e))?;
        let status = response.status().as_u16();
        if status == 200 {
            return response::parse_range(response.body_mut().as_reader()).map_err(|e| match e {
                ParseError::Refused(a) => Failure { retry: false, message: format!("{}: {}", a.error_type, a.error) },
                ParseError::Unusable(m) => Failure { retry: false, message: m },
            });
        }
        let mut body = Vec::new();
        let _ = response.body_mut().as_reader().take(64 << 10).read_to_end(&mut body);
        let said = match response::parse_error(&body) {
            Some(a) => format!(": {}: {}", a.error_type, a.error),
            None => String::new(),
        };
        let hint = match status {
            401 | 403 => " (check --prometheus-token-file or --prometheus-user and --prometheus-password-file)",
            404 => " (no Prometheus HTTP API at this URL: pass the server's base URL, e.g. http://prometheus:9090)",
            _ => "",
        };
        Err(Failure { retry: status >= 500, message: format!("HTTP {status} for {url}{said}{hint}") })
    }
}

fn transport_failure(e: &ureq::Error) -> Failure {
    use ureq::Error as E;
    let (retry, what) = match e {
        E::Timeout(t) => (true, format!("no answer in time ({t})")),
        E::HostNotFound => (true, "cannot resolve the host name".to_string()),
        E::ConnectionFailed => (true, "cannot connect".to_string()),
        E::Io(io) if io.to_string().contains("certificate") => {
            (false, format!("TLS error: {io} (a private CA needs --prometheus-ca-file)"))
        }
        E::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            (true, "cannot connect (connection refused: is Prometheus running at this address?)".to_string())
        }
        E::Io(io) => (true, format!("connection error: {io}")),
        E::Tls(t) => (false, format!("TLS error: {t} (a private CA needs --prometheus-ca-file)")),
        E::Rustls(t) => (false, format!("TLS error: {t} (a private CA needs --prometheus-ca-file)")),
        other => (false, other.to_string()),
    };
    Failure { retry, message: what }
}

/// A secret from a file, without surrounding whitespace (files often end in a newline).
fn read_secret(path: &Path) -> Result<String> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io("read", path, e))?;
    if !meta.is_file() || meta.len() > 64 << 10 {
        return Err(Error::config(format!(
            "{}: a secret file must be a regular file of at most 64 KiB",
            path.display()
        )));
    }
    let text = read_bounded_string(path, SECRET_LIMIT).map_err(|e| Error::io("read", path, e))?;
    let secret = text.trim().to_owned();
    if secret.is_empty() {
        return Err(Error::config(format!("{} is empty", path.display())));
    }
    Ok(secret)
}

fn tls_with_ca(path: &Path) -> Result<ureq::tls::TlsConfig> {
    use ureq::tls::{PemItem, RootCerts, TlsConfig};
    let pem = read_bounded(path, CA_LIMIT).map_err(|e| Error::io("read", path, e))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(e) => return Err(Error::config(format!("{}: not a PEM certificate file ({e})", path.display()))),
        }
    }
    if certs.is_empty() {
        return Err(Error::config(format!("{}: no PEM certificate in the file", path.display())));
    }
    Ok(TlsConfig::builder().root_certs(RootCerts::new_with_certs(&certs)).build())
}

/// Standard base64 with padding (RFC 4648), for the basic-auth header.
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("user:pass", "dXNlcjpwYXNz"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn urls_are_checked() {
        for bad in ["prometheus:9090", "ftp://x", "http://", "http:///x", ""] {
            assert!(Client::new(ClientSettings::new(bad)).is_err(), "{bad}");
        }
        let c = Client::new(ClientSettings::new("http://127.0.0.1:9090/")).unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:9090");
    }
}
