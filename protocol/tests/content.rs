//! Content blocks: every shape of the Messages API's user content is accepted and passed on as it
//! came; a block that breaks its shape, nests too deep or makes a message hold too many blocks
//! is refused, and the error names the problem and where.

use claude_agent_protocol::{
    ClientMessage, SdkUserMessage,
    content::{MAX_BLOCKS, MAX_DEPTH},
    user_message::UserContent,
};

/// Reads a user message whose `content` is the JSON text `content`, as a client sends it.
fn read(content: &str) -> Result<SdkUserMessage, String> {
    let data = format!(r#"{{"type":"user","message":{{"role":"user","content":{content}}}}}"#);
    ClientMessage::user_message_data(&data).map_err(|e| e.to_string())
}

/// Why `content` is refused, after the words every refused user message starts with.
fn problem(content: &str) -> String {
    let error = read(content).expect_err(content);
    let prefix = "Invalid user_message message: data.message.";
    error.strip_prefix(prefix).unwrap_or(&error).to_owned()
}

/// The JSON of each block the message holds, as it will reach the agent.
fn blocks(message: &SdkUserMessage) -> Vec<&str> {
    match &message.message.content {
        UserContent::Blocks(blocks) => blocks.iter().map(|block| block.json()).collect(),
        UserContent::Text(_) => Vec::new(),
    }
}

/// One block of each shape and source, with their optional fields, spaced and ordered unusually.
const VALID: &[&str] = &[
    r#"{"type":"text","text":"hi"}"#,
    r#"{ "text" : "\"quoted\" \u00e9 [{", "type" : "text", "citations" : [{"type":"char_location","cited_text":"c","document_index":0,"start_char_index":0,"end_char_index":1}] }"#,
    r#"{"type":"text","text":"","citations":null}"#,
    r#"{"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/"}}"#,
    r#"{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}"#,
    r#"{"type":"image","source":{"type":"base64","media_type":"image/gif","data":"R0lGODlh"}}"#,
    r#"{"source":{"data":"UklGRgAAAABXRUJQ","media_type":"image/webp","type":"base64"},"type":"image"}"#,
    r#"{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="},"title":"t","context":"c","citations":{"enabled":true}}"#,
    r#"{"type":"document","source":{"type":"text","media_type":"text/plain","data":"plain"},"title":null,"context":null,"citations":null}"#,
    r#"{"type":"document","source":{"type":"content","content":"as one string"}}"#,
    r#"{"type":"document","source":{"type":"content","content":[{"type":"text","text":"a"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]}}"#,
    r#"{"type":"tool_result","tool_use_id":"toolu_1"}"#,
    r#"{"type":"tool_result","tool_use_id":"toolu_1","content":"done","is_error":false}"#,
    r#"{"type":"tool_result","tool_use_id":"toolu_1","is_error":true,"content":[{"type":"text","text":"a"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},{"type":"document","source":{"type":"text","media_type":"text/plain","data":"d"}},{"type":"search_result","source":"s","title":"t","content":[]}]}"#,
    r#"{"type":"search_result","source":"https://example.com","title":"t","content":[{"type":"text","text":"r"}],"citations":{"enabled":false}}"#,
];

#[test]
fn every_shape_is_accepted_and_passed_on_byte_for_byte() {
    for block in VALID {
        let message = read(&format!("[{block}]")).unwrap_or_else(|e| panic!("{block}: {e}"));
        assert_eq!(blocks(&message), [*block]);
        let line = serde_json::to_string(&message).unwrap();
        assert!(line.contains(block), "{line}");
    }
    let all = read(&format!("[{}]", VALID.join(","))).unwrap();
    assert_eq!(blocks(&all), VALID);
}

#[test]
fn a_missing_or_mistyped_field_is_named_with_its_block() {
    let cases = [
        // The block itself.
        (
            r#"["hi"]"#,
            "content[0]: expected a content block object, found a string",
        ),
        (
            r#"[{"text":"hi"}]"#,
            "content[0]: a content block needs a string `type`",
        ),
        (
            r#"[{"type":5}]"#,
            "content[0]: a content block needs a string `type`",
        ),
        // text
        (
            r#"[{"type":"text"}]"#,
            "content[0]: text block: missing field `text`",
        ),
        (
            r#"[{"type":"text","text":"ok"},{"type":"text","text":5}]"#,
            "content[1]: text block: text: invalid type: integer `5`, expected a string",
        ),
        (
            r#"[{"type":"text","text":"x","citations":{}}]"#,
            "content[0]: text block: citations: invalid type: map, expected a sequence",
        ),
        (
            r#"[{"type":"text","text":"x","citations":[{"type":"char_location"}]}]"#,
            "content[0]: text block: citations[0]: missing field `cited_text`",
        ),
        // image
        (
            r#"[{"type":"image"}]"#,
            "content[0]: image block: missing field `source`",
        ),
        (
            r#"[{"type":"image","source":"https://example.com/a.png"}]"#,
            "content[0]: image block: source: expected an image source object, found a string",
        ),
        (
            r#"[{"type":"image","source":{"url":"https://example.com/a.png"}}]"#,
            "content[0]: image block: source: an image source needs a string `type`",
        ),
        (
            r#"[{"type":"image","source":{"type":"base64","data":"x"}}]"#,
            "content[0]: image block: source: missing field `media_type`",
        ),
        (
            r#"[{"type":"image","source":{"type":"base64","media_type":"image/bmp","data":"x"}}]"#,
            "content[0]: image block: source: media_type: unknown variant `image/bmp`, expected \
             one of `image/jpeg`, `image/png`, `image/gif`, `image/webp`",
        ),
        (
            r#"[{"type":"image","source":{"type":"base64","media_type":"image/png"}}]"#,
            "content[0]: image block: source: missing field `data`",
        ),
        (
            r#"[{"type":"image","source":{"type":"base64","media_type":"image/png","data":7}}]"#,
            "content[0]: image block: source: data: invalid type: integer `7`, expected a string",
        ),
        (
            r#"[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"%%"}}]"#,
            "content[0]: image block: source: data: not base64 (Invalid symbol 37, offset 0.)",
        ),
        (
            r#"[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"/9j/"}}]"#,
            "content[0]: image block: source: data: not image/png data: it does not begin as one \
             does",
        ),
        (
            r#"[{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"iVBORw0KGgo="}}]"#,
            "content[0]: document block: source: data: not application/pdf data: it does not \
             begin as one does",
        ),
        // What the API would fetch: a URL it cannot would fail every later turn.
        (
            r#"[{"type":"image","source":{"type":"url","url":"https://example.com/a.png"}}]"#,
            "content[0]: image block: source: an image source of type `url` is not accepted: the \
             CLI sends every earlier message to the API again on each turn, and a URL the API \
             cannot fetch would fail them all; send the data as base64",
        ),
        (
            r#"[{"type":"document","source":{"type":"url","url":"https://example.com/a.pdf"}}]"#,
            "content[0]: document block: source: a document source of type `url` is not \
             accepted: the CLI sends every earlier message to the API again on each turn, and a \
             URL the API cannot fetch would fail them all; send the data as base64",
        ),
        // document
        (
            r#"[{"type":"document"}]"#,
            "content[0]: document block: missing field `source`",
        ),
        (
            r#"[{"type":"document","source":{"type":"base64","media_type":"image/png","data":"x"}}]"#,
            "content[0]: document block: source: media_type: unknown variant `image/png`, \
             expected `application/pdf`",
        ),
        (
            r#"[{"type":"document","source":{"type":"text","media_type":"text/plain"}}]"#,
            "content[0]: document block: source: missing field `data`",
        ),
        (
            r#"[{"type":"document","source":{"type":"text","media_type":"text/html","data":"x"}}]"#,
            "content[0]: document block: source: media_type: unknown variant `text/html`, \
             expected `text/plain`",
        ),
        (
            r#"[{"type":"document","source":{"type":"content"}}]"#,
            "content[0]: document block: source: missing field `content`",
        ),
        (
            r#"[{"type":"document","source":{"type":"content","content":7}}]"#,
            "content[0]: document block: source: content: invalid type: integer `7`, expected a \
             string or an array of content blocks",
        ),
        (
            r#"[{"type":"document","source":{"type":"content","content":[{"type":"text","text":1}]}}]"#,
            "content[0]: document block: source: content[0]: text block: text: invalid type: \
             integer `1`, expected a string",
        ),
        (
            r#"[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"x"},"title":5}]"#,
            "content[0]: document block: title: invalid type: integer `5`, expected a string",
        ),
        // tool_result
        (
            r#"[{"type":"tool_result"}]"#,
            "content[0]: tool_result block: missing field `tool_use_id`",
        ),
        (
            r#"[{"type":"tool_result","tool_use_id":5}]"#,
            "content[0]: tool_result block: tool_use_id: invalid type: integer `5`, expected a string",
        ),
        (
            r#"[{"type":"tool_result","tool_use_id":"t","content":{}}]"#,
            "content[0]: tool_result block: content: invalid type: map, expected a string or an \
             array of content blocks",
        ),
        (
            r#"[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text"}]}]"#,
            "content[0]: tool_result block: content[0]: text block: missing field `text`",
        ),
        (
            r#"[{"type":"tool_result","tool_use_id":"t","content":[{"type":"image","source":{"type":"base64"}}]}]"#,
            "content[0]: tool_result block: content[0]: image block: source: missing field \
             `media_type`",
        ),
        (
            r#"[{"type":"tool_result","tool_use_id":"t","is_error":"yes"}]"#,
            "content[0]: tool_result block: is_error: invalid type: string \"yes\", expected a boolean",
        ),
        // search_result
        (
            r#"[{"type":"search_result","title":"t","content":[]}]"#,
            "content[0]: search_result block: missing field `source`",
        ),
        (
            r#"[{"type":"search_result","source":"s","content":[]}]"#,
            "content[0]: search_result block: missing field `title`",
        ),
        (
            r#"[{"type":"search_result","source":"s","title":"t"}]"#,
            "content[0]: search_result block: missing field `content`",
        ),
        (
            r#"[{"type":"search_result","source":"s","title":"t","content":[{"type":"image"}]}]"#,
            "content[0]: search_result block: content[0]: type: unknown variant `image`, expected \
             `text`",
        ),
    ];
    for (content, expected) in cases {
        assert_eq!(problem(content), expected, "{content}");
    }
}

#[test]
fn an_array_of_field_values_is_no_object() {
    // serde's derived structs read `["text","x"]` as `{"type":"text","text":"x"}`; the API not.
    let cases = [
        (
            r#"[{"type":"search_result","source":"s","title":"t","content":[["text","x"]]}]"#,
            "content[0]: search_result block: content[0]: invalid type: sequence, expected an object",
        ),
        (
            r#"[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"x"},"citations":[true]}]"#,
            "content[0]: document block: citations: invalid type: sequence, expected an object",
        ),
        (
            r#"[{"type":"text","text":"x","citations":[["char_location","c"]]}]"#,
            "content[0]: text block: citations[0]: invalid type: sequence, expected an object",
        ),
        (
            r#"[{"type":"image","source":["base64","image/png","x"]}]"#,
            "content[0]: image block: source: expected an image source object, found an array",
        ),
        (
            r#"[["text","x"]]"#,
            "content[0]: expected a content block object, found an array",
        ),
    ];
    for (content, expected) in cases {
        assert_eq!(problem(content), expected, "{content}");
    }
}

#[test]
fn unknown_types_are_refused_naming_the_allowed_ones() {
    let cases = [
        (
            r#"[{"type":"video","source":{}}]"#,
            "content[0]: unknown content block type `video`, expected one of `text`, `image`, \
             `document`, `tool_result`, `search_result`",
        ),
        // Blocks the API takes only from the assistant.
        (
            r#"[{"type":"tool_use","id":"t","name":"Bash","input":{}}]"#,
            "content[0]: unknown content block type `tool_use`, expected one of `text`, `image`, \
             `document`, `tool_result`, `search_result`",
        ),
        // The Files API is a beta the CLI does not ask for.
        (
            r#"[{"type":"image","source":{"type":"file","file_id":"file_1"}}]"#,
            "content[0]: image block: source: unknown image source type `file`, expected `base64`",
        ),
        (
            r#"[{"type":"document","source":{"type":"file","file_id":"file_1"}}]"#,
            "content[0]: document block: source: unknown document source type `file`, expected \
             one of `base64`, `text`, `content`",
        ),
        (
            r#"[{"type":"document","source":{"type":"content","content":[{"type":"document"}]}}]"#,
            "content[0]: document block: source: content[0]: unknown content block type \
             `document`, expected `text` or `image`",
        ),
        (
            r#"[{"type":"tool_result","tool_use_id":"t","content":[{"type":"tool_result"}]}]"#,
            "content[0]: tool_result block: content[0]: unknown content block type `tool_result`, \
             expected one of `text`, `image`, `document`, `search_result`",
        ),
    ];
    for (content, expected) in cases {
        assert_eq!(problem(content), expected, "{content}");
    }
}

#[test]
fn unknown_fields_are_refused_as_the_api_refuses_them() {
    let cases = [
        // The CLI places its own cache breakpoints; a client's would stay in the transcript.
        (
            r#"[{"type":"text","text":"x","cache_control":{"type":"ephemeral"}}]"#,
            "content[0]: text block: unknown field `cache_control`, expected one of `type`, \
             `text`, `citations`",
        ),
        (
            r#"[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo=","detail":"high"}}]"#,
            "content[0]: image block: source: unknown field `detail`, expected one of `type`, \
             `media_type`, `data`",
        ),
        (
            r#"[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"x","id":1}]}]"#,
            "content[0]: tool_result block: content[0]: text block: unknown field `id`, expected \
             one of `type`, `text`, `citations`",
        ),
    ];
    for (content, expected) in cases {
        assert_eq!(problem(content), expected, "{content}");
    }
}

/// `levels` arrays, one in the other.
fn nested(levels: usize) -> String {
    "[".repeat(levels) + &"]".repeat(levels)
}

/// A valid text block whose citation carries `levels` arrays: a message holding it nests
/// `6 + levels` deep (`data`, `message`, `content`, the block, `citations`, the citation).
fn deep_text_block(levels: usize) -> String {
    let location = nested(levels);
    format!(
        r#"{{"type":"text","text":"x","citations":[{{"type":"char_location","cited_text":"c","location":{location}}}]}}"#
    )
}

const TOO_DEEP: &str = "nested more than 32 levels deep: a user message may nest arrays and \
                        objects 32 levels at most";

#[test]
fn a_message_may_nest_32_levels_and_no_more() {
    assert_eq!(MAX_DEPTH, 32);
    let at_the_limit = format!("[{}]", deep_text_block(MAX_DEPTH - 6));
    assert!(read(&at_the_limit).is_ok(), "{at_the_limit}");
    let over = format!("[{}]", deep_text_block(MAX_DEPTH - 5));
    assert_eq!(problem(&over), format!("content[0]: {TOO_DEEP}"));
}

#[test]
fn deep_input_is_refused_by_the_depth_check_without_overflowing_the_stack() {
    // Past serde_json's own limit (128) and far past any stack: the error is the depth one.
    for levels in [200, 10_000, 1_000_000] {
        assert_eq!(
            problem(&format!("[{}]", deep_text_block(levels))),
            format!("content[0]: {TOO_DEEP}")
        );
        // Not an object at all: the depth is what is reported.
        assert_eq!(
            problem(&format!("[{}]", nested(levels))),
            format!("content[0]: {TOO_DEEP}")
        );
        let in_a_tool_result = format!(
            r#"[{{"type":"text","text":"ok"}},{{"type":"tool_result","tool_use_id":"t","content":{}}}]"#,
            nested(levels)
        );
        assert_eq!(
            problem(&in_a_tool_result),
            format!("content[1]: {TOO_DEEP}")
        );
    }
}

#[test]
fn deep_fields_that_are_dropped_never_reach_the_agent() {
    // Fields a user message does not have are dropped unread (serde_json skips them without
    // recursing), so they cannot make the message too deep for the agent.
    let data = format!(
        r#"{{"type":"user","extra":{},"message":{{"role":"user","content":"hi"}}}}"#,
        nested(100_000)
    );
    let message = ClientMessage::user_message_data(&data).unwrap();
    assert_eq!(
        serde_json::to_string(&message).unwrap(),
        r#"{"type":"user","message":{"role":"user","content":"hi"},"parent_tool_use_id":null,"session_id":""}"#
    );
}

#[test]
fn a_message_holds_at_most_100_blocks_counting_nested_ones() {
    assert_eq!(MAX_BLOCKS, 100);
    let texts = |n: usize| vec![r#"{"type":"text","text":"x"}"#; n].join(",");
    assert!(read(&format!("[{}]", texts(MAX_BLOCKS))).is_ok());
    let too_many = "content: more than 100 content blocks, counting those in tool results, \
                    documents and search results";
    assert_eq!(problem(&format!("[{}]", texts(MAX_BLOCKS + 1))), too_many);

    // A tool result of 98 blocks holds 99 with itself; with one text block, 100.
    let result = format!(
        r#"{{"type":"tool_result","tool_use_id":"t","content":[{}]}}"#,
        texts(MAX_BLOCKS - 2)
    );
    assert!(read(&format!("[{result},{}]", texts(1))).is_ok());
    assert_eq!(problem(&format!("[{result},{}]", texts(2))), too_many);
    let search = format!(
        r#"{{"type":"search_result","source":"s","title":"t","content":[{}]}}"#,
        texts(MAX_BLOCKS)
    );
    assert_eq!(problem(&format!("[{search}]")), too_many);
    let document = format!(
        r#"{{"type":"document","source":{{"type":"content","content":[{}]}}}}"#,
        texts(MAX_BLOCKS)
    );
    assert_eq!(problem(&format!("[{document}]")), too_many);
}

#[test]
fn a_whole_frame_is_refused_with_the_same_words() {
    let frame = r#"{"type":"user_message","data":{"type":"user","message":{"role":"user","content":[{"type":"text"}]}}}"#;
    assert_eq!(
        ClientMessage::from_json(frame).unwrap_err().to_string(),
        "Invalid user_message message: data.message.content[0]: text block: missing field `text`"
    );
}
