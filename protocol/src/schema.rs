//! The JSON Schema of what clients send, generated from [`ClientMessage`]'s types, and a checker
//! for the part of JSON Schema it uses, over any JSON representation ([`Json`]). The wasm client
//! checks messages with it on the JS objects themselves: serde would triple the client's size.
//!
//! `schema/client-message.json` is generated (feature `schema`); a test fails when it is stale
//! and `UPDATE_SCHEMA=1 cargo test -p claude-agent-protocol --features schema` rewrites it.
//!
//! [`ClientMessage`]: crate::ClientMessage

use std::fmt::{self, Write as _};

use serde_json::Value;

use crate::content::one_of;

/// The schema of [`ClientMessage`](crate::ClientMessage), as JSON text.
pub const CLIENT_MESSAGE_SCHEMA: &str = include_str!("../schema/client-message.json");

/// The schema of [`ClientMessage`](crate::ClientMessage), generated from its types.
#[cfg(feature = "schema")]
pub fn client_message_schema() -> String {
    let schema = schemars::schema_for!(crate::ClientMessage);
    serde_json::to_string_pretty(&schema).expect("a schema serializes") + "\n"
}

/// What a JSON value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Boolean,
    Number,
    String,
    Array,
    Object,
}

impl Kind {
    /// The kind of valid JSON text, told by its first character.
    pub fn of_json(json: &str) -> Self {
        match json.trim_start().as_bytes().first() {
            Some(b'{') => Self::Object,
            Some(b'[') => Self::Array,
            Some(b'"') => Self::String,
            Some(b't' | b'f') => Self::Boolean,
            Some(b'n') => Self::Null,
            _ => Self::Number,
        }
    }

    /// The kind a JSON Schema `type` names (an `integer` is a number here).
    fn named(name: &str) -> Option<Self> {
        Some(match name {
            "null" => Self::Null,
            "boolean" => Self::Boolean,
            "number" | "integer" => Self::Number,
            "string" => Self::String,
            "array" => Self::Array,
            "object" => Self::Object,
            _ => return None,
        })
    }

    /// "a string", "an array", ..., for error messages.
    pub fn described(self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Boolean => "a boolean",
            Self::Number => "a number",
            Self::String => "a string",
            Self::Array => "an array",
            Self::Object => "an object",
        }
    }
}

/// What a JSON Schema `type` name means, in words.
fn described(name: &str) -> String {
    Kind::named(name).map_or_else(|| name.to_owned(), |kind| kind.described().to_owned())
}

/// A JSON value as the checker reads it: the schema and the value checked are both one.
pub trait Json: Sized + Clone {
    /// `None` for what JSON has no value for (a JS `undefined` or function).
    fn kind(&self) -> Option<Kind>;
    /// The text of a string.
    fn string(&self) -> Option<String>;
    /// An object's member; `None` when absent (or `undefined`).
    fn member(&self, key: &str) -> Option<Self>;
    /// An object's keys.
    fn keys(&self) -> Vec<String>;
    /// An array's elements.
    fn elements(&self) -> Vec<Self>;
}

impl Json for &Value {
    fn kind(&self) -> Option<Kind> {
        Some(match self {
            Value::Null => Kind::Null,
            Value::Bool(_) => Kind::Boolean,
            Value::Number(_) => Kind::Number,
            Value::String(_) => Kind::String,
            Value::Array(_) => Kind::Array,
            Value::Object(_) => Kind::Object,
        })
    }

    fn string(&self) -> Option<String> {
        self.as_str().map(str::to_owned)
    }

    fn member(&self, key: &str) -> Option<Self> {
        self.get(key)
    }

    fn keys(&self) -> Vec<String> {
        self.as_object()
            .map(|map| map.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn elements(&self) -> Vec<Self> {
        self.as_array()
            .map(|items| items.iter().collect())
            .unwrap_or_default()
    }
}

/// Where a value breaks the schema, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckError {
    /// `data.message.content[0]`; empty for the value itself.
    pub path: String,
    pub problem: String,
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.path.as_str() {
            "" => f.write_str(&self.problem),
            path => write!(f, "{path}: {}", self.problem),
        }
    }
}

/// Checks `value` against `schema`, a document that may hold `$defs`. The keywords read:
/// `$ref` (to `#/$defs/...`), `type`, `const` and `enum` (of strings), `properties`,
/// `required`, `additionalProperties` (`false`), `items`, `anyOf` and `oneOf`; the others are
/// annotations here.
pub fn check<J: Json>(schema: &J, value: &J) -> Result<(), CheckError> {
    Checker { root: schema }.check(schema, value, &mut String::new())
}

/// The keywords [`check`] reads or may ignore: a schema with any other is not checked fully.
pub const KEYWORDS: [&str; 15] = [
    "$schema",
    "$defs",
    "$ref",
    "title",
    "description",
    "default",
    "type",
    "const",
    "enum",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "anyOf",
    "oneOf",
];

struct Checker<'a, J> {
    root: &'a J,
}

impl<J: Json> Checker<'_, J> {
    fn check(&self, schema: &J, value: &J, path: &mut String) -> Result<(), CheckError> {
        let fail = |path: &str, problem: String| {
            Err(CheckError {
                path: path.to_owned(),
                problem,
            })
        };
        let schema = match self.resolve(schema) {
            Ok(schema) => schema,
            Err(problem) => return fail(path, problem),
        };
        let Some(kind) = value.kind() else {
            return fail(path, "expected a JSON value".to_owned());
        };
        if let Some(types) = schema.member("type") {
            let names = types.string().map_or_else(
                || types.elements().iter().filter_map(Json::string).collect(),
                |name| vec![name],
            );
            if !names.iter().any(|name| Kind::named(name) == Some(kind)) {
                let expected: Vec<String> = names.iter().map(|name| described(name)).collect();
                let found = kind.described();
                return fail(
                    path,
                    format!("expected {}, found {found}", expected.join(" or ")),
                );
            }
        }
        let allowed: Option<Vec<String>> = match (schema.member("const"), schema.member("enum")) {
            (Some(one), _) => Some(one.string().into_iter().collect()),
            (None, Some(all)) => Some(all.elements().iter().filter_map(Json::string).collect()),
            (None, None) => None,
        };
        if let Some(allowed) = allowed {
            let text = value.string().unwrap_or_default();
            if !allowed.contains(&text) {
                return fail(path, unknown_variant(&text, &allowed));
            }
        }
        if kind == Kind::Object {
            for name in schema
                .member("required")
                .map(|r| r.elements())
                .unwrap_or_default()
            {
                let name = name.string().unwrap_or_default();
                if value.member(&name).is_none() {
                    return fail(path, format!("missing field `{name}`"));
                }
            }
            // schemars writes it only as `false` (`deny_unknown_fields`); a test holds it to that.
            if schema.member("additionalProperties").is_some() {
                let known = schema
                    .member("properties")
                    .map(|p| p.keys())
                    .unwrap_or_default();
                let unknown = value
                    .keys()
                    .into_iter()
                    .find(|key| !known.contains(key) && value.member(key).is_some());
                if let Some(unknown) = unknown {
                    let expected = one_of(&known);
                    return fail(
                        path,
                        format!("unknown field `{unknown}`, expected {expected}"),
                    );
                }
            }
            if let Some(properties) = schema.member("properties") {
                let mut names = properties.keys();
                // `type` first: it says what the rest must be.
                names.sort_by_key(|name| name != "type");
                for name in names {
                    let (Some(property), Some(field)) =
                        (properties.member(&name), value.member(&name))
                    else {
                        continue;
                    };
                    let dot = if path.is_empty() { "" } else { "." };
                    within(path, format_args!("{dot}{name}"), |path| {
                        self.check(&property, &field, path)
                    })?;
                }
            }
        }
        if let (Kind::Array, Some(items)) = (kind, schema.member("items")) {
            for (i, element) in value.elements().iter().enumerate() {
                within(path, format_args!("[{i}]"), |path| {
                    self.check(&items, element, path)
                })?;
            }
        }
        for keyword in ["anyOf", "oneOf"] {
            if let Some(alternatives) = schema.member(keyword) {
                self.any_of(&alternatives.elements(), value, path)?;
            }
        }
        Ok(())
    }

    /// The first alternative `value` fits. A tagged union (alternatives told apart by a `type`
    /// constant) is decided by the value's `type`; otherwise, when only one alternative has
    /// the value's kind, its error is the one reported.
    fn any_of(&self, alternatives: &[J], value: &J, path: &mut String) -> Result<(), CheckError> {
        let tags: Vec<Option<String>> = alternatives
            .iter()
            .map(|alternative| self.tag(alternative))
            .collect();
        if tags.iter().all(Option::is_some) && value.kind() == Some(Kind::Object) {
            let Some(tag) = value.member("type") else {
                return Err(CheckError {
                    path: path.clone(),
                    problem: "missing field `type`".to_owned(),
                });
            };
            let tag = tag.string().unwrap_or_default();
            let Some(chosen) = tags.iter().position(|t| t.as_deref() == Some(&tag)) else {
                let allowed: Vec<String> = tags.into_iter().flatten().collect();
                let dot = if path.is_empty() { "" } else { "." };
                return Err(within(path, format_args!("{dot}type"), |path| CheckError {
                    path: path.clone(),
                    problem: unknown_variant(&tag, &allowed),
                }));
            };
            return self.check(&alternatives[chosen], value, path);
        }
        let mut errors = Vec::new();
        for alternative in alternatives {
            match self.check(alternative, value, path) {
                Ok(()) => return Ok(()),
                Err(error) => errors.push(error),
            }
        }
        // An error below the value itself says more than "none fits".
        let deeper: Vec<CheckError> = errors
            .iter()
            .filter(|error| error.path.len() > path.len())
            .cloned()
            .collect();
        if let [only] = deeper.as_slice() {
            return Err(only.clone());
        }
        let mut expected: Vec<String> = Vec::new();
        for described in alternatives.iter().filter_map(|a| self.described(a)) {
            if !expected.contains(&described) {
                expected.push(described);
            }
        }
        let found = value.kind().map_or("nothing", Kind::described);
        Err(CheckError {
            path: path.clone(),
            problem: format!("expected {}, found {found}", expected.join(" or ")),
        })
    }

    /// The constant `type` member an alternative requires, if it is a tagged object: a `const`,
    /// or an `enum` of one.
    fn tag(&self, alternative: &J) -> Option<String> {
        let alternative = self.resolve(alternative).ok()?;
        let tag = self
            .resolve(&alternative.member("properties")?.member("type")?)
            .ok()?;
        if let Some(constant) = tag.member("const") {
            return constant.string();
        }
        match tag.member("enum")?.elements().as_slice() {
            [only] => only.string(),
            _ => None,
        }
    }

    /// What an alternative is, in words: "a string", "an array".
    fn described(&self, alternative: &J) -> Option<String> {
        let kind = self.resolve(alternative).ok()?.member("type")?.string()?;
        Some(described(&kind))
    }

    /// `schema`, or the definition its `$ref` names.
    fn resolve(&self, schema: &J) -> Result<J, String> {
        let Some(reference) = schema.member("$ref").and_then(|r| r.string()) else {
            return Ok(schema.clone());
        };
        let name = reference.trim_start_matches("#/$defs/");
        match self.root.member("$defs").and_then(|defs| defs.member(name)) {
            Some(target) => self.resolve(&target),
            None => Err(format!("the schema has no {reference}")),
        }
    }
}

/// Runs `f` with `segment` added to `path`, and leaves `path` as it was, whatever `f` returns.
fn within<T>(
    path: &mut String,
    segment: fmt::Arguments<'_>,
    f: impl FnOnce(&mut String) -> T,
) -> T {
    let len = path.len();
    let _ = path.write_fmt(segment);
    let out = f(path);
    path.truncate(len);
    out
}

/// serde's words, so that the client's errors read as the server's.
fn unknown_variant(found: &str, allowed: &[String]) -> String {
    let expected: Vec<String> = allowed.iter().map(|a| format!("`{a}`")).collect();
    format!(
        "unknown variant `{found}`, expected {}",
        expected.join(" or ")
    )
}
