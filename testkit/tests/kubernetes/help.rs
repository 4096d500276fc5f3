//! What the server says it reads, from its own `--help`: each flag with its environment variable
//! and default. Checking the manifests against this rather than a list kept here means a flag
//! renamed in the server fails the test.

use std::{collections::BTreeMap, path::Path, process::Command};

/// One flag of `--help`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Flag {
    pub(crate) env: Option<String>,
    pub(crate) default: Option<String>,
}

/// Every flag the server documents, by each of its names (`--log-bytes` as `--history-bytes`).
#[derive(Debug)]
pub(crate) struct Help(BTreeMap<String, Flag>);

impl Help {
    pub(crate) fn of(server: &Path) -> Self {
        let output = Command::new(server).arg("--help").output().unwrap();
        assert!(
            output.status.success(),
            "{} --help failed",
            server.display()
        );
        Self::parse(&String::from_utf8(output.stdout).unwrap())
    }

    /// clap's long help: a flag's line starts with `-`, and its description, `[env: NAME=]`,
    /// `[default: …]` and `[alias: …]` (or `[aliases: …]`) follow on the lines below it.
    pub(crate) fn parse(text: &str) -> Self {
        let mut flags: Vec<(Vec<String>, Flag)> = Vec::new();
        for line in text.lines().map(str::trim) {
            if line.starts_with('-') {
                flags.push((long_names(line), Flag::default()));
                continue;
            }
            let Some((names, flag)) = flags.last_mut() else {
                continue;
            };
            if let Some(env) = bracketed(line, "[env: ") {
                flag.env = Some(env.split('=').next().unwrap().to_owned());
            } else if let Some(default) = bracketed(line, "[default: ") {
                flag.default = Some(default.to_owned());
            } else if let Some(aliases) =
                bracketed(line, "[aliases: ").or_else(|| bracketed(line, "[alias: "))
            {
                names.extend(long_names(aliases));
            }
        }
        let by_name = flags
            .into_iter()
            .flat_map(|(names, flag)| names.into_iter().map(move |name| (name, flag.clone())))
            .collect();
        Self(by_name)
    }

    pub(crate) fn flag(&self, name: &str) -> Option<&Flag> {
        self.0.get(name)
    }

    /// Whether some flag reads the environment variable `name`.
    pub(crate) fn reads_env(&self, name: &str) -> bool {
        self.0
            .values()
            .any(|flag| flag.env.as_deref() == Some(name))
    }
}

/// The `--long` names in `text`, such as `--history-bytes` in `--history-bytes <HISTORY_BYTES>`.
fn long_names(text: &str) -> Vec<String> {
    text.split([' ', ','])
        .filter(|word| word.starts_with("--") && word.len() > 2)
        .map(str::to_owned)
        .collect()
}

/// What `[prefix…]` holds in `line`.
fn bracketed<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    line.strip_prefix(prefix)?.strip_suffix(']')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_flags_their_environment_defaults_and_aliases() {
        let help = Help::parse(
            "Usage: x [OPTIONS]\n\nOptions:\n      --port <PORT>\n          Port.\n          \n          \
             [env: PORT=]\n          [default: 3000]\n\n      --history-bytes <HISTORY_BYTES>\n          \
             Bytes.\n          [env: HISTORY_BYTES=]\n          [alias: --log-bytes]\n\n  -h, --help\n          Print help\n",
        );
        assert_eq!(
            help.flag("--port").unwrap().default.as_deref(),
            Some("3000")
        );
        assert!(help.reads_env("PORT") && help.reads_env("HISTORY_BYTES"));
        assert_eq!(
            help.flag("--log-bytes").unwrap().env.as_deref(),
            Some("HISTORY_BYTES")
        );
        assert!(help.flag("--help").is_some() && help.flag("--ports").is_none());
    }
}
