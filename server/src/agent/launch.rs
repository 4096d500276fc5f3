//! How a config becomes the CLI's command line and environment (`agent-protocol.md` 1.2–1.4).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use claude_agent_protocol::config::{
    AgentDefinition, PermissionMode, QueryConfig, SettingSource, SystemPrompt,
};

/// The CLI's questions (a tool to approve, `AskUserQuestion`, a plan) come to the session as
/// `can_use_tool` requests, for people to answer.
const PROMPT_TOOL: &str = "--permission-prompt-tool=stdio";

/// Longer prompts go to the CLI in a file: one argument may hold 128 KiB at most on Linux.
const INLINE_PROMPT_BYTES: usize = 32 << 10;

/// Why `config` cannot start an agent, if it cannot (beyond what parsing it checked).
pub(crate) fn unstartable(config: &QueryConfig) -> Option<String> {
    let cwd = Path::new(config.cwd.as_deref()?);
    (cwd.exists() && !cwd.is_dir()).then(|| {
        format!(
            "Invalid config field `cwd`: {} is not a folder",
            cwd.display()
        )
    })
}

/// Everything needed to start one agent process.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LaunchSpec {
    pub(crate) program: PathBuf,
    pub(crate) args: Vec<String>,
    /// Set on top of the server's own environment, which the agent inherits.
    pub(crate) env: Vec<(&'static str, String)>,
    pub(crate) cwd: PathBuf,
    /// Sent in the `initialize` control request, which is their only way in.
    pub(crate) agents: Option<BTreeMap<String, AgentDefinition>>,
    /// The CLI session this launch resumes.
    pub(crate) resume: Option<String>,
    /// Files to write, readable by the server's user alone, before the agent starts: what must
    /// stay off its command line, which any local user can read in `/proc/<pid>/cmdline`.
    pub(crate) files: Vec<(PathBuf, String)>,
}

impl LaunchSpec {
    /// The launch for `config`, in `workspace` unless it names a `cwd`, resuming the CLI
    /// session `resume` when given (a copy of it with `fork`); secret files go to `private`.
    /// Values use the `--flag=value` form so none can pass for a flag.
    pub(crate) fn new(
        program: &Path,
        config: &QueryConfig,
        workspace: &Path,
        private: &Path,
        resume: Option<&str>,
        fork: bool,
    ) -> Self {
        let mut files = Vec::new();
        let mut args: Vec<String> = [
            "--output-format",
            "stream-json",
            "--verbose",
            "--input-format",
            "stream-json",
        ]
        .map(str::to_owned)
        .into();
        let mut prompt = |flag: &str, text: &str| {
            if text.len() <= INLINE_PROMPT_BYTES {
                args.push(format!("--{flag}={text}"));
            } else {
                let path = private.join(format!("{flag}.txt"));
                args.push(format!("--{flag}-file={}", path.display()));
                files.push((path, text.to_owned()));
            }
        };
        match &config.system_prompt {
            None => prompt("system-prompt", ""),
            Some(SystemPrompt::Custom(text)) => prompt("system-prompt", text),
            Some(SystemPrompt::Preset(preset)) => {
                if let Some(append) = &preset.append {
                    prompt("append-system-prompt", append);
                }
            }
        }
        let sources = config
            .setting_sources
            .as_deref()
            .unwrap_or(&[SettingSource::Project]);
        args.push(format!(
            "--setting-sources={}",
            join(sources.iter().map(|s| s.as_str()))
        ));
        let mode = config
            .permission_mode
            .unwrap_or(PermissionMode::BypassPermissions);
        args.push(format!("--permission-mode={}", mode.as_str()));
        if mode.asks() {
            args.push(PROMPT_TOOL.to_owned());
        }
        // Lets a session switch to bypassPermissions later, as the original always allowed.
        args.push("--allow-dangerously-skip-permissions".to_owned());
        if let Some(model) = &config.model {
            args.push(format!("--model={model}"));
        }
        if let Some(tools) = &config.allowed_tools {
            args.push(format!(
                "--allowedTools={}",
                join(tools.iter().map(String::as_str))
            ));
        }
        if let Some(tools) = &config.disallowed_tools {
            args.push(format!(
                "--disallowedTools={}",
                join(tools.iter().map(String::as_str))
            ));
        }
        if let Some(turns) = config.max_turns {
            args.push(format!("--max-turns={turns}"));
        }
        if let Some(tokens) = config.max_thinking_tokens {
            args.push(format!("--max-thinking-tokens={tokens}"));
        }
        if config.include_partial_messages == Some(true) {
            args.push("--include-partial-messages".to_owned());
        }
        for dir in config.additional_directories.iter().flatten() {
            args.push(format!("--add-dir={dir}"));
        }
        if let Some(servers) = &config.mcp_servers {
            let mut mcp = serde_json::json!({ "mcpServers": servers });
            // The headers serialize redacted: the CLI gets them in clear, from a file.
            for (name, headers) in config.secrets().mcp_headers {
                mcp["mcpServers"][name]["headers"] = serde_json::json!(headers);
            }
            let path = private.join("mcp-config.json");
            args.push(format!("--mcp-config={}", path.display()));
            files.push((path, mcp.to_string()));
        }
        if let Some(session) = resume {
            args.push(format!("--resume={session}"));
            if fork {
                args.push("--fork-session".to_owned());
            }
        }

        let mut env = vec![("CLAUDE_CODE_ENTRYPOINT", "sdk-ts".to_owned())];
        if let Some(key) = &config.anthropic_api_key {
            env.push(("ANTHROPIC_API_KEY", key.expose().to_owned()));
        }
        Self {
            program: program.to_owned(),
            args,
            env,
            cwd: config
                .cwd
                .as_ref()
                .map_or_else(|| workspace.to_owned(), PathBuf::from),
            agents: config.agents.clone(),
            resume: resume.map(str::to_owned),
            files,
        }
    }

    /// The same, with the CLI's questions coming to people in any mode: a client that knows
    /// permission prompts answers them, where the original's clients never could.
    pub(crate) fn asking_people(mut self) -> Self {
        if !self.args.iter().any(|arg| arg == PROMPT_TOOL) {
            self.args.push(PROMPT_TOOL.to_owned());
        }
        self
    }
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use claude_agent_protocol::QueryConfig;

    use super::*;

    fn spec(config: &str, resume: Option<&str>) -> LaunchSpec {
        let config = QueryConfig::from_json(config).unwrap().config;
        LaunchSpec::new(
            Path::new("/bin/claude"),
            &config,
            Path::new("/ws"),
            Path::new("/private"),
            resume,
            false,
        )
    }

    #[test]
    fn defaults_are_the_originals() {
        let spec = spec("{}", None);
        assert_eq!(
            spec.args,
            [
                "--output-format",
                "stream-json",
                "--verbose",
                "--input-format",
                "stream-json",
                "--system-prompt=",
                "--setting-sources=project",
                "--permission-mode=bypassPermissions",
                "--allow-dangerously-skip-permissions",
            ]
        );
        assert_eq!(spec.env, [("CLAUDE_CODE_ENTRYPOINT", "sdk-ts".to_owned())]);
        assert_eq!(spec.cwd, Path::new("/ws"));
        assert_eq!(spec.agents, None);
    }

    #[test]
    fn every_option_maps_to_its_flag() {
        let spec = spec(
            r#"{"systemPrompt":"-be brief","model":"claude-x","allowedTools":["Read","Bash(git:*)"],
                "disallowedTools":["WebFetch"],"permissionMode":"acceptEdits","maxTurns":3,
                "cwd":"/elsewhere","includePartialMessages":true,"settingSources":["user","local"],
                "additionalDirectories":["/a","/b"],"anthropicApiKey":"sk-1",
                "mcpServers":{"docs":{"type":"http","url":"http://127.0.0.1:1/mcp","headers":{"authorization":"Bearer t"}}},
                "agents":{"reviewer":{"description":"Reviews","prompt":"Review it"}}}"#,
            Some("sess-1"),
        );
        assert_eq!(
            spec.args[5..],
            [
                "--system-prompt=-be brief",
                "--setting-sources=user,local",
                "--permission-mode=acceptEdits",
                "--permission-prompt-tool=stdio",
                "--allow-dangerously-skip-permissions",
                "--model=claude-x",
                "--allowedTools=Read,Bash(git:*)",
                "--disallowedTools=WebFetch",
                "--max-turns=3",
                "--include-partial-messages",
                "--add-dir=/a",
                "--add-dir=/b",
                "--mcp-config=/private/mcp-config.json",
                "--resume=sess-1",
            ]
        );
        assert!(spec.env.contains(&("ANTHROPIC_API_KEY", "sk-1".to_owned())));
        assert_eq!(
            spec.files,
            [(
                PathBuf::from("/private/mcp-config.json"),
                r#"{"mcpServers":{"docs":{"type":"http","url":"http://127.0.0.1:1/mcp","headers":{"authorization":"Bearer t"}}}}"#.to_owned()
            )]
        );
        assert_eq!(spec.cwd, Path::new("/elsewhere"));
        assert_eq!(spec.agents.unwrap()["reviewer"].prompt, "Review it");
    }

    #[test]
    fn a_long_prompt_goes_in_a_private_file() {
        let long = "x".repeat(INLINE_PROMPT_BYTES + 1);
        let spec = spec(&format!(r#"{{"systemPrompt":"{long}"}}"#), None);
        assert_eq!(
            spec.args[5],
            "--system-prompt-file=/private/system-prompt.txt"
        );
        assert_eq!(
            spec.files,
            [(PathBuf::from("/private/system-prompt.txt"), long)]
        );
    }

    #[test]
    fn the_preset_prompt_keeps_claude_codes_own() {
        let preset = spec(
            r#"{"systemPrompt":{"type":"preset","preset":"claude_code","append":"Be terse."}}"#,
            None,
        );
        assert_eq!(preset.args[5], "--append-system-prompt=Be terse.");
        let plain = spec(
            r#"{"systemPrompt":{"type":"preset","preset":"claude_code"}}"#,
            None,
        );
        assert!(plain.args.iter().all(|arg| !arg.contains("system-prompt")));
    }
}
