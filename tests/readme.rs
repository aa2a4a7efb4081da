//! README.md stays true to the tree: its Layout section names paths that exist, and names every
//! file and folder of `src/`.

use std::path::Path;

fn layout_section() -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme.find("\n## Layout").expect("a Layout section");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    rest[..end].to_string()
}

/// The `code` spans of the first column of the section's table, split on commas.
fn named_paths(section: &str) -> Vec<String> {
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| l.split('|').nth(1))
        .flat_map(|cell| cell.split(',').map(|p| p.trim().trim_matches('`').to_string()).collect::<Vec<_>>())
        .collect()
}

#[test]
fn every_path_in_the_layout_exists_and_every_src_entry_is_named() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let named = named_paths(&layout_section());
    assert!(named.len() >= 15, "{named:?}");
    for path in &named {
        assert!(root.join(path).exists(), "README Layout names {path}, which does not exist");
    }
    for entry in std::fs::read_dir(root.join("src")).unwrap() {
        let entry = entry.unwrap();
        let mut path = format!("src/{}", entry.file_name().to_string_lossy());
        if entry.file_type().unwrap().is_dir() {
            path.push('/');
        }
        assert!(named.contains(&path), "README Layout does not name {path}");
    }
}
