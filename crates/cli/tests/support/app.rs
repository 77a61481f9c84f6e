//! `TestApp`: the real server on port 0 over HTTPS with a fresh store
//! (SQLite or PostgreSQL), a client that trusts its generated CA, and three
//! members with keys: the operator, and members A and B.

use std::sync::Arc;

use isx_app::admin;
use isx_domain::{
    Clearance, Clock, Constituency, ManualClock, Member, MemberKind, MemberName, NewMember,
    SystemClock, Tier,
};
use isx_server::{Application, ServerConfig};
use isx_store::Store;
use reqwest::{Client, Method, RequestBuilder};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct Tenant {
    pub member: Member,
    pub token: String,
}

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    pub data_dir: tempfile::TempDir,
    /// The store's URL (a SQLite path or a PostgreSQL URL), for tests that
    /// reach into the database as an operator's tools would.
    pub db_url: String,
    pub operator: Tenant,
    pub a: Tenant,
    pub b: Tenant,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

pub async fn open_store(backend: Backend, dir: &std::path::Path) -> Arc<dyn Store> {
    open_store_at(backend, dir).await.0
}

/// A fresh store and the URL it was opened with.
pub async fn open_store_at(backend: Backend, dir: &std::path::Path) -> (Arc<dyn Store>, String) {
    let url = match backend {
        Backend::Sqlite => dir.join("isx.sqlite").display().to_string(),
        Backend::Postgres => super::pg::fresh_database().await,
    };
    (isx_store::open(&url).await.expect("open store"), url)
}

fn new_member(name: &str, kind: MemberKind, cidr: &str) -> NewMember {
    NewMember {
        name: MemberName::new(name).expect("name"),
        kind,
        country: Some("NL".parse().expect("cc")),
        tier: Tier::Standard,
        clearance: Clearance::Restricted,
        constituency: Constituency {
            cidrs: vec![cidr.parse().expect("cidr")],
            ..Default::default()
        },
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut ServerConfig)) -> TestApp {
        let data_dir = tempfile::tempdir().expect("tempdir");
        let (store, db_url) = open_store_at(backend, data_dir.path()).await;
        let clock = Arc::new(ManualClock::new(SystemClock.now()));
        let mut config = ServerConfig::new(
            "127.0.0.1:0".parse().expect("addr"),
            data_dir.path().to_owned(),
        );
        // Tests that need feed files produce them themselves, at the times
        // they choose: no scheduler of the app's own races them.
        config.feed_scheduler = false;
        tweak(&mut config);
        let app = Application::build(config, store.clone(), clock.clone())
            .await
            .expect("build app");
        let base = app.base_url();
        let mut builder = Client::builder().redirect(reqwest::redirect::Policy::none());
        if let Some(ca) = app.ca_path() {
            let pem = std::fs::read(ca).expect("read CA");
            builder =
                builder.add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("CA pem"));
        }
        let client = builder.build().expect("client");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run(async move {
            let _ = rx.await;
        }));

        let s = store.as_ref();
        let c = clock.as_ref() as &dyn Clock;
        let mut tenants = Vec::new();
        for (name, kind, cidr) in [
            ("Operator", MemberKind::Operator, "10.0.0.0/8"),
            ("Member A", MemberKind::NationalCert, "192.0.2.0/24"),
            ("Member B", MemberKind::Enterprise, "198.51.100.0/24"),
        ] {
            let member = admin::create_member(s, c, &new_member(name, kind, cidr))
                .await
                .expect("member");
            let (_, token) =
                admin::create_api_key(s, c, None, &isx_app::admin::KeySpec::cli(&member, "test"))
                    .await
                    .expect("key");
            tenants.push(Tenant {
                member,
                token: token.expose(),
            });
        }
        let b = tenants.pop().expect("b");
        let a = tenants.pop().expect("a");
        let operator = tenants.pop().expect("operator");
        TestApp {
            base,
            client,
            store,
            clock,
            data_dir,
            db_url,
            operator,
            a,
            b,
            _shutdown: tx,
        }
    }

    /// A raw TLS connection to the server, from `local` (any loopback
    /// address), offering `alpn` (`h2`, `http/1.1`): for tests that speak
    /// the protocol byte by byte.
    pub async fn tls_stream(
        &self,
        local: std::net::IpAddr,
        alpn: &[u8],
    ) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
        let tcp = self.tcp_stream(local).await;
        let ca = std::fs::read(self.data_dir.path().join("tls/ca.pem")).expect("CA");
        let mut roots = tokio_rustls::rustls::RootCertStore::empty();
        for cert in rustls_pemfile::certs(&mut ca.as_slice()) {
            roots.add(cert.expect("CA pem")).expect("CA");
        }
        let mut cfg = tokio_rustls::rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        cfg.alpn_protocols = vec![alpn.to_vec()];
        let name = tokio_rustls::rustls::pki_types::ServerName::try_from("localhost")
            .expect("name")
            .to_owned();
        tokio_rustls::TlsConnector::from(Arc::new(cfg))
            .connect(name, tcp)
            .await
            .expect("TLS handshake")
    }

    /// A TCP connection to the server from `local` (any loopback address).
    pub async fn tcp_stream(&self, local: std::net::IpAddr) -> tokio::net::TcpStream {
        let addr: std::net::SocketAddr = self
            .base
            .trim_start_matches("https://")
            .parse()
            .expect("addr");
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind(std::net::SocketAddr::new(local, 0))
            .expect("bind");
        socket.connect(addr).await.expect("connect")
    }

    /// An HTTPS client of this server that connects from `local` (any
    /// loopback address): another source address, for per-address limits.
    pub fn client_from(&self, local: std::net::IpAddr) -> Client {
        let pem = std::fs::read(self.data_dir.path().join("tls/ca.pem")).expect("CA");
        Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .local_address(local)
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("CA pem"))
            .build()
            .expect("client")
    }

    /// A new ad hoc trust group owned by `owner`, made by the operator over
    /// the API; its id.
    pub async fn ad_hoc_group(&self, name: &str, owner: isx_domain::MemberId) -> i64 {
        let g: serde_json::Value = self
            .post_json(
                "/api/v1/groups",
                &self.operator.token,
                &serde_json::json!({"name": name, "kind": {"kind": "ad-hoc"}, "owner": owner.0}),
            )
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        g["id"].as_i64().expect("group id")
    }

    /// A new member of this tier (no constituency), with an API key.
    pub async fn tier_member(&self, name: &str, tier: Tier) -> Tenant {
        let c = self.clock.as_ref() as &dyn Clock;
        let member = admin::create_member(
            self.store.as_ref(),
            c,
            &NewMember {
                name: MemberName::new(name).expect("name"),
                kind: MemberKind::Enterprise,
                country: None,
                tier,
                clearance: Clearance::None,
                constituency: Constituency::default(),
            },
        )
        .await
        .expect("member");
        let (_, token) = admin::create_api_key(
            self.store.as_ref(),
            c,
            None,
            &admin::KeySpec::cli(&member, "t"),
        )
        .await
        .expect("key");
        Tenant {
            member,
            token: token.expose(),
        }
    }

    /// The sign-in form's CSRF cookie (`name=value`, for a `Cookie` header)
    /// and its token, as a browser gets them from `GET /login`.
    pub async fn login_csrf(&self) -> (String, String) {
        let page = self
            .client
            .get(self.url("/login"))
            .send()
            .await
            .expect("login page");
        let cookie = cookie_pair(&page, "isx_login_csrf").expect("csrf cookie");
        let token = cookie.split_once('=').expect("=").1.to_owned();
        (cookie, token)
    }

    /// Signs in on `/login` with the form's CSRF pair from [`login_csrf`].
    pub async fn sign_in(
        &self,
        csrf: &(String, String),
        login: &str,
        password: &str,
    ) -> reqwest::Response {
        self.client
            .post(self.url("/login"))
            .header("cookie", &csrf.0)
            .form(&[
                ("csrf", csrf.1.as_str()),
                ("login", login),
                ("password", password),
            ])
            .send()
            .await
            .expect("send")
    }

    /// A web page `path` read with the session `cookie` (200 required).
    pub async fn page(&self, cookie: &str, path: &str) -> String {
        let res = self
            .get(path, "")
            .header("cookie", cookie)
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), reqwest::StatusCode::OK, "{path}");
        res.text().await.expect("page")
    }

    /// A new key of `member`'s administrators (role member-admin).
    pub async fn member_admin_key(&self, member: &isx_domain::Member) -> String {
        let c = self.clock.as_ref() as &dyn Clock;
        admin::create_api_key(
            self.store.as_ref(),
            c,
            None,
            &admin::KeySpec {
                member: member.id,
                name: "administrators",
                role: isx_domain::UserRole::MemberAdmin,
                expires_at: None,
            },
        )
        .await
        .expect("key")
        .1
        .expose()
    }

    /// A web session for a new user of `member`, as a `Cookie` header value.
    pub async fn session_cookie(
        &self,
        member: isx_domain::MemberId,
        login: &str,
        role: isx_domain::UserRole,
    ) -> String {
        let c = self.clock.as_ref() as &dyn Clock;
        let login = isx_domain::Login::new(login).expect("login");
        let user = admin::create_user(
            self.store.as_ref(),
            c,
            &login,
            "a long test password",
            member,
            role,
        )
        .await
        .expect("user");
        let cookie = isx_app::identity::random_hex32();
        let session = isx_store::Session {
            token_hash: isx_app::identity::hash_secret(&cookie),
            user: user.id,
            csrf_token: "csrf".into(),
            created_at: c.now(),
            expires_at: c.now().add_secs(1_000 * 86_400),
            source_ip: None,
            user_agent: None,
        };
        self.store.insert_session(&session).await.expect("session");
        format!("isx_session={cookie}")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request with `token` as Bearer key (none if empty).
    pub fn req(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        let r = self.client.request(method, self.url(path));
        if token.is_empty() {
            r
        } else {
            r.bearer_auth(token)
        }
    }

    pub fn get(&self, path: &str, token: &str) -> RequestBuilder {
        self.req(Method::GET, path, token)
    }

    /// GETs `path` with `token`, asserts 200 and returns the JSON body.
    pub async fn get_json(&self, path: &str, token: &str) -> serde_json::Value {
        let res = self.get(path, token).send().await.expect("send");
        assert_eq!(res.status(), reqwest::StatusCode::OK, "GET {path}");
        res.json().await.expect("JSON body")
    }

    /// GETs `path` with `token` and returns the body as text, whatever the status.
    pub async fn get_text(&self, path: &str, token: &str) -> String {
        let res = self.get(path, token).send().await.expect("send");
        res.text().await.expect("text body")
    }

    pub fn post_json(&self, path: &str, token: &str, body: &serde_json::Value) -> RequestBuilder {
        self.req(Method::POST, path, token).json(body)
    }
}

/// The `href` of the link whose tag holds `marker` (an `id="…"`, a
/// `class="…"`, a `data-…`), unescaped: the page's own link to follow.
pub fn href_at(html: &str, marker: &str) -> Option<String> {
    let at = html.find(marker)?;
    let start = html.get(..at)?.rfind("href=\"")? + 6;
    let end = start + html.get(start..)?.find('"')?;
    Some(
        html.get(start..end)?
            .replace("&#38;", "&")
            .replace("&amp;", "&"),
    )
}

/// The `Set-Cookie` header a response sets for cookie `name` (with its
/// attributes).
pub fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    res.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&prefix))
        .map(str::to_owned)
}

/// `name=value` of the cookie a response sets, as a `Cookie` header
/// sends it back.
pub fn cookie_pair(res: &reqwest::Response, name: &str) -> Option<String> {
    set_cookie(res, name).and_then(|v| v.split(';').next().map(str::to_owned))
}
