//! The shapes of the user content blocks, as the Messages API takes them, and the blocks each
//! holds (for [`MAX_BLOCKS`](super::MAX_BLOCKS)).

use serde::{Deserialize, Deserializer, Serialize};

use super::{
    ContentError, data,
    read::{ObjectOf, Tagged, TextOr, deserialize_tagged, fields},
};

/// The single-value tags: each shape's `type` takes one string.
macro_rules! tags {
    ($($name:ident = $value:tt;)*) => {$(
        #[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name {
            #[serde(rename = $value)]
            Tag,
        }
    )*};
}

tags! {
    TextTag = "text";
    ImageTag = "image";
    DocumentTag = "document";
    ToolResultTag = "tool_result";
    SearchResultTag = "search_result";
    Base64Tag = "base64";
    ContentTag = "content";
}

// The unions here are written untagged (each shape holds its `type`), as the schema and the
// TypeScript types describe them, and read through `Tagged`.
/// A user content block, by its `type`.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Block {
    Text(TextBlock),
    Image(ImageBlock),
    Document(DocumentBlock),
    ToolResult(ToolResultBlock),
    SearchResult(SearchResultBlock),
}

impl Tagged for Block {
    const WHAT: &'static str = "content block";
    const TYPES: &'static [&'static str] =
        &["text", "image", "document", "tool_result", "search_result"];

    fn shape(kind: &str, json: &str) -> Result<Self, ContentError> {
        Ok(match kind {
            "text" => Self::Text(fields("text", json)?),
            "image" => Self::Image(fields("image", json)?),
            "document" => Self::Document(fields("document", json)?),
            "tool_result" => Self::ToolResult(fields("tool_result", json)?),
            _ => Self::SearchResult(fields("search_result", json)?),
        })
    }
}

impl<'de> Deserialize<'de> for Block {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_tagged(deserializer)
    }
}

impl Block {
    /// The blocks this one holds, itself included.
    pub(super) fn count(&self) -> usize {
        match self {
            Self::Text(_) | Self::Image(_) => 1,
            Self::Document(document) => document.count(),
            Self::ToolResult(result) => result.count(),
            Self::SearchResult(result) => result.count(),
        }
    }
}

/// `{"type":"text","text":…}`.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextBlock {
    #[serde(rename = "type")]
    pub kind: TextTag,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citations: Option<Vec<ObjectOf<TextCitation>>>,
}

/// A citation of a text block: its kind and cited text are checked, its location fields
/// (which vary by kind) are not.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextCitation {
    #[serde(rename = "type")]
    pub kind: CitationKind,
    pub cited_text: String,
}

#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CitationKind {
    CharLocation,
    PageLocation,
    ContentBlockLocation,
    WebSearchResultLocation,
    SearchResultLocation,
}

/// `{"type":"image","source":…}`.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageBlock {
    #[serde(rename = "type")]
    pub kind: ImageTag,
    pub source: ImageSource,
}

/// Where an image comes from.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ImageSource {
    Base64(Base64Image),
}

/// Why a source the API would fetch is refused.
const NO_URL: &str = "the CLI sends every earlier message to the API again on each turn, and \
    a URL the API cannot fetch would fail them all; send the data as base64";

impl Tagged for ImageSource {
    const WHAT: &'static str = "image source";
    const TYPES: &'static [&'static str] = &["base64"];
    const REFUSED: &'static [(&'static str, &'static str)] = &[("url", NO_URL)];

    fn shape(_: &str, json: &str) -> Result<Self, ContentError> {
        let image: Base64Image = fields("", json)?;
        data::check(&image.data, image.media_type.signature())?;
        Ok(Self::Base64(image))
    }
}

impl<'de> Deserialize<'de> for ImageSource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_tagged(deserializer)
    }
}

#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Base64Image {
    #[serde(rename = "type")]
    pub kind: Base64Tag,
    pub media_type: ImageMediaType,
    pub data: String,
}

#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImageMediaType {
    #[serde(rename = "image/jpeg")]
    Jpeg,
    #[serde(rename = "image/png")]
    Png,
    #[serde(rename = "image/gif")]
    Gif,
    #[serde(rename = "image/webp")]
    Webp,
}

impl ImageMediaType {
    /// How data of this type begins.
    fn signature(self) -> data::Signature {
        match self {
            Self::Jpeg => data::JPEG,
            Self::Png => data::PNG,
            Self::Gif => data::GIF,
            Self::Webp => data::WEBP,
        }
    }
}

/// `{"type":"document","source":…}`.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentBlock {
    #[serde(rename = "type")]
    pub kind: DocumentTag,
    pub source: DocumentSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citations: Option<ObjectOf<CitationsConfig>>,
}

/// Where a document comes from.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum DocumentSource {
    Base64(Base64Pdf),
    Text(PlainText),
    Content(ContentSource),
}

impl Tagged for DocumentSource {
    const WHAT: &'static str = "document source";
    const TYPES: &'static [&'static str] = &["base64", "text", "content"];
    const REFUSED: &'static [(&'static str, &'static str)] = &[("url", NO_URL)];

    fn shape(kind: &str, json: &str) -> Result<Self, ContentError> {
        Ok(match kind {
            "base64" => {
                let pdf: Base64Pdf = fields("", json)?;
                data::check(&pdf.data, data::PDF)?;
                Self::Base64(pdf)
            }
            "text" => Self::Text(fields("", json)?),
            _ => Self::Content(fields("", json)?),
        })
    }
}

impl<'de> Deserialize<'de> for DocumentSource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_tagged(deserializer)
    }
}

impl DocumentBlock {
    fn count(&self) -> usize {
        match &self.source {
            DocumentSource::Content(source) => 1 + source.content.blocks().len(),
            DocumentSource::Base64(_) | DocumentSource::Text(_) => 1,
        }
    }
}

/// A PDF, base64-encoded.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Base64Pdf {
    #[serde(rename = "type")]
    pub kind: Base64Tag,
    pub media_type: PdfMediaType,
    pub data: String,
}

#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PdfMediaType {
    #[serde(rename = "application/pdf")]
    Pdf,
}

/// A plain-text document.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlainText {
    #[serde(rename = "type")]
    pub kind: TextTag,
    pub media_type: PlainTextMediaType,
    pub data: String,
}

#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PlainTextMediaType {
    #[serde(rename = "text/plain")]
    PlainText,
}

/// A document made of text and image blocks.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentSource {
    #[serde(rename = "type")]
    pub kind: ContentTag,
    pub content: TextOr<DocumentItem>,
}

/// A block of a `content` document source.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum DocumentItem {
    Text(TextBlock),
    Image(ImageBlock),
}

impl Tagged for DocumentItem {
    const WHAT: &'static str = "content block";
    const TYPES: &'static [&'static str] = &["text", "image"];

    fn shape(kind: &str, json: &str) -> Result<Self, ContentError> {
        Ok(match kind {
            "text" => Self::Text(fields("text", json)?),
            _ => Self::Image(fields("image", json)?),
        })
    }
}

impl<'de> Deserialize<'de> for DocumentItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_tagged(deserializer)
    }
}

/// Whether the model may cite a document or search result.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CitationsConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `{"type":"tool_result","tool_use_id":…}`: the result of a tool the model asked for.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolResultBlock {
    #[serde(rename = "type")]
    pub kind: ToolResultTag,
    pub tool_use_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<TextOr<ToolResultItem>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
}

/// A block of a tool result's `content`.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ToolResultItem {
    Text(TextBlock),
    Image(ImageBlock),
    Document(DocumentBlock),
    SearchResult(SearchResultBlock),
}

impl Tagged for ToolResultItem {
    const WHAT: &'static str = "content block";
    const TYPES: &'static [&'static str] = &["text", "image", "document", "search_result"];

    fn shape(kind: &str, json: &str) -> Result<Self, ContentError> {
        Ok(match kind {
            "text" => Self::Text(fields("text", json)?),
            "image" => Self::Image(fields("image", json)?),
            "document" => Self::Document(fields("document", json)?),
            _ => Self::SearchResult(fields("search_result", json)?),
        })
    }
}

impl<'de> Deserialize<'de> for ToolResultItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_tagged(deserializer)
    }
}

impl ToolResultItem {
    fn count(&self) -> usize {
        match self {
            Self::Text(_) | Self::Image(_) => 1,
            Self::Document(document) => document.count(),
            Self::SearchResult(result) => result.count(),
        }
    }
}

impl ToolResultBlock {
    fn count(&self) -> usize {
        let content = self.content.as_ref().map_or(&[][..], TextOr::blocks);
        1 + content.iter().map(ToolResultItem::count).sum::<usize>()
    }
}

/// `{"type":"search_result",…}`: a search result the model may cite.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchResultBlock {
    #[serde(rename = "type")]
    pub kind: SearchResultTag,
    pub source: String,
    pub title: String,
    pub content: Vec<ObjectOf<TextBlock>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citations: Option<ObjectOf<CitationsConfig>>,
}

impl SearchResultBlock {
    fn count(&self) -> usize {
        1 + self.content.len()
    }
}
