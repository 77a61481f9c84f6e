//! The webhook client's connections: its resolver drops every address
//! `isx_app::outbound::allowed` refuses, so a name re-pointed after its
//! URL was checked (DNS rebinding) reaches nothing.

use std::net::SocketAddr;
use std::sync::Arc;

pub use isx_app::outbound::{allowed, check_url};

/// The webhook client's resolver: the system's, less forbidden addresses.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = format!("{}:0", name.as_str());
            let found: Vec<SocketAddr> = tokio::net::lookup_host(host)
                .await?
                .filter(|a| allowed(a.ip(), allow_private))
                .collect();
            if found.is_empty() {
                return Err(format!(
                    "{} resolves to no address isx may call (loopback, link-local, private and multicast addresses are refused)",
                    name.as_str()
                )
                .into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// The resolver, as reqwest wants it.
pub fn resolver(allow_private: bool) -> Arc<GuardedResolver> {
    Arc::new(GuardedResolver { allow_private })
}

/// The webhook transport: rustls with the public roots (plus the
/// operator's extra CA if configured), no redirects, HTTPS only, 10 s, and
/// the guarded resolver.
pub struct WebhookClient(reqwest::Client);

impl WebhookClient {
    pub fn new(config: &crate::ServerConfig) -> Result<Self, crate::ServerError> {
        use crate::ServerError;
        let mut b = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .https_only(true)
            .dns_resolver(resolver(config.webhook_allow_private));
        if let Some(ca) = &config.webhook_ca {
            let pem = std::fs::read(ca).map_err(|source| ServerError::Io {
                path: ca.clone(),
                source,
            })?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| ServerError::Tls(format!("{}: {e}", ca.display())))?;
            b = b.add_root_certificate(cert);
        }
        b.build()
            .map(WebhookClient)
            .map_err(|e| ServerError::Tls(e.to_string()))
    }
}

#[async_trait::async_trait]
impl isx_app::notify::WebhookTransport for WebhookClient {
    async fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: String,
    ) -> Result<u16, String> {
        let mut req = self.0.post(url);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        req.body(body)
            .send()
            .await
            .map(|res| res.status().as_u16())
            .map_err(|e| e.to_string())
    }
}
