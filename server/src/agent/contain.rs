//! How the server makes sure no process an agent started outlives it. The CLI starts each tool
//! in a process group of its own, so signalling the agent's group misses them; a PID namespace
//! does not (see `init.rs`). Where none can be made, the server adopts orphans instead.

use std::{
    collections::HashMap,
    path::Path,
    process::{Command as StdCommand, Stdio},
    sync::Mutex,
};

use clap::ValueEnum;
use nix::{
    sys::{
        signal::{Signal, kill},
        wait::{WaitPidFlag, waitpid},
    },
    unistd::{Pid, getuid},
};
use tokio::process::Command;

use super::init::{HOLDER, PROBE, SELF_EXE};
use crate::lock::lock;

/// What keeps an agent's processes from outliving it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Containment {
    /// Each agent is PID 1's child in a PID namespace of its own (root): when the agent or the
    /// server ends, however, the kernel kills every process left in it.
    #[value(name = "pid-namespace")]
    PidNamespace,
    /// The same inside a user namespace, for a server that is not root (where the kernel allows
    /// unprivileged user namespaces); the agent keeps the server's user and group ids.
    #[value(name = "user-namespace")]
    UserNamespace,
    /// No namespace: the server adopts the agent's orphans (a child subreaper) and kills them
    /// when the agent ends. A SIGKILLed server leaves them running; a container's own PID
    /// namespace, with an init as its PID 1, still ends them with the container.
    #[value(name = "subreaper")]
    Subreaper,
}

/// The environment variable that marks an agent's processes, for the subreaper's sweep.
const MARK: &str = "CLAUDE_AGENT_SERVER_AGENT";
/// How many generations of orphans the sweep kills at most.
const SWEEP_ROUNDS: usize = 64;

/// The agents started in subreaper mode and running: pid, and the mark their processes carry.
static MARKED: Mutex<Vec<(u32, String)>> = Mutex::new(Vec::new());

impl Containment {
    /// The first that works here: a PID namespace as root, else in a user namespace, else the
    /// subreaper. Each is tried by starting a holder that only enters it.
    pub fn detect() -> Self {
        let candidates = if getuid().is_root() {
            &[Self::PidNamespace, Self::UserNamespace][..]
        } else {
            &[Self::UserNamespace][..]
        };
        candidates
            .iter()
            .copied()
            .find(|mode| mode.works())
            .unwrap_or(Self::Subreaper)
    }

    /// Whether a holder can enter this mode's namespace here.
    pub fn works(self) -> bool {
        self == Self::Subreaper
            || StdCommand::new(SELF_EXE)
                .args([HOLDER, self.arg(), PROBE])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
    }

    /// Readies the server for this mode: the subreaper must be one before any agent starts.
    pub fn prepare(self) -> nix::Result<()> {
        match self {
            Self::Subreaper => nix::sys::prctl::set_child_subreaper(true),
            Self::PidNamespace | Self::UserNamespace => Ok(()),
        }
    }

    pub fn arg(self) -> &'static str {
        match self {
            Self::PidNamespace => "pid-namespace",
            Self::UserNamespace => "user-namespace",
            Self::Subreaper => "subreaper",
        }
    }

    pub(crate) fn from_arg(arg: &str) -> Option<Self> {
        <Self as ValueEnum>::from_str(arg, false).ok()
    }

    /// The command that runs `program` with `args` contained: behind a holder, or marked.
    pub(crate) fn command(self, program: &Path, args: &[String], mark: &str) -> Command {
        match self {
            Self::PidNamespace | Self::UserNamespace => {
                let mut command = Command::new(SELF_EXE);
                command.args([HOLDER, self.arg()]).arg(program).args(args);
                command
            }
            Self::Subreaper => {
                let mut command = Command::new(program);
                command.args(args).env(MARK, mark);
                command
            }
        }
    }

    /// Notes a started agent, so that the sweep leaves it and finds what it leaves behind.
    pub(crate) fn started(self, pid: u32, mark: &str) {
        if self == Self::Subreaper {
            lock(&MARKED).push((pid, mark.to_owned()));
        }
    }

    /// After the agent `pid` ended: in subreaper mode, kills what it left. A process is
    /// adopted as its parent exits, so each round finds the children of the last one's.
    pub(crate) async fn ended(self, pid: u32, mark: &str) {
        if self != Self::Subreaper {
            return;
        }
        lock(&MARKED).retain(|(agent, _)| *agent != pid);
        for _ in 0..SWEEP_ROUNDS {
            let mark = mark.to_owned();
            let found = tokio::task::spawn_blocking(move || sweep(&mark)).await;
            if found.unwrap_or(0) == 0 {
                break;
            }
        }
    }
}

/// Kills and reaps this server's adopted children that carry `mark`; how many.
fn sweep(mark: &str) -> usize {
    let me = std::process::id();
    let agents: Vec<u32> = lock(&MARKED).iter().map(|(pid, _)| *pid).collect();
    let wanted = format!("{MARK}={mark}");
    let mut found = 0;
    for (pid, parent) in processes() {
        if parent != me || agents.contains(&pid) || !marked(pid, &wanted) {
            continue;
        }
        found += 1;
        let pid = Pid::from_raw(pid.cast_signed());
        let _ = kill(pid, Signal::SIGKILL);
        // Only this pid: tokio reaps the agents, which a wait for any child would steal.
        let _ = waitpid(pid, Some(WaitPidFlag::empty()));
    }
    found
}

/// Every process with its parent, from /proc.
fn processes() -> HashMap<u32, u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return HashMap::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // After the command name, in parentheses that may hold anything: state, then ppid.
            let parent = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?;
            Some((pid, parent.parse().ok()?))
        })
        .collect()
}

/// Whether process `pid` started with `wanted` (`NAME=value`) in its environment.
fn marked(pid: u32, wanted: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|environ| {
        environ
            .split(|&byte| byte == 0)
            .any(|entry| entry == wanted.as_bytes())
    })
}
