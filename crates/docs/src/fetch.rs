//! HTTP: fetching pages and crawling a documentation site politely.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use url::Url;

use crate::Error;

/// The user agent sent with every request, and matched in robots.txt.
pub const USER_AGENT: &str = concat!("suit-docs/", env!("CARGO_PKG_VERSION"));

/// Largest body read from one response.
const MAX_BODY: usize = 32 * 1024 * 1024;

/// One HTTP response.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The final URL, after redirects.
    pub url: Url,
    /// HTTP status code.
    pub status: u16,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The body (empty for HEAD requests).
    pub body: Vec<u8>,
}

impl Fetched {
    /// Is the body an HTML page (by its content type, or by its start when untyped)?
    pub fn is_html(&self) -> bool {
        match &self.content_type {
            Some(ct) => {
                let ct = ct.to_ascii_lowercase();
                ct.starts_with("text/html") || ct.starts_with("application/xhtml")
            }
            None => {
                let head =
                    String::from_utf8_lossy(&self.body[..self.body.len().min(512)]).to_lowercase();
                head.contains("<html") || head.contains("<!doctype html")
            }
        }
    }
}

/// A small HTTP client with timeouts and a body size limit.
#[derive(Clone)]
pub struct Client {
    inner: reqwest::Client,
}

impl Client {
    /// A client whose requests give up after `timeout`.
    pub fn new(timeout: Duration) -> Result<Client, Error> {
        let inner = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::limited(10))
            .build()
            .map_err(|e| Error::Http { url: String::new(), message: e.to_string() })?;
        Ok(Client { inner })
    }

    fn err(url: &Url, e: reqwest::Error) -> Error {
        let message = if e.is_timeout() {
            "timed out; check the address or raise the timeout".to_string()
        } else if e.is_connect() {
            "cannot connect: the host is unreachable or refused the connection".to_string()
        } else if e.is_redirect() {
            "too many redirects".to_string()
        } else {
            let mut m = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                m.push_str(": ");
                m.push_str(&s.to_string());
                src = s.source();
            }
            m
        };
        Error::Http { url: url.to_string(), message }
    }

    /// GETs `url`; any status is returned (check [`Fetched::status`]).
    pub async fn get(&self, url: &Url) -> Result<Fetched, Error> {
        let mut resp = self.inner.get(url.clone()).send().await.map_err(|e| Self::err(url, e))?;
        let status = resp.status().as_u16();
        let final_url = resp.url().clone();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| Self::err(url, e))? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(Error::Http {
                    url: url.to_string(),
                    message: format!("response larger than {} MiB; skipped", MAX_BODY >> 20),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched { url: final_url, status, content_type, body })
    }

    /// Does `url` answer with a success status? Tries HEAD, then GET when
    /// HEAD is not allowed. Returns the status.
    pub async fn status(&self, url: &Url) -> Result<u16, Error> {
        let resp = self.inner.head(url.clone()).send().await.map_err(|e| Self::err(url, e))?;
        let s = resp.status().as_u16();
        if s == 405 || s == 501 {
            return Ok(self.get(url).await?.status);
        }
        Ok(s)
    }
}

/// Limits for [`crawl`].
#[derive(Debug, Clone)]
pub struct CrawlOptions {
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Stop after this many HTML pages.
    pub max_pages: usize,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl Default for CrawlOptions {
    fn default() -> Self {
        CrawlOptions { concurrency: 4, max_pages: 500, timeout: Duration::from_secs(20) }
    }
}

/// A crawled HTML page.
#[derive(Debug, Clone)]
pub struct CrawledPage {
    /// The page URL (final, after redirects).
    pub url: Url,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The raw body.
    pub body: Vec<u8>,
}

/// What [`crawl`] found.
#[derive(Debug, Default)]
pub struct CrawlReport {
    /// HTML pages, in discovery order (the start page first).
    pub pages: Vec<CrawledPage>,
    /// URLs skipped because robots.txt disallows them.
    pub disallowed: Vec<Url>,
    /// Pages that failed (unreachable, error status), with the reason.
    pub failed: Vec<Error>,
}

/// The folder part of `url` (everything up to the last `/`).
pub(crate) fn scope_of(url: &Url) -> Url {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    if !u.path().ends_with('/') {
        let p = u.path();
        let cut = p.rfind('/').map_or(0, |i| i + 1);
        let p = p[..cut].to_string();
        u.set_path(if p.is_empty() { "/" } else { &p });
    }
    u
}

fn in_scope(scope: &Url, u: &Url) -> bool {
    u.origin() == scope.origin() && u.path().starts_with(scope.path())
}

/// Crawls the site below `start`'s folder (same origin, same path prefix),
/// breadth first, honouring robots.txt (rules for `suit-docs` and its
/// Crawl-delay), with at most `opts.concurrency` requests in flight and at
/// most `opts.max_pages` pages.
///
/// Fails only if the start page itself cannot be fetched.
pub async fn crawl(start: &Url, opts: &CrawlOptions) -> Result<CrawlReport, Error> {
    let client = Client::new(opts.timeout)?;
    let scope = scope_of(start);
    let robots = match start.join("/robots.txt") {
        Ok(robots_url) => match client.get(&robots_url).await {
            Ok(r) if r.status == 200 => texting_robots::Robot::new("suit-docs", &r.body).ok(),
            Ok(_) => None,
            Err(e) => return Err(e),
        },
        Err(_) => None,
    };
    let allowed = |u: &Url| robots.as_ref().is_none_or(|r| r.allowed(u.as_str()));
    // A robots.txt Crawl-delay means one request at a time, that far apart.
    let delay = robots
        .as_ref()
        .and_then(|r| r.delay)
        .filter(|d| d.is_finite() && *d > 0.0)
        .map(|d| Duration::from_secs_f32(d.min(30.0)));
    let concurrency = if delay.is_some() { 1 } else { opts.concurrency.max(1) };
    let mut report = CrawlReport::default();
    let mut seen: HashSet<String> = HashSet::new();
    let mut queue: VecDeque<Url> = VecDeque::new();
    let mut start = start.clone();
    start.set_fragment(None);
    seen.insert(start.to_string());
    queue.push_back(start.clone());
    let sem = Arc::new(Semaphore::new(concurrency));
    let mut tasks: JoinSet<(Url, Result<Fetched, Error>)> = JoinSet::new();
    let mut started = 0usize;
    loop {
        while started < opts.max_pages {
            let Some(url) = queue.pop_front() else { break };
            if !allowed(&url) {
                report.disallowed.push(url);
                continue;
            }
            started += 1;
            let client = client.clone();
            let sem = sem.clone();
            tasks.spawn(async move {
                let _permit = sem.acquire_owned().await;
                let r = client.get(&url).await;
                if let Some(d) = delay {
                    tokio::time::sleep(d).await;
                }
                (url, r)
            });
        }
        let Some(joined) = tasks.join_next().await else { break };
        let Ok((url, result)) = joined else { continue };
        let fetched = match result {
            Ok(f) if (200..300).contains(&f.status) => f,
            Ok(f) => {
                let e = Error::Http {
                    url: url.to_string(),
                    message: format!("HTTP status {}", f.status),
                };
                if url == start {
                    return Err(e);
                }
                report.failed.push(e);
                continue;
            }
            Err(e) => {
                if url == start {
                    return Err(e);
                }
                report.failed.push(e);
                continue;
            }
        };
        if !fetched.is_html() || !in_scope(&scope, &fetched.url) && url != start {
            continue;
        }
        if let Ok((text, _)) =
            crate::decode::decode_html(&fetched.body, fetched.content_type.as_deref())
        {
            let dom = crate::dom::Dom::parse(&text);
            for href in crate::extract::links(&dom) {
                let Ok(mut u) = fetched.url.join(href.trim()) else { continue };
                u.set_fragment(None);
                if !in_scope(&scope, &u) {
                    continue;
                }
                if seen.insert(u.to_string()) {
                    queue.push_back(u);
                }
            }
        }
        report.pages.push(CrawledPage {
            url: fetched.url,
            content_type: fetched.content_type,
            body: fetched.body,
        });
    }
    Ok(report)
}

/// Fetches one page and converts it to markdown. Links resolve against the
/// final URL unless `opts.base_url` is set. Errors name the URL: unreachable
/// host, error status, a response that is not HTML.
pub async fn fetch_markdown(
    url: &Url,
    opts: &crate::ConvertOptions,
    timeout: Duration,
) -> Result<crate::Markdown, Error> {
    let client = Client::new(timeout)?;
    let page = client.get(url).await?;
    if !(200..300).contains(&page.status) {
        return Err(Error::Http {
            url: url.to_string(),
            message: format!("HTTP status {}", page.status),
        });
    }
    if !page.is_html() {
        return Err(Error::Http {
            url: url.to_string(),
            message: format!(
                "not an HTML page (content type {}); pass the URL of an HTML page",
                page.content_type.as_deref().unwrap_or("unknown")
            ),
        });
    }
    let mut opts = opts.clone();
    if opts.base_url.is_none() {
        opts.base_url = Some(page.url.clone());
    }
    crate::convert_bytes(&page.body, page.content_type.as_deref(), url.as_str(), &opts)
}
