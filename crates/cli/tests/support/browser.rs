//! A real browser for the tests: Debian's headless Chromium driven through
//! chromedriver's W3C WebDriver endpoint, with a minimal client on reqwest.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    driver: Child,
    port: u16,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

fn require(path: &str, package: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} is missing: the browser test needs Debian's {package} (apt-get install -y chromium chromium-driver)"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Browser {
    pub async fn start() -> Browser {
        Self::start_with(&[]).await
    }

    /// A browser with extra Chromium arguments.
    pub async fn start_with(extra: &[String]) -> Browser {
        require("/usr/bin/chromium", "chromium");
        require("/usr/bin/chromedriver", "chromium-driver");
        let port = free_port();
        // Its own process group, so that dropping the browser can end
        // chromedriver and every Chromium process it started.
        let driver = Command::new("/usr/bin/chromedriver")
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = http.get(format!("{base}/status")).send().await.ok();
            if let Some(r) = ready {
                let v: Value = r.json().await.unwrap_or_default();
                if v["value"]["ready"] == true {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.extend(extra.iter().cloned());
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "acceptInsecureCerts": true,
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": args
            }
        }}});
        let res: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("json");
        let session = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {res}"))
            .to_owned();
        Browser {
            driver,
            port,
            base,
            session,
            http,
            _profile: profile,
        }
    }

    async fn try_cmd(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.map_err(|e| e.to_string())?;
        let v: Value = res.json().await.map_err(|e| e.to_string())?;
        if v["value"].get("error").is_some() {
            return Err(format!("WebDriver {path}: {}", v["value"]["message"]));
        }
        Ok(v["value"].clone())
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        match self.try_cmd(method, path, body).await {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    pub async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    /// Waits up to 10 s for an element matching `css`.
    pub async fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let url = format!("{}/session/{}/element", self.base, self.session);
            let v: Value = self
                .http
                .post(url)
                .json(&json!({"using": "css selector", "value": css}))
                .send()
                .await
                .expect("find")
                .json()
                .await
                .expect("json");
            if let Some(id) = v["value"][ELEMENT].as_str() {
                return id.to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "no element {css:?} on the page: {}",
                self.source().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    pub async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// The text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.wait_text(css, |_| true).await
    }

    /// Waits up to 10 s until the element matching `css` has a text that
    /// satisfies `done` (pages change under us after a click).
    pub async fn wait_text(&self, css: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut last = String::new();
        while Instant::now() < deadline {
            let found = self
                .try_cmd(
                    reqwest::Method::POST,
                    "/element",
                    Some(json!({"using": "css selector", "value": css})),
                )
                .await;
            if let Some(id) = found
                .ok()
                .and_then(|v| v[ELEMENT].as_str().map(str::to_owned))
            {
                if let Ok(t) = self
                    .try_cmd(reqwest::Method::GET, &format!("/element/{id}/text"), None)
                    .await
                {
                    last = t.as_str().unwrap_or("").to_owned();
                    if done(&last) {
                        return last;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{css:?} never showed the expected text (last: {last:?}): {}",
            self.source().await
        );
    }

    /// Runs `script` (a function body; `return` gives the value) in the page.
    pub async fn execute(&self, script: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// [`execute`](Self::execute), but an error (the page is between two
    /// documents) is `None`.
    pub async fn try_execute(&self, script: &str) -> Option<Value> {
        self.try_cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
        .ok()
    }

    /// Adds a WebDriver virtual authenticator (CTAP2, built in, with user
    /// verification that always succeeds): WebAuthn ceremonies in this
    /// browser use it. Its id.
    pub async fn add_virtual_authenticator(&self) -> String {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/webauthn/authenticator",
                Some(json!({
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": true,
                    "hasUserVerification": true,
                    "isUserVerified": true,
                    "automaticPresenceSimulation": true
                })),
            )
            .await;
        v.as_str().expect("authenticator id").to_owned()
    }

    /// The credentials the virtual authenticator holds.
    pub async fn authenticator_credentials(&self, id: &str) -> Vec<Value> {
        self.cmd(
            reqwest::Method::GET,
            &format!("/webauthn/authenticator/{id}/credentials"),
            None,
        )
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
    }

    /// Deletes the cookies of the page's site (WebDriver's "delete all
    /// cookies"): another account can then sign in there.
    pub async fn delete_cookies(&self) {
        self.cmd(reqwest::Method::DELETE, "/cookie", None).await;
    }

    pub async fn source(&self) -> String {
        self.cmd(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    pub async fn current_url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// Saves a PNG screenshot (for people to look at what the test saw).
    pub async fn screenshot(&self, path: &Path) {
        let data = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        if let Some(bytes) = data.as_str().and_then(base64_decode) {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ = std::fs::write(path, bytes);
        }
    }
}

/// Standard base64, enough for screenshots (no dependency for one use).
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' | b'\n' | b'\r' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Close the session (Chromium exits), then end the process group in
        // case anything is left; Drop cannot await, so plain HTTP/1.1 over TCP.
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
            use std::io::{Read, Write};
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = write!(
                s,
                "DELETE /session/{} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                self.session
            );
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
        }
        if let Ok(pid) = i32::try_from(self.driver.id()) {
            // SAFETY: signals the process group this struct created.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A new web user of `member` with `password`, signed in in a new browser
/// that shows the dashboard.
pub async fn signed_in(
    app: &super::app::TestApp,
    member: isx_domain::MemberId,
    login: &str,
    password: &str,
) -> Browser {
    isx_app::admin::create_user(
        app.store.as_ref(),
        app.clock.as_ref() as &dyn isx_domain::Clock,
        &isx_domain::Login::new(login).expect("login"),
        password,
        member,
        isx_domain::UserRole::Member,
    )
    .await
    .expect("user");
    let b = Browser::start().await;
    b.goto(&app.url("/login")).await;
    b.type_into("#login", login).await;
    b.type_into("#password", password).await;
    b.click("#sign-in").await;
    b.wait_text("h1", |t| t == "Dashboard").await;
    b
}
