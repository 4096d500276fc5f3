//! The demo script (`--demo`): what someone who has no key yet sees when they type anything.
//! A prompt that names a built-in example gets a tool call, so that a tool card shows; any
//! other prompt gets a reply that says what demo mode is and how to leave it. Text replies are
//! streamed word by word, slowly enough to be seen being written.
//!
//! The functions here are public so that tests can tell what the demo says.

use std::time::Duration;

use crate::script::{Block, Reply, Scripted, bash};

/// Between the words of a text reply: a reply of about 80 words takes 2–3 s to write.
const WORD_PACE: Duration = Duration::from_millis(30);

/// A prompt that shows a tool call: one naming any of `phrases` (whole words, any case) runs
/// `command` through the Bash tool.
#[derive(Debug)]
struct Example {
    phrases: &'static [&'static str],
    command: &'static str,
    description: &'static str,
}

const EXAMPLES: [Example; 2] = [
    Example {
        phrases: &["files", "ls", "run"],
        command: "ls -la",
        description: "List the files in the workspace",
    },
    Example {
        phrases: &["date", "what time"],
        command: "date",
        description: "Show the date and time",
    },
];

/// The text that follows a tool call, once the CLI has sent the tool's result.
pub const AFTER_TOOL: &str = "That was a tool call: the agent ran the command in its \
    workspace and sent the output back to the model; the card above shows both. In demo mode \
    the replies are scripted, so it is always this one. With a real key, Claude chooses its \
    tools itself.";

/// Prompts show at most this much of themselves in the reply.
const QUOTED_CHARS: usize = 60;

/// The command the built-in example named in `prompt` runs, if it names one.
pub fn tool_command(prompt: &str) -> Option<&'static str> {
    example(prompt).map(|example| example.command)
}

/// The text reply to `prompt`, when it names no example.
pub fn text_reply(prompt: &str) -> String {
    let quoted = match gist(prompt) {
        gist if gist.is_empty() => String::new(),
        gist => format!("You wrote “{gist}”. "),
    };
    format!(
        "{quoted}This is demo mode: a scripted stand-in for the Anthropic API wrote this reply, \
         not Claude, and streamed it to you word by word. The agent is the real Claude Code \
         CLI, and your message took the real path: from the page through the server to the \
         CLI, and back. Try “list files” to see the agent run a tool. For Claude's own \
         answers, start the server without `--demo` and with `ANTHROPIC_API_KEY` set."
    )
}

/// The reply to `prompt`: a tool call for an example, else a text reply.
pub(crate) fn reply(prompt: &str) -> Reply {
    match example(prompt) {
        Some(example) => bash(example.command, example.description),
        None => streamed(&text_reply(prompt)),
    }
}

/// The first example `prompt` names.
fn example(prompt: &str) -> Option<&'static Example> {
    let words = words(prompt);
    EXAMPLES.iter().find(|example| {
        example.phrases.iter().any(|phrase| {
            let phrase: Vec<&str> = phrase.split(' ').collect();
            words.windows(phrase.len()).any(|window| window == phrase)
        })
    })
}

/// The reply once the tool ran.
pub(crate) fn after_tool() -> Reply {
    streamed(AFTER_TOOL)
}

/// `text` in deltas of a word each (with the space after it), `WORD_PACE` apart.
fn streamed(text: &str) -> Reply {
    Reply::Message(Scripted {
        block: Block::Text(text.split_inclusive(' ').map(str::to_owned).collect()),
        pace: WORD_PACE,
        more: Vec::new(),
    })
}

/// The prompt's words, lowercased, without punctuation.
fn words(prompt: &str) -> Vec<String> {
    prompt
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// `prompt` on one line, cut to `QUOTED_CHARS`.
fn gist(prompt: &str) -> String {
    let line = prompt.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(QUOTED_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_are_whole_words_in_any_case() {
        assert_eq!(tool_command("Please LIST FILES."), Some("ls -la"));
        assert_eq!(tool_command("run something"), Some("ls -la"));
        assert_eq!(tool_command("What time is it?"), Some("date"));
        assert_eq!(tool_command("hello"), None);
        // Not inside other words.
        assert_eq!(tool_command("a runner's update"), None);
        assert_eq!(tool_command("what a time"), None);
    }

    #[test]
    fn other_prompts_get_the_demo_text_a_word_at_a_time() {
        let Reply::Message(Scripted {
            block: Block::Text(deltas),
            pace,
            ..
        }) = reply("hi\n  there")
        else {
            panic!("a text reply");
        };
        assert_eq!(pace, WORD_PACE);
        assert!(deltas.len() > 50, "{deltas:?}");
        assert_eq!(deltas[..3], ["You ", "wrote ", "“hi "]);
        assert_eq!(deltas.concat(), text_reply("hi there"));
        assert!(text_reply("").starts_with("This is demo mode"));
    }

    #[test]
    fn a_long_prompt_is_cut() {
        let long = "é".repeat(QUOTED_CHARS + 5);
        let quoted = format!("“{}…”", "é".repeat(QUOTED_CHARS));
        assert!(text_reply(&long).contains(&quoted));
    }

    #[test]
    fn examples_call_bash() {
        assert_eq!(reply("list files"), bash("ls -la", EXAMPLES[0].description));
    }
}
