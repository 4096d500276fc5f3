//! Ten thousand clients come and go, each leaving one of the ways clients leave: the server's
//! memory and file descriptors stay where they were once it had warmed up.

use std::path::Path;

use claude_agent_testkit::{TestServer, built_binary, eventually, status_mb};
use futures_util::{StreamExt, stream};
use serde_json::json;

const SERVER: &str = env!("CARGO_BIN_EXE_claude-agent-server");
const CYCLES: usize = 10_000;
/// Cycles before the baseline: buffers, caches and the allocator's arenas reach their size.
const WARM: usize = 1_000;
/// Clients coming and going at once.
const AT_ONCE: usize = 8;
/// What the server's resident memory may gain over the last 9,000 cycles: a leak of even 200
/// bytes a client would pass it.
const RSS_SLACK_MB: f64 = 2.0;

#[tokio::test]
async fn ten_thousand_clients_come_and_go_and_nothing_grows() {
    let fake = built_binary(Path::new(SERVER), "fake-agent");
    let server = TestServer::start(Path::new(SERVER), &fake, &[], &[]).await;
    let session = server.create_session(&json!({})).await;
    let id = session["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/sessions/{id}/ws");

    cycle(&server, &path, 0..WARM).await;
    let (fds, rss) = settled(&server, &id).await;
    cycle(&server, &path, WARM..CYCLES).await;
    let (fds_after, rss_after) = settled(&server, &id).await;
    eprintln!("fds {fds} -> {fds_after}, rss {rss:.2} -> {rss_after:.2} MB");
    assert_eq!(fds_after, fds, "file descriptors before and after");
    assert!(
        rss_after - rss <= RSS_SLACK_MB,
        "resident memory grew from {rss:.1} MB to {rss_after:.1} MB"
    );
}

/// Clients `range` attach and leave, [`AT_ONCE`] at a time: by a clean close, a TCP reset, a
/// bare FIN, or by just dropping the socket.
async fn cycle(server: &TestServer, path: &str, range: std::ops::Range<usize>) {
    stream::iter(range)
        .for_each_concurrent(AT_ONCE, |i| async move {
            let (client, _) = server.attach_to(path).await;
            match i % 4 {
                0 => assert_eq!(client.close().await, Some(1000)),
                1 => client.reset(),
                2 => client.fin().await,
                _ => drop(client),
            }
        })
        .await;
}

/// Once the session counts no client: the server's open file descriptors and its RSS in MB.
async fn settled(server: &TestServer, id: &str) -> (usize, f64) {
    server
        .wait_for_session(id, |info| info["clients"] == 0)
        .await;
    let fds = || {
        std::fs::read_dir(format!("/proc/{}/fd", server.pid()))
            .unwrap()
            .count()
    };
    // A socket closes a moment after its client is counted out.
    let mut last = fds();
    eventually("the descriptors to settle", || {
        let now = fds();
        std::mem::replace(&mut last, now) == now
    })
    .await;
    (last, status_mb(server.pid(), "VmRSS:").unwrap())
}
