//! Signed-in API sessions over one keep-alive HTTP client per virtual user, as a browser
//! or an integration would call the JSON API: the session cookie, `X-CSRF-Token` and
//! `Origin` on every call.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

/// One HTTP client (one keep-alive connection pool) per virtual user.
pub fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(4)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| format!("HTTP client: {e}"))
}

/// A signed-in account: its cookies and CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    pub login: String,
    pub cookie: String,
    pub csrf: String,
}

/// What came back, and how long the whole exchange (send to the last byte) took.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub etag: Option<String>,
    pub body: String,
    pub took: Duration,
}

impl Reply {
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// A string field of the JSON body.
    pub fn field(&self, name: &str) -> Option<String> {
        self.json()?.get(name)?.as_str().map(str::to_owned)
    }
}

/// `name=value` pairs of the `Set-Cookie` headers, as one `Cookie` header.
pub fn cookie_header<'a>(set_cookies: impl Iterator<Item = &'a str>) -> String {
    set_cookies
        .filter_map(|s| s.split(';').next())
        .map(str::trim)
        .filter(|kv| {
            kv.split_once('=')
                .is_some_and(|(k, v)| !k.is_empty() && !v.is_empty())
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Signs in through `POST /api/v1/auth/sign-in`. `Ok(None)` when the account does not
/// exist or the password is wrong (401); any other failure is an error.
pub async fn sign_in(
    http: &reqwest::Client,
    base: &str,
    login: &str,
    password: &str,
) -> Result<Option<Session>, String> {
    let r = http
        .post(format!("{base}/api/v1/auth/sign-in"))
        .header("origin", base)
        .json(&serde_json::json!({"login": login, "password": password}))
        .send()
        .await
        .map_err(|e| format!("sign-in of {login}: {e}"))?;
    let status = r.status().as_u16();
    let cookie = cookie_header(
        r.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok()),
    );
    let body = r.text().await.unwrap_or_default();
    if status == 401 {
        return Ok(None);
    }
    if status != 200 {
        return Err(format!(
            "sign-in of {login}: HTTP {status}: {}",
            excerpt(&body)
        ));
    }
    let v: Value = serde_json::from_str(&body)
        .map_err(|e| format!("sign-in of {login}: not JSON ({e}): {}", excerpt(&body)))?;
    let next = v.get("next").and_then(Value::as_str).unwrap_or("");
    if next != "done" {
        return Err(format!(
            "sign-in of {login} needs `{next}` (a second factor): run the server with --demo, and use demo or worker accounts"
        ));
    }
    let csrf = v
        .get("csrf_token")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("sign-in of {login}: no csrf_token"))?
        .to_owned();
    Ok(Some(Session {
        login: login.to_owned(),
        cookie,
        csrf,
    }))
}

/// One API call as `session`.
pub async fn call(
    http: &reqwest::Client,
    base: &str,
    session: &Session,
    method: Method,
    path: &str,
    body: Option<&Value>,
    if_match: Option<&str>,
) -> Result<Reply, String> {
    let started = Instant::now();
    let mut rb = http
        .request(method.clone(), format!("{base}{path}"))
        .header("cookie", &session.cookie)
        .header("accept", "application/json");
    if method != Method::GET {
        rb = rb
            .header("origin", base)
            .header("x-csrf-token", &session.csrf);
    }
    if let Some(tag) = if_match {
        rb = rb.header("if-match", tag);
    }
    if let Some(b) = body {
        rb = rb.json(b);
    }
    let r = rb
        .send()
        .await
        .map_err(|e| format!("{method} {path}: {e}"))?;
    let status = r.status().as_u16();
    let etag = r
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = r
        .text()
        .await
        .map_err(|e| format!("{method} {path}: reading the body: {e}"))?;
    Ok(Reply {
        status,
        etag,
        body,
        took: started.elapsed(),
    })
}

/// The first 300 characters of a body, on one line.
pub fn excerpt(body: &str) -> String {
    let one_line: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    if body.chars().count() > 300 {
        format!("{one_line}…")
    } else {
        one_line
    }
}

/// `/api/v1/search?…` with each value percent-encoded.
pub fn query_path(path: &str, params: &[(&str, &str)]) -> String {
    let q = params
        .iter()
        .map(|(k, v)| format!("{k}={}", percent(v)))
        .collect::<Vec<_>>()
        .join("&");
    format!("{path}?{q}")
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_cookies_become_one_cookie_header() {
        let h = cookie_header(
            [
                "ryoritsu=abc123; Path=/; HttpOnly; SameSite=Lax",
                "ryoritsu_pre=; Path=/; Max-Age=0",
                "lang=ja",
            ]
            .into_iter(),
        );
        assert_eq!(h, "ryoritsu=abc123; lang=ja");
    }

    #[test]
    fn search_words_are_percent_encoded() {
        assert_eq!(
            query_path("/api/v1/search", &[("q", "がん"), ("status", "a_b")]),
            "/api/v1/search?q=%E3%81%8C%E3%82%93&status=a_b"
        );
    }

    #[test]
    fn excerpts_are_short_and_on_one_line() {
        assert_eq!(excerpt("a\nb"), "a b");
        let long = "あ".repeat(400);
        assert_eq!(excerpt(&long).chars().count(), 301);
    }
}
