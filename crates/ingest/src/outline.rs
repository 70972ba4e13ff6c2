//! Outlines: a source file reduced to its signatures, type definitions and
//! the first paragraph of each doc comment, via tree-sitter. Used when a file
//! does not fit a token budget in full: a map of many files is worth more
//! than the long explanations and examples of a few.

use tree_sitter::{Language, Node, Parser};

/// A language that [`outline`] understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Rust,
    Python,
    JavaScript,
    TypeScript,
    Tsx,
    Go,
    Java,
    C,
    Cpp,
}

impl Lang {
    fn from_path(path: &str) -> Option<Lang> {
        let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match ext.as_str() {
            "rs" => Lang::Rust,
            "py" | "pyi" => Lang::Python,
            "js" | "mjs" | "cjs" | "jsx" => Lang::JavaScript,
            "ts" | "mts" | "cts" => Lang::TypeScript,
            "tsx" => Lang::Tsx,
            "go" => Lang::Go,
            "java" => Lang::Java,
            "c" | "h" => Lang::C,
            "cc" | "cpp" | "cxx" | "c++" | "hpp" | "hh" | "hxx" | "h++" | "ipp" => Lang::Cpp,
            _ => return None,
        })
    }

    fn language(self) -> Language {
        match self {
            Lang::Rust => tree_sitter_rust::LANGUAGE.into(),
            Lang::Python => tree_sitter_python::LANGUAGE.into(),
            Lang::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Lang::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Lang::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Lang::Go => tree_sitter_go::LANGUAGE.into(),
            Lang::Java => tree_sitter_java::LANGUAGE.into(),
            Lang::C => tree_sitter_c::LANGUAGE.into(),
            Lang::Cpp => tree_sitter_cpp::LANGUAGE.into(),
        }
    }

    /// Definitions shown as their signature with the body elided.
    fn is_signature(self, kind: &str) -> bool {
        match self {
            Lang::Rust => matches!(kind, "function_item" | "function_signature_item"),
            Lang::Python => kind == "function_definition",
            Lang::JavaScript | Lang::TypeScript | Lang::Tsx => matches!(
                kind,
                "function_declaration"
                    | "generator_function_declaration"
                    | "method_definition"
                    | "function_signature"
                    | "method_signature"
                    | "abstract_method_signature"
            ),
            Lang::Go => matches!(kind, "function_declaration" | "method_declaration"),
            Lang::Java => matches!(kind, "method_declaration" | "constructor_declaration"),
            Lang::C | Lang::Cpp => kind == "function_definition",
        }
    }

    /// Definitions whose body holds more definitions (classes, impls, modules).
    fn is_container(self, kind: &str) -> bool {
        match self {
            Lang::Rust => matches!(kind, "impl_item" | "trait_item" | "mod_item"),
            Lang::Python => kind == "class_definition",
            Lang::JavaScript | Lang::TypeScript | Lang::Tsx => matches!(
                kind,
                "class_declaration"
                    | "abstract_class_declaration"
                    | "interface_declaration"
                    | "internal_module"
                    | "module"
            ),
            Lang::Go => false,
            Lang::Java => matches!(
                kind,
                "class_declaration"
                    | "interface_declaration"
                    | "enum_declaration"
                    | "record_declaration"
                    | "annotation_type_declaration"
            ),
            Lang::C => false,
            Lang::Cpp => {
                matches!(kind, "class_specifier" | "struct_specifier" | "namespace_definition")
            }
        }
    }

    /// Definitions shown whole (types, constants, prototypes, fields).
    fn is_whole(self, kind: &str) -> bool {
        match self {
            Lang::Rust => matches!(
                kind,
                "struct_item"
                    | "enum_item"
                    | "union_item"
                    | "type_item"
                    | "const_item"
                    | "static_item"
                    | "macro_definition"
            ),
            Lang::Python => false,
            Lang::JavaScript | Lang::TypeScript | Lang::Tsx => matches!(
                kind,
                "type_alias_declaration"
                    | "enum_declaration"
                    | "public_field_definition"
                    | "property_signature"
                    | "field_definition"
            ),
            Lang::Go => matches!(kind, "type_declaration" | "method_elem" | "method_spec"),
            Lang::Java => {
                matches!(kind, "field_declaration" | "constant_declaration" | "enum_constant")
            }
            Lang::C | Lang::Cpp => {
                matches!(
                    kind,
                    "declaration"
                        | "type_definition"
                        | "field_declaration"
                        | "enum_specifier"
                        | "alias_declaration"
                ) || (self == Lang::C && kind == "struct_specifier")
            }
        }
    }

    /// Nodes looked through, at the same level (preprocessor blocks, exports...).
    fn is_transparent(self, kind: &str) -> bool {
        matches!(
            kind,
            "preproc_if"
                | "preproc_ifdef"
                | "preproc_else"
                | "preproc_elif"
                | "linkage_specification"
                | "declaration_list"
                | "export_statement"
                | "template_declaration"
                | "decorated_definition"
                | "expression_statement"
        )
    }

    fn uses_braces(self) -> bool {
        self != Lang::Python
    }
}

/// Does [`outline`] support the language of `path` (judged by its extension)?
pub fn supports(path: &str) -> bool {
    Lang::from_path(path).is_some()
}

/// The most lines of one definition shown whole before it is cut.
const MAX_WHOLE_LINES: usize = 30;

/// Returns an outline of `source` (the file at `path`): signatures, type
/// definitions and the first paragraph of the comments just above them
/// (`…` marks the rest), bodies elided as `{ … }` (or `...` in Python).
/// `None` if the language is not supported or the source does not parse
/// into any definition.
pub fn outline(path: &str, source: &str) -> Option<String> {
    let lang = Lang::from_path(path)?;
    let mut parser = Parser::new();
    parser.set_language(&lang.language()).ok()?;
    let tree = parser.parse(source, None)?;
    let mut out = Outliner { lang, src: source, out: String::new(), items: 0 };
    out.children(tree.root_node(), None);
    (out.items > 0).then_some(out.out)
}

/// A function or method of a source file, as [`functions`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSpan {
    /// Its name (`parse_duration`, `new`).
    pub name: String,
    /// First line of the definition (1-based, its signature; decorators and
    /// comments above it are not included).
    pub start: usize,
    /// Last line of the definition (1-based, inclusive).
    pub end: usize,
    /// The text of its body (the block after the signature), for telling
    /// stubs (`pass`, `todo!()`) from real code.
    pub body: String,
}

/// The functions and methods defined in `source` (the file at `path`), in
/// file order, nested ones included, via tree-sitter. `None` if the
/// language is not supported or the source does not parse. The loop uses
/// them to narrow a step to the function a failing test calls, or to one
/// stub of a module being written.
pub fn functions(path: &str, source: &str) -> Option<Vec<FunctionSpan>> {
    let lang = Lang::from_path(path)?;
    let mut parser = Parser::new();
    parser.set_language(&lang.language()).ok()?;
    let tree = parser.parse(source, None)?;
    let mut found = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if lang.is_signature(node.kind()) {
            let name = node.child_by_field_name("name").or_else(|| {
                // C and C++ name a function inside its declarator.
                let mut d = node.child_by_field_name("declarator")?;
                while let Some(inner) = d.child_by_field_name("declarator") {
                    d = inner;
                }
                Some(d)
            });
            if let (Some(name), Some(body)) = (name, node.child_by_field_name("body")) {
                found.push(FunctionSpan {
                    name: source[name.byte_range()].to_string(),
                    start: node.start_position().row + 1,
                    end: node.end_position().row + 1,
                    body: source[body.byte_range()].to_string(),
                });
            }
        }
        let mut cursor = node.walk();
        let kids: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
        stack.extend(kids.into_iter().rev());
    }
    Some(found)
}

struct Outliner<'s> {
    lang: Lang,
    src: &'s str,
    out: String,
    items: usize,
}

impl<'s> Outliner<'s> {
    /// Visits the named children of `node`; `start_override` carries the start
    /// of a wrapper (`export`, decorators, `template<...>`) to its definition.
    fn children(&mut self, node: Node<'_>, start_override: Option<usize>) {
        let mut cursor = node.walk();
        let kids: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
        for (i, child) in kids.iter().enumerate() {
            let kind = child.kind();
            let is_def = self.lang.is_signature(kind)
                || self.lang.is_container(kind)
                || self.lang.is_whole(kind);
            if is_def {
                let lead = start_override.unwrap_or_else(|| self.leading_start(&kids, i));
                self.definition(*child, lead);
            } else if self.lang.is_transparent(kind) {
                let wrapper = matches!(
                    kind,
                    "export_statement" | "template_declaration" | "decorated_definition"
                );
                let lead = if wrapper {
                    Some(start_override.unwrap_or_else(|| self.leading_start(&kids, i)))
                } else {
                    None
                };
                self.children(*child, lead);
            }
        }
    }

    /// Where the comments and attributes directly above `kids[i]` start.
    fn leading_start(&self, kids: &[Node<'_>], i: usize) -> usize {
        let mut start = kids[i].start_byte();
        let mut row = kids[i].start_position().row;
        for prev in kids[..i].iter().rev() {
            let kind = prev.kind();
            let attached =
                kind.contains("comment") || kind == "attribute_item" || kind == "decorator";
            if !attached || prev.end_position().row + 1 < row {
                break;
            }
            start = prev.start_byte();
            row = prev.start_position().row;
        }
        start
    }

    fn line_start(&self, byte: usize) -> usize {
        self.src[..byte].rfind('\n').map_or(0, |p| p + 1)
    }

    /// The indentation of the line holding `byte`.
    fn indent_of(&self, byte: usize) -> &'s str {
        let ls = self.line_start(byte);
        let line = &self.src[ls..];
        let end = line.find(|c: char| !(c == ' ' || c == '\t')).unwrap_or(line.len());
        &line[..end]
    }

    fn push_text(&mut self, start: usize, end: usize) {
        let ls = self.line_start(start);
        let from = if self.src[ls..start].trim().is_empty() { ls } else { start };
        let text = self.src[from..end].trim_end();
        if from == start {
            self.out.push_str(self.indent_of(start));
        }
        self.out.push_str(text);
    }

    /// Writes `src[lead..end]` for a definition that starts at `def`, with
    /// each comment above it cut to its first paragraph.
    fn push_def(&mut self, lead: usize, def: usize, end: usize) {
        let (lead_line, def_line) = (self.line_start(lead), self.line_start(def));
        // Only whole lines of comments are cut (the definition's own line
        // may start with a wrapper such as `export`).
        if lead < def_line && self.src[lead_line..lead].trim().is_empty() {
            let comments = &self.src[lead_line..def_line];
            self.out.push_str(&first_paragraphs(comments, self.lang == Lang::Python));
            self.push_text(def_line + self.indent_of(def).len(), end);
        } else {
            self.push_text(lead, end);
        }
    }

    fn definition(&mut self, node: Node<'_>, lead: usize) {
        self.items += 1;
        let kind = node.kind();
        let body = node.child_by_field_name("body");
        if self.lang.is_whole(kind) || body.is_none() {
            let start_line = self.line_start(lead);
            let text = &self.src[start_line..node.end_byte()];
            let lines: Vec<&str> = text.lines().collect();
            if lines.len() > MAX_WHOLE_LINES {
                self.push_def(lead, node.start_byte(), node.start_byte());
                // Show the head of a long definition, then say how much was cut.
                let head_end = start_line
                    + lines[..MAX_WHOLE_LINES].iter().map(|l| l.len() + 1).sum::<usize>();
                let head_end = head_end.min(node.end_byte()).max(node.start_byte());
                self.out.push_str(self.src[node.start_byte()..head_end].trim_end());
                let comment = if self.lang.uses_braces() { "//" } else { "#" };
                self.out.push_str(&format!(
                    "\n{}    {comment} … {} more lines\n",
                    self.indent_of(node.start_byte()),
                    lines.len() - MAX_WHOLE_LINES
                ));
            } else {
                self.push_def(lead, node.start_byte(), node.end_byte());
                self.out.push('\n');
            }
            return;
        }
        let body = body.expect("checked above");
        self.push_def(lead, node.start_byte(), body.start_byte());
        let indent = self.indent_of(node.start_byte());
        if self.lang == Lang::Python {
            self.out.push('\n');
            let inner_indent = format!("{indent}    ");
            if let Some(doc) = python_docstring(body) {
                self.out.push_str(&inner_indent);
                let doc = &self.src[doc.start_byte()..doc.end_byte()];
                self.out.push_str(&first_paragraph_of_docstring(doc, &inner_indent));
                self.out.push('\n');
            }
            if self.lang.is_container(kind) {
                let before = self.out.len();
                self.children(body, None);
                if self.out.len() == before {
                    self.out.push_str(&format!("{inner_indent}...\n"));
                }
            } else {
                self.out.push_str(&format!("{inner_indent}...\n"));
            }
            return;
        }
        if self.lang.is_container(kind) {
            self.out.push_str(" {\n");
            self.children(body, None);
            self.out.push_str(indent);
            self.out.push_str("}\n");
        } else {
            self.out.push_str(" { … }\n");
        }
    }
}

/// The most lines kept of one comment's first paragraph.
const MAX_COMMENT_LINES: usize = 8;

/// The comment marker and text of `line` (without its indentation), if it
/// is a comment line: `//`, `///`, `//!`, a block comment's `/*`, `*` and
/// `*/`, or `#` in Python.
fn comment_line(line: &str, python: bool) -> Option<(&str, &str)> {
    let markers: &[&str] =
        if python { &["#"] } else { &["///", "//!", "//", "/**", "/*!", "/*", "*/", "*"] };
    let marker = markers.iter().find(|m| line.starts_with(**m))?;
    let text = line[marker.len()..].trim();
    Some((marker, text.strip_suffix("*/").unwrap_or(text).trim()))
}

/// `lines` (the comments and attributes above a definition, whole lines)
/// with each run of comment lines cut after its first paragraph, and a
/// `…` line where something was cut. Attributes and decorators stay.
fn first_paragraphs(lines: &str, python: bool) -> String {
    let mut out = String::with_capacity(lines.len());
    // Within a run of comment lines: lines kept, whether any had text,
    // whether the rest of the run is being cut, and whether a block comment
    // is open.
    let (mut kept, mut seen_text, mut cutting, mut block) = (0, false, false, false);
    for line in lines.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let Some((marker, text)) = comment_line(trimmed, python) else {
            (kept, seen_text, cutting, block) = (0, false, false, false);
            out.push_str(line);
            continue;
        };
        block |= marker.starts_with("/*");
        let closes = block && trimmed.trim_end().ends_with("*/");
        if closes {
            block = false;
        }
        if !cutting {
            let ends_paragraph = seen_text && text.is_empty() && marker != "*/";
            if !ends_paragraph && kept < MAX_COMMENT_LINES {
                out.push_str(line);
                kept += 1;
                seen_text |= !text.is_empty();
                if closes {
                    (kept, seen_text) = (0, false);
                }
                continue;
            }
            cutting = true;
            let shown = if marker.starts_with("/*") || marker == "*/" { "*" } else { marker };
            out.push_str(&format!("{indent}{shown} …\n"));
        }
        if closes {
            // The block comment still needs its end.
            out.push_str(&format!("{indent}*/\n"));
            (kept, seen_text, cutting) = (0, false, false);
        }
    }
    out
}

/// A Python docstring cut to its first paragraph.
fn first_paragraph_of_docstring(doc: &str, indent: &str) -> String {
    let quote = ["\"\"\"", "'''"].into_iter().find(|q| doc.ends_with(q) && doc.len() > 6);
    let Some(quote) = quote else { return doc.to_string() };
    let lines: Vec<&str> = doc.lines().collect();
    let para = lines.iter().skip(1).position(|l| l.trim().is_empty()).map(|p| p + 1);
    let keep = para.unwrap_or(lines.len()).min(MAX_COMMENT_LINES);
    if keep >= lines.len() {
        return doc.to_string();
    }
    format!("{}\n{indent}…\n{indent}{quote}", lines[..keep].join("\n"))
}

fn python_docstring(body: Node<'_>) -> Option<Node<'_>> {
    let first = body.named_child(0)?;
    if first.kind() != "expression_statement" {
        return None;
    }
    let string = first.named_child(0)?;
    (string.kind() == "string").then_some(string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_outline_keeps_docs_signatures_and_types() {
        let src = r#"//! crate doc
use std::fmt;

/// A point.
#[derive(Debug)]
pub struct Point { pub x: i32, pub y: i32 }

/// Adds.
pub fn add(a: i32, b: i32) -> i32 {
    let c = a + b;
    c
}

impl Point {
    /// Creates a point.
    pub fn new(x: i32, y: i32) -> Self {
        Point { x, y }
    }
}
"#;
        let o = outline("src/lib.rs", src).expect("outline");
        assert!(
            o.contains(
                "/// A point.\n#[derive(Debug)]\npub struct Point { pub x: i32, pub y: i32 }"
            ),
            "{o}"
        );
        assert!(o.contains("/// Adds.\npub fn add(a: i32, b: i32) -> i32 { … }"), "{o}");
        assert!(o.contains("impl Point {\n    /// Creates a point.\n    pub fn new(x: i32, y: i32) -> Self { … }\n}"), "{o}");
        assert!(!o.contains("let c = a + b"), "{o}");
    }

    #[test]
    fn comments_are_cut_to_their_first_paragraph() {
        let src = r#"/// Parses a config.
///
/// Long explanation
/// over lines.
#[derive(Debug)]
pub struct Config;

/**
 * Runs it.
 *
 * Details.
 */
fn run() {}
"#;
        let o = outline("src/lib.rs", src).expect("outline");
        assert!(
            o.contains("/// Parses a config.\n/// …\n#[derive(Debug)]\npub struct Config;"),
            "{o}"
        );
        assert!(o.contains("/**\n * Runs it.\n * …\n */\nfn run() { … }"), "{o}");
        assert!(!o.contains("Long explanation") && !o.contains("Details."), "{o}");
        let js = "/**\n * Adds.\n *\n * @param a\n */\nexport function add(a) {\n  return a;\n}\n";
        let o = outline("a.js", js).expect("outline");
        assert!(o.contains("/**\n * Adds.\n * …\n */\nexport function add(a) { … }"), "{o}");
        // A comment of one paragraph stays whole, its end included.
        let src = "/**\n * Runs it.\n */\nfn run() {}\n";
        assert!(outline("a.c", src).unwrap().contains("/**\n * Runs it.\n */\nfn run"));
        let src = "def f():\n    \"\"\"Does f.\n\n    More.\n    \"\"\"\n    return 1\n";
        let o = outline("a.py", src).unwrap();
        assert!(o.contains("def f():\n    \"\"\"Does f.\n    …\n    \"\"\"\n    ...\n"), "{o}");
    }

    #[test]
    fn python_outline_keeps_docstrings() {
        let src = "import os\n\nclass A(Base):\n    \"\"\"An A.\"\"\"\n\n    @property\n    def size(self) -> int:\n        \"\"\"The size.\"\"\"\n        return 3\n\ndef main():\n    print('hi')\n";
        let o = outline("a.py", src).expect("outline");
        assert!(o.contains("class A(Base):\n    \"\"\"An A.\"\"\"\n    @property\n    def size(self) -> int:\n        \"\"\"The size.\"\"\"\n        ...\n"), "{o}");
        assert!(o.contains("def main():\n    ...\n"), "{o}");
        assert!(!o.contains("print"), "{o}");
    }

    #[test]
    fn other_languages_outline() {
        let cases: &[(&str, &str, &str, &str)] = &[
            ("a.js", "export function f(a) { return a + 1; }\nclass K { m() { return 2; } }\n", "export function f(a) { … }", "return a + 1"),
            ("a.ts", "interface I { x: number }\nexport class C { private y = 1; go(): void { run(); } }\n", "go(): void { … }", "run()"),
            ("a.go", "package main\n// Run runs.\nfunc Run(x int) error {\n\treturn nil\n}\ntype T struct { A int }\n", "// Run runs.\nfunc Run(x int) error { … }", "return nil"),
            ("A.java", "public class A {\n  /** Doc. */\n  public int f(int x) { return x; }\n}\n", "public int f(int x) { … }", "return x"),
            ("a.c", "#include <stdio.h>\nint add(int a, int b);\nint add(int a, int b) {\n  return a + b;\n}\n", "int add(int a, int b) { … }", "return a + b"),
            ("a.cpp", "namespace n {\nclass K {\n public:\n  int get() const { return v; }\n  int v;\n};\n}\n", "int get() const { … }", "return v"),
        ];
        for (path, src, want, gone) in cases {
            let o = outline(path, src).unwrap_or_else(|| panic!("no outline for {path}"));
            assert!(o.contains(want), "{path}: {o}");
            assert!(!o.contains(gone), "{path}: {o}");
        }
        assert!(outline("a.txt", "fn x() {}").is_none());
        assert!(supports("x.tsx") && !supports("x.md"));
    }

    #[test]
    fn functions_are_found_with_their_lines_and_bodies() {
        let py = "import os\n\nclass A:\n    def m(self):\n        pass\n\n\ndef f(x):\n    \"\"\"Doc.\"\"\"\n    return x + 1\n";
        let found = functions("a.py", py).unwrap();
        let names: Vec<(&str, usize, usize)> =
            found.iter().map(|f| (f.name.as_str(), f.start, f.end)).collect();
        assert_eq!(names, [("m", 4, 5), ("f", 8, 10)]);
        assert_eq!(found[0].body, "pass");
        let rs = "pub fn a() -> u8 {\n    todo!()\n}\n\nimpl S {\n    fn b(&self) {}\n}\n";
        let found = functions("lib.rs", rs).unwrap();
        assert_eq!(found[0].name, "a");
        assert_eq!((found[0].start, found[0].end), (1, 3));
        assert!(found[0].body.contains("todo!()"));
        assert_eq!((found[1].name.as_str(), found[1].start), ("b", 6));
        assert!(functions("notes.txt", "def f(): pass").is_none());
    }
}
