use serde_json::Value;

/// The texts of a message `content` (or a `system` field): a plain string, or the `text` of
/// every `{"type":"text"}` block of an array. Anything else has no text.
pub fn text_blocks(content: &Value) -> Vec<&str> {
    match content {
        Value::String(text) => vec![text],
        Value::Array(blocks) => blocks
            .iter()
            .filter(|block| block["type"] == "text")
            .filter_map(|block| block["text"].as_str())
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_and_text_blocks_have_text() {
        assert_eq!(text_blocks(&json!("hi")), ["hi"]);
        let blocks = json!([
            {"type": "text", "text": "a"},
            {"type": "image", "source": {}},
            {"type": "text", "text": "b"}
        ]);
        assert_eq!(text_blocks(&blocks), ["a", "b"]);
        assert!(text_blocks(&Value::Null).is_empty());
    }
}
