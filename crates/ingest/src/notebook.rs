//! Jupyter notebooks shown as their cells, without outputs.
//!
//! A notebook is JSON in which outputs (images as base64, tables, logs)
//! often outweigh the code many times over; a digest that shows the JSON
//! spends most of its tokens on them. A notebook is shown instead in the
//! "percent" format that editors and jupytext read: each cell starts with a
//! `# %%` line, markdown and raw cells are commented out, outputs are left
//! out (and the first line says so).

use serde::Deserialize;

#[derive(Deserialize)]
struct Notebook {
    cells: Vec<Cell>,
    #[serde(default)]
    metadata: serde_json::Value,
}

#[derive(Deserialize)]
struct Cell {
    cell_type: String,
    #[serde(default)]
    source: Source,
    #[serde(default)]
    outputs: Vec<serde_json::Value>,
}

/// A cell's source: one string, or a list of lines (each with its `\n`).
#[derive(Deserialize)]
#[serde(untagged)]
enum Source {
    Text(String),
    Lines(Vec<String>),
}

impl Default for Source {
    fn default() -> Self {
        Source::Text(String::new())
    }
}

impl Source {
    fn text(&self) -> String {
        match self {
            Source::Text(s) => s.clone(),
            Source::Lines(lines) => lines.concat(),
        }
    }
}

/// Is `path` a notebook, by its extension?
pub(crate) fn is_notebook(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("ipynb"))
}

/// The cells of the notebook `json`, one after another in percent format;
/// `None` if it is not a notebook this understands (nbformat 4), in which
/// case the JSON is shown as it is.
pub(crate) fn as_cells(json: &str) -> Option<String> {
    let nb: Notebook = serde_json::from_str(json).ok()?;
    let comment = match nb.metadata.pointer("/kernelspec/language").and_then(|v| v.as_str()) {
        Some("javascript" | "typescript" | "java" | "c++" | "c" | "scala" | "go" | "rust") => "//",
        _ => "#",
    };
    let outputs: usize = nb.cells.iter().map(|c| c.outputs.len()).sum();
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let mut out = format!("{comment} Jupyter notebook: {}", plural(nb.cells.len(), "cell"));
    if outputs > 0 {
        out.push_str(&format!(", {} left out", plural(outputs, "output")));
    }
    out.push('\n');
    for cell in &nb.cells {
        let source = cell.source.text();
        let source = source.trim_end_matches('\n');
        out.push('\n');
        match cell.cell_type.as_str() {
            "code" => {
                out.push_str(&format!("{comment} %%\n"));
                out.push_str(source);
            }
            kind => {
                out.push_str(&format!("{comment} %% [{kind}]"));
                for line in source.lines() {
                    out.push('\n');
                    out.push_str(comment);
                    if !line.is_empty() {
                        out.push(' ');
                        out.push_str(line);
                    }
                }
            }
        }
        out.push('\n');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_without_outputs() {
        let png = "iVBORw0KGgo".repeat(500);
        let json = serde_json::json!({
            "nbformat": 4,
            "metadata": {"kernelspec": {"language": "python"}},
            "cells": [
                {"cell_type": "markdown", "source": ["# Title\n", "\n", "Some text."]},
                {"cell_type": "code", "source": "import math\nprint(math.pi)\n",
                 "outputs": [{"output_type": "display_data", "data": {"image/png": png}}]},
                {"cell_type": "raw", "source": []},
            ]
        })
        .to_string();
        let text = as_cells(&json).unwrap();
        assert_eq!(
            text,
            "# Jupyter notebook: 3 cells, 1 output left out\n\n\
             # %% [markdown]\n# # Title\n#\n# Some text.\n\n\
             # %%\nimport math\nprint(math.pi)\n\n\
             # %% [raw]\n"
        );
        assert!(!text.contains("iVBOR"));
    }

    #[test]
    fn other_json_is_not_a_notebook() {
        assert!(as_cells("{\"name\": \"x\"}").is_none());
        assert!(as_cells("not json").is_none());
        assert!(is_notebook(std::path::Path::new("a/B.IPYNB")));
        assert!(!is_notebook(std::path::Path::new("a/b.json")));
    }
}
