//! The HTTP side of `serve` over `tiny_http` (small and synchronous: one thread answers, and
//! every answer is a copy of text that is already rendered).

use std::sync::{Arc, Mutex};

use super::Published;
use crate::{Error, Result};

pub struct Server {
    inner: tiny_http::Server,
    published: Arc<Mutex<Published>>,
}

impl Server {
    pub fn bind(listen: &str, published: Arc<Mutex<Published>>) -> Result<Server> {
        let inner = tiny_http::Server::http(listen)
            .map_err(|e| Error::config(format!("--listen {listen}: cannot listen there ({e})")))?;
        Ok(Server { inner, published })
    }

    /// The bound address (the port the OS chose for `:0`).
    pub fn address(&self) -> String {
        match self.inner.server_addr() {
            tiny_http::ListenAddr::IP(a) => a.to_string(),
            #[allow(unreachable_patterns)]
            other => format!("{other:?}"),
        }
    }

    /// Answers requests on a thread of its own until the process exits.
    pub fn spawn(self) -> std::thread::JoinHandle<()> {
        std::thread::spawn(move || {
            for request in self.inner.incoming_requests() {
                let (status, body, kind): (u16, Arc<String>, &str) = {
                    let Ok(p) = self.published.lock() else { return };
                    match request.url().split('?').next().unwrap_or("") {
                        "/metrics" => (200, p.metrics.clone(), "text/plain; version=0.0.4; charset=utf-8"),
                        "/healthz" => (200, Arc::new("ok\n".into()), "text/plain"),
                        "/readyz" if p.ready() => (200, Arc::new("ready\n".into()), "text/plain"),
                        "/readyz" => {
                            (503, Arc::new("not ready: no successful pull within two intervals\n".into()), "text/plain")
                        }
                        _ => (404, Arc::new("not found: try /metrics, /healthz or /readyz\n".into()), "text/plain"),
                    }
                };
                let header =
                    tiny_http::Header::from_bytes(&b"Content-Type"[..], kind.as_bytes()).expect("valid header");
                let response =
                    tiny_http::Response::from_string(body.as_str()).with_status_code(status).with_header(header);
                let _ = request.respond(response); // a client that went away is not our error
            }
        })
    }
}
