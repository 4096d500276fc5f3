//! Each manifest's schema, with unknown fields refused as the API server's strict field
//! validation (`kubectl apply --validate=strict`, the default) refuses them. A kind of
//! agent-sandbox's is checked against its CRD's `openAPIV3Schema` (vendored in
//! `deploy/kubernetes/crds/`), a core kind against Kubernetes' own JSON schema (the strict set of
//! PyPI `kubernetes-validate`, which `scripts/install-tools` installs). The pod template and
//! volume claims inside a SandboxTemplate go through the core schemas too, and every
//! `metadata` through ObjectMeta's, as a CRD leaves those to the API server.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use jsonschema::{Draft, Registry, Validator};
use serde_json::{Value, json};

use crate::manifests::{documents, items, yaml_files};

/// Where the core schemas' `$ref`s (`/api/_definitions.json#/$defs/…`) lead, from their `$id`s.
const DEFINITIONS: &str = "https://kubernetes.io/api/_definitions.json";

pub(crate) struct Schemas {
    core: PathBuf,
    /// The core schemas' shared definitions.
    registry: Registry<'static>,
    /// Each agent-sandbox kind's schema, strict, by `apiVersion` and `kind`.
    crds: BTreeMap<(String, String), Value>,
    /// The kubernetes-validate release the core schemas come from.
    pub(crate) core_version: String,
}

impl Schemas {
    /// The core schemas in `core` (`$TOOLS_DIR/kubernetes-json-schema`) and the CRDs in `crds`.
    pub(crate) fn load(core: &Path, crds: &Path) -> Self {
        let version = std::fs::read_to_string(core.join("VERSION")).unwrap_or_else(|_| {
            panic!(
                "{} is missing the Kubernetes schemas: run scripts/install-tools",
                core.display()
            )
        });
        let registry = Registry::new()
            .add(DEFINITIONS, read_json(&core.join("_definitions.json")))
            .and_then(|builder| builder.prepare())
            .unwrap();
        let mut schemas = BTreeMap::new();
        for path in yaml_files(crds) {
            for crd in documents(&path) {
                let group = crd["spec"]["group"].as_str().unwrap();
                let kind = crd["spec"]["names"]["kind"].as_str().unwrap();
                for version in crd["spec"]["versions"].as_array().unwrap() {
                    let mut schema = version["schema"]["openAPIV3Schema"].clone();
                    refuse_unknown_fields(&mut schema);
                    let api_version = format!("{group}/{}", version["name"].as_str().unwrap());
                    schemas.insert((api_version, kind.to_owned()), schema);
                }
            }
        }
        Self {
            core: core.to_owned(),
            registry,
            crds: schemas,
            core_version: version.trim().to_owned(),
        }
    }

    /// Every way `manifest` breaks its schema, as `<path>: <problem>`; none if it has none.
    pub(crate) fn check(&self, manifest: &Value) -> Vec<String> {
        let (Some(api_version), Some(kind)) =
            (manifest["apiVersion"].as_str(), manifest["kind"].as_str())
        else {
            return vec!["no apiVersion or kind".into()];
        };
        let Some(crd) = self.crds.get(&(api_version.to_owned(), kind.to_owned())) else {
            return self.check_core(api_version, kind, manifest);
        };
        let mut problems = errors(&build(crd, None), manifest, "");
        problems.extend(self.check_definition("ObjectMeta", &manifest["metadata"], "/metadata"));
        // The blueprint of a Sandbox, a SandboxTemplate's too: a pod and its volume claims.
        let spec = &manifest["spec"];
        if let Some(pod) = spec.get("podTemplate") {
            let what = "io.k8s.api.core.v1.PodTemplateSpec";
            problems.extend(self.check_definition(what, pod, "/spec/podTemplate"));
        }
        for (i, claim) in items(&spec["volumeClaimTemplates"]).iter().enumerate() {
            let what = "io.k8s.api.core.v1.PersistentVolumeClaim";
            problems.extend(self.check_definition(
                what,
                claim,
                &format!("/spec/volumeClaimTemplates/{i}"),
            ));
        }
        problems
    }

    /// A core kind against its own schema, such as `statefulset-apps-v1.json` for `apps/v1`
    /// StatefulSet (kubernetes-validate's names: the group's first label, then the version).
    fn check_core(&self, api_version: &str, kind: &str, manifest: &Value) -> Vec<String> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let group = group.split('.').next().unwrap_or_default();
        let name = match group {
            "" => format!("{}-{version}.json", kind.to_lowercase()),
            group => format!("{}-{group}-{version}.json", kind.to_lowercase()),
        };
        let Ok(text) = std::fs::read_to_string(self.core.join(&name)) else {
            return vec![format!(
                "no schema for {api_version} {kind} (looked for {name})"
            )];
        };
        let schema = serde_json::from_str(&text).unwrap();
        errors(&build(&schema, Some(&self.registry)), manifest, "")
    }

    /// `value` against the core definition `what` (`io.k8s.…`, or `ObjectMeta`).
    fn check_definition(&self, what: &str, value: &Value, at: &str) -> Vec<String> {
        let what = match what {
            "ObjectMeta" => "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            what => what,
        };
        let schema = json!({"$ref": format!("{DEFINITIONS}#/$defs/{what}")});
        errors(&build(&schema, Some(&self.registry)), value, at)
    }
}

/// A validator of `schema`, whose references may only lead into `registry`: nothing is fetched.
fn build(schema: &Value, registry: Option<&Registry<'static>>) -> Validator {
    let options = jsonschema::options()
        .with_draft(Draft::Draft202012)
        .offline();
    match registry {
        Some(registry) => options.with_registry(registry).build(schema),
        None => options.build(schema),
    }
    .unwrap()
}

fn errors(validator: &Validator, value: &Value, at: &str) -> Vec<String> {
    validator
        .iter_errors(value)
        .map(|error| format!("{at}{}: {error}", error.instance_path().as_str()))
        .collect()
}

/// A CRD's schema as the API server applies it: an object schema with `properties` takes no
/// others unless it says so (`additionalProperties`, `x-kubernetes-preserve-unknown-fields`).
/// Those without `properties` (the root's `metadata`) are left open, and checked on their own.
fn refuse_unknown_fields(schema: &mut Value) {
    let Value::Object(schema) = schema else {
        return;
    };
    let open = schema.contains_key("additionalProperties")
        || schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        properties.values_mut().for_each(refuse_unknown_fields);
        if !open {
            schema.insert("additionalProperties".into(), Value::Bool(false));
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(inner) = schema.get_mut(key) {
            refuse_unknown_fields(inner);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(inner)) = schema.get_mut(key) {
            inner.iter_mut().for_each(refuse_unknown_fields);
        }
    }
}

fn read_json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    serde_json::from_str(&text).unwrap()
}
