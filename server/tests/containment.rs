//! No process the agent started outlives it, in each containment mode: the real CLI runs a
//! Bash tool that leaves processes in sessions (and so process groups) of their own, then the
//! CLI or the server is killed outright.

use std::{path::Path, time::Duration};

use claude_agent_protocol::ServerMessage;
use claude_agent_testkit::{
    Client, MockApi, TestServer, agents, command_line, descendants, eventually, is_alive,
    real_claude, signal,
};
use nix::sys::signal::Signal;

const SERVER: &str = env!("CARGO_BIN_EXE_claude-agent-server");
/// The README's bound for what an agent leaves to end; a namespace's end is near instant.
const BOUND: Duration = Duration::from_secs(2);
/// What the tool starts: two sleeps of their own sessions, and a process it waits on.
const TOOL: &str = "[[tool:bash:setsid sleep 1001 & setsid sleep 1002 & tail -f /dev/null]]";

async fn start(containment: &str) -> (MockApi, TestServer) {
    let api = MockApi::start().await;
    let url = api.base_url();
    let env = [
        ("ANTHROPIC_BASE_URL", url.as_str()),
        ("ANTHROPIC_API_KEY", "test-key"),
    ];
    let args = ["--containment", containment];
    let server = TestServer::start(Path::new(SERVER), &real_claude(), &env, &args).await;
    (api, server)
}

/// Has the agent run [`TOOL`]; returns the agent's pid and every process below the server
/// once all three of the tool's are up.
async fn run_tool(server: &TestServer, client: &mut Client) -> (u32, Vec<u32>) {
    client.say(TOOL).await;
    let mut tree = Vec::new();
    eventually("the tool's processes", || {
        tree = descendants(server.pid());
        let commands: Vec<String> = tree.iter().map(|&pid| command_line(pid)).collect();
        ["sleep 1001", "sleep 1002", "tail -f /dev/null"]
            .iter()
            .all(|wanted| commands.iter().any(|command| command == wanted))
    })
    .await;
    let agent = agents(server.pid())[0];
    (agent, tree)
}

/// Every process in `tree` ends within [`BOUND`].
async fn all_end(tree: &[u32]) {
    let ended = tokio::time::timeout(
        BOUND,
        eventually("the processes to end", || {
            tree.iter().all(|&pid| !is_alive(pid))
        }),
    )
    .await;
    let left: Vec<String> = tree
        .iter()
        .filter(|&&pid| is_alive(pid))
        .map(|&pid| format!("{pid} {}", command_line(pid)))
        .collect();
    assert!(ended.is_ok(), "still running after {BOUND:?}: {left:?}");
}

/// The agent killed mid-tool takes its tools with it, and the session goes on.
async fn killing_the_agent_ends_its_tools(containment: &str) {
    let (_api, server) = start(containment).await;
    let mut client = server.attach().await;
    let (agent, tree) = run_tool(&server, &mut client).await;
    signal(agent, Signal::SIGKILL);
    let below: Vec<u32> = tree.into_iter().filter(|&pid| pid != agent).collect();
    all_end(&below).await;
    // Once the server has told of the death: one sent at that very moment may be reported as
    // not delivered instead, for the client to send again.
    client
        .until(|frame| matches!(frame, ServerMessage::Error { .. }))
        .await;
    client.say("Still there?").await;
    client.turn().await;
}

/// The server killed outright mid-tool takes its agents and their tools with it.
async fn killing_the_server_ends_everything(containment: &str) {
    let (_api, server) = start(containment).await;
    let mut client = server.attach().await;
    let (_, tree) = run_tool(&server, &mut client).await;
    signal(server.pid(), Signal::SIGKILL);
    all_end(&tree).await;
}

#[tokio::test]
async fn a_pid_namespace_ends_the_tools_of_a_killed_agent() {
    killing_the_agent_ends_its_tools("pid-namespace").await;
}

#[tokio::test]
async fn a_pid_namespace_ends_the_tools_of_a_killed_server() {
    killing_the_server_ends_everything("pid-namespace").await;
}

#[tokio::test]
async fn a_user_namespace_ends_the_tools_of_a_killed_agent() {
    killing_the_agent_ends_its_tools("user-namespace").await;
}

#[tokio::test]
async fn a_user_namespace_ends_the_tools_of_a_killed_server() {
    killing_the_server_ends_everything("user-namespace").await;
}

#[tokio::test]
async fn the_subreaper_ends_the_tools_of_a_killed_agent() {
    killing_the_agent_ends_its_tools("subreaper").await;
}

/// The holder and the init let go of the agent's stdin and stdout once the CLI has them: when
/// it dies they close at once, so that a message written then fails (and is reported as not
/// delivered) instead of sitting unread in the pipe.
#[tokio::test]
async fn the_holder_and_the_init_keep_no_end_of_the_agents_pipes() {
    let (_api, server) = start("pid-namespace").await;
    let mut client = server.attach().await;
    client.say("hello").await;
    client.turn().await;
    let between: Vec<u32> = descendants(server.pid())
        .into_iter()
        .filter(|&pid| command_line(pid).contains("__agent-"))
        .collect();
    assert_eq!(between.len(), 2, "the holder and the init");
    for pid in between {
        for fd in [0, 1] {
            let target = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).unwrap();
            assert_eq!(target, Path::new("/dev/null"), "{}", command_line(pid));
        }
    }
}
