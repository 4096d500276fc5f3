//! Accepting connections and serving HTTP/1.1 on them, with limits that keep idle or slow
//! clients from holding the file descriptors the agents need: a deadline for a new
//! connection's first request head, one for an idle keep-alive connection, and a cap on
//! connections at once (WebSockets included), above which clients are answered `503`.

use std::{convert::Infallible, io, net::SocketAddr, pin::pin, sync::Arc, time::Duration};

use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{Request, Response, StatusCode, header},
    response::IntoResponse,
    serve::{Listener, ListenerExt},
};
use futures_util::future::OptionFuture;
use http_body_util::BodyExt;
use hyper::{
    body::Incoming,
    server::conn::http1,
    service::{Service, service_fn},
};
use hyper_util::{rt::TokioIo, service::TowerToHyperService};
use tokio::{
    net::{TcpListener, TcpSocket, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore, watch},
    time::Instant,
};
use tokio_util::{io::InspectReader, sync::CancellationToken, task::TaskTracker};

/// Open files kept from connections for the agents (three pipes each), the sessions' logs and
/// the refusals.
const RESERVED_FILES: u64 = 256;
/// The most connections by default, whatever the open-files limit: past it they cost memory
/// and serve no relay's real use.
const MOST_CONNECTIONS: u64 = 10_000;
/// Connections past the cap being answered at once; more are closed unanswered.
const REFUSALS: usize = 64;
/// How long a connection past the cap has for its request and the answer.
const REFUSAL_TIME: Duration = Duration::from_secs(1);
/// What `Retry-After` tells a client past the cap, in seconds.
const RETRY_AFTER_SECONDS: &str = "1";
/// A burst of refusals is logged once, or once a minute while it lasts.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// Connections the kernel holds until they are accepted (capped by `net.core.somaxconn`): a
/// burst waits there instead of being made to resend its handshake a second later, as past
/// the 128 tokio would ask for.
const BACKLOG: u32 = 1024;

/// How long connections may wait, and how many there may be.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// For a new connection's first complete request head.
    pub(crate) header_timeout: Duration,
    /// For the next complete request head, after a response.
    pub(crate) keepalive_timeout: Duration,
    /// Connections at once, WebSockets included.
    pub(crate) max_connections: usize,
}

/// `--max-connections` by default: the open-files limit less [`RESERVED_FILES`] (yet at least
/// half of it), at most [`MOST_CONNECTIONS`].
pub(crate) fn default_max_connections(open_files: u64) -> usize {
    let max = open_files
        .saturating_sub(RESERVED_FILES)
        .max(open_files / 2)
        .clamp(1, MOST_CONNECTIONS);
    usize::try_from(max).expect("at most MOST_CONNECTIONS")
}

/// Listens on `addr`.
pub(crate) fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    // A restarted server can listen again at once, as tokio's own `bind` allows.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Serves `app` on `listener` until `shutdown`, then lets the connections finish their
/// requests (WebSockets end on `shutdown` themselves).
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: CancellationToken,
) {
    // axum's listener logs accept errors such as EMFILE and waits a second: no spinning.
    let mut listener = listener.tap_io(tune);
    let app = TowerToHyperService::new(app);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let refusals = Arc::new(Semaphore::new(REFUSALS));
    let mut refused = Refused::default();
    let tasks = TaskTracker::new();
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => break,
        };
        // Past the cap, accept and answer 503 rather than stop accepting: the client is told at
        // once instead of waiting unanswered in the kernel's backlog.
        match slots.clone().try_acquire_owned() {
            Ok(slot) => {
                tasks.spawn(serve_connection(
                    tcp,
                    peer,
                    slot,
                    app.clone(),
                    limits,
                    shutdown.clone(),
                ));
            }
            Err(_) => {
                refused.warn(limits.max_connections);
                // Past REFUSALS too, dropping the socket is all that is cheap enough.
                if let Ok(refusal) = refusals.clone().try_acquire_owned() {
                    tasks.spawn(refuse(tcp, refusal));
                }
            }
        }
    }
    // New clients are refused by the kernel, not left waiting while the connections finish.
    drop(listener);
    tasks.close();
    tasks.wait().await;
}

/// Sets up an accepted socket.
fn tune(tcp: &mut TcpStream) {
    // Frames go out as soon as they are written, not after the client's delayed ACK.
    if let Err(error) = tcp.set_nodelay(true) {
        tracing::debug!(%error, "TCP_NODELAY");
    }
    // A peer that vanished without a word is found out even when nothing is sent.
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(Duration::from_secs(30))
        .with_interval(Duration::from_secs(10));
    if let Err(error) = socket2::SockRef::from(&*tcp).set_tcp_keepalive(&keepalive) {
        tracing::debug!(%error, "TCP keepalive");
    }
}

/// Serves one connection until it ends, is upgraded, idles past its deadline, or `shutdown`.
async fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    slot: OwnedSemaphorePermit,
    app: TowerToHyperService<Router>,
    limits: Limits,
    shutdown: CancellationToken,
) {
    // The slot goes with the socket, so that it stays taken while a WebSocket uses the socket.
    let io = TokioIo::new(InspectReader::new(tcp, move |_: &[u8]| {
        let _slot = &slot;
    }));
    let (activity, mut changes) = watch::channel(Activity::new());
    let service = service_fn(move |mut request: Request<Incoming>| {
        // Who sent it, as axum's `ConnectInfo`: the gate counts wrong tokens per address.
        request.extensions_mut().insert(ConnectInfo(peer));
        let busy = Busy::start(activity.clone());
        let response = app.call(request);
        async move {
            let response = response.await?;
            // The body holds `busy`: the request is in flight until its response is sent.
            Ok::<_, Infallible>(response.map(|body| {
                Body::new(body.map_frame(move |frame| {
                    let _busy = &busy;
                    frame
                }))
            }))
        }
    });
    // HTTP/1.1 only: browsers speak HTTP/2 only over TLS, which this server has not, and an
    // HTTP/2 WebSocket would be a stream these limits could not see.
    // hyper's own header_read_timeout restarts after each response, so it would also be the
    // keep-alive timeout: the two deadlines are kept here instead.
    let mut connection = pin!(
        http1::Builder::new()
            .header_read_timeout(None)
            .serve_connection(io, service)
            .with_upgrades()
    );
    let mut closing = false;
    loop {
        let deadline = changes.borrow_and_update().deadline(&limits);
        let idle = OptionFuture::from(deadline.map(tokio::time::sleep_until));
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(error) = served {
                    tracing::debug!(%error, "connection ended");
                }
                return;
            }
            Some(()) = idle => {
                tracing::debug!("closed a connection that sent no request in time");
                return;
            }
            Ok(()) = changes.changed() => {}
            () = shutdown.cancelled(), if !closing => {
                closing = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// What a connection is doing, which sets when it is closed for idling.
#[derive(Debug)]
struct Activity {
    in_flight: usize,
    /// Whether a request has come: the next has the keep-alive timeout.
    served: bool,
    /// Since when no request is in flight.
    idle_since: Instant,
}

impl Activity {
    fn new() -> Self {
        Self {
            in_flight: 0,
            served: false,
            idle_since: Instant::now(),
        }
    }

    /// When the connection is closed unless a request head is complete by then; none while a
    /// request is in flight.
    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        let timeout = match self.served {
            false => limits.header_timeout,
            true => limits.keepalive_timeout,
        };
        (self.in_flight == 0).then(|| self.idle_since + timeout)
    }
}

/// A request in flight, from its complete head until its response is sent.
struct Busy(watch::Sender<Activity>);

impl Busy {
    fn start(activity: watch::Sender<Activity>) -> Self {
        activity.send_modify(|activity| {
            activity.in_flight += 1;
            activity.served = true;
        });
        Self(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.send_modify(|activity| {
            activity.in_flight -= 1;
            activity.idle_since = Instant::now();
        });
    }
}

/// Answers a connection past the cap `503` with `Retry-After`, and closes it; it has
/// [`REFUSAL_TIME`] for it.
async fn refuse(tcp: TcpStream, _refusal: OwnedSemaphorePermit) {
    let service =
        service_fn(|_: Request<Incoming>| async { Ok::<_, Infallible>(too_many_connections()) });
    let connection = http1::Builder::new()
        .keep_alive(false)
        .header_read_timeout(None)
        .serve_connection(TokioIo::new(tcp), service);
    let _ = tokio::time::timeout(REFUSAL_TIME, connection).await;
}

fn too_many_connections() -> Response<Body> {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, RETRY_AFTER_SECONDS)],
        "Too many connections: retry later\n",
    )
        .into_response()
}

/// Connections refused since the last warning.
#[derive(Debug, Default)]
struct Refused {
    count: u64,
    warned: Option<Instant>,
}

impl Refused {
    /// Counts a refusal, and warns unless it did within [`WARN_EVERY`].
    fn warn(&mut self, max_connections: usize) {
        self.count += 1;
        if self.warned.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
            tracing::warn!(
                max_connections,
                refused = self.count,
                "at the connection limit: new connections are answered 503 until some close"
            );
            self.warned = Some(Instant::now());
            self.count = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_leave_files_for_the_agents() {
        assert_eq!(default_max_connections(1024), 768);
        assert_eq!(default_max_connections(300), 150);
        assert_eq!(default_max_connections(20_000), 10_000);
        assert_eq!(default_max_connections(u64::MAX), 10_000);
        assert_eq!(default_max_connections(1), 1);
    }
}
