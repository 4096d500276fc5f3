//! The manifests in `deploy/kubernetes/`, read as JSON values, and what the checks look up in
//! them.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

/// `deploy/kubernetes/`.
pub(crate) fn root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/kubernetes");
    root.canonicalize()
        .unwrap_or_else(|err| panic!("{}: {err}", root.display()))
}

/// One document of a manifest file.
#[derive(Debug, Clone)]
pub(crate) struct Manifest {
    pub(crate) file: PathBuf,
    pub(crate) value: Value,
}

impl Manifest {
    pub(crate) fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or_default()
    }

    pub(crate) fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or_default()
    }

    /// The pod it runs: a StatefulSet's template, a SandboxTemplate's (or a Sandbox's).
    pub(crate) fn pod(&self) -> Option<&Value> {
        let spec = &self.value["spec"];
        spec.get("template").or_else(|| spec.get("podTemplate"))
    }
}

/// Every manifest under `deploy/kubernetes/` but the vendored CRDs.
pub(crate) fn all() -> Vec<Manifest> {
    let crds = root().join("crds");
    let manifests: Vec<Manifest> = yaml_files(&root())
        .into_iter()
        .filter(|file| !file.starts_with(&crds))
        .flat_map(|file| {
            documents(&file).into_iter().map(move |value| Manifest {
                file: file.clone(),
                value,
            })
        })
        .collect();
    assert!(
        !manifests.is_empty(),
        "no manifests in {}",
        root().display()
    );
    manifests
}

/// The one manifest of `kind`.
pub(crate) fn only(manifests: &[Manifest], kind: &str) -> Manifest {
    let found: Vec<&Manifest> = manifests.iter().filter(|m| m.kind() == kind).collect();
    assert_eq!(found.len(), 1, "expected one {kind}, found {}", found.len());
    found[0].clone()
}

/// The `.yaml` files under `dir`, in its subfolders too, sorted.
pub(crate) fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(yaml_files(&path));
        } else if path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml")
        {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The documents of a YAML file (`---` separates them), empty ones left out.
pub(crate) fn documents(file: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(file).unwrap();
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|document| {
            Value::deserialize(document).unwrap_or_else(|err| panic!("{}: {err}", file.display()))
        })
        .filter(|value| !value.is_null())
        .collect()
}

/// A JSON array's items, none for anything else.
pub(crate) fn items(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

/// The manifests that run the server.
pub(crate) fn pods(manifests: &[Manifest]) -> Vec<&Manifest> {
    let pods: Vec<&Manifest> = manifests.iter().filter(|m| m.pod().is_some()).collect();
    assert!(!pods.is_empty(), "no manifest runs a pod");
    pods
}

/// The pod's one container, the server.
pub(crate) fn container(manifest: &Manifest) -> &Value {
    let containers = items(&manifest.pod().unwrap()["spec"]["containers"]);
    assert_eq!(containers.len(), 1, "{}", manifest.file.display());
    &containers[0]
}

/// A JSON array of strings (`args`), as strings.
pub(crate) fn strings(value: &Value) -> Vec<String> {
    items(value)
        .iter()
        .map(|item| item.as_str().unwrap().to_owned())
        .collect()
}
