//! The Kubernetes manifests in `deploy/kubernetes/`: each valid against its schema with unknown
//! fields refused, and consistent with the others (names, ports, the Secret's keys, the two
//! pods alike). `server.rs` checks them against the server itself.

mod help;
mod manifests;
mod schemas;
mod server;

use std::{path::PathBuf, sync::LazyLock};

use manifests::{container, items, only, pods};
use schemas::Schemas;
use serde_json::{Value, json};

static SCHEMAS: LazyLock<Schemas> = LazyLock::new(|| {
    let tools = std::env::var_os("TOOLS_DIR").map_or_else(
        || {
            std::env::home_dir()
                .unwrap()
                .join(".cache/claude-agent-tools")
        },
        PathBuf::from,
    );
    Schemas::load(
        &tools.join("kubernetes-json-schema"),
        &manifests::root().join("crds"),
    )
});

#[test]
fn every_manifest_matches_its_schema() {
    let manifests = manifests::all();
    let problems: Vec<String> = manifests
        .iter()
        .flat_map(|m| {
            SCHEMAS
                .check(&m.value)
                .into_iter()
                .map(|problem| format!("{} ({}): {problem}", m.file.display(), m.kind()))
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    eprintln!(
        "{} manifests valid (core schemas of kubernetes-validate {})",
        manifests.len(),
        SCHEMAS.core_version
    );
}

/// A manifest of `kind` with `value` set at `pointer` (the object) under `key`.
fn with(kind: &str, pointer: &str, key: &str, value: Value) -> Value {
    let mut manifest = only(&manifests::all(), kind).value;
    let object = manifest
        .pointer_mut(pointer)
        .unwrap()
        .as_object_mut()
        .unwrap();
    object.insert(key.to_owned(), value);
    manifest
}

#[test]
fn a_misspelt_or_mistyped_field_is_refused() {
    let container = "/spec/podTemplate/spec/containers/0";
    let cases = [
        // in the pod, which the CRD and the core schema both describe
        (
            with("SandboxTemplate", container, "livenesProbe", json!({})),
            "livenesProbe",
        ),
        // in what only the CRD describes
        (
            with(
                "SandboxTemplate",
                "/spec",
                "envVarInjectionPolicy",
                json!("Allowed"),
            ),
            "envVarInjectionPolicy",
        ),
        (
            with("SandboxWarmPool", "/spec", "replica", json!(2)),
            "replica",
        ),
        (
            with("SandboxWarmPool", "/spec", "replicas", json!("2")),
            "\"2\"",
        ),
        (
            with("SandboxClaim", "/spec/warmPoolRef", "namespace", json!("x")),
            "namespace",
        ),
        // in metadata, which the CRDs leave to ObjectMeta's schema
        (
            with("SandboxClaim", "/metadata", "label", json!({})),
            "label",
        ),
        // core kinds
        (
            with("StatefulSet", "/spec", "serviceNme", json!("x")),
            "serviceNme",
        ),
        (
            with(
                "StatefulSet",
                "/spec/template/spec/containers/0",
                "args",
                json!("--port"),
            ),
            "--port",
        ),
        (with("Service", "/spec", "selctor", json!({})), "selctor"),
        (with("Secret", "", "stringdata", json!({})), "stringdata"),
    ];
    for (manifest, culprit) in cases {
        let problems = SCHEMAS.check(&manifest);
        assert!(
            problems.iter().any(|problem| problem.contains(culprit)),
            "{} with {culprit} was not refused: {problems:?}",
            manifest["kind"]
        );
    }
}

#[test]
fn the_manifests_agree_with_each_other() {
    let manifests = manifests::all();
    let template = only(&manifests, "SandboxTemplate");
    let pool = only(&manifests, "SandboxWarmPool");
    let claim = only(&manifests, "SandboxClaim");
    assert_eq!(
        pool.value["spec"]["sandboxTemplateRef"]["name"],
        template.name()
    );
    assert_eq!(claim.value["spec"]["warmPoolRef"]["name"], pool.name());

    let set = only(&manifests, "StatefulSet");
    let service = only(&manifests, "Service");
    assert_eq!(set.value["spec"]["serviceName"], service.name());
    assert_eq!(
        service.value["spec"]["clusterIP"], "None",
        "a StatefulSet's is headless"
    );
    let labels = &set.pod().unwrap()["metadata"]["labels"];
    for selector in [
        &service.value["spec"]["selector"],
        &set.value["spec"]["selector"]["matchLabels"],
    ] {
        for (key, value) in selector.as_object().unwrap() {
            assert_eq!(&labels[key], value, "the pod lacks the selector's {key}");
        }
    }
    let ports: Vec<&Value> = items(&container(&set)["ports"]).iter().collect();
    for port in items(&service.value["spec"]["ports"]) {
        let target = &port["targetPort"];
        assert!(
            ports
                .iter()
                .any(|p| &p["name"] == target || &p["containerPort"] == target),
            "the Service's targetPort {target} is no port of the container"
        );
    }

    // Both pods are the same server: one changed alone is a mistake.
    assert_eq!(set.pod().unwrap()["spec"], template.pod().unwrap()["spec"]);
    assert_eq!(
        set.value["spec"]["volumeClaimTemplates"],
        template.value["spec"]["volumeClaimTemplates"]
    );

    let secret = only(&manifests, "Secret");
    for manifest in pods(&manifests) {
        let spec = &manifest.pod().unwrap()["spec"];
        let volumes: Vec<&Value> = items(&spec["volumes"])
            .iter()
            .chain(
                items(&manifest.value["spec"]["volumeClaimTemplates"])
                    .iter()
                    .map(|c| &c["metadata"]),
            )
            .map(|volume| &volume["name"])
            .collect();
        let container = container(manifest);
        for mount in items(&container["volumeMounts"]) {
            assert!(
                volumes.contains(&&mount["name"]),
                "no volume {}",
                mount["name"]
            );
        }
        for env in items(&container["env"]) {
            let Some(reference) = env.pointer("/valueFrom/secretKeyRef") else {
                continue;
            };
            assert_eq!(reference["name"], secret.name(), "{}", env["name"]);
            let key = reference["key"].as_str().unwrap();
            assert!(
                secret.value["stringData"].get(key).is_some(),
                "the Secret has no {key}"
            );
        }
    }
    let port = &container(&template)["ports"][0]["containerPort"];
    for rule in items(&template.value["spec"]["networkPolicy"]["ingress"]) {
        assert!(items(&rule["ports"]).iter().all(|p| &p["port"] == port));
    }
}
