//! Content blocks with the real CLI against the scripted Messages API: a block that breaks its
//! shape or nests too deep is refused before it reaches the agent, and the session goes on; a
//! valid image and text reach the API as they were sent.

use std::path::Path;

use claude_agent_protocol::ServerMessage;
use claude_agent_testkit::{
    Client, MockApi, PATIENCE, RecordedRequest, TestServer, assistant_text, errors, result_of,
    sdk_type,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const SERVER: &str = env!("CARGO_BIN_EXE_claude-agent-server");

/// A 1×1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==";

async fn start() -> (MockApi, TestServer) {
    let api = MockApi::start().await;
    let server = TestServer::with_claude(Path::new(SERVER), &api.base_url()).await;
    (api, server)
}

/// A `user_message` frame whose `content` is the JSON text `content`.
fn frame(content: &str) -> String {
    format!(
        r#"{{"type":"user_message","data":{{"type":"user","session_id":"","parent_tool_use_id":null,"message":{{"role":"user","content":{content}}}}}}}"#
    )
}

/// A text block holding `levels` arrays in a citation: the message nests `6 + levels` deep.
fn deep_block(marker: &str, levels: usize) -> String {
    let nested = "[".repeat(levels) + &"]".repeat(levels);
    format!(
        r#"{{"type":"text","text":"{marker}","citations":[{{"type":"char_location","cited_text":"c","at":{nested}}}]}}"#
    )
}

/// Sends a message with `content`; the `error` that refuses it, which comes before any answer.
async fn refused(client: &mut Client, content: &str) -> String {
    client.send(&frame(content)).await;
    let frames = client
        .until(|f| matches!(f, ServerMessage::Error { .. }))
        .await;
    let (last, before) = frames.split_last().unwrap();
    let taken = before.iter().any(|f| {
        matches!(
            f,
            ServerMessage::UserMessage { .. } | ServerMessage::SdkMessage { .. }
        )
    });
    assert!(!taken, "the agent took nothing: {frames:?}");
    match last {
        ServerMessage::Error { seq, error } => {
            assert_eq!(
                *seq, None,
                "an answer to this client, not a frame of the log"
            );
            error.clone()
        }
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn refused_blocks_never_reach_the_agent_and_the_next_turn_is_answered() {
    let (api, server) = start().await;
    let mut client = server.attach().await;
    let too_deep = "Invalid user_message message: data.message.content[0]: nested more than 32 \
                    levels deep: a user message may nest arrays and objects 32 levels at most";
    // As deep as the fuzzing found breaking every later turn, and past serde_json's own limit.
    for levels in [1_000, 10_000] {
        let error = refused(
            &mut client,
            &format!("[{}]", deep_block("never-sent-deep", levels)),
        )
        .await;
        assert_eq!(error, too_deep);
    }
    let error = refused(
        &mut client,
        r#"[{"type":"text","text":"never-sent-text"},{"type":"text"}]"#,
    )
    .await;
    assert_eq!(
        error,
        "Invalid user_message message: data.message.content[1]: text block: missing field `text`"
    );
    // What the API would refuse on every later turn: a URL it may not fetch, data not of its type.
    let url = r#"[{"type":"text","text":"never-sent-url"},{"type":"image","source":{"type":"url","url":"https://example.com/a.png"}}]"#;
    let error = refused(&mut client, url).await;
    assert!(
        error.contains("source of type `url` is not accepted"),
        "{error}"
    );
    let pdf = r#"[{"type":"text","text":"never-sent-pdf"},{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"aGVsbG8="}}]"#;
    let error = refused(&mut client, pdf).await;
    assert!(
        error.ends_with("not application/pdf data: it does not begin as one does"),
        "{error}"
    );

    client.say("Still answering?").await;
    let frames = client.turn().await;
    assert_eq!(assistant_text(&frames), "You said: Still answering?");
    assert_eq!(result_of(&frames)["subtype"], "success");
    assert!(errors(&frames).is_empty(), "{frames:?}");
    // Each request carries the whole conversation: the refused messages are in none.
    let requests = api.requests();
    assert!(!requests.is_empty());
    for request in requests {
        assert!(
            !request.body.to_string().contains("never-sent"),
            "{}",
            request.body
        );
    }
}

#[tokio::test]
async fn an_image_and_text_reach_the_api_as_sent() {
    let (api, server) = start().await;
    let mut client = server.attach().await;
    let image = json!({"type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": PNG}});
    let content = json!([{"type": "text", "text": "What is in this picture?"}, image]);
    client.send(&frame(&content.to_string())).await;
    let frames = client.turn().await;
    let result = result_of(&frames);
    assert_eq!(
        (&result["subtype"], &result["is_error"]),
        (&json!("success"), &json!(false))
    );
    assert!(errors(&frames).is_empty(), "{frames:?}");

    let asked = |r: &RecordedRequest| {
        r.last_user_text()
            .is_some_and(|t| t.contains("What is in this picture?"))
    };
    let request = api
        .wait_for_request(asked, PATIENCE)
        .await
        .expect("the turn's request");
    let sent = request
        .last_user_content()
        .unwrap()
        .as_array()
        .unwrap()
        .clone();
    assert!(
        sent.contains(&image),
        "the image block, unchanged: {sent:?}"
    );
}

#[tokio::test]
async fn over_http_a_refused_block_is_a_400_and_the_session_goes_on() {
    let (_api, server) = start().await;
    let session = server.create_session(&json!({})).await;
    let id = session["id"].as_str().unwrap();
    let (mut client, _) = server.attach_to(&format!("/v1/sessions/{id}/ws")).await;
    let path = format!("/v1/sessions/{id}/messages");
    let message =
        |content: Value| json!({"type": "user", "message": {"role": "user", "content": content}});

    let deep: Value = serde_json::from_str(&format!("[{}]", deep_block("deep", 40))).unwrap();
    let cases = [
        (
            message(deep),
            "Invalid user_message message: data.message.content[0]: nested more than 32 levels \
             deep: a user message may nest arrays and objects 32 levels at most",
        ),
        (
            message(json!([{"type": "image", "source": {"type": "file", "file_id": "file_1"}}])),
            "Invalid user_message message: data.message.content[0]: image block: source: \
             unknown image source type `file`, expected `base64`",
        ),
    ];
    for (body, error) in cases {
        let (status, answer) = server.request(Method::POST, &path, Some(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer, json!({"error": error, "code": "invalid_request"}));
    }

    let text = message(json!([{"type": "text", "text": "Over HTTP"}]));
    let (status, answer) = server.request(Method::POST, &path, Some(&text)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let frames = client
        .until(|f| sdk_type(f).as_deref() == Some("result"))
        .await;
    assert_eq!(assistant_text(&frames), "You said: Over HTTP");
    let echoed = frames
        .iter()
        .filter(|f| matches!(f, ServerMessage::UserMessage { .. }))
        .count();
    assert_eq!(
        echoed, 1,
        "only the accepted message is in the log: {frames:?}"
    );
}
