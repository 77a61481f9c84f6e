//! A real OpenID provider for the single sign-on tests: panva's
//! `oidc-provider` from npm (installed by scripts/test into .ci-node),
//! started over HTTPS on `localhost` — another site than isx's
//! `127.0.0.1`, so the browser treats the redirects between them as
//! cross-site, as it would in production.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Idp {
    child: Child,
    pub issuer: String,
    /// The CA of the provider's certificate (what isx must trust).
    pub ca_pem: String,
    _dir: tempfile::TempDir,
}

fn lib(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../.ci-node/node_modules/"
        ))
        .join(default)
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Idp {
    /// Starts the provider with one confidential client (`client_id`,
    /// `secret`, redirecting to `redirect`) and `accounts` (login →
    /// extra claims).
    pub fn start(
        redirect: &str,
        client_id: &str,
        secret: &str,
        accounts: &serde_json::Value,
    ) -> Idp {
        let dir = tempfile::tempdir().expect("dir");
        // An internal CA and the provider's certificate from it, as an
        // agency's provider would have.
        let p = |n: &str| dir.path().join(n);
        let (key, cert, ca_key, ca, csr, ext) = (
            p("key.pem"),
            p("cert.pem"),
            p("ca-key.pem"),
            p("ca.pem"),
            p("req.csr"),
            p("ext.cnf"),
        );
        std::fs::write(&ext, "subjectAltName=DNS:localhost\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n")
            .expect("ext");
        let openssl = |args: &[&std::ffi::OsStr]| {
            let ok = Command::new("openssl")
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("openssl")
                .success();
            assert!(ok, "openssl {args:?} failed");
        };
        let os = |s: &'static str| std::ffi::OsStr::new(s);
        let ec = [
            os("-newkey"),
            os("ec"),
            os("-pkeyopt"),
            os("ec_paramgen_curve:P-256"),
            os("-nodes"),
        ];
        let mut a: Vec<&std::ffi::OsStr> = vec![os("req"), os("-x509")];
        a.extend(ec);
        a.extend([
            os("-keyout"),
            ca_key.as_os_str(),
            os("-out"),
            ca.as_os_str(),
            os("-days"),
            os("2"),
            os("-subj"),
            os("/CN=isx test provider CA"),
        ]);
        openssl(&a);
        let mut a: Vec<&std::ffi::OsStr> = vec![os("req")];
        a.extend(ec);
        a.extend([
            os("-keyout"),
            key.as_os_str(),
            os("-out"),
            csr.as_os_str(),
            os("-subj"),
            os("/CN=localhost"),
        ]);
        openssl(&a);
        openssl(&[
            os("x509"),
            os("-req"),
            os("-in"),
            csr.as_os_str(),
            os("-CA"),
            ca.as_os_str(),
            os("-CAkey"),
            ca_key.as_os_str(),
            os("-CAcreateserial"),
            os("-days"),
            os("2"),
            os("-extfile"),
            ext.as_os_str(),
            os("-out"),
            cert.as_os_str(),
        ]);
        let port = free_port();
        let provider = lib("OIDC_PROVIDER_LIB", "oidc-provider");
        assert!(
            provider.join("package.json").is_file(),
            "oidc-provider is not installed at {} (scripts/test installs it into .ci-node)",
            provider.display()
        );
        let jose = lib("JOSE_LIB", "jose");
        let mut child = Command::new("node")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/support/oidc-provider.mjs"
            ))
            .env("OIDC_PROVIDER_LIB", &provider)
            .env("JOSE_LIB", &jose)
            .env("ISX_IDP_PORT", port.to_string())
            .env("ISX_IDP_KEY", &key)
            .env("ISX_IDP_CERT", &cert)
            .env("ISX_IDP_REDIRECT", redirect)
            .env("ISX_IDP_CLIENT_ID", client_id)
            .env("ISX_IDP_CLIENT_SECRET", secret)
            .env("ISX_IDP_ACCOUNTS", accounts.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(issuer) = line.strip_prefix("ready ") {
                    let _ = tx.send(issuer.to_owned());
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let issuer = loop {
            if let Ok(i) = rx.recv_timeout(Duration::from_millis(200)) {
                break i;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the OpenID provider exited: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "the OpenID provider did not start"
            );
        };
        Idp {
            child,
            issuer,
            ca_pem: std::fs::read_to_string(&ca).expect("ca"),
            _dir: dir,
        }
    }

    /// What the token endpoint hands out from now on (see
    /// oidc-provider.mjs): `honest`, `tamper`, `audience`, `expired`,
    /// `foreign-key`.
    pub async fn mode(&self, mode: &str) {
        let client = reqwest::Client::builder()
            .add_root_certificate(
                reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).expect("pem"),
            )
            .build()
            .expect("client");
        let res = client
            .post(format!("{}/__mode/{mode}", self.issuer))
            .send()
            .await
            .expect("mode");
        assert!(res.status().is_success(), "mode {mode}: {}", res.status());
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
