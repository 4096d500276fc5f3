//! `ClaudeAgentClient` as JS sees it, in a real JS runtime: Node by default, headless Chromium
//! with `WASM_BINDGEN_USE_BROWSER=1` (`scripts/test` runs both). With
//! `CLAUDE_AGENT_TEST_SERVER` set to a running `test-server`'s URL at build time, a turn runs
//! against the real server too.
#![cfg(target_arch = "wasm32")]

use std::{cell::Cell, rc::Rc};

use claude_agent_client::ClaudeAgentClient;
use js_sys::{Error, Function, JSON, Math, Promise, Reflect, Symbol};
use wasm_bindgen::{JsCast, JsValue, prelude::Closure};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

/// Nothing listens there.
const DEAD: &str = "http://127.0.0.1:1";

fn json(text: &str) -> JsValue {
    JSON::parse(text).expect("valid JSON")
}

fn client(url: &str) -> ClaudeAgentClient {
    ClaudeAgentClient::new(&json(&format!(r#"{{"connectionUrl":"{url}"}}"#))).unwrap()
}

/// The message of `thrown`, which must be a JS `Error`.
fn message(thrown: impl Into<JsValue>) -> String {
    let thrown = thrown.into();
    match thrown.dyn_ref::<Error>() {
        Some(error) => error.message().into(),
        None => panic!("not an Error: {thrown:?}"),
    }
}

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &key.into()).unwrap()
}

/// Calls the method `key` of `object`.
fn call(object: &JsValue, key: &JsValue) -> JsValue {
    let method: Function = Reflect::get(object, key).unwrap().dyn_into().unwrap();
    method.call0(object).unwrap()
}

/// The next step of an async iterator: `(value, done)`.
async fn next(iterator: &JsValue) -> (JsValue, bool) {
    let step = call(iterator, &"next".into());
    let step = JsFuture::from(step.dyn_into::<Promise>().unwrap())
        .await
        .unwrap();
    (get(&step, "value"), get(&step, "done").as_bool().unwrap())
}

#[wasm_bindgen_test]
fn options_are_checked_by_the_constructor() {
    for (options, problem) in [
        (
            r#"{"connectionUrl":"ftp://x"}"#,
            r#""ftp://x" is not an http://"#,
        ),
        (
            r#"{"token":"t"}"#,
            "token is for the server at connectionUrl",
        ),
        (r#"{"timeoutMs":-1}"#, "timeoutMs must be a positive number"),
        (
            r#"{"connectionUrl":"http://h","token":1}"#,
            "token must be a string",
        ),
        (r#"{"sessionId":"s"}"#, "a new E2B sandbox has none"),
    ] {
        let error = message(ClaudeAgentClient::new(&json(options)).unwrap_err());
        assert!(error.contains(problem), "{options}: {error}");
    }
}

#[wasm_bindgen_test]
async fn without_a_server_url_start_creates_an_e2b_sandbox() {
    // As the original: no options at all is E2B mode with the defaults.
    for options in [JsValue::UNDEFINED, JsValue::NULL, json(r#"{"model":"m"}"#)] {
        assert!(ClaudeAgentClient::new(&options).is_ok());
    }
    let options = json(&format!(
        r#"{{"e2bApiKey":"k","anthropicApiKey":"a","e2bApiUrl":"{DEAD}"}}"#
    ));
    let client = ClaudeAgentClient::new(&options).unwrap();
    let error = message(JsFuture::from(client.start()).await.unwrap_err());
    assert!(
        error.starts_with(&format!("Could not connect to {DEAD}/sandboxes: ")),
        "{error}"
    );
    // The files need the sandbox.
    let read = JsFuture::from(client.read_file("a.txt", &JsValue::UNDEFINED)).await;
    assert_eq!(
        message(read.unwrap_err()),
        "Sandbox not initialized: call start() first"
    );
}

#[wasm_bindgen_test]
fn sending_before_start_throws_not_connected() {
    let client = client(DEAD);
    let sent = [
        client.send(&json(r#"{"type":"interrupt"}"#)),
        client.send_text("hi"),
        client.interrupt(),
    ];
    for error in sent {
        assert_eq!(message(error.unwrap_err()), "WebSocket is not connected");
    }
}

#[wasm_bindgen_test]
fn a_malformed_message_throws_naming_the_problem() {
    let client = client(DEAD);
    // What each must name, whatever the wording.
    for (sent, problem) in [
        (
            r#"{"type":"user_message","data":{"type":"user","message":{"content":"hi"}}}"#,
            "`role`",
        ),
        (r#"{"type":"bogus"}"#, "bogus"),
        ("[1]", "array"),
    ] {
        let error = message(client.send(&json(sent)).unwrap_err());
        assert!(error.contains(problem), "{sent}: {error}");
    }
}

#[wasm_bindgen_test]
async fn start_against_a_dead_port_rejects_naming_the_url() {
    // Else the failure below would be the missing class's, not the connection's.
    assert!(get(&js_sys::global(), "WebSocket").is_function());
    let error = message(JsFuture::from(client(DEAD).start()).await.unwrap_err());
    assert!(
        error.starts_with("Could not connect to ws://127.0.0.1:1/ws: "),
        "{error}"
    );
    // With config options, the config post fails first.
    let options = json(&format!(r#"{{"connectionUrl":"{DEAD}","model":"m"}}"#));
    let client = ClaudeAgentClient::new(&options).unwrap();
    let error = message(JsFuture::from(client.start()).await.unwrap_err());
    assert!(
        error.starts_with("Could not connect to http://127.0.0.1:1/config: "),
        "{error}"
    );
}

#[wasm_bindgen_test]
async fn start_twice_rejects_the_second() {
    let client = client(DEAD);
    // Handled now: were it left unhandled when an assertion fails, Node would exit.
    let first = JsFuture::from(client.start());
    let second = message(JsFuture::from(client.start()).await.unwrap_err());
    assert_eq!(second, "start() was already called");
    assert!(first.await.is_err());
}

#[wasm_bindgen_test]
async fn stop_resolves_before_start_and_twice() {
    let client = client(DEAD);
    for _ in 0..2 {
        assert_eq!(JsFuture::from(client.stop()).await, Ok(JsValue::UNDEFINED));
    }
    let _ = JsFuture::from(client.start()).await;
    assert_eq!(JsFuture::from(client.stop()).await, Ok(JsValue::UNDEFINED));
}

#[wasm_bindgen_test]
fn on_message_returns_an_unsubscribe_function() {
    let client = client(DEAD);
    let unsubscribe: JsValue = client.on_message(Function::new_no_args("")).into();
    assert!(unsubscribe.is_function());
    let unsubscribe: Function = unsubscribe.unchecked_into();
    for _ in 0..2 {
        assert_eq!(unsubscribe.call0(&JsValue::NULL), Ok(JsValue::UNDEFINED));
    }
}

#[wasm_bindgen_test]
async fn messages_is_an_async_iterator_that_ends_with_the_connection() {
    let client = client(DEAD);
    let messages: JsValue = client.messages().into();
    assert_eq!(call(&messages, &Symbol::async_iterator().into()), messages);
    let pending = next(&messages);
    let _ = JsFuture::from(client.start()).await;
    assert_eq!(pending.await, (JsValue::UNDEFINED, true));
    // One asked for after the close ends at once.
    assert!(next(&client.messages().into()).await.1);
}

#[wasm_bindgen_test]
async fn breaking_out_of_messages_ends_it() {
    let messages: JsValue = client(DEAD).messages().into();
    let returned: Promise = call(&messages, &"return".into()).unchecked_into();
    assert_eq!(get(&JsFuture::from(returned).await.unwrap(), "done"), true);
    assert!(next(&messages).await.1);
}

#[wasm_bindgen_test]
async fn a_turn_against_the_real_server() {
    let Some(url) = option_env!("CLAUDE_AGENT_TEST_SERVER") else {
        return; // no server given at build time
    };
    let client = client(url);
    let frames: JsValue = client.messages().into();
    let unsubscribed = Rc::new(Cell::new(0));
    let count = unsubscribed.clone();
    let counter = Closure::<dyn FnMut()>::new(move || count.set(count.get() + 1));
    let unsubscribe = client.on_message(counter.into_js_value().unchecked_into());
    unsubscribe.call0(&JsValue::NULL).unwrap();
    JsFuture::from(client.start()).await.unwrap();
    // A word of our own: the server is shared by the runs in both runtimes.
    let said = format!("hello {}", Math::random());
    client.send_text(&format!("[[say:{said}]]")).unwrap();
    let result = loop {
        let (frame, done) = next(&frames).await;
        assert!(!done, "the frames ended before the result");
        let data = get(&frame, "data");
        if get(&frame, "type") == "sdk_message" && get(&data, "type") == "result" {
            break get(&data, "result");
        }
    };
    assert_eq!(result, said.as_str());
    JsFuture::from(client.stop()).await.unwrap();
    assert!(next(&frames).await.1, "the frames end with the connection");
    assert_eq!(unsubscribed.get(), 0);
}
