use std::{env, io, process, thread};

use claude_agent_testkit::Marker;
use nix::sys::signal::{SigSet, Signal};
use serde_json::Value;

use crate::{bench, frames, out::Out};

/// One turn: `system/init`, what the marker in `text` asks for, then (mostly) a result.
pub(crate) fn run(out: &mut Out, text: &str) -> io::Result<()> {
    let cwd = env::current_dir()
        .map(|dir| dir.display().to_string())
        .unwrap_or_default();
    out.frame(&frames::init(&cwd))?;
    let result = match Marker::find(text) {
        Some(Marker::Garbage) => {
            out.line("this is not json")?;
            out.line(r#"{"type":"assistant", broken"#)?;
            out.line("")?;
            echo(out, "after garbage")?
        }
        Some(Marker::Big { bytes }) => {
            out.frame(&frames::assistant_text(&"x".repeat(bytes)))?;
            format!("big: {bytes} bytes")
        }
        Some(Marker::Hang) => hang(),
        Some(Marker::ExitMidLine) => {
            out.partial(r#"{"type":"assistant","message":{"id":"msg_"#)?;
            eprintln!("fake agent: crashing on purpose");
            process::exit(3);
        }
        Some(Marker::Stderr { text: line }) => {
            eprintln!("{line}");
            echo(out, &format!("fake: {text}"))?
        }
        Some(Marker::Ask { subtype }) => {
            // The turn goes on when the answer comes: see `answered`.
            return out.frame(&frames::control_request(ASK_ID, &subtype));
        }
        Some(Marker::Bench {
            lines,
            line_bytes,
            rate,
        }) => {
            bench::emit(out.buffered(), lines, line_bytes, rate)?;
            format!("bench: {lines} lines")
        }
        _ => echo(out, &format!("fake: {text}"))?,
    };
    out.frame(&frames::result(&result))
}

/// The id of the fake agent's own control request.
pub(crate) const ASK_ID: &str = "fake-ask";

/// Ends an `[[ask:…]]` turn with the host's answer, as JSON text.
pub(crate) fn answered(out: &mut Out, response: &Value) -> io::Result<()> {
    let text = echo(out, &format!("answer: {response}"))?;
    out.frame(&frames::result(&text))
}

/// An assistant message saying `text`; returns `text` for the result.
fn echo(out: &mut Out, text: &str) -> io::Result<String> {
    out.frame(&frames::assistant_text(text))?;
    Ok(text.to_owned())
}

/// Never returns and survives SIGTERM, so the server has to escalate to SIGKILL.
fn hang() -> ! {
    // Blocked (not handled) SIGTERM stays pending: safe code, and visible in /proc as SigPnd.
    let mut sigterm = SigSet::empty();
    sigterm.add(Signal::SIGTERM);
    if let Err(err) = sigterm.thread_block() {
        eprintln!("fake agent: cannot block SIGTERM: {err}");
    }
    eprintln!("fake agent: hanging with SIGTERM blocked");
    loop {
        thread::park();
    }
}
