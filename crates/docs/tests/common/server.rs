//! A tiny HTTP/1.1 server on loopback for crawl and link-check tests.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Counters shared with the test.
#[derive(Default)]
pub struct Stats {
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    pub requests: AtomicUsize,
}

/// Serves `pages` (path → (content type, body)) on 127.0.0.1; other paths get 404.
/// Each response waits `delay` so concurrency can be observed.
pub async fn serve(
    pages: HashMap<String, (String, Vec<u8>)>,
    delay: Duration,
) -> (String, Arc<Stats>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().unwrap();
    let stats = Arc::new(Stats::default());
    let pages = Arc::new(pages);
    let st = stats.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let pages = pages.clone();
            let st = st.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 2048];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                    if buf.len() > 65536 {
                        return;
                    }
                }
                let req = String::from_utf8_lossy(&buf).into_owned();
                let mut parts = req.split_whitespace();
                let method = parts.next().unwrap_or("").to_string();
                let path = parts.next().unwrap_or("/").to_string();
                st.requests.fetch_add(1, Ordering::SeqCst);
                let now = st.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                st.max_in_flight.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                let (status, ct, body) = match pages.get(&path) {
                    Some((ct, body)) => ("200 OK", ct.clone(), body.clone()),
                    None => ("404 Not Found", "text/plain".to_string(), b"not found".to_vec()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                if method != "HEAD" {
                    let _ = sock.write_all(&body).await;
                }
                let _ = sock.shutdown().await;
                st.in_flight.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    (format!("http://{addr}"), stats)
}
