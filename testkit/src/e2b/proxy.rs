//! The mock's one listener, split by the `Host` of each connection's first request, as E2B's
//! edge splits its domain: `<port>-<sandboxID>.<domain>` is that sandbox's port, forwarded as
//! raw TCP (so WebSocket upgrades pass through); anything else is the control plane.

use std::{io::Cursor, sync::Arc};

use axum::Router;
use hyper_util::{rt::TokioIo, service::TowerToHyperService};
use serde_json::json;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

use super::{
    Shared,
    registry::{Closed, Registry},
};

/// A request head larger than this is not one a client of the mock sends.
const MAX_HEAD: usize = 64 * 1024;

/// Serves `listener` for ever.
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>, control: Router) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(connection(stream, Arc::clone(&shared), control.clone()));
            }
            Err(err) => eprintln!("e2b mock: accept failed: {err}"),
        }
    }
}

async fn connection(mut stream: TcpStream, shared: Arc<Shared>, control: Router) {
    let Some(head) = read_head(&mut stream).await else {
        return;
    };
    let sandbox = head
        .host
        .as_deref()
        .and_then(|host| sandbox_port(host, &shared.domain));
    match sandbox {
        Some((port, id)) => forward(stream, &head.bytes, &shared.registry, &id, port).await,
        None => serve_control(stream, head.bytes, control).await,
    }
}

/// The bytes read up to the end of the first request's head (and any after it), and its Host.
struct Head {
    bytes: Vec<u8>,
    host: Option<String>,
}

/// Reads the first request's head; `None` if the connection ends first or sends too much. A
/// head that is no HTTP goes to the control plane, whose HTTP server answers it.
async fn read_head(stream: &mut TcpStream) -> Option<Head> {
    let mut bytes = Vec::with_capacity(4096);
    loop {
        if stream.read_buf(&mut bytes).await.ok()? == 0 || bytes.len() > MAX_HEAD {
            return None;
        }
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&bytes) {
            Ok(httparse::Status::Partial) => continue,
            Ok(httparse::Status::Complete(_)) => {
                let host = request
                    .headers
                    .iter()
                    .find(|header| header.name.eq_ignore_ascii_case("host"))
                    .and_then(|header| std::str::from_utf8(header.value).ok())
                    .map(str::to_ascii_lowercase);
                return Some(Head { bytes, host });
            }
            Err(_) => return Some(Head { bytes, host: None }),
        }
    }
}

/// The port and sandbox a `Host` such as `3000-abc123.localhost:41234` names under `domain`.
fn sandbox_port(host: &str, domain: &str) -> Option<(u16, String)> {
    let label = host.strip_suffix(domain)?.strip_suffix('.')?;
    let (port, id) = label.split_once('-')?;
    let valid = !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric());
    Some((port.parse().ok()?, id.to_owned())).filter(|_| valid)
}

/// Forwards the connection to the sandbox `id`'s `port`, or answers as E2B's proxy does when it
/// cannot: 502 with its JSON body.
async fn forward(mut client: TcpStream, head: &[u8], registry: &Registry, id: &str, port: u16) {
    let port_closed = json!({
        "sandboxId": id,
        "message": "The sandbox is running but port is not open",
        "port": port,
        "code": 502,
    });
    let (address, killed) = match registry.address(id, port) {
        Ok(open) => open,
        Err(Closed::Port) => return bad_gateway(client, &port_closed).await,
        Err(Closed::Sandbox) => {
            let not_found = json!({
                "sandboxId": id,
                "message": "The sandbox was not found",
                "code": 502,
            });
            return bad_gateway(client, &not_found).await;
        }
    };
    let Ok(mut server) = TcpStream::connect(&address).await else {
        return bad_gateway(client, &port_closed).await;
    };
    if server.write_all(head).await.is_err() {
        return;
    }
    // Until either side closes, or the sandbox is killed: then the connection dies with it.
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        () = killed.cancelled() => {}
    }
}

async fn bad_gateway(mut client: TcpStream, body: &serde_json::Value) {
    let body = body.to_string();
    let response = format!(
        "HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json; charset=utf-8\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = client.write_all(response.as_bytes()).await;
    let _ = client.shutdown().await;
}

/// Serves the control plane's routes on the connection, its first bytes already read.
async fn serve_control(stream: TcpStream, read: Vec<u8>, control: Router) {
    let (reader, writer) = stream.into_split();
    let io = tokio::io::join(Cursor::new(read).chain(reader), writer);
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(io), TowerToHyperService::new(control))
        .await;
}

#[cfg(test)]
mod tests {
    use super::sandbox_port;

    #[test]
    fn hosts_name_a_port_of_a_sandbox_under_the_domain() {
        let domain = "localhost:4000";
        assert_eq!(
            sandbox_port("3000-abc123.localhost:4000", domain),
            Some((3000, "abc123".to_owned()))
        );
        for control in [
            "127.0.0.1:4000",
            "localhost:4000",
            "3000-abc.localhost:4001",
            "x-abc.localhost:4000",
            "3000-.localhost:4000",
            "3000-a.b.localhost:4000",
            "3000abc.localhost:4000",
        ] {
            assert_eq!(sandbox_port(control, domain), None, "{control}");
        }
    }
}
