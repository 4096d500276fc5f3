//! How content is read: a union of shapes by its `type` ([`Tagged`]), a struct from an object
//! only ([`ObjectOf`]), a string or blocks ([`TextOr`]); each error keeps the path of the field.

use std::{borrow::Cow, fmt};

use serde::{
    Deserialize, Deserializer, Serialize,
    de::{self, DeserializeOwned, SeqAccess, Visitor},
};
use serde_json::value::RawValue;

use super::ContentError;
use crate::schema::Kind;

/// A union of shapes told apart by their `type`. It is read tag first, then as the shape the tag
/// names: serde's internally tagged enums lose the path of an error within the shape.
pub(super) trait Tagged: Sized {
    /// What it is, for errors: "content block", "image source".
    const WHAT: &'static str;
    /// The `type`s it takes.
    const TYPES: &'static [&'static str];
    /// `type`s the API takes that are refused here, each with why.
    const REFUSED: &'static [(&'static str, &'static str)] = &[];
    /// The shape tagged `kind`, one of [`Self::TYPES`], read from `json`.
    fn shape(kind: &str, json: &str) -> Result<Self, ContentError>;
}

/// Reads a [`Tagged`] union from its JSON text.
pub(super) fn read<T: Tagged>(json: &str) -> Result<T, ContentError> {
    #[derive(Deserialize)]
    struct Head<'a> {
        #[serde(rename = "type", borrow)]
        kind: Option<Cow<'a, str>>,
    }
    let found = Kind::of_json(json);
    if found != Kind::Object {
        return Err(ContentError::NotAnObject {
            what: T::WHAT,
            found: found.described(),
        });
    }
    let no_type = ContentError::NoType { what: T::WHAT };
    let Ok(Head { kind: Some(kind) }) = serde_json::from_str(json) else {
        return Err(no_type);
    };
    if let Some((_, why)) = T::REFUSED.iter().find(|(refused, _)| *refused == kind) {
        return Err(ContentError::Refused {
            what: T::WHAT,
            found: kind.into_owned(),
            why,
        });
    }
    if !T::TYPES.contains(&kind.as_ref()) {
        return Err(ContentError::UnknownType {
            what: T::WHAT,
            found: kind.into_owned(),
            expected: T::TYPES,
        });
    }
    T::shape(&kind, json)
}

/// Reads one shape of a union, the path of an error included; `block` names it in errors.
pub(super) fn fields<T: DeserializeOwned>(
    block: &'static str,
    json: &str,
) -> Result<T, ContentError> {
    let mut reader = serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(&mut reader).map_err(|e| {
        let problem = without_position(e.inner());
        let mut path = e.path().to_string();
        // The path of an unknown field ends with the field, which the problem names already.
        if let Some(field) = problem
            .strip_prefix("unknown field `")
            .and_then(|p| p.split('`').next())
        {
            let parent = path.strip_suffix(field).unwrap_or(&path);
            path.truncate(parent.trim_end_matches('.').len());
        }
        if path == "." {
            path.clear();
        }
        ContentError::Field {
            block,
            path,
            problem,
        }
    })
}

/// serde_json's message without its " at line L column C", which would count from the block
/// rather than from the message.
fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&position).unwrap_or(&text).to_owned()
}

/// A union's `Deserialize`: its JSON text is read through [`read`].
pub(super) fn deserialize_tagged<'de, D: Deserializer<'de>, T: Tagged>(
    deserializer: D,
) -> Result<T, D::Error> {
    let raw = <&RawValue>::deserialize(deserializer)?;
    read(raw.get()).map_err(de::Error::custom)
}

/// A struct read from a JSON object only: serde's derived structs also take an array of their
/// fields' values, which the API refuses (a tagged union's shapes are objects already).
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ObjectOf<T>(pub T);

#[cfg(feature = "schema")]
impl<T: schemars::JsonSchema> schemars::JsonSchema for ObjectOf<T> {
    // Its schema is T's: a JSON Schema object is never an array.
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<T>()
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for ObjectOf<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <&RawValue>::deserialize(deserializer)?;
        if Kind::of_json(raw.get()) == Kind::Array {
            return Err(de::Error::invalid_type(de::Unexpected::Seq, &"an object"));
        }
        fields("", raw.get()).map(Self).map_err(de::Error::custom)
    }
}

/// A string, or an array of blocks: a tool result's or a document's `content`.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "TextOr{T}"))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum TextOr<T> {
    Text(String),
    Blocks(Vec<T>),
}

impl<T> TextOr<T> {
    pub(super) fn blocks(&self) -> &[T] {
        match self {
            Self::Text(_) => &[],
            Self::Blocks(blocks) => blocks,
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for TextOr<T> {
    // Hand-written: serde's untagged enums buffer the value, and lose the error of the element.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextOrVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for TextOrVisitor<T> {
            type Value = TextOr<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of content blocks")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<TextOr<T>, E> {
                Ok(TextOr::Text(text.to_owned()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TextOr<T>, A::Error> {
                let mut blocks = Vec::new();
                while let Some(block) = seq.next_element()? {
                    blocks.push(block);
                }
                Ok(TextOr::Blocks(blocks))
            }
        }
        deserializer.deserialize_any(TextOrVisitor(std::marker::PhantomData))
    }
}
