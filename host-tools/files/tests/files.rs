//! The files connector, called directly on real directories: every method,
//! the modes and caps, and the escapes (each leaves the file outside
//! untouched and unread).

use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use codemode_files::{Caps, FilesConnector, Mode};
use codemode_runtime::{CallContext, Connector, ConnectorError};
use serde_json::{Value, json};

/// A fresh directory with `root/` (the granted one) and `outside/secret.txt`
/// beside it.
struct Scene {
    base: PathBuf,
    root: PathBuf,
    secret: PathBuf,
}

const SECRET: &str = "the file outside the root";

impl Scene {
    fn new(name: &str) -> Result<Self> {
        let base =
            std::env::temp_dir().join(format!("codemode-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let root = base.join("root");
        std::fs::create_dir_all(&root)?;
        std::fs::create_dir_all(base.join("outside"))?;
        let secret = base.join("outside/secret.txt");
        std::fs::write(&secret, SECRET)?;
        Ok(Self { base, root, secret })
    }

    fn connector(&self, mode: Mode) -> Result<FilesConnector> {
        Ok(FilesConnector::open(&self.root, mode)?)
    }

    /// The file outside is as it was.
    fn untouched(&self) {
        assert_eq!(
            std::fs::read_to_string(&self.secret).expect("the secret"),
            SECRET
        );
    }
}

impl Drop for Scene {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

async fn call(files: &FilesConnector, method: &str, args: Value) -> Result<Value, ConnectorError> {
    let context =
        CallContext::standalone("files", method, Instant::now() + Duration::from_secs(10));
    files.call(&context, args).await
}

/// The error's code, for a call that must fail.
async fn refused(files: &FilesConnector, method: &str, args: Value) -> (String, String) {
    let error = call(files, method, args.clone())
        .await
        .expect_err(&format!("`{method}({args})` must fail"));
    (error.code().to_owned(), error.message().to_owned())
}

#[tokio::test]
async fn every_method_works_inside_the_directory() -> Result<()> {
    let scene = Scene::new("methods")?;
    let files = scene.connector(Mode::ReadWrite)?;
    call(
        &files,
        "write",
        json!({ "path": "data/a.json", "content": "{\"n\":1}", "createDirs": true }),
    )
    .await?;
    call(
        &files,
        "append",
        json!({ "path": "log.txt", "content": "one\n" }),
    )
    .await?;
    call(
        &files,
        "append",
        json!({ "path": "log.txt", "content": "two\n" }),
    )
    .await?;
    let read = call(&files, "read", json!({ "path": "log.txt" })).await?;
    assert_eq!(read["content"], "one\ntwo\n");
    let bytes = call(
        &files,
        "read",
        json!({ "path": "data/a.json", "encoding": "base64" }),
    )
    .await?;
    assert_eq!(bytes["content"], "eyJuIjoxfQ==");
    call(&files, "mkdir", json!({ "path": "empty" })).await?;
    call(
        &files,
        "move",
        json!({ "from": "log.txt", "to": "data/log.txt" }),
    )
    .await?;
    let listed = call(
        &files,
        "list",
        json!({ "recursive": true, "glob": "**/*.{json,txt}" }),
    )
    .await?;
    let mut paths: Vec<&str> = listed["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["path"].as_str())
        .collect();
    paths.sort();
    assert_eq!(paths, ["data/a.json", "data/log.txt"]);
    let stat = call(&files, "stat", json!({ "path": "data" })).await?;
    assert_eq!(stat["type"], "dir");
    let (code, _) = refused(&files, "remove", json!({ "path": "data" })).await;
    assert_eq!(code, "not-empty");
    call(
        &files,
        "remove",
        json!({ "path": "data", "recursive": true }),
    )
    .await?;
    assert!(!scene.root.join("data").exists());
    // No temporary file is left behind by the writes.
    let left: Vec<_> = std::fs::read_dir(&scene.root)?
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    assert_eq!(left, [std::ffi::OsString::from("empty")]);
    Ok(())
}

#[tokio::test]
async fn paths_out_of_the_directory_are_refused() -> Result<()> {
    let scene = Scene::new("escapes")?;
    let files = scene.connector(Mode::ReadWrite)?;
    std::os::unix::fs::symlink("/etc", scene.root.join("etc"))?;
    std::os::unix::fs::symlink(&scene.secret, scene.root.join("secret-link"))?;
    std::fs::create_dir(scene.root.join("sub"))?;
    for (method, args) in [
        ("read", json!({ "path": "../outside/secret.txt" })),
        ("read", json!({ "path": "sub/../../outside/secret.txt" })),
        ("read", json!({ "path": "/etc/passwd" })),
        ("read", json!({ "path": "/proc/self/environ" })),
        ("read", json!({ "path": "etc/passwd" })),
        ("read", json!({ "path": "secret-link" })),
        (
            "write",
            json!({ "path": "../outside/secret.txt", "content": "x" }),
        ),
        (
            "write",
            json!({ "path": "etc/codemode-test", "content": "x" }),
        ),
        ("append", json!({ "path": "secret-link", "content": "x" })),
        ("list", json!({ "path": ".." })),
        ("list", json!({ "path": "etc" })),
        ("stat", json!({ "path": "../outside/secret.txt" })),
        ("move", json!({ "from": "sub", "to": "../outside/moved" })),
        ("remove", json!({ "path": "../outside/secret.txt" })),
        ("mkdir", json!({ "path": "etc/codemode-test" })),
    ] {
        let (code, message) = refused(&files, method, args.clone()).await;
        assert_eq!(code, "outside-root", "`{method}({args})`: {message}");
        assert!(
            !message.contains(&*scene.base.to_string_lossy()),
            "{message}"
        );
        scene.untouched();
    }
    // A symlink's own entry is replaced by a write, never written through.
    assert!(
        scene.root.join("secret-link").is_symlink() || !scene.root.join("secret-link").exists()
    );
    Ok(())
}

#[tokio::test]
async fn a_symlink_swapped_in_during_reads_never_leads_outside() -> Result<()> {
    let scene = Scene::new("race")?;
    let files = Arc::new(scene.connector(Mode::ReadOnly)?);
    std::fs::create_dir(scene.root.join("inside"))?;
    std::fs::write(scene.root.join("inside/secret.txt"), "inside")?;
    std::os::unix::fs::symlink("inside", scene.root.join("link"))?;
    // Another process swaps the link between a directory inside and one
    // outside, as fast as it can, while the reads go on.
    let mut swapper = std::process::Command::new("sh")
        .arg("-c")
        .arg("while :; do ln -sfn inside link.new && mv -T link.new link; ln -sfn ../outside link.new && mv -T link.new link; done")
        .current_dir(&scene.root)
        .stderr(std::process::Stdio::null())
        .spawn()?;
    // At least 1,000 reads, and on until some met the link pointing
    // outside (a loaded machine may start the swapper late), for at most
    // 30 seconds.
    let (mut inside, mut refusals) = (0, 0);
    let until = Instant::now() + Duration::from_secs(30);
    while (inside + refusals < 1_000 || refusals == 0) && Instant::now() < until {
        match call(&files, "read", json!({ "path": "link/secret.txt" })).await {
            Ok(reply) => {
                assert_eq!(reply["content"], "inside", "a read went outside");
                inside += 1;
            }
            Err(error) => {
                assert!(
                    ["outside-root", "not-found"].contains(&error.code()),
                    "{error:?}"
                );
                refusals += 1;
            }
        }
    }
    swapper.kill()?;
    swapper.wait()?;
    assert!(inside + refusals >= 1_000);
    assert!(
        refusals > 0,
        "the swap never raced a read ({inside} inside)"
    );
    scene.untouched();
    Ok(())
}

#[tokio::test]
async fn a_hard_link_to_a_file_outside_is_neither_read_nor_written_through() -> Result<()> {
    let scene = Scene::new("hardlink")?;
    let files = scene.connector(Mode::ReadWrite)?;
    std::fs::hard_link(&scene.secret, scene.root.join("linked.txt"))?;
    let (code, _) = refused(&files, "read", json!({ "path": "linked.txt" })).await;
    assert_eq!(code, "hard-links");
    let (code, _) = refused(
        &files,
        "append",
        json!({ "path": "linked.txt", "content": "x" }),
    )
    .await;
    assert_eq!(code, "hard-links");
    scene.untouched();
    // A write replaces the link with a new file.
    call(
        &files,
        "write",
        json!({ "path": "linked.txt", "content": "new" }),
    )
    .await?;
    assert_eq!(
        std::fs::read_to_string(scene.root.join("linked.txt"))?,
        "new"
    );
    scene.untouched();
    Ok(())
}

#[tokio::test]
async fn a_fifo_is_refused_without_waiting_for_a_writer() -> Result<()> {
    let scene = Scene::new("fifo")?;
    let files = scene.connector(Mode::ReadWrite)?;
    let made = std::process::Command::new("mkfifo")
        .arg(scene.root.join("pipe"))
        .status()?;
    anyhow::ensure!(made.success(), "mkfifo failed");
    let started = Instant::now();
    let (code, message) = refused(&files, "read", json!({ "path": "pipe" })).await;
    assert_eq!(code, "not-a-file", "{message}");
    let (code, message) =
        refused(&files, "append", json!({ "path": "pipe", "content": "x" })).await;
    // No reader: the open fails at once (ENXIO) instead of waiting for one.
    assert!(
        ["not-a-file", "io"].contains(&code.as_str()),
        "{code}: {message}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    Ok(())
}

#[tokio::test]
async fn odd_names_get_clear_errors_and_odd_names_on_disk_are_listed() -> Result<()> {
    let scene = Scene::new("names")?;
    let files = scene.connector(Mode::ReadWrite)?;
    let (code, message) = refused(
        &files,
        "write",
        json!({ "path": "a\u{0}b", "content": "x" }),
    )
    .await;
    assert_eq!(
        (code.as_str(), message.contains("NUL")),
        ("bad-arguments", true),
        "{message}"
    );
    let long = "n".repeat(300);
    let (code, message) = refused(&files, "write", json!({ "path": long, "content": "x" })).await;
    assert_eq!(code, "bad-arguments", "{message}");
    let (code, _) = refused(&files, "read", json!({ "path": "x".repeat(5000) })).await;
    assert_eq!(code, "bad-arguments");
    let raw = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
    std::fs::write(scene.root.join(raw), "latin-1 name")?;
    let listed = call(&files, "list", json!({})).await?;
    assert_eq!(listed["entries"][0]["path"], "caf\u{FFFD}.txt");
    assert_eq!(listed["entries"][0]["nonUtf8"], true);
    Ok(())
}

#[tokio::test]
async fn a_read_only_directory_refuses_every_write() -> Result<()> {
    let scene = Scene::new("read-only")?;
    std::fs::write(scene.root.join("a.txt"), "a")?;
    let files = scene.connector(Mode::ReadOnly)?;
    for (method, args) in [
        ("write", json!({ "path": "b.txt", "content": "b" })),
        ("append", json!({ "path": "a.txt", "content": "b" })),
        ("mkdir", json!({ "path": "d" })),
        ("remove", json!({ "path": "a.txt" })),
        ("move", json!({ "from": "a.txt", "to": "c.txt" })),
    ] {
        let (code, message) = refused(&files, method, args).await;
        assert_eq!(code, "read-only", "{method}: {message}");
    }
    assert_eq!(
        call(&files, "read", json!({ "path": "a.txt" })).await?["content"],
        "a"
    );
    let read_only: Vec<&str> = files
        .methods()
        .iter()
        .filter(|m| m.read_only)
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(read_only, ["read", "list", "stat"]);
    Ok(())
}

#[tokio::test]
async fn caps_are_enforced_and_named() -> Result<()> {
    let scene = Scene::new("caps")?;
    let mut caps = Caps::default();
    caps.read_bytes = 10;
    caps.written_bytes_per_run = 16;
    caps.list_entries = 3;
    let files = scene.connector(Mode::ReadWrite)?.caps(caps);
    std::fs::write(scene.root.join("big.txt"), "0123456789abc")?;
    let (code, message) = refused(&files, "read", json!({ "path": "big.txt" })).await;
    assert_eq!(code, "too-large");
    assert!(
        message.contains("10 bytes") && message.contains("readBytes"),
        "{message}"
    );
    // One run: the written bytes add up across calls.
    let context =
        CallContext::standalone("files", "write", Instant::now() + Duration::from_secs(10));
    files
        .call(&context, json!({ "path": "a", "content": "0123456789" }))
        .await?;
    let error = files
        .call(&context, json!({ "path": "b", "content": "0123456789" }))
        .await
        .expect_err("past the run's written bytes");
    assert_eq!(error.code(), "too-large");
    assert!(
        error.message().contains("writtenBytesPerRun") && error.message().contains("6 are left"),
        "{error:?}"
    );
    for n in 0..5 {
        std::fs::write(scene.root.join(format!("f{n}")), "")?;
    }
    let listed = call(&files, "list", json!({})).await?;
    assert_eq!(listed["entries"].as_array().map(Vec::len), Some(3));
    assert_eq!(listed["truncated"], true);
    Ok(())
}
