//! A tool's result as the script sees it: `structuredContent` when there is
//! some; else the content, with text that is JSON parsed; an `isError`
//! result as an error carrying the server's message.

use codemode_runtime::ConnectorError;
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::Value;

/// The script's value for `result`, or the error to throw.
pub(crate) fn reply_value(result: CallToolResult) -> Result<Value, ConnectorError> {
    if result.is_error == Some(true) {
        let mut message = texts(&result.content);
        if message.is_empty() {
            message = result
                .structured_content
                .as_ref()
                .map(Value::to_string)
                .unwrap_or_else(|| "the tool reported an error without a message".into());
        }
        return Err(ConnectorError::new(message));
    }
    if let Some(structured) = result.structured_content {
        return Ok(structured);
    }
    let mut blocks = result.content.into_iter().map(block_value);
    Ok(match (blocks.next(), blocks.next()) {
        (None, _) => Value::Null,
        (Some(only), None) => only,
        (Some(first), Some(second)) => [first, second].into_iter().chain(blocks).collect(),
    })
}

/// One content block: text parsed as JSON when it is JSON, else the text;
/// any other block (image, audio, resource) as the protocol writes it.
fn block_value(block: ContentBlock) -> Value {
    match block.as_text() {
        Some(text) => {
            serde_json::from_str(&text.text).unwrap_or_else(|_| Value::String(text.text.clone()))
        }
        None => serde_json::to_value(&block).unwrap_or(Value::Null),
    }
}

/// The text blocks of `content`, joined by lines.
fn texts(content: &[ContentBlock]) -> String {
    content
        .iter()
        .filter_map(|block| block.as_text().map(|text| text.text.as_str()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn prefers_structured_content_then_json_text_then_text() {
        let structured = CallToolResult::structured(json!({ "n": 1 }));
        assert_eq!(reply_value(structured).ok(), Some(json!({ "n": 1 })));

        let json_text = CallToolResult::success(vec![ContentBlock::text(r#"{"a":[1,2]}"#)]);
        assert_eq!(reply_value(json_text).ok(), Some(json!({ "a": [1, 2] })));

        let text = CallToolResult::success(vec![ContentBlock::text("Echo: hi")]);
        assert_eq!(reply_value(text).ok(), Some(json!("Echo: hi")));

        let two = CallToolResult::success(vec![ContentBlock::text("1"), ContentBlock::text("x")]);
        assert_eq!(reply_value(two).ok(), Some(json!([1, "x"])));

        let image = CallToolResult::success(vec![ContentBlock::image("AAAA", "image/png")]);
        let image = reply_value(image).expect("an image is a value");
        assert_eq!(image["type"], "image");
        assert_eq!(image["mimeType"], "image/png");

        assert_eq!(
            reply_value(CallToolResult::success(vec![])).ok(),
            Some(Value::Null)
        );
    }

    #[test]
    fn an_error_result_carries_the_servers_message() {
        let error = CallToolResult::error(vec![ContentBlock::text("Entity not found: x")]);
        let error = reply_value(error).expect_err("an error result");
        assert_eq!(error.message(), "Entity not found: x");
    }
}
