//! Baseline: the fake agent's stdout read directly, the ceiling of the pipe into the server.

use std::{path::Path, process::Stdio};

use anyhow::{Context, Result, ensure};
use claude_agent_testkit::monotonic_ns;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    process::{Child, ChildStdin, ChildStdout, Command},
};

use crate::{
    job::Job,
    measure::{Seen, Stats, Tally},
};

/// As large as a Linux pipe's buffer, so one read can drain everything the agent wrote.
const READ_BUFFER: usize = 64 << 10;

/// A `fake-agent` process talking to us over its stdin and stdout.
#[derive(Debug)]
pub(crate) struct Agent {
    // Held so that dropping `Agent` kills the process.
    _child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Agent {
    pub(crate) fn spawn(fake_agent: &Path) -> Result<Self> {
        let mut child = Command::new(fake_agent)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("spawning {}", fake_agent.display()))?;
        let stdin = child.stdin.take().context("agent stdin")?;
        let stdout = child.stdout.take().context("agent stdout")?;
        Ok(Self {
            _child: child,
            stdin,
            stdout: BufReader::with_capacity(READ_BUFFER, stdout),
        })
    }

    /// Asks for `job` and reads lines until its result.
    pub(crate) async fn turn(&mut self, job: Job) -> Result<Stats> {
        let request = format!("{}\n", job.user_message());
        self.stdin.write_all(request.as_bytes()).await?;
        self.stdin.flush().await?;
        let mut tally = Tally::new(job.messages, job.size);
        let mut line = Vec::with_capacity(job.size);
        loop {
            line.clear();
            let read = self.stdout.read_until(b'\n', &mut line).await?;
            let at_ns = monotonic_ns();
            ensure!(read > 0, "the agent closed its stdout mid-turn");
            if tally.record(&line, at_ns)? == Seen::Result {
                return tally.finish();
            }
        }
    }
}
