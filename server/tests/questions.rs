//! The CLI's questions to people, beside tool permissions: `AskUserQuestion` and a plan to
//! approve (`ExitPlanMode`) reach the clients of a v1 session as `permission_request` frames,
//! in every permission mode, and the answer a person gives is what the model reads.
//!
//! The pinned CLI, as these tests drive it (transcripts of the CLI's stdin and stdout and the
//! session's frames: `mock-api/tests/transcripts/`):
//! * `AskUserQuestion` asks even in `bypassPermissions` (`requires_user_interaction: true`);
//!   its `input` is the model's (`questions`: `question`, `header`, `options` of `label` and
//!   `description`, `multiSelect`). An `allow` whose `updated_input` adds `answers` (question
//!   text → the chosen label) gives the model `Your questions have been answered:
//!   "Q"="label". …`; an answer that is no label, `The user answered: …`; no `answers`,
//!   `The user did not answer the questions.`; a `deny`, its message as an error.
//! * `ExitPlanMode` drops a `plan` the model writes and reads the plan file instead: its
//!   `input` is `{"plan": <the file's text>, "planFilePath": …}` (`{}` if there is no file).
//!   An `allow` ends plan mode: with a `setMode` update in the mode it names, else in the mode
//!   before plan mode; the CLI says so in a `system`/`status` line (`permissionMode`), and the
//!   model reads `User has approved your plan. … ## Approved Plan:\n<plan>`. A `deny` keeps
//!   plan mode, and the model reads its message as an error.

use std::path::Path;

use claude_agent_protocol::{
    ServerMessage,
    permissions::{PermissionBehavior, PermissionRequest},
};
use claude_agent_testkit::{Client, MockApi, PATIENCE, TestServer, sdk, text_blocks, tool_results};
use reqwest::Method;
use serde_json::{Value, json};

const SERVER: &str = env!("CARGO_BIN_EXE_claude-agent-server");

const QUESTION: &str = "Which color?";
const ASK: &str = "[[question:Which color?|Red|Blue]]";
const PLAN: &str = "1. Touch a file\n2. Say done";

/// A server running the real CLI against the mock, and a client of a new session whose
/// `permissionMode` is `mode`; the server stops when it is dropped.
struct Session {
    api: MockApi,
    server: TestServer,
    id: String,
    client: Client,
}

async fn start(mode: &str) -> Session {
    let api = MockApi::start().await;
    let server = TestServer::with_claude(Path::new(SERVER), &api.base_url()).await;
    let session = server
        .create_session(&json!({"config": {"permissionMode": mode}}))
        .await;
    let id = session["id"].as_str().unwrap().to_owned();
    let (client, _) = server.attach_to(&format!("/v1/sessions/{id}/ws")).await;
    Session {
        api,
        server,
        id,
        client,
    }
}

/// A user message frame saying `text`.
fn say(text: &str) -> String {
    json!({"type": "user_message", "data": {"type": "user", "parent_tool_use_id": null,
        "message": {"role": "user", "content": text}}})
    .to_string()
}

/// Says `text`; the frames up to the prompt it leads to, and the prompt.
async fn ask(client: &mut Client, text: &str) -> (Vec<ServerMessage>, PermissionRequest) {
    client.send(&say(text)).await;
    let frames = client
        .until(|f| matches!(f, ServerMessage::PermissionRequest { .. }))
        .await;
    match frames.last() {
        Some(ServerMessage::PermissionRequest { data, .. }) => {
            let prompt = data.clone();
            (frames, prompt)
        }
        _ => unreachable!(),
    }
}

fn answer(prompt: &PermissionRequest, decision: Value) -> String {
    let mut data = decision;
    data["request_id"] = prompt.request_id.clone().into();
    json!({"type": "permission_response", "data": data}).to_string()
}

/// `allow`, with the prompt's input plus `answers`, as a question card answers.
fn answered(prompt: &PermissionRequest, answers: Value) -> Value {
    let mut input = prompt.input.clone();
    input.insert("answers".into(), answers);
    json!({"behavior": "allow", "updated_input": input})
}

/// The `permissionMode` of each `system` message of `subtype` among `frames`.
fn modes(frames: &[ServerMessage], subtype: &str) -> Vec<String> {
    frames
        .iter()
        .filter_map(sdk)
        .filter(|m| m["type"] == "system" && m["subtype"] == subtype)
        .filter_map(|m| m["permissionMode"].as_str().map(str::to_owned))
        .collect()
}

/// The tool result the model was sent that holds `needle` (waits for the request).
async fn model_read(api: &MockApi, needle: &str) -> Value {
    let holds = |block: &Value| {
        block["type"] == "tool_result" && text_blocks(&block["content"]).concat().contains(needle)
    };
    let reads = |request: &claude_agent_testkit::RecordedRequest| {
        let content = request.last_user_content().and_then(Value::as_array);
        content.is_some_and(|blocks| blocks.iter().any(holds))
    };
    let request = api.wait_for_request(reads, PATIENCE).await;
    let request = request.unwrap_or_else(|| panic!("the model never read {needle:?}"));
    let blocks = request.last_user_content().and_then(Value::as_array);
    blocks
        .into_iter()
        .flatten()
        .find(|b| holds(b))
        .unwrap()
        .clone()
}

/// The question and option labels of a prompt's `AskUserQuestion` input.
fn question_of(prompt: &PermissionRequest) -> (String, Vec<String>) {
    let question = &prompt.input["questions"][0];
    let labels = question["options"].as_array().into_iter().flatten();
    let labels = labels.filter_map(|o| o["label"].as_str().map(str::to_owned));
    (
        question["question"].as_str().unwrap().to_owned(),
        labels.collect(),
    )
}

#[tokio::test]
async fn a_question_reaches_people_and_the_model_reads_their_answer() {
    let mut s = start("default").await;
    let (_, asked) = ask(&mut s.client, ASK).await;
    assert_eq!(asked.tool_name, "AskUserQuestion");
    assert_eq!(
        question_of(&asked),
        (
            QUESTION.to_owned(),
            vec!["Red".to_owned(), "Blue".to_owned()]
        )
    );
    assert_eq!(asked.input["questions"][0]["multiSelect"], false);

    let answer_blue = answered(&asked, json!({QUESTION: "Blue"}));
    s.client.send(&answer(&asked, answer_blue)).await;
    let frames = s.client.turn().await;
    let (text, failed) = tool_results(&frames);
    let chosen = r#""Which color?"="Blue""#;
    assert!(text.contains(chosen) && !failed, "{frames:?}");
    let read = model_read(&s.api, chosen).await;
    let read = text_blocks(&read["content"]).concat();
    assert!(
        read.starts_with("Your questions have been answered:"),
        "{read}"
    );
}

#[tokio::test]
async fn a_question_is_asked_even_when_permissions_are_bypassed() {
    let mut s = start("bypassPermissions").await;
    let (before, asked) = ask(&mut s.client, ASK).await;
    assert_eq!(asked.tool_name, "AskUserQuestion");
    assert_eq!(question_of(&asked).0, QUESTION);
    // Neither allowed nor denied on its own: no result yet, and the prompt waits.
    assert_eq!(tool_results(&before), (String::new(), false));
    let path = format!("/v1/sessions/{}/permissions", s.id);
    let (_, pending) = s.server.request(Method::GET, &path, None).await;
    assert_eq!(
        pending["permissions"][0]["request_id"],
        asked.request_id.as_str()
    );

    let answer_red = answered(&asked, json!({QUESTION: "Red"}));
    s.client.send(&answer(&asked, answer_red)).await;
    let frames = s.client.turn().await;
    assert!(tool_results(&frames).0.contains(r#""Which color?"="Red""#));
    model_read(&s.api, r#""Which color?"="Red""#).await;
}

#[tokio::test]
async fn a_declined_question_tells_the_model_why() {
    let mut s = start("default").await;
    let (_, asked) = ask(&mut s.client, ASK).await;
    let deny = json!({"behavior": "deny", "message": "Pick one yourself."});
    s.client.send(&answer(&asked, deny)).await;
    let frames = s.client.turn().await;
    assert_eq!(
        tool_results(&frames),
        ("Pick one yourself.".to_owned(), true)
    );
    assert_eq!(
        model_read(&s.api, "Pick one yourself.").await["is_error"],
        true
    );
}

#[tokio::test]
async fn an_approved_plan_ends_plan_mode() {
    let mut s = start("plan").await;
    let (frames, asked) = ask(&mut s.client, &format!("[[plan:{PLAN}]]")).await;
    assert_eq!(modes(&frames, "init"), ["plan"]);
    assert_eq!(asked.tool_name, "ExitPlanMode");
    assert_eq!(asked.input["plan"], PLAN);
    let file = asked.input["planFilePath"].as_str().unwrap();
    assert!(
        file.contains("/.claude/plans/") && file.ends_with(".md"),
        "{file}"
    );

    let accept_edits = json!({"type": "setMode", "mode": "acceptEdits", "destination": "session"});
    let allow = json!({"behavior": "allow", "updated_permissions": [accept_edits]});
    s.client.send(&answer(&asked, allow)).await;
    let frames = s.client.turn().await;
    assert_eq!(modes(&frames, "status"), ["acceptEdits"]);
    let approved = format!("## Approved Plan:\n{PLAN}");
    assert!(tool_results(&frames).0.contains(&approved), "{frames:?}");
    model_read(&s.api, &approved).await;

    // Out of plan mode, in acceptEdits: a command that writes a file runs unasked.
    s.client
        .send(&say("[[tool:bash:touch made-here && echo wrote]]"))
        .await;
    let frames = s.client.turn().await;
    assert_eq!(modes(&frames, "init"), ["acceptEdits"]);
    assert!(
        !frames
            .iter()
            .any(|f| matches!(f, ServerMessage::PermissionRequest { .. })),
        "asked: {frames:?}"
    );
    assert_eq!(tool_results(&frames), ("wrote".to_owned(), false));
    assert!(s.server.home.path().join("workspace/made-here").exists());
}

#[tokio::test]
async fn an_approved_plan_with_no_mode_returns_to_the_mode_before_it() {
    let mut s = start("plan").await;
    let (_, asked) = ask(&mut s.client, &format!("[[plan:{PLAN}]]")).await;
    s.client
        .send(&answer(&asked, json!({"behavior": "allow"})))
        .await;
    let frames = s.client.turn().await;
    assert_eq!(modes(&frames, "status"), ["default"]);
}

#[tokio::test]
async fn a_declined_plan_keeps_plan_mode_and_the_model_reads_why() {
    let mut s = start("plan").await;
    let (_, asked) = ask(&mut s.client, &format!("[[plan:{PLAN}]]")).await;
    assert_eq!(asked.tool_name, "ExitPlanMode");
    let deny = json!({"behavior": "deny", "message": "Make it shorter."});
    s.client.send(&answer(&asked, deny)).await;
    let frames = s.client.turn().await;
    let resolved = frames.iter().find_map(|f| match f {
        ServerMessage::PermissionResolved { data, .. } => Some(data.behavior),
        _ => None,
    });
    assert_eq!(resolved, Some(PermissionBehavior::Deny));
    assert_eq!(tool_results(&frames), ("Make it shorter.".to_owned(), true));
    assert!(modes(&frames, "status").is_empty(), "{frames:?}");
    assert_eq!(
        model_read(&s.api, "Make it shorter.").await["is_error"],
        true
    );

    s.client.send(&say("[[say:still planning]]")).await;
    let frames = s.client.turn().await;
    assert_eq!(modes(&frames, "init"), ["plan"]);
}
