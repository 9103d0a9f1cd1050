//! The shape of `src/`: no file over 600 lines, and no import circle between files.
//!
//! A file depends on another when it names a module or item of it: in a `use`
//! declaration or in a path in its code (`crate::…`, `super::…`, a child module, or a
//! name a `use` brought in). Module declarations (`mod x;`) are not dependencies.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 600;

type ModPath = Vec<String>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/oauth/grants/mod.rs` → `[oauth, grants]`; `src/lib.rs` → `[]`.
fn module_path(src: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: ModPath = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The code without comments, string contents and the unit-test module (whose
/// `super::` is the file itself).
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if text[i..].starts_with("//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if text[i..].starts_with("/*") {
            i += text[i..].find("*/").map_or(bytes.len(), |e| e + 2);
        } else if bytes[i] == b'"' && !text[..i].ends_with('\'') {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else {
            out.push(bytes[i] as char);
            i += 1;
        }
    }
    out
}

/// `a::{b, c::{d, self}}` → `a::b`, `a::c::d`, `a::c`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.to_owned()];
    };
    let prefix = tree[..open].trim_end_matches("::");
    let inner = &tree[open + 1..tree.rfind('}').unwrap()];
    let (mut depth, mut start, mut items) = (0, 0, Vec::new());
    for (i, ch) in inner.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    items
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .flat_map(|item| {
            expand(item).into_iter().map(move |p| {
                if p == "self" {
                    prefix.to_owned()
                } else {
                    format!("{prefix}::{p}")
                }
            })
        })
        .collect()
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every `a::b::c` path in the code.
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = code.chars().collect();
    let mut paths = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !is_ident(chars[i]) || (i > 0 && (is_ident(chars[i - 1]) || chars[i - 1] == ':')) {
            i += 1;
            continue;
        }
        let mut segments = Vec::new();
        let mut j = i;
        loop {
            let start = j;
            while j < chars.len() && is_ident(chars[j]) {
                j += 1;
            }
            segments.push(chars[start..j].iter().collect::<String>());
            if chars.get(j) == Some(&':')
                && chars.get(j + 1) == Some(&':')
                && chars.get(j + 2).is_some_and(|c| is_ident(*c))
            {
                j += 2;
            } else {
                break;
            }
        }
        if segments.len() > 1 {
            paths.push(segments);
        }
        i = j.max(i + 1);
    }
    paths
}

struct Module {
    path: ModPath,
    file: PathBuf,
    code: String,
}

fn dependencies(module: &Module, known: &BTreeSet<ModPath>) -> BTreeSet<ModPath> {
    let code = &module.code;
    let children: BTreeSet<String> = known
        .iter()
        .filter(|p| p.len() == module.path.len() + 1 && p.starts_with(&module.path))
        .map(|p| p.last().unwrap().clone())
        .collect();
    // Names brought in by `use`, with the path each stands for.
    let mut uses: Vec<String> = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("use ") {
        let before = rest[..at].chars().last();
        let after = &rest[at + 4..];
        let end = after.find(';').unwrap_or(after.len());
        if before.is_none_or(|c| !is_ident(c) && c != ':') {
            uses.extend(expand(&after[..end]));
        }
        rest = &after[end.min(after.len())..];
    }
    let mut aliases: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut referenced: Vec<Vec<String>> = Vec::new();
    for u in &uses {
        let (path, alias) = match u.split_once(" as ") {
            Some((p, a)) => (p.trim(), a.trim().to_owned()),
            None => (u.as_str(), u.rsplit("::").next().unwrap().to_owned()),
        };
        let segments: Vec<String> = path.split("::").map(|s| s.trim().to_owned()).collect();
        aliases.insert(alias, segments.clone());
        referenced.push(segments);
    }
    referenced.extend(paths_in(code));
    let mut deps = BTreeSet::new();
    for segments in referenced {
        let mut resolved: ModPath = match segments[0].as_str() {
            "crate" => Vec::new(),
            "self" => module.path.clone(),
            "super" => {
                let mut p = module.path.clone();
                p.pop();
                p
            }
            first if children.contains(first) => {
                let mut p = module.path.clone();
                p.push(first.to_owned());
                p
            }
            first => match aliases.get(first) {
                Some(target) if target[0] != first => {
                    let mut full = target.clone();
                    full.extend(segments[1..].iter().cloned());
                    // Resolve the alias's own start once more.
                    if full[0] == "crate" || full[0] == "super" || full[0] == "self" {
                        let m = Module {
                            path: module.path.clone(),
                            file: module.file.clone(),
                            code: format!("{};", full.join("::")),
                        };
                        deps.extend(dependencies(&m, known));
                    }
                    continue;
                }
                _ => continue,
            },
        };
        for s in segments.iter().skip(1) {
            if s == "super" {
                resolved.pop();
            } else {
                resolved.push(s.clone());
            }
        }
        while !resolved.is_empty() && !known.contains(&resolved) {
            resolved.pop();
        }
        if known.contains(&resolved) && resolved != module.path {
            deps.insert(resolved);
        }
    }
    deps
}

fn modules() -> Vec<Module> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files
        .into_iter()
        // The binary is its own crate: it reaches the library only by `localidp::`.
        .filter(|f| f.file_name().is_some_and(|n| n != "main.rs") || f.parent() != Some(&src))
        .map(|file| Module {
            path: module_path(&src, &file),
            code: code_of(&std::fs::read_to_string(&file).unwrap()),
            file,
        })
        .collect()
}

#[test]
fn no_source_file_is_longer_than_600_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).unwrap().lines().count();
            (lines > MAX_LINES).then(|| format!("{} ({lines} lines)", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "files over {MAX_LINES} lines: {long:#?}");
}

#[test]
fn no_two_files_of_src_import_each_other_even_indirectly() {
    let modules = modules();
    let known: BTreeSet<ModPath> = modules.iter().map(|m| m.path.clone()).collect();
    let graph: BTreeMap<ModPath, BTreeSet<ModPath>> = modules
        .iter()
        .map(|m| (m.path.clone(), dependencies(m, &known)))
        .collect();
    // Depth-first search for a back edge; report the circle it closes.
    fn visit(
        node: &ModPath,
        graph: &BTreeMap<ModPath, BTreeSet<ModPath>>,
        stack: &mut Vec<ModPath>,
        done: &mut BTreeSet<ModPath>,
        circles: &mut Vec<String>,
    ) {
        if done.contains(node) {
            return;
        }
        if let Some(at) = stack.iter().position(|n| n == node) {
            let circle: Vec<String> = stack[at..]
                .iter()
                .chain(std::iter::once(node))
                .map(|p| format!("crate::{}", p.join("::")))
                .collect();
            circles.push(circle.join(" -> "));
            return;
        }
        stack.push(node.clone());
        for next in &graph[node] {
            visit(next, graph, stack, done, circles);
        }
        stack.pop();
        done.insert(node.clone());
    }
    let mut circles = Vec::new();
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, &graph, &mut Vec::new(), &mut done, &mut circles);
    }
    assert!(circles.is_empty(), "import circles: {circles:#?}");
}

#[test]
fn the_dependency_scanner_sees_uses_paths_and_child_modules() {
    let known: BTreeSet<ModPath> = [
        vec![],
        vec!["a".to_owned()],
        vec!["a".to_owned(), "b".to_owned()],
        vec!["c".to_owned()],
        vec!["d".to_owned()],
    ]
    .into_iter()
    .collect();
    let module = Module {
        path: vec!["a".to_owned()],
        file: PathBuf::from("src/a.rs"),
        code: code_of(
            "use crate::c::{self, Thing};\n// crate::d::x in a comment\nfn f() { b::g(); \"crate::d\"; }",
        ),
    };
    let deps = dependencies(&module, &known);
    assert!(deps.contains(&vec!["c".to_owned()]));
    assert!(deps.contains(&vec!["a".to_owned(), "b".to_owned()]));
    assert!(!deps.contains(&vec!["d".to_owned()]));
}
