//! The HTTP client of single sign-on: isx (the relying party) reading an
//! OpenID provider's discovery document and keys and redeeming a code at
//! its token endpoint. HTTPS with the public roots plus the provider's own
//! CA where configured, no redirects, 10 s, bodies of at most
//! `isx_formats::oidc::MAX_BYTES`. The provider is the operator's choice,
//! so private addresses are allowed (an agency's provider is often
//! internal).

use std::time::Duration;

use isx_formats::oidc::MAX_BYTES;

pub struct SsoClient {
    plain: reqwest::Client,
}

fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("isx/", env!("CARGO_PKG_VERSION")))
}

impl SsoClient {
    pub fn new() -> Result<Self, crate::ServerError> {
        builder()
            .build()
            .map(|plain| SsoClient { plain })
            .map_err(|e| crate::ServerError::Tls(e.to_string()))
    }

    /// The client for a provider: with its CA, a client of its own.
    fn client(&self, ca_pem: Option<&str>) -> Result<reqwest::Client, String> {
        let Some(pem) = ca_pem else {
            return Ok(self.plain.clone());
        };
        let mut b = builder();
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|e| format!("the provider's CA: {e}"))?;
        for c in certs {
            b = b.add_root_certificate(c);
        }
        b.build().map_err(|e| e.to_string())
    }
}

async fn body(mut res: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| e.to_string())? {
        if out.len() + chunk.len() > MAX_BYTES {
            return Err(format!("the answer is larger than {MAX_BYTES} bytes"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

#[async_trait::async_trait]
impl isx_app::sso::SsoTransport for SsoClient {
    async fn get(&self, url: &str, ca_pem: Option<&str>) -> Result<Vec<u8>, String> {
        let res = self
            .client(ca_pem)?
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !res.status().is_success() {
            return Err(format!("answered {}", res.status()));
        }
        body(res).await
    }

    async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        basic: (&str, &str),
        ca_pem: Option<&str>,
    ) -> Result<(u16, Vec<u8>), String> {
        // RFC 6749 §2.3.1: the client id and secret are form-encoded
        // before they are joined for Basic authentication.
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let res = self
            .client(ca_pem)?
            .post(url)
            .basic_auth(enc(basic.0), Some(enc(basic.1)))
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = res.status().as_u16();
        Ok((status, body(res).await?))
    }
}
