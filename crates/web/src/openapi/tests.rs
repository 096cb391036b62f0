use std::collections::BTreeSet;

use serde_json::Value;

use crate::paths::ROUTES;

fn document_json() -> Value {
    serde_json::to_value(super::document()).unwrap_or_default()
}

#[test]
fn every_reference_resolves() {
    let document = document_json();
    let mut references = Vec::new();
    collect_references(&document, &mut references);
    assert!(!references.is_empty());
    for reference in references {
        let pointer = reference.strip_prefix('#').unwrap_or_default();
        assert!(
            document.pointer(pointer).is_some(),
            "{reference} is undefined"
        );
    }
}

fn collect_references(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(reference)) = object.get("$ref") {
                into.push(reference.clone());
            }
            object.values().for_each(|v| collect_references(v, into));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, into)),
        _ => {}
    }
}

#[test]
fn the_schema_describes_exactly_the_served_routes() {
    let document = document_json();
    let described: BTreeSet<(String, String)> = document["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            let methods: Vec<String> = item
                .as_object()
                .map(|o| o.keys().filter(|k| is_method(k)).cloned().collect())
                .unwrap_or_default();
            methods.into_iter().map(move |m| (path.clone(), m))
        })
        .collect();
    assert_eq!(described, served());
}

/// HEAD and OPTIONS come with GET and every route; the schema describes the rest.
fn served() -> BTreeSet<(String, String)> {
    ROUTES
        .iter()
        .flat_map(|(path, allow)| {
            allow
                .split(", ")
                .filter(|m| !matches!(*m, "HEAD" | "OPTIONS"))
                .map(|m| (path.to_string(), m.to_lowercase()))
        })
        .collect()
}

fn is_method(key: &str) -> bool {
    matches!(
        key,
        "get" | "post" | "put" | "patch" | "delete" | "head" | "options"
    )
}
