//! The two small processes that keep an agent's tools from outliving it: run from this same
//! binary, between the server and the CLI, when a PID namespace is available.
//!
//! - The holder (`__agent-holder MODE PROGRAM ARGS…`) enters a new PID namespace, starts the
//!   namespace's init, and exits as it does. It dies with the server (its parent death signal).
//! - The init (`__agent-init PROGRAM ARGS…`), PID 1 of the namespace, starts the CLI, reaps
//!   every process orphaned inside, and exits when the CLI does, or with the holder. When PID 1
//!   of a namespace exits, the kernel kills every process left in it: the tools, whatever
//!   process groups or sessions they made, and however the server ended.

use std::{
    ffi::OsString,
    fs,
    os::unix::process::ExitStatusExt,
    process::{Command, ExitCode, ExitStatus},
};

use nix::{
    errno::Errno,
    sched::{CloneFlags, unshare},
    sys::{
        prctl,
        signal::{SigSet, SigmaskHow, Signal, pthread_sigmask, raise},
        wait::{WaitStatus, waitpid},
    },
    unistd::{Pid, getgid, getuid},
};

use super::contain::Containment;

/// The first argument that runs this binary as the holder.
pub(crate) const HOLDER: &str = "__agent-holder";
/// The first argument that runs this binary as a namespace's init.
pub(crate) const INIT: &str = "__agent-init";
/// The holder's program argument when the server only asks whether `MODE` works here.
pub(crate) const PROBE: &str = "--probe";
/// This very binary, even if its file was replaced since it started.
pub(crate) const SELF_EXE: &str = "/proc/self/exe";

/// Runs the holder or the init if this process was started as one; `None` for the server.
pub fn run_if_requested() -> Option<ExitCode> {
    let mut args = std::env::args_os().skip(1);
    let role = args.next()?;
    if role == HOLDER {
        let mode = args.next()?.into_string().ok()?;
        let mode = Containment::from_arg(&mode)?;
        Some(hold(mode, &args.collect::<Vec<_>>()))
    } else if role == INIT {
        Some(init(&args.collect::<Vec<_>>()))
    } else {
        None
    }
}

fn hold(mode: Containment, command: &[OsString]) -> ExitCode {
    // The server signals the whole group to stop the CLI; the holder lets the CLI answer.
    let stops: SigSet = [
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGQUIT,
    ]
    .into_iter()
    .collect();
    if let Err(error) = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&stops), None) {
        return fail("blocking signals", &error);
    }
    if let Err(error) = enter(mode) {
        return fail("entering a PID namespace", &error);
    }
    let Some((program, args)) = command.split_first() else {
        return fail("the holder", &"no program");
    };
    if program == PROBE {
        return ExitCode::SUCCESS;
    }
    // The first process started now is PID 1 of the new namespace.
    let mut init = match Command::new(SELF_EXE)
        .arg(INIT)
        .arg(program)
        .args(args)
        .spawn()
    {
        Ok(init) => init,
        Err(error) => return fail("starting the namespace's init", &error),
    };
    release_stdio();
    match init.wait() {
        Ok(status) => exit_as(status, &stops),
        Err(error) => fail("waiting for the namespace's init", &error),
    }
}

/// Lets go of the agent's stdin and stdout, which the child holds now. Held here too, a message
/// written as the CLI dies would sit in the pipe unread, and be taken for delivered; and the
/// server would see the CLI's output end only once this process did.
fn release_stdio() {
    if let Ok(null) = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        let _ = nix::unistd::dup2_stdin(&null);
        let _ = nix::unistd::dup2_stdout(&null);
    }
}

/// Moves the holder's future children into a new PID namespace (and user namespace, where the
/// server's user may not make a PID namespace alone).
fn enter(mode: Containment) -> Result<(), Box<dyn std::error::Error>> {
    match mode {
        Containment::PidNamespace => unshare(CloneFlags::CLONE_NEWPID)?,
        Containment::UserNamespace => {
            let (uid, gid) = (getuid(), getgid());
            unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWPID)?;
            // The same ids inside as outside: the CLI and its tools run as the server's user.
            fs::write("/proc/self/setgroups", "deny")?;
            fs::write("/proc/self/uid_map", format!("{uid} {uid} 1"))?;
            fs::write("/proc/self/gid_map", format!("{gid} {gid} 1"))?;
        }
        Containment::Subreaper => return Err("subreaper mode runs no holder".into()),
    }
    Ok(())
}

fn init(command: &[OsString]) -> ExitCode {
    // Should the holder be killed first, the CLI would still see its stdin close and end, and
    // with it this namespace.
    if let Err(error) = prctl::set_pdeathsig(Signal::SIGKILL) {
        return fail("setting the parent death signal", &error);
    }
    let Some((program, args)) = command.split_first() else {
        return fail("the init", &"no program");
    };
    let cli = match Command::new(program).args(args).spawn() {
        Ok(cli) => Pid::from_raw(cli.id().cast_signed()),
        // As the holder's own spawn failure would read: the program could not be run.
        Err(error) => return fail(&format!("starting {}", program.display()), &error),
    };
    release_stdio();
    loop {
        match waitpid(None, None) {
            Ok(WaitStatus::Exited(pid, code)) if pid == cli => return code_of(code),
            // PID 1 cannot die of its own signals: 128 + the signal, which the holder raises.
            Ok(WaitStatus::Signaled(pid, signal, _)) if pid == cli => {
                return code_of(128 + signal as i32);
            }
            // An orphan reaped, or a stop or continue of the CLI.
            Ok(_) | Err(Errno::EINTR) => {}
            Err(error) => return fail("waiting for the CLI", &error),
        }
    }
}

/// Ends the holder as its init ended: a code as it is, 128 + N as signal N.
fn exit_as(status: ExitStatus, blocked: &SigSet) -> ExitCode {
    let code = match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => 1,
    };
    if let Some(signal) = code.checked_sub(128).and_then(|n| Signal::try_from(n).ok()) {
        let _ = pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(blocked), None);
        let _ = raise(signal);
    }
    code_of(code)
}

fn code_of(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn fail(doing: &str, error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("claude-agent-server: {doing}: {error}");
    ExitCode::from(127)
}
