//! Section 3, scale: a thousand sessions on a server that hibernates an agent idle for a
//! second with no client. A few keep a client attached; once the rest are hibernated (their
//! agents gone), the server's memory, and listing every session against describing one.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use claude_agent_testkit::{Client, PATIENCE, TestServer, agents, status_mb};
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};

use crate::frames::{id, ws_after};

/// Timed requests of each kind; the report gives medians.
const REQUESTS: usize = 20;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    pub(crate) sessions: usize,
    pub(crate) attached: usize,
    /// Creations in flight at once: each starts an agent process.
    pub(crate) concurrency: usize,
}

#[derive(Debug)]
pub(crate) struct Scale {
    pub(crate) plan: Plan,
    /// Sessions the server lists, its own default one included.
    pub(crate) listed: usize,
    pub(crate) create: Duration,
    /// From the last creation until only the attached sessions' agents run.
    pub(crate) hibernate: Duration,
    /// VmRSS right after start, and once the unattached sessions are hibernated.
    pub(crate) rss_start_mb: f64,
    pub(crate) rss_mb: f64,
    /// VmHWM then: the most it held, while the agents started.
    pub(crate) peak_mb: f64,
    pub(crate) list: Vec<Duration>,
    pub(crate) one: Vec<Duration>,
}

impl Plan {
    pub(crate) async fn measure(self, server: &TestServer) -> Result<Scale> {
        ensure!(self.sessions > self.attached, "no session to hibernate");
        let rss_start_mb = status_mb(server.pid(), "VmRSS:")?;
        let started = Instant::now();
        // The attached ones first, so that none hibernates before its client comes.
        let mut clients = Vec::new();
        for _ in 0..self.attached {
            let session = id(&server.create_session(&json!({})).await)?;
            let (client, _) = server.attach_to(&ws_after(&session, 0)).await;
            clients.push((session, keep_reading(client)));
        }
        let empty = json!({});
        let rest: Vec<Value> = stream::iter(self.attached..self.sessions)
            .map(|_| server.create_session(&empty))
            .buffer_unordered(self.concurrency.max(1))
            .collect()
            .await;
        let create = started.elapsed();
        let attached: Vec<&str> = clients.iter().map(|(id, _)| id.as_str()).collect();
        let listed = self.wait_for_hibernation(server, &attached).await?;
        let hibernate = started.elapsed() - create;
        let rss_mb = status_mb(server.pid(), "VmRSS:")?;
        let peak_mb = status_mb(server.pid(), "VmHWM:")?;

        let http = reqwest::Client::new();
        let one_path = server.url(&format!("/v1/sessions/{}", id(&rest[0])?));
        let list_path = server.url("/v1/sessions");
        // Untimed: the connection is opened, and both answers made once.
        timed_get(&http, &one_path).await?;
        timed_get(&http, &list_path).await?;
        let (mut list, mut one) = (Vec::new(), Vec::new());
        for _ in 0..REQUESTS {
            one.push(timed_get(&http, &one_path).await?);
            list.push(timed_get(&http, &list_path).await?);
        }
        for (_, reader) in clients {
            reader.abort();
        }
        Ok(Scale {
            plan: self,
            listed,
            create,
            hibernate,
            rss_start_mb,
            rss_mb,
            peak_mb,
            list,
            one,
        })
    }

    /// Polls until every session but the `attached` is hibernated and only their agents run;
    /// returns how many sessions are listed.
    async fn wait_for_hibernation(&self, server: &TestServer, attached: &[&str]) -> Result<usize> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let (_, list) = server
                .request(reqwest::Method::GET, "/v1/sessions", None)
                .await;
            let sessions = list["sessions"].as_array().context("no sessions listed")?;
            let asleep = |s: &Value| s["status"] == "hibernated";
            let kept = |s: &Value| attached.contains(&s["id"].as_str().unwrap_or_default());
            let settled = sessions.iter().all(|s| asleep(s) != kept(s));
            let agents = agents(server.pid()).len();
            if settled && agents == attached.len() {
                return Ok(sessions.len());
            }
            ensure!(
                Instant::now() < deadline,
                "still {agents} agents running, {} sessions listed",
                sessions.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Reads (and so answers the server's pings) until aborted, like an open page.
fn keep_reading(mut client: Client) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move { while let Some(Ok(_)) = client.ws.next().await {} })
}

/// One GET on a kept-alive connection, to the whole answer read.
async fn timed_get(http: &reqwest::Client, url: &str) -> Result<Duration> {
    let sent = Instant::now();
    let response = http.get(url).send().await?.error_for_status()?;
    response.bytes().await?;
    Ok(sent.elapsed())
}
