//! E2B's OpenAPI spec (`testkit/e2b/openapi.yml`, vendored verbatim) as JSON Schema validators
//! for the operations the mock serves: what clients send is checked against it, and so is what
//! the mock answers, so that neither can drift from E2B's contract unnoticed.

use std::collections::BTreeMap;

use jsonschema::{Draft, Validator};
use serde_json::{Value, json};

const SPEC: &str = include_str!("../../e2b/openapi.yml");

/// The spec could not be read, or lacks what the mock serves.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("the E2B spec is not valid YAML: {0}")]
    Yaml(#[from] serde_yaml_ng::Error),
    #[error("the E2B spec has no operation {0}")]
    NoOperation(String),
    #[error("the E2B spec's schema for {0} does not compile: {1}")]
    Schema(String, String),
}

/// A body that breaks the spec: a client's request, or one of the mock's own answers.
#[derive(Debug, thiserror::Error)]
pub enum Mismatch {
    #[error("{operation} declares no response {status}")]
    Undeclared { operation: String, status: u16 },
    #[error("{0} has no body where the spec declares one")]
    MissingBody(String),
    #[error("{0} has a body where the spec declares none")]
    UnexpectedBody(String),
    #[error("{}", .0.join("; "))]
    Invalid(Vec<String>),
}

/// The spec, its schemas rewritten from OpenAPI 3.0 into plain JSON Schema (draft 4).
#[derive(Debug)]
pub struct Spec {
    document: Value,
}

impl Spec {
    /// The vendored spec.
    pub fn load() -> Result<Self, SpecError> {
        Self::parse(SPEC)
    }

    pub fn parse(yaml: &str) -> Result<Self, SpecError> {
        let mut document: Value = serde_yaml_ng::from_str(yaml)?;
        if let Some(Value::Object(schemas)) = document.pointer_mut("/components/schemas") {
            schemas.values_mut().for_each(to_json_schema);
        }
        Ok(Self { document })
    }

    /// The operation `method` (lowercase, as the spec spells it) on `path` (a template such as
    /// `/sandboxes/{sandboxID}`), with a validator for its JSON request body and for each
    /// response it declares.
    pub fn operation(&self, method: &str, path: &str) -> Result<Operation, SpecError> {
        let name = format!("{} {path}", method.to_ascii_uppercase());
        let spec = self
            .document
            .get("paths")
            .and_then(|paths| paths.get(path))
            .and_then(|item| item.get(method))
            .ok_or_else(|| SpecError::NoOperation(name.clone()))?;
        let request = match spec.pointer("/requestBody/content/application~1json/schema") {
            Some(schema) => Some(self.validator(&format!("{name} request"), schema)?),
            None => None,
        };
        let mut responses = BTreeMap::new();
        for (status, response) in spec["responses"].as_object().into_iter().flatten() {
            let Ok(status) = status.parse::<u16>() else {
                continue; // `default`: the mock never answers with an undeclared status.
            };
            let response = self.resolve(response);
            let validator = match response.pointer("/content/application~1json/schema") {
                Some(schema) => Some(self.validator(&format!("{name} {status}"), schema)?),
                None => None,
            };
            responses.insert(status, validator);
        }
        Ok(Operation {
            name,
            request,
            responses,
        })
    }

    /// The schema `components/schemas/{name}`, such as `Error`.
    pub fn schema(&self, name: &str) -> Result<Schema, SpecError> {
        let reference = json!({"$ref": format!("#/components/schemas/{name}")});
        Ok(Schema(self.validator(name, &reference)?))
    }

    /// `value`, or what its `$ref` (such as `#/components/responses/401`) points at.
    fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        value
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|reference| reference.strip_prefix('#'))
            .and_then(|pointer| self.document.pointer(pointer))
            .unwrap_or(value)
    }

    /// A validator of `schema`, whose `$ref`s (`#/components/schemas/X`) resolve in a document
    /// holding the spec's schemas where the spec has them.
    fn validator(&self, what: &str, schema: &Value) -> Result<Validator, SpecError> {
        let mut schema = schema.clone();
        to_json_schema(&mut schema);
        let root = json!({
            "allOf": [schema],
            "components": {"schemas": self.document.pointer("/components/schemas")},
        });
        jsonschema::options()
            .with_draft(Draft::Draft4)
            .build(&root)
            .map_err(|err| SpecError::Schema(what.to_owned(), err.to_string()))
    }
}

/// One of the spec's schemas.
#[derive(Debug)]
pub struct Schema(Validator);

impl Schema {
    pub fn check(&self, value: &Value) -> Result<(), Mismatch> {
        check(&self.0, value)
    }
}

/// One operation of the spec: its request body's schema and its responses'.
#[derive(Debug)]
pub struct Operation {
    name: String,
    request: Option<Validator>,
    /// Each declared status, with the schema of its JSON body if it has one.
    responses: BTreeMap<u16, Option<Validator>>,
}

impl Operation {
    /// Whether `body` is what the operation takes (any body passes where it declares none).
    pub fn check_request(&self, body: &Value) -> Result<(), Mismatch> {
        match &self.request {
            Some(validator) => check(validator, body),
            None => Ok(()),
        }
    }

    /// Whether the spec declares the answer `status` with `body` (or none) for the operation.
    pub fn check_response(&self, status: u16, body: Option<&Value>) -> Result<(), Mismatch> {
        let declared = self
            .responses
            .get(&status)
            .ok_or_else(|| Mismatch::Undeclared {
                operation: self.name.clone(),
                status,
            })?;
        let what = || format!("{} {status}", self.name);
        match (declared, body) {
            (Some(validator), Some(body)) => check(validator, body),
            (None, None) => Ok(()),
            (Some(_), None) => Err(Mismatch::MissingBody(what())),
            (None, Some(_)) => Err(Mismatch::UnexpectedBody(what())),
        }
    }
}

fn check(validator: &Validator, body: &Value) -> Result<(), Mismatch> {
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|error| match error.instance_path().as_str() {
            "" => error.to_string(),
            path => format!("{path}: {error}"),
        })
        .collect();
    match errors.is_empty() {
        true => Ok(()),
        false => Err(Mismatch::Invalid(errors)),
    }
}

/// Rewrites an OpenAPI 3.0 schema, recursively, into the JSON Schema draft 4 it extends:
/// `nullable: true` becomes "or null"; and a schema with properties but no `type` is an
/// object's, as OpenAPI's tools (E2B's server among them) read it, where JSON Schema alone would
/// let any array or string through.
fn to_json_schema(schema: &mut Value) {
    let Value::Object(fields) = schema else {
        return;
    };
    for key in ["items", "not", "additionalProperties"] {
        if let Some(inner) = fields.get_mut(key) {
            to_json_schema(inner);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(inner)) = fields.get_mut(key) {
            inner.iter_mut().for_each(to_json_schema);
        }
    }
    if let Some(Value::Object(properties)) = fields.get_mut("properties") {
        properties.values_mut().for_each(to_json_schema);
    }
    let object = ["properties", "additionalProperties", "required"]
        .iter()
        .any(|key| fields.contains_key(*key));
    if object && !fields.contains_key("type") && !fields.contains_key("$ref") {
        fields.insert("type".to_owned(), json!("object"));
    }
    if fields.remove("nullable") == Some(Value::Bool(true)) {
        *schema = json!({"anyOf": [{"type": "null"}, schema.take()]});
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create() -> Operation {
        Spec::load()
            .unwrap()
            .operation("post", "/sandboxes")
            .unwrap()
    }

    #[test]
    fn requests_are_checked_against_the_named_schema() {
        let create = create();
        create
            .check_request(&json!({"templateID": "t", "timeout": 300, "envVars": {"A": "b"}}))
            .unwrap();
        for bad in [
            json!({"timeout": 300}),
            json!({"templateID": 7}),
            json!({"templateID": "t", "timeout": -1}),
            json!({"templateID": "t", "envVars": {"A": 1}}),
            json!(["templateID"]),
        ] {
            assert!(create.check_request(&bad).is_err(), "{bad} passed");
        }
    }

    #[test]
    fn answers_must_be_declared_and_match() {
        let create = create();
        let sandbox = json!({"templateID": "t", "sandboxID": "s", "clientID": "c",
            "envdVersion": "0.2.0", "domain": null, "trafficAccessToken": null});
        create.check_response(201, Some(&sandbox)).unwrap();
        let error = json!({"code": 400, "message": "no"});
        create.check_response(400, Some(&error)).unwrap();
        assert!(matches!(
            create.check_response(404, Some(&error)),
            Err(Mismatch::Undeclared { status: 404, .. })
        ));
        assert!(
            create
                .check_response(201, Some(&json!({"sandboxID": "s"})))
                .is_err()
        );
        assert!(matches!(
            create.check_response(201, None),
            Err(Mismatch::MissingBody(_))
        ));
        let kill = Spec::load()
            .unwrap()
            .operation("delete", "/sandboxes/{sandboxID}")
            .unwrap();
        kill.check_response(204, None).unwrap();
        assert!(matches!(
            kill.check_response(204, Some(&error)),
            Err(Mismatch::UnexpectedBody(_))
        ));
    }

    #[test]
    fn a_missing_operation_is_an_error() {
        let spec = Spec::load().unwrap();
        assert!(matches!(
            spec.operation("put", "/sandboxes"),
            Err(SpecError::NoOperation(_))
        ));
    }
}
