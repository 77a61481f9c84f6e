//! Holes 1 and 2 of the 2026-12 red-team pass: a connection that holds a
//! slot without using it. After the TLS handshake, a client that sent
//! nothing kept its connection for ever (4,096 of them from one address
//! filled every slot and `/healthz` timed out for everyone), and a request
//! body trickled in a byte at a time was never timed out, even on the
//! unauthenticated `POST /login`.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::app::{Backend, TestApp};

fn loopback(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

/// Reads until the server closes; the bytes read.
async fn read_to_close(s: &mut (impl AsyncReadExt + Unpin), within: Duration) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let started = Instant::now();
    loop {
        let left = within.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => panic!(
                "still open after {within:?}; read so far: {}",
                String::from_utf8_lossy(&got)
            ),
            Ok(Ok(0)) | Ok(Err(_)) => return got,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

async fn a_silent_client_is_dropped_after_the_handshake(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.header_timeout_ms = 800).await;
    for alpn in [&b"http/1.1"[..], b"h2"] {
        let mut s = app.tls_stream(loopback(1), alpn).await;
        let started = Instant::now();
        let got = read_to_close(&mut s, Duration::from_secs(6)).await;
        assert!(
            started.elapsed() >= Duration::from_millis(700),
            "{alpn:?}: not before the idle timeout ({:?})",
            started.elapsed()
        );
        // HTTP/2 may say goodbye (GOAWAY); HTTP/1.1 just closes.
        if alpn == b"http/1.1" {
            assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
        }
    }
    // An idle keep-alive connection ends the same way, after its answer.
    let mut s = app.tls_stream(loopback(1), b"http/1.1").await;
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .expect("write");
    let got = read_to_close(&mut s, Duration::from_secs(6)).await;
    assert!(
        String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&got)
    );
}

/// Red-team pass 2 (2026-12): an HTTP/2 connection that sent its preface
/// and SETTINGS, and then nothing — or only PINGs — stayed open for good
/// (HTTP/2 flushes on every poll, and each PING is answered).
async fn an_http2_client_that_only_pings_is_dropped(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.header_timeout_ms = 800).await;
    let settings: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 0, 0];
    let settings_ack: &[u8] = &[0, 0, 0, 4, 1, 0, 0, 0, 0];
    let ping: &[u8] = &[0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8];
    for pinging in [false, true] {
        let s = app.tls_stream(loopback(1), b"h2").await;
        let (mut rd, mut wr) = tokio::io::split(s);
        wr.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            .await
            .expect("preface");
        wr.write_all(settings).await.expect("settings");
        wr.write_all(settings_ack).await.expect("ack");
        let started = Instant::now();
        let pinger = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if pinging && wr.write_all(ping).await.is_err() {
                    return;
                }
            }
        });
        read_to_close(&mut rd, Duration::from_secs(6)).await;
        pinger.abort();
        assert!(
            started.elapsed() >= Duration::from_millis(700),
            "pinging {pinging}: not before the idle timeout"
        );
    }
}

async fn one_address_cannot_take_every_connection(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.max_connections = 8;
        c.max_connections_per_address = 4;
    })
    .await;
    // The address's share, held silently (the idle timeout is 30 s).
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(app.tls_stream(loopback(1), b"http/1.1").await);
    }
    // One more from the same address is closed at once, before any
    // handshake.
    let mut extra = app.tcp_stream(loopback(1)).await;
    let started = Instant::now();
    read_to_close(&mut extra, Duration::from_secs(3)).await;
    assert!(started.elapsed() < Duration::from_secs(3));
    // Another address is served meanwhile.
    let other = reqwest::Client::builder()
        .local_address(loopback(2))
        .add_root_certificate(
            reqwest::Certificate::from_pem(
                &std::fs::read(app.data_dir.path().join("tls/ca.pem")).expect("CA"),
            )
            .expect("CA"),
        )
        .build()
        .expect("client");
    let res = tokio::time::timeout(
        Duration::from_secs(10),
        other.get(app.url("/healthz")).send(),
    )
    .await
    .expect("another address is answered")
    .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    // A share given back is a share to use again.
    held.pop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = app.tls_stream(loopback(1), b"http/1.1").await;
    again
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await
        .expect("write");
    let got = read_to_close(&mut again, Duration::from_secs(5)).await;
    assert!(String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"));
}

async fn a_body_trickled_in_gets_408_within_the_body_timeout(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.body_timeout_ms = 1_000).await;
    let framings = ["content-length: 200\r\n", "transfer-encoding: chunked\r\n"];
    for framing in framings {
        let mut s = app.tls_stream(loopback(1), b"http/1.1").await;
        s.write_all(
            format!(
                "POST /login HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/x-www-form-urlencoded\r\n{framing}\r\n"
            )
            .as_bytes(),
        )
        .await
        .expect("headers");
        let chunked = framing.starts_with("transfer");
        let started = Instant::now();
        let (mut rd, mut wr) = tokio::io::split(s);
        // One byte every 200 ms: never idle for long, never done.
        let trickle = tokio::spawn(async move {
            for _ in 0..100 {
                let piece: &[u8] = if chunked { b"1\r\na\r\n" } else { b"a" };
                if wr.write_all(piece).await.is_err() || wr.flush().await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        let got = read_to_close(&mut rd, Duration::from_secs(6)).await;
        trickle.abort();
        let text = String::from_utf8_lossy(&got);
        assert!(text.starts_with("HTTP/1.1 408"), "{framing}: {text}");
        assert!(text.contains("application/problem+json"), "{text}");
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{framing}: {:?}",
            started.elapsed()
        );
    }
    // A body sent at once is unaffected.
    let res = app
        .client
        .post(app.url("/login"))
        .form(&[("login", "nobody"), ("password", "wrong"), ("csrf", "x")])
        .send()
        .await
        .expect("send");
    assert_ne!(res.status(), StatusCode::REQUEST_TIMEOUT);
}

// What a connection may cost does not depend on the store: SQLite only.
mod sqlite {
    use crate::support::app::Backend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_silent_client_is_dropped_after_the_handshake() {
        super::a_silent_client_is_dropped_after_the_handshake(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_http2_client_that_only_pings_is_dropped() {
        super::an_http2_client_that_only_pings_is_dropped(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_address_cannot_take_every_connection() {
        super::one_address_cannot_take_every_connection(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_body_trickled_in_gets_408_within_the_body_timeout() {
        super::a_body_trickled_in_gets_408_within_the_body_timeout(Backend::Sqlite).await;
    }
}
