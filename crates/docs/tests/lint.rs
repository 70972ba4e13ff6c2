//! docs-lint over real files, with an OpenAPI spec in YAML.

use suit_docs::lint::{lint_path, OpenApi};

#[test]
fn lints_a_docs_folder_and_suggests_curl() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    std::fs::create_dir_all(docs.join("guide")).unwrap();
    std::fs::write(
        docs.join("guide/projects.md"),
        "# Projects\n\nTo start, click **New project** to create a project.\n\n```sh\n# click is fine in code\n```\n",
    )
    .unwrap();
    std::fs::write(
        docs.join("keys.html"),
        "<html><body><h1>Keys</h1>\n<p>Navigate to <b>Settings</b> and press the Delete key button to delete an API key.</p>\n<pre>navigate to nowhere</pre></body></html>",
    )
    .unwrap();
    std::fs::write(docs.join("notes.txt"), "click me: not a doc file").unwrap();
    let spec = dir.path().join("openapi.yaml");
    std::fs::write(
        &spec,
        "openapi: 3.0.0\nservers:\n  - url: https://api.example.com\npaths:\n  /projects:\n    post:\n      summary: Create a project\n      requestBody:\n        content:\n          application/json: {}\n    get:\n      summary: List projects\n  /keys/{key_id}:\n    delete:\n      summary: Delete an API key\n",
    )
    .unwrap();
    let api = OpenApi::load(&spec).unwrap();
    assert_eq!(api.operations.len(), 3);

    let findings = lint_path(&docs, Some(&api)).unwrap();
    let got: Vec<(String, usize, usize, &str)> = findings
        .iter()
        .map(|f| (f.path.strip_prefix(&docs).unwrap().display().to_string(), f.line, f.col, f.rule))
        .collect();
    assert_eq!(
        got,
        vec![
            ("guide/projects.md".to_string(), 3, 11, "click"),
            ("keys.html".to_string(), 2, 4, "navigate-to"),
            ("keys.html".to_string(), 2, 36, "press-button"),
        ]
    );
    let create = findings[0].suggestion.as_deref().unwrap();
    assert!(create.starts_with("curl -X POST \"https://api.example.com/projects\""), "{create}");
    let delete = findings[2].suggestion.as_deref().unwrap();
    assert!(
        delete.starts_with("curl -X DELETE \"https://api.example.com/keys/{key_id}\""),
        "{delete}"
    );
    assert_eq!(
        findings[0].to_string().lines().next().unwrap().split(": ").next().unwrap(),
        format!("{}:3:11", docs.join("guide/projects.md").display())
    );

    let json = serde_json::to_value(&findings).unwrap();
    assert_eq!(json[0]["rule"], "click");
    assert_eq!(json[0]["line"], 3);
    assert_eq!(json[0]["end_col"], 16);
    assert_eq!(json[0]["text"], "click");
}

#[test]
fn bad_spec_and_missing_path_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(&spec, "openapi: [unclosed\n").unwrap();
    let err = OpenApi::load(&spec).unwrap_err().to_string();
    assert!(err.contains("spec.yaml") && err.contains("invalid YAML"), "{err}");
    std::fs::write(&spec, "{\"info\": {}}").unwrap();
    let err = OpenApi::load(&spec).unwrap_err().to_string();
    assert!(err.contains("not an OpenAPI document"), "{err}");
    let err = lint_path(&dir.path().join("missing"), None).unwrap_err().to_string();
    assert!(err.contains("missing"), "{err}");
}
