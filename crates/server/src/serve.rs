//! The accept loop and what each connection may cost: a slot among
//! `max_connections`, a share of at most `max_connections_per_address`
//! for one client address (an IPv6 client by its /64), a deadline for the
//! TLS handshake, and a watchdog that ends a connection which holds a slot
//! without using it — no request in flight for the idle timeout (a client
//! that never sends its first byte, or an idle keep-alive or HTTP/2
//! connection), or a response the client has not read for as long (a slow
//! reader). Request bodies have their own deadline ([`body_deadline`]).

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::Router;
use dashmap::DashMap;
use futures_util::FutureExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::{ServerConfig, ServerError};

/// The limits of the accept loop, from the configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnLimits {
    pub(crate) max_connections: usize,
    pub(crate) per_address: usize,
    pub(crate) handshake: Duration,
    pub(crate) headers: Duration,
    /// No request in flight, or a response not read, for this long: the
    /// connection ends.
    pub(crate) idle: Duration,
    pub(crate) drain: Duration,
}

impl ConnLimits {
    pub(crate) fn of(c: &ServerConfig) -> Self {
        ConnLimits {
            max_connections: c.max_connections.max(1),
            per_address: c.max_connections_per_address.max(1),
            handshake: Duration::from_millis(c.handshake_timeout_ms.max(1)),
            headers: Duration::from_millis(c.header_timeout_ms.max(1)),
            idle: Duration::from_millis(c.header_timeout_ms.max(1)),
            drain: Duration::from_millis(c.drain_timeout_ms),
        }
    }
}

/// Logs an accept failure at most once a second (with how many were
/// passed over), so that running out of descriptors is not also a log storm.
#[derive(Default)]
struct AcceptErrors {
    last: Option<Instant>,
    quiet: u64,
}

impl AcceptErrors {
    fn note(&mut self, e: &std::io::Error) {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|t| now.duration_since(t) < Duration::from_secs(1))
        {
            self.quiet += 1;
            return;
        }
        tracing::warn!(error = %e, passed_over = self.quiet, "accept failed; backing off");
        self.last = Some(now);
        self.quiet = 0;
    }
}

/// Connections open per client address (IPv6 by /64).
#[derive(Default)]
struct PerAddress(DashMap<String, usize>);

/// One connection's share of its address; released on drop.
struct AddressShare {
    table: Arc<PerAddress>,
    key: String,
}

impl PerAddress {
    fn admit(table: &Arc<PerAddress>, ip: IpAddr, cap: usize) -> Option<AddressShare> {
        let key = crate::ratelimit::client_key(ip);
        let mut n = table.0.entry(key.clone()).or_insert(0);
        if *n >= cap {
            return None;
        }
        *n += 1;
        drop(n);
        Some(AddressShare {
            table: table.clone(),
            key,
        })
    }
}

impl Drop for AddressShare {
    fn drop(&mut self) {
        self.table.0.remove_if_mut(&self.key, |_, n| {
            *n = n.saturating_sub(1);
            *n == 0
        });
    }
}

/// The accept loop, over TLS (`tls`) or plain HTTP. Each connection holds
/// one of `max_connections` permits (none left: isx stops accepting until
/// one ends, instead of running out of descriptors) and one of its
/// address's `max_connections_per_address` (none left: closed at once). A
/// failed accept backs off (10 ms, doubling to 1 s) and is logged at most
/// once a second. On shutdown the loop stops accepting, asks every
/// connection to finish its request in flight, and waits up to the drain
/// timeout.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let addresses = Arc::new(PerAddress::default());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut errors = AcceptErrors::default();
    let mut backoff = Duration::from_millis(10);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => {
                    backoff = Duration::from_millis(10);
                    pair
                }
                Err(e) => {
                    errors.note(&e);
                    drop(permit);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            },
        };
        let Some(share) = PerAddress::admit(&addresses, peer.ip(), limits.per_address) else {
            tracing::debug!(%peer, "too many connections from this address; closed");
            continue;
        };
        // Responses go out as soon as they are written: with Nagle's
        // algorithm a response of several segments waits for the client's
        // delayed ACK (40 ms on Linux) before its last segment.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(%peer, error = %e, "cannot set TCP_NODELAY");
        }
        let acceptor = acceptor.clone();
        let router = router.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _permit = permit;
            let _share = share;
            match acceptor {
                None => serve_connection(stream, peer, None, router, limits, watcher).await,
                Some(acceptor) => {
                    match tokio::time::timeout(limits.handshake, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let cert = tls
                                .get_ref()
                                .1
                                .peer_certificates()
                                .and_then(|c| c.first())
                                .map(|c| crate::client_certs::PeerCert(Arc::from(c.as_ref())));
                            serve_connection(tls, peer, cert, router, limits, watcher).await
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("shutdown: connections still open after the drain timeout were cut");
    }
    Ok(())
}

/// What the watchdog of one connection watches.
struct Activity {
    start: Instant,
    in_flight: AtomicUsize,
    /// When the last request ended or the last write went out (or the
    /// connection began), in ms after `start`.
    last_active: AtomicU64,
    /// Since when a write has waited for the client to read, in ms after
    /// `start` plus one (0: no write waiting).
    write_waiting: AtomicU64,
}

impl Activity {
    fn new() -> Arc<Self> {
        Arc::new(Activity {
            start: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_active: AtomicU64::new(0),
            write_waiting: AtomicU64::new(0),
        })
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.clone())
    }

    /// Why the connection should end now, if it should.
    fn verdict(&self, idle: Duration) -> Option<&'static str> {
        let now = self.elapsed_ms();
        let limit = u64::try_from(idle.as_millis()).unwrap_or(u64::MAX);
        let waiting = self.write_waiting.load(Ordering::SeqCst);
        if waiting != 0 && now.saturating_sub(waiting - 1) >= limit {
            return Some("the client has not read its response");
        }
        if self.in_flight.load(Ordering::SeqCst) == 0
            && now.saturating_sub(self.last_active.load(Ordering::SeqCst)) >= limit
        {
            return Some("no request");
        }
        None
    }

    /// Notes a write's outcome: pending, a write waits for the client;
    /// done, it no longer does, and bytes written (`wrote`) are activity.
    /// A flush is never activity by itself: HTTP/2 flushes whenever its
    /// connection is polled, bytes or not.
    fn note_write<T>(&self, r: &Poll<T>, wrote: bool) {
        match r {
            // The tail of a response is still being written after hyper
            // has dropped its body: writing is activity too.
            Poll::Ready(_) => {
                self.write_waiting.store(0, Ordering::SeqCst);
                if wrote {
                    self.last_active.store(self.elapsed_ms(), Ordering::SeqCst);
                }
            }
            Poll::Pending => {
                let since = self.elapsed_ms() + 1;
                let _ = self.write_waiting.compare_exchange(
                    0,
                    since,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                );
            }
        }
    }
}

/// A request in flight on a connection, until its response body is done.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0
            .last_active
            .store(self.0.elapsed_ms(), Ordering::SeqCst);
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A response body that keeps its request in flight while it is sent.
struct Tracked {
    inner: axum::body::Body,
    _in_flight: InFlight,
}

impl http_body::Body for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The smallest write that counts as activity: a response's bytes do, the
/// frames HTTP/2 answers by itself (a PING's acknowledgement: 17 bytes, a
/// SETTINGS acknowledgement: 9) do not — a client that only pings holds a
/// connection slot for nothing.
const ACTIVE_WRITE: usize = 256;

/// The connection's stream, noting how long a write waits for the client.
struct Watched<T> {
    io: T,
    activity: Arc<Activity>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        let wrote = matches!(r, Poll::Ready(Ok(n)) if n >= ACTIVE_WRITE);
        self.activity.note_write(&r, wrote);
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        let wrote = matches!(r, Poll::Ready(Ok(n)) if n >= ACTIVE_WRITE);
        self.activity.note_write(&r, wrote);
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.io).poll_flush(cx);
        self.activity.note_write(&r, false);
        r
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Serves one connection (HTTP/1.1 or HTTP/2) until it ends, shutdown
/// drains it, or its watchdog ends it.
pub(crate) async fn serve_connection<T>(
    io: T,
    peer: SocketAddr,
    cert: Option<crate::client_certs::PeerCert>,
    router: Router,
    limits: ConnLimits,
    watcher: hyper_util::server::graceful::Watcher,
) where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Activity::new();
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            if let Some(c) = &cert {
                req.extensions_mut().insert(c.clone());
            }
            let in_flight = activity.begin();
            router
                .clone()
                .oneshot(req.map(axum::body::Body::new))
                .map(move |res| {
                    res.map(|r| {
                        r.map(|inner| {
                            axum::body::Body::new(Tracked {
                                inner,
                                _in_flight: in_flight,
                            })
                        })
                    })
                })
        })
    };
    let mut builder =
        hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.headers);
    // No HTTP/2 keep-alive pings: they would count as activity and keep an
    // idle connection for ever; the watchdog ends idle connections, and a
    // stream to a peer that vanished stalls its writes.
    builder
        .http2()
        .timer(hyper_util::rt::TokioTimer::new())
        .max_concurrent_streams(100)
        // Room for a request target past isx's own limit, so that it is
        // answered 414 with a problem body rather than by the transport
        // (beyond this, HTTP/2 itself answers 431).
        .max_header_list_size(64 * 1024);
    let io = Watched {
        io,
        activity: activity.clone(),
    };
    let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(io), service);
    let tick = (limits.idle / 4).clamp(Duration::from_millis(20), Duration::from_secs(1));
    let watchdog = async {
        loop {
            tokio::time::sleep(tick).await;
            if let Some(why) = activity.verdict(limits.idle) {
                return why;
            }
        }
    };
    tokio::select! {
        r = watcher.watch(conn) => {
            if let Err(e) = r {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        }
        why = watchdog => tracing::debug!(%peer, why, "connection closed by its watchdog"),
    }
}

/// A request body that must arrive whole within a deadline: past it, the
/// next read fails and [`body_deadline`] answers 408, however slowly the
/// bytes were trickling in.
struct DeadlineBody {
    inner: axum::body::Body,
    sleep: Pin<Box<tokio::time::Sleep>>,
    hit: Arc<std::sync::atomic::AtomicBool>,
}

impl http_body::Body for DeadlineBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if self.inner.is_end_stream() {
            return Poll::Ready(None);
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.hit.store(true, Ordering::SeqCst);
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))));
        }
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within the body timeout")]
struct BodyTimedOut;

/// The most of a refused (too large) body isx reads and discards before it
/// answers 413.
const MAX_DRAIN: usize = 16 * 1024 * 1024;

/// A request body the handler reads and, once it has answered, the
/// middleware still holds: what a handler refused unread can be drained.
#[derive(Clone)]
struct SharedBody(Arc<std::sync::Mutex<DeadlineBody>>);

impl http_body::Body for SharedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let mut body = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Pin::new(&mut *body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .size_hint()
    }
}

/// Reads and discards the rest of a body refused as too large (at most
/// [`MAX_DRAIN`] bytes, within the body deadline), so that the client
/// finishes sending and reads the 413: an HTTP/2 client still uploading
/// when the stream is reset (curl) drops the answer and reports nothing.
async fn drain(mut body: SharedBody) {
    use http_body::Body as _;
    let mut left = MAX_DRAIN;
    loop {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        let Some(Ok(frame)) = frame else { return };
        let n = frame.data_ref().map_or(0, |d| d.len());
        if n > left {
            return;
        }
        left -= n;
    }
}

/// Middleware: the request body must arrive within `body_timeout_ms`
/// (a slow body holds a connection and a request slot; the header timeout
/// only covers the headers). A request whose body missed it gets 408 and
/// the connection is closed.
pub(crate) async fn body_deadline(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    use http_body::Body as _;
    // Most requests have no body: no timer for them.
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let hit = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let deadline = Duration::from_millis(state.config.body_timeout_ms.max(1));
    let (parts, inner) = req.into_parts();
    let body = SharedBody(Arc::new(std::sync::Mutex::new(DeadlineBody {
        inner,
        sleep: Box::pin(tokio::time::sleep(deadline)),
        hit: hit.clone(),
    })));
    let req = axum::extract::Request::from_parts(parts, axum::body::Body::new(body.clone()));
    let res = next.run(req).await;
    if res.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        drain(body).await;
    }
    if hit.load(Ordering::SeqCst) {
        let mut res = crate::problem::ApiError::RequestTimeout(format!(
            "the request body did not arrive within {} s; send it at once",
            deadline.as_secs_f64()
        ))
        .into_response();
        res.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        return res;
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn limits(idle_ms: u64) -> ConnLimits {
        ConnLimits {
            max_connections: 10,
            per_address: 10,
            handshake: Duration::from_millis(idle_ms),
            headers: Duration::from_millis(idle_ms),
            idle: Duration::from_millis(idle_ms),
            drain: Duration::from_millis(idle_ms),
        }
    }

    fn big_router() -> Router {
        Router::new().route(
            "/big",
            axum::routing::get(|| async { "x".repeat(4 * 1024 * 1024) }),
        )
    }

    async fn served(
        router: Router,
        idle_ms: u64,
    ) -> (tokio::io::DuplexStream, tokio::task::JoinHandle<()>) {
        let (client, server) = tokio::io::duplex(4096);
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let watcher = graceful.watcher();
        let peer: SocketAddr = "127.0.0.1:1".parse().expect("addr");
        let task = tokio::spawn(async move {
            serve_connection(server, peer, None, router, limits(idle_ms), watcher).await;
            drop(graceful);
        });
        (client, task)
    }

    #[tokio::test]
    async fn a_client_that_never_sends_a_byte_is_dropped() {
        let (mut client, task) = served(big_router(), 200).await;
        let mut buf = [0u8; 8];
        let n = tokio::time::timeout(Duration::from_secs(5), client.read(&mut buf))
            .await
            .expect("closed by the watchdog, not left open");
        assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
        tokio::time::timeout(Duration::from_secs(1), task)
            .await
            .expect("the connection task ends")
            .expect("no panic");
    }

    #[tokio::test]
    async fn a_client_that_does_not_read_its_response_is_dropped() {
        let (mut client, task) = served(big_router(), 300).await;
        client
            .write_all(b"GET /big HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .expect("write");
        // Never read: the 4 MiB response waits on a 4 KiB pipe.
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("the watchdog ends a connection whose response is not read")
            .expect("no panic");
    }

    #[tokio::test]
    async fn a_reading_client_gets_its_whole_response_however_long_it_takes() {
        let (mut client, task) = served(big_router(), 300).await;
        client
            .write_all(b"GET /big HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .expect("write");
        let mut got = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            // Slower than the idle timeout in total, but never stalled
            // for as long.
            tokio::time::sleep(Duration::from_millis(1)).await;
            match client.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => panic!("{e}"),
            }
        }
        let text = String::from_utf8_lossy(&got);
        assert!(text.starts_with("HTTP/1.1 200"), "{}", &text[..40]);
        assert!(got.len() > 4 * 1024 * 1024, "{}", got.len());
        task.await.expect("no panic");
    }

    #[test]
    fn one_address_gets_its_share_and_no_more() {
        let t = Arc::new(PerAddress::default());
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "2001:db8::1".parse().expect("ip");
        let b2: IpAddr = "2001:db8::ffff".parse().expect("ip");
        let held: Vec<_> = (0..3)
            .map(|_| PerAddress::admit(&t, a, 3).expect("within the cap"))
            .collect();
        assert!(PerAddress::admit(&t, a, 3).is_none());
        let v6 = PerAddress::admit(&t, b, 1).expect("another address");
        assert!(
            PerAddress::admit(&t, b2, 1).is_none(),
            "same /64, same share"
        );
        drop(v6);
        assert!(PerAddress::admit(&t, b2, 1).is_some());
        drop(held);
        assert!(t.0.is_empty(), "released shares leave no entry behind");
        assert!(PerAddress::admit(&t, a, 3).is_some());
    }
}
