//! A stand-in for the `claude` CLI in stream-json mode, for faults the real one cannot be made
//! to show and for the relay benchmark. It ignores its argv. Behaviour is chosen by markers
//! in the user's text (see `claude_agent_testkit::Marker`).

mod bench;
mod frames;
mod inbound;
mod out;
mod turn;

use std::{
    io::{self, BufRead},
    process::ExitCode,
};

use inbound::Inbound;
use out::Out;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        // Like the real CLI: one line on stderr, exit code 1.
        Err(err) => {
            eprintln!("{err}");
            ExitCode::FAILURE
        }
    }
}

/// Answers stdin line by line until EOF.
fn run() -> Result<(), inbound::Error> {
    let mut out = Out::new();
    for line in io::stdin().lock().lines() {
        match Inbound::parse(&line?)? {
            Some(Inbound::ControlRequest {
                request_id,
                request,
            }) => {
                out.frame(&frames::control_success(&request_id, &request.subtype))?;
            }
            Some(Inbound::User { message }) => turn::run(&mut out, &message.text())?,
            Some(Inbound::ControlResponse { response })
                if response["request_id"] == turn::ASK_ID =>
            {
                turn::answered(&mut out, &response)?;
            }
            Some(Inbound::ControlResponse { .. } | Inbound::Other) | None => {}
        }
    }
    Ok(())
}
