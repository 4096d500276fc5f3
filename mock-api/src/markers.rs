use std::time::Duration;

/// A `[[name:args]]` instruction embedded in a prompt. The mock API acts on the model-side
/// markers (tool, question, plan, slow, say, error) and `fake-agent` on the process-side ones;
/// each treats the other's markers as plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Marker {
    /// `[[tool:bash:CMD]]`: reply with a Bash `tool_use` running CMD.
    ToolBash { command: String },
    /// `[[tools:bash:CMD1|CMD2…]]`: one reply with a Bash `tool_use` for each, in parallel.
    ToolsBash { commands: Vec<String> },
    /// `[[question:QUESTION|OPTION1|OPTION2]]`: reply with an `AskUserQuestion` `tool_use`
    /// asking QUESTION, with one choice labelled by each option: 2 to 4 options, none empty
    /// and no two alike, as the CLI's input schema wants.
    Question {
        question: String,
        options: Vec<String>,
    },
    /// `[[plan:TEXT]]`: present TEXT as a plan with `ExitPlanMode`. In plan mode, where the
    /// CLI names a plan file, that is a `Write` of TEXT to the file and then, once the write's
    /// result comes, an `ExitPlanMode` with no input (the CLI reads the plan from the file);
    /// elsewhere an `ExitPlanMode` whose `plan` is TEXT.
    Plan { text: String },
    /// `[[slow:N:MS]]`: a text reply of N deltas `"w0 "`, `"w1 "`, … MS milliseconds apart.
    Slow { deltas: u32, pace: Duration },
    /// `[[say:TEXT]]`: a text reply that is exactly TEXT.
    Say { text: String },
    /// `[[error:STATUS]]`: an HTTP error reply with this status (400..=599).
    Error { status: u16 },
    /// `[[garbage]]`: non-JSON and broken lines on stdout before a valid message.
    Garbage,
    /// `[[big:N]]`: one assistant message whose text is N bytes.
    Big { bytes: usize },
    /// `[[hang]]`: ignore SIGTERM and stdin, write nothing, never exit.
    Hang,
    /// `[[exit-mid-line]]`: write half a line to stdout and exit with code 3.
    ExitMidLine,
    /// `[[stderr:TEXT]]`: write TEXT to stderr, then answer as usual.
    Stderr { text: String },
    /// `[[ask:SUBTYPE]]`: send the host a control request of SUBTYPE; the turn ends by
    /// echoing the answer.
    Ask { subtype: String },
    /// `[[bench:N:S:R]]`: N `stream_event` lines of about S bytes at R lines/s (0 = no limit).
    Bench {
        lines: u64,
        line_bytes: usize,
        rate: u32,
    },
}

const SLOW_DELTAS: u32 = 40;
const SLOW_PACE_MS: u64 = 100;
/// How many options an `AskUserQuestion` question may have (its input schema's bounds).
const QUESTION_OPTIONS: std::ops::RangeInclusive<usize> = 2..=4;

impl Marker {
    /// The first well-formed marker in `text`; malformed or unknown `[[…]]` are skipped.
    pub fn find(text: &str) -> Option<Self> {
        let mut rest = text;
        while let Some(start) = rest.find("[[") {
            rest = &rest[start + 2..];
            let end = rest.find("]]")?;
            if let Some(marker) = Self::parse(&rest[..end]) {
                return Some(marker);
            }
        }
        None
    }

    /// Parses the inside of `[[…]]`.
    fn parse(body: &str) -> Option<Self> {
        let (name, args) = match body.split_once(':') {
            Some((name, args)) => (name, Some(args)),
            None => (body, None),
        };
        let marker = match (name, args) {
            ("tool", Some(args)) => Self::ToolBash {
                command: args.strip_prefix("bash:")?.to_owned(),
            },
            ("tools", Some(args)) => {
                let commands: Vec<String> = args
                    .strip_prefix("bash:")?
                    .split('|')
                    .map(str::to_owned)
                    .collect();
                (commands.len() >= 2 && commands.iter().all(|c| !c.is_empty()))
                    .then_some(Self::ToolsBash { commands })?
            }
            ("question", Some(args)) => {
                let mut parts = args.split('|').map(str::to_owned);
                let question = parts.next().filter(|q| !q.is_empty())?;
                let options: Vec<String> = parts.collect();
                let distinct = options.iter().collect::<std::collections::BTreeSet<_>>();
                let fits = QUESTION_OPTIONS.contains(&options.len())
                    && distinct.len() == options.len()
                    && options.iter().all(|option| !option.is_empty());
                fits.then_some(Self::Question { question, options })?
            }
            ("plan", Some(text)) if !text.is_empty() => Self::Plan {
                text: text.to_owned(),
            },
            ("slow", args) => {
                let mut numbers = args.unwrap_or_default().split(':');
                Self::Slow {
                    deltas: number_or(numbers.next(), SLOW_DELTAS)?,
                    pace: Duration::from_millis(number_or(numbers.next(), SLOW_PACE_MS)?),
                }
            }
            ("say", Some(text)) => Self::Say {
                text: text.to_owned(),
            },
            ("error", Some(status)) => Self::Error {
                status: status.parse().ok().filter(|s| (400..=599).contains(s))?,
            },
            ("garbage", None) => Self::Garbage,
            ("big", Some(bytes)) => Self::Big {
                bytes: bytes.parse().ok()?,
            },
            ("hang", None) => Self::Hang,
            ("exit-mid-line", None) => Self::ExitMidLine,
            ("stderr", Some(text)) => Self::Stderr {
                text: text.to_owned(),
            },
            ("ask", Some(subtype)) => Self::Ask {
                subtype: subtype.to_owned(),
            },
            ("bench", Some(args)) => {
                let mut numbers = args.split(':');
                let marker = Self::Bench {
                    lines: numbers.next()?.parse().ok()?,
                    line_bytes: numbers.next()?.parse().ok()?,
                    rate: numbers.next()?.parse().ok()?,
                };
                numbers.next().is_none().then_some(marker)?
            }
            _ => return None,
        };
        Some(marker)
    }
}

/// An optional numeric argument: absent or empty means `default`, garbage means no marker.
fn number_or<T: std::str::FromStr>(arg: Option<&str>, default: T) -> Option<T> {
    match arg {
        None | Some("") => Some(default),
        Some(arg) => arg.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_markers_anywhere() {
        let found = Marker::find("please [[tool:bash:echo a:b]] now");
        assert_eq!(
            found,
            Some(Marker::ToolBash {
                command: "echo a:b".to_owned()
            })
        );
        let found = Marker::find("x [[nope]] [[say:hi there]] [[hang]]");
        assert_eq!(
            found,
            Some(Marker::Say {
                text: "hi there".to_owned()
            })
        );
        assert_eq!(Marker::find("no markers [[say:unclosed"), None);
    }

    #[test]
    fn questions_have_two_to_four_options() {
        let question = |options: &[&str]| {
            Some(Marker::Question {
                question: "Which one?".to_owned(),
                options: options.iter().map(|&o| o.to_owned()).collect(),
            })
        };
        assert_eq!(
            Marker::find("ask [[question:Which one?|Red: warm|Blue]] now"),
            question(&["Red: warm", "Blue"])
        );
        assert_eq!(
            Marker::find("[[question:Which one?|a|b|c|d]]"),
            question(&["a", "b", "c", "d"])
        );
        for malformed in [
            "[[question:Which one?]]",
            "[[question:Which one?|only]]",
            "[[question:Which one?|a|b|c|d|e]]",
            "[[question:Which one?|a||b]]",
            "[[question:Which one?|a|a]]",
            "[[question:|a|b]]",
            "[[question]]",
        ] {
            assert_eq!(Marker::find(malformed), None, "{malformed}");
        }
    }

    #[test]
    fn plans_keep_their_text() {
        assert_eq!(
            Marker::find("[[plan:1. Look: then | act]]"),
            Some(Marker::Plan {
                text: "1. Look: then | act".to_owned()
            })
        );
        assert_eq!(Marker::find("[[plan:]] [[plan]]"), None);
    }

    #[test]
    fn slow_numbers_are_optional() {
        let slow = |deltas, ms| {
            Some(Marker::Slow {
                deltas,
                pace: Duration::from_millis(ms),
            })
        };
        assert_eq!(Marker::find("[[slow]]"), slow(40, 100));
        assert_eq!(Marker::find("[[slow:3]]"), slow(3, 100));
        assert_eq!(Marker::find("[[slow:3:7]]"), slow(3, 7));
        assert_eq!(Marker::find("[[slow::7]]"), slow(40, 7));
        assert_eq!(Marker::find("[[slow:x]]"), None);
    }

    #[test]
    fn numeric_markers_reject_garbage() {
        assert_eq!(
            Marker::find("[[error:529]]"),
            Some(Marker::Error { status: 529 })
        );
        assert_eq!(Marker::find("[[error:200]]"), None);
        assert_eq!(Marker::find("[[big:12]]"), Some(Marker::Big { bytes: 12 }));
        assert_eq!(
            Marker::find("[[bench:10:512:0]]"),
            Some(Marker::Bench {
                lines: 10,
                line_bytes: 512,
                rate: 0
            })
        );
        assert_eq!(Marker::find("[[bench:10:512]]"), None);
        assert_eq!(Marker::find("[[bench:1:2:3:4]]"), None);
        assert_eq!(Marker::find("[[hang:now]]"), None);
    }
}
