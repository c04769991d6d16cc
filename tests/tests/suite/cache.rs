//! The on-disk compile cache, seen through `inspect --json`'s `cache` field: a
//! miss, then hits; an unusable entry is recompiled (`recovered`), never fatal.

use std::path::{Path, PathBuf};

use serde_json::json;
use wasmtasks_tests::{Workspace, example};

/// The cache status of one `inspect --json` of the arith example.
fn cache_status(workspace: &Workspace) -> String {
    let report = workspace.inspect(&example("arith"));
    report["cache"].as_str().expect("a cache field").to_owned()
}

/// The one `.cwasm` entry in the workspace's cache: `<cache>/<engine-hash>/<digest>.cwasm`.
fn only_entry(cache: &Path) -> PathBuf {
    let mut entries = Vec::new();
    for engine_dir in std::fs::read_dir(cache).unwrap() {
        for entry in std::fs::read_dir(engine_dir.unwrap().path()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|ext| ext == "cwasm") {
                entries.push(path);
            }
        }
    }
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries.pop().unwrap()
}

#[test]
fn the_first_load_misses_and_later_loads_hit() {
    let workspace = Workspace::new();
    let report = workspace.inspect(&example("arith"));
    assert_eq!(report["cache"], "miss");
    assert_eq!(report["component"], "arith");
    let entry = only_entry(&workspace.cache_dir());
    let digest = report["digest"].as_str().unwrap();
    assert_eq!(
        entry.file_name().unwrap(),
        format!("{digest}.cwasm").as_str()
    );
    assert_eq!(cache_status(&workspace), "hit");
    assert_eq!(cache_status(&workspace), "hit");
}

#[test]
fn a_run_fills_the_cache_too() {
    let workspace = Workspace::new();
    assert_eq!(
        workspace.task("arith", "add", &["1", "2"]).returned(),
        json!(3)
    );
    assert_eq!(cache_status(&workspace), "hit");
}

#[test]
fn a_garbage_entry_is_recompiled() {
    let workspace = Workspace::new();
    assert_eq!(cache_status(&workspace), "miss");
    let entry = only_entry(&workspace.cache_dir());
    std::fs::write(&entry, b"this is not compiled code").unwrap();
    assert_eq!(cache_status(&workspace), "recovered");
    assert_eq!(
        workspace.task("arith", "add", &["2", "3"]).returned(),
        json!(5)
    );
    assert_eq!(cache_status(&workspace), "hit");
}

#[test]
fn a_truncated_entry_is_recompiled() {
    let workspace = Workspace::new();
    assert_eq!(cache_status(&workspace), "miss");
    let entry = only_entry(&workspace.cache_dir());
    let bytes = std::fs::read(&entry).unwrap();
    for keep in [bytes.len() / 2, bytes.len() - 1, 0] {
        std::fs::write(&entry, &bytes[..keep]).unwrap();
        assert_eq!(cache_status(&workspace), "recovered", "kept {keep} bytes");
        assert_eq!(std::fs::read(&entry).unwrap(), bytes, "entry not rewritten");
        assert_eq!(cache_status(&workspace), "hit");
    }
    assert_eq!(
        workspace.task("arith", "add", &["2", "3"]).returned(),
        json!(5)
    );
}
