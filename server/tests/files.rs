//! The files API against the real server: files written (atomically), read, listed, removed
//! and watched, paths refused, on a v1 session (its own `cwd` and additional directory) and on
//! the legacy routes (the server's workspace). No turn runs: the fake agent is enough.

use std::{
    fs,
    os::unix::fs::{PermissionsExt, symlink},
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use claude_agent_testkit::{PATIENCE, TestServer, built_binary, json_answer};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use tempfile::TempDir;

const SERVER: &str = env!("CARGO_BIN_EXE_claude-agent-server");

async fn server() -> TestServer {
    let fake = built_binary(Path::new(SERVER), "fake-agent");
    TestServer::start(Path::new(SERVER), &fake, &[], &[]).await
}

/// A session's files, through its routes.
struct Files<'a> {
    server: &'a TestServer,
    /// `/v1/sessions/{id}`, or empty for the legacy routes.
    base: String,
    /// Its `cwd`, links resolved.
    cwd: PathBuf,
    /// Its additional directory.
    extra: PathBuf,
    client: reqwest::Client,
}

/// A folder made for a test, by its real path (as the server answers paths).
fn folder() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().canonicalize().unwrap();
    (dir, path)
}

impl<'a> Files<'a> {
    /// A v1 session working in `cwd` with the additional directory `extra`.
    async fn session(server: &'a TestServer, cwd: &Path, extra: &Path) -> Self {
        let config = json!({"cwd": cwd, "additionalDirectories": [extra]});
        let session = server.create_session(&json!({ "config": config })).await;
        Self::new(
            server,
            format!("/v1/sessions/{}", session["id"].as_str().unwrap()),
            cwd,
            extra,
        )
    }

    /// The legacy session, working in the server's workspace, given `extra` by `/config`.
    async fn legacy(server: &'a TestServer, extra: &Path) -> Self {
        let config = json!({"additionalDirectories": [extra]});
        let (status, answer) = server.request(Method::POST, "/config", Some(&config)).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let workspace = server.home.path().join("workspace").canonicalize().unwrap();
        Self::new(server, String::new(), &workspace, extra)
    }

    fn new(server: &'a TestServer, base: String, cwd: &Path, extra: &Path) -> Self {
        Self {
            server,
            base,
            cwd: cwd.to_owned(),
            extra: extra.to_owned(),
            client: reqwest::Client::new(),
        }
    }

    fn request(
        &self,
        method: Method,
        route: &str,
        query: &[(&str, &str)],
    ) -> reqwest::RequestBuilder {
        let url = self.server.url(&format!("{}/files{route}", self.base));
        self.client.request(method, url).query(query)
    }

    async fn put(&self, path: &str, content: impl Into<reqwest::Body>) -> (StatusCode, Value) {
        let request = self
            .request(Method::PUT, "", &[("path", path)])
            .body(content);
        json_answer(request).await
    }

    /// The status, the content type and the body.
    async fn get(&self, path: &str, format: Option<&str>) -> (StatusCode, String, Vec<u8>) {
        let mut query = vec![("path", path)];
        query.extend(format.map(|format| ("format", format)));
        let response = self.request(Method::GET, "", &query).send().await.unwrap();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map_or_else(String::new, |value| value.to_str().unwrap().to_owned());
        (
            response.status(),
            content_type,
            response.bytes().await.unwrap().to_vec(),
        )
    }

    async fn delete(&self, path: &str) -> (StatusCode, Value) {
        json_answer(self.request(Method::DELETE, "", &[("path", path)])).await
    }

    async fn list(&self, path: &str) -> (StatusCode, Value) {
        json_answer(self.request(Method::GET, "/list", &[("path", path)])).await
    }

    /// The names in the folder at `path`.
    async fn names(&self, path: &str) -> Vec<String> {
        let (status, list) = self.list(path).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let entries = list["entries"].as_array().unwrap();
        entries
            .iter()
            .map(|entry| entry["name"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Watches the folder at `path`, once its `start` event has come.
    async fn watch(&self, path: &str, recursive: bool) -> Events {
        let recursive = recursive.to_string();
        let query = [("path", path), ("recursive", recursive.as_str())];
        let response = self
            .request(Method::GET, "/watch", &query)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/event-stream"
        );
        let mut events = Events {
            response,
            buffer: Vec::new(),
        };
        assert_eq!(
            events.next().await,
            Some(("start".to_owned(), "{}".to_owned()))
        );
        events
    }
}

/// A watch's server-sent events, as they arrive.
struct Events {
    response: reqwest::Response,
    /// What has come of the event being read.
    buffer: Vec<u8>,
}

impl Events {
    /// The next event's name (`message` if it has none) and data; `None` once the stream ends.
    /// Comments (keepalives) are skipped, and count for no event.
    async fn next(&mut self) -> Option<(String, String)> {
        tokio::time::timeout(PATIENCE, self.read())
            .await
            .expect("no event in time")
    }

    async fn read(&mut self) -> Option<(String, String)> {
        loop {
            while let Some(end) = self.buffer.windows(2).position(|two| two == b"\n\n") {
                let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
                let (mut name, mut data) = ("message".to_owned(), None);
                for line in std::str::from_utf8(&block).unwrap().lines() {
                    if let Some(value) = line.strip_prefix("event: ") {
                        name = value.to_owned();
                    } else if let Some(value) = line.strip_prefix("data: ") {
                        data = Some(value.to_owned());
                    }
                }
                if let Some(data) = data {
                    return Some((name, data));
                }
            }
            let chunk = self.response.chunk().await.unwrap()?;
            self.buffer.extend_from_slice(&chunk);
        }
    }

    /// The changes up to and including the first of `kind` to `name`.
    async fn until(&mut self, kind: &str, name: &str) -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            let (event, data) = self.next().await.unwrap_or_else(|| {
                panic!("the watch ended before a {kind} of {name}; it saw {seen:?}")
            });
            assert_eq!(event, "message");
            let change: Value = serde_json::from_str(&data).unwrap();
            let found = change["type"] == kind && change["name"] == name;
            seen.push(change);
            if found {
                return seen;
            }
        }
    }
}

fn assert_error(answer: &(StatusCode, Value), status: StatusCode, code: &str, what: &str) {
    assert_eq!(answer.0, status, "{what}: {}", answer.1);
    assert_eq!(answer.1["code"], code, "{what}: {}", answer.1);
    assert!(
        answer.1["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{what}"
    );
}

/// Writes, reads, lists and removes, and what each answers when the path is wrong.
async fn files_round_trip(files: &Files<'_>) {
    // Text, into folders that do not exist yet.
    let text = "héllo wörld\n";
    let (status, entry) = files.put("notes/day/a.txt", text).await;
    assert_eq!(status, StatusCode::OK, "{entry}");
    let written = files.cwd.join("notes/day/a.txt");
    assert_eq!(fs::read_to_string(&written).unwrap(), text);
    let keys: Vec<_> = entry.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["name", "path", "type", "size", "modified"]);
    assert_eq!(entry["name"], "a.txt");
    assert_eq!(entry["path"], written.to_str().unwrap());
    assert_eq!(entry["type"], "file");
    assert_eq!(entry["size"], text.len());
    let modified = humantime::parse_rfc3339(entry["modified"].as_str().unwrap()).unwrap();
    let age = SystemTime::now()
        .duration_since(modified)
        .unwrap_or_default();
    assert!(age < Duration::from_secs(60), "{entry}");

    let (status, content_type, body) = files.get("notes/day/a.txt", Some("text")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "text/plain; charset=utf-8");
    assert_eq!(body, text.as_bytes());
    let (status, content_type, body) = files.get("notes/day/a.txt", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/octet-stream");
    assert_eq!(body, text.as_bytes());

    // Bytes: every byte value, and a character cut at the end; not text.
    let mut binary: Vec<u8> = (0..=255).cycle().take(100_000).collect();
    binary.extend("✓".as_bytes().iter().take(2));
    let (status, entry) = files.put("bin/blob.dat", binary.clone()).await;
    assert_eq!(status, StatusCode::OK, "{entry}");
    assert_eq!(entry["size"], binary.len());
    let (status, _, body) = files.get("bin/blob.dat", Some("bytes")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, binary);
    let answer = json_of(files.get("bin/blob.dat", Some("text")).await);
    assert_error(
        &answer,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not_text",
        "binary as text",
    );
    let (status, _, body) = files.get("bin/blob.dat", Some("utf16")).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "{}",
        String::from_utf8_lossy(&body)
    );

    // An overwrite replaces the file at once, keeps its mode, and leaves no temp file.
    fs::set_permissions(&written, fs::Permissions::from_mode(0o640)).unwrap();
    let (status, entry) = files.put("notes/day/a.txt", "second").await;
    assert_eq!(status, StatusCode::OK, "{entry}");
    assert_eq!(fs::read_to_string(&written).unwrap(), "second");
    assert_eq!(
        fs::metadata(&written).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert_eq!(files.names("notes/day").await, ["a.txt"]);
    // A new file is made as `open` makes one: the umask's mode, not a temp file's 0600.
    let mode = fs::metadata(files.cwd.join("bin/blob.dat"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o044, 0o044, "{mode:o}");

    // Lists: sorted by name, folders and files, sizes, absolute paths.
    for (path, content) in [("l/b.txt", "bb"), ("l/a.txt", "a"), ("l/c/x.txt", "xxx")] {
        assert_eq!(files.put(path, content).await.0, StatusCode::OK, "{path}");
    }
    let (status, list) = files.list("l").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let entries: Vec<_> = list["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].clone(), e["type"].clone(), e["path"].clone()))
        .collect();
    let path = |name: &str| json!(files.cwd.join("l").join(name));
    assert_eq!(
        entries,
        [
            (json!("a.txt"), json!("file"), path("a.txt")),
            (json!("b.txt"), json!("file"), path("b.txt")),
            (json!("c"), json!("dir"), path("c")),
        ]
    );
    assert_eq!(list["entries"][1]["size"], 2);
    // The default is the cwd; an absolute path inside it works as a relative one.
    let (status, root) = json_answer(files.request(Method::GET, "/list", &[])).await;
    assert_eq!(status, StatusCode::OK, "{root}");
    let names: Vec<_> = root["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["name"])
        .collect();
    for name in ["bin", "l", "notes"] {
        assert!(names.contains(&&json!(name)), "{root}");
    }
    let absolute = files.cwd.join("l").display().to_string();
    assert_eq!(files.names(&absolute).await, ["a.txt", "b.txt", "c"]);

    // Removes: a file, a folder with what it holds.
    assert_eq!(files.delete("l/a.txt").await.0, StatusCode::NO_CONTENT);
    assert_eq!(files.delete("l/c").await.0, StatusCode::NO_CONTENT);
    assert_eq!(files.names("l").await, ["b.txt"]);
    assert!(!files.cwd.join("l/c").exists());

    // Missing things, and folders where files are expected and back.
    let missing = [
        json_of(files.get("nothing.txt", None).await),
        files.delete("nothing.txt").await,
        files.delete("l/a.txt").await,
        files.list("nowhere").await,
    ];
    for answer in &missing {
        assert_error(answer, StatusCode::NOT_FOUND, "file_not_found", "missing");
    }
    let cases = [
        (json_of(files.get("l", None).await), "is_a_directory"),
        (files.put("l", "x").await, "is_a_directory"),
        (files.list("l/b.txt").await, "not_a_directory"),
        (files.put("l/b.txt/x.txt", "x").await, "not_a_directory"),
    ];
    for (answer, code) in &cases {
        assert_error(answer, StatusCode::BAD_REQUEST, code, code);
    }
    assert_eq!(fs::read_to_string(files.cwd.join("l/b.txt")).unwrap(), "bb");
}

/// A `GET` answer as a JSON one, for its error body.
fn json_of((status, _, body): (StatusCode, String, Vec<u8>)) -> (StatusCode, Value) {
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn files_are_written_read_listed_and_removed() {
    let server = server().await;
    let (_cwd, cwd) = folder();
    let (_extra, extra) = folder();
    files_round_trip(&Files::session(&server, &cwd, &extra).await).await;
    files_round_trip(&Files::legacy(&server, &extra).await).await;
}

#[tokio::test]
async fn the_routes_are_documented_and_need_a_session() {
    let server = server().await;
    let (status, document) = server.request(Method::GET, "/v1/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let files = &document["paths"]["/v1/sessions/{id}/files"];
    for method in ["get", "put", "delete"] {
        assert!(files[method].is_object(), "{method}: {files}");
    }
    for route in ["list", "watch"] {
        let path = format!("/v1/sessions/{{id}}/files/{route}");
        assert!(document["paths"][&path]["get"].is_object(), "{path}");
    }
    for schema in ["EntryInfo", "EntryList", "FileEvent"] {
        assert!(
            document["components"]["schemas"][schema].is_object(),
            "{schema}"
        );
    }
    // Among the other routes' operations, each is named once.
    let mut ids: Vec<_> = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|methods| methods.as_object().unwrap().values())
        .map(|operation| operation["operationId"].as_str().unwrap())
        .collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "{ids:?}");

    let url = server.url("/v1/sessions/nope/files?path=a.txt");
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["code"], "session_not_found", "{answer}");
}

/// Every path that leads out of the session's folders, or cannot be a path, is refused for
/// reading and writing alike; absolute paths inside them are not.
async fn paths_are_checked(files: &Files<'_>) {
    let (_outside, outside) = folder();
    fs::write(outside.join("secret.txt"), "secret").unwrap();
    symlink(&outside, files.cwd.join("out")).unwrap();
    symlink(outside.join("secret.txt"), files.cwd.join("secret-link")).unwrap();
    let secret = outside.join("secret.txt").display().to_string();
    let new_outside = outside.join("new.txt").display().to_string();
    let long_path = "d/".repeat(2100);
    let long_name = "n".repeat(256);
    let bad = [
        "",
        "..",
        "../x.txt",
        "a/../../x.txt",
        "a/../x.txt",
        "a\0b.txt",
        long_path.as_str(),
        long_name.as_str(),
    ];
    let out = [
        secret.as_str(),
        new_outside.as_str(),
        "/etc/hostname",
        "out/secret.txt",
        "out/new.txt",
        "out/sub/new.txt",
        "secret-link",
    ];
    for (paths, status, code) in [
        (&bad[..], StatusCode::BAD_REQUEST, "bad_path"),
        (&out[..], StatusCode::FORBIDDEN, "outside_workspace"),
    ] {
        for path in paths {
            let what = format!("{path:?}");
            assert_error(&json_of(files.get(path, None).await), status, code, &what);
            assert_error(&files.put(path, "x").await, status, code, &what);
        }
    }
    assert_error(
        &files.list("..").await,
        StatusCode::BAD_REQUEST,
        "bad_path",
        "list ..",
    );
    assert_error(
        &files.list("out").await,
        StatusCode::FORBIDDEN,
        "outside_workspace",
        "list",
    );
    let watch = files.request(Method::GET, "/watch", &[("path", "out")]);
    assert_error(
        &json_answer(watch).await,
        StatusCode::FORBIDDEN,
        "outside_workspace",
        "watch",
    );
    // Nothing was written outside, nor through the link.
    let mut names: Vec<_> = fs::read_dir(&outside)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["secret.txt"]);
    assert_eq!(
        fs::read_to_string(outside.join("secret.txt")).unwrap(),
        "secret"
    );

    // The session's folders themselves cannot be removed; a link out can, and only the link.
    let cwd = files.cwd.display().to_string();
    let extra = files.extra.display().to_string();
    for root in [".", cwd.as_str(), extra.as_str()] {
        assert_error(
            &files.delete(root).await,
            StatusCode::BAD_REQUEST,
            "bad_path",
            root,
        );
    }
    assert_eq!(files.delete("out").await.0, StatusCode::NO_CONTENT);
    assert!(outside.join("secret.txt").exists());
    assert!(!files.cwd.join("out").exists());

    // Absolute paths inside the cwd and the additional directory.
    let inside = files.cwd.join("abs.txt").display().to_string();
    assert_eq!(files.put(&inside, "in").await.0, StatusCode::OK);
    let extra_file = files.extra.join("deep/extra.txt").display().to_string();
    let (status, entry) = files.put(&extra_file, "extra").await;
    assert_eq!(status, StatusCode::OK, "{entry}");
    assert_eq!(entry["path"], extra_file.as_str());
    assert_eq!(files.get(&extra_file, Some("text")).await.2, b"extra");
    assert_eq!(files.names(&extra).await, ["deep"]);
    assert_eq!(files.delete(&extra_file).await.0, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn paths_out_of_the_session_are_refused() {
    let server = server().await;
    let (_cwd, cwd) = folder();
    let (_extra, extra) = folder();
    paths_are_checked(&Files::session(&server, &cwd, &extra).await).await;
    let (_legacy_extra, legacy_extra) = folder();
    paths_are_checked(&Files::legacy(&server, &legacy_extra).await).await;
}

#[tokio::test]
async fn a_write_may_be_64_mib_and_no_more() {
    let server = server().await;
    let (_cwd, cwd) = folder();
    let files = Files::session(&server, &cwd, &cwd).await;
    // Over the 16 MiB of the rest of the API.
    let (status, entry) = files.put("big.bin", vec![7u8; 20 << 20]).await;
    assert_eq!(status, StatusCode::OK, "{entry}");
    assert_eq!(entry["size"], 20 << 20);
    let answer = files.put("huge.bin", vec![7u8; (64 << 20) + 1]).await;
    assert_error(
        &answer,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        "64 MiB + 1",
    );
    assert_eq!(files.names(".").await, ["big.bin"]);
}

/// Watches `w` (which holds `sub/`) and changes it: each change is seen as fsnotify names it;
/// one in `sub/` only when `recursive`.
async fn changes_are_seen(files: &Files<'_>, recursive: bool) {
    let dir = files.cwd.join("w");
    fs::create_dir_all(dir.join("sub")).unwrap();
    fs::write(dir.join("old.txt"), "old").unwrap();
    let mut events = files.watch("w", recursive).await;

    fs::write(dir.join("a.txt"), "a").unwrap();
    let seen = events.until("create", "a.txt").await;
    assert_eq!(seen.last().unwrap()["path"], json!(dir.join("a.txt")));
    // Closed at once: an open file in the folder would hold back the report of its removal.
    let mut old = fs::OpenOptions::new()
        .append(true)
        .open(dir.join("old.txt"))
        .unwrap();
    std::io::Write::write_all(&mut old, b" and more").unwrap();
    drop(old);
    events.until("write", "old.txt").await;
    fs::set_permissions(dir.join("old.txt"), fs::Permissions::from_mode(0o600)).unwrap();
    events.until("chmod", "old.txt").await;
    fs::rename(dir.join("a.txt"), dir.join("b.txt")).unwrap();
    events.until("rename", "a.txt").await;
    events.until("create", "b.txt").await;
    fs::remove_file(dir.join("b.txt")).unwrap();
    events.until("remove", "b.txt").await;
    // A write through the API lands under its name at once; its temp file is not shown.
    assert_eq!(files.put("w/api.txt", "api").await.0, StatusCode::OK);
    let seen = events.until("create", "api.txt").await;
    assert!(
        seen.iter().all(|change| change["name"] == "api.txt"),
        "{seen:?}"
    );

    // A change in the subfolder comes before the one after it, if at all.
    fs::write(dir.join("sub/deep.txt"), "deep").unwrap();
    fs::write(dir.join("marker"), "").unwrap();
    let seen = events.until("create", "marker").await;
    let deep = seen.iter().any(|change| change["name"] == "sub/deep.txt");
    assert_eq!(deep, recursive, "{seen:?}");

    // Files in a folder made at once with them are seen too, though they come before the new
    // folder's own watch.
    if recursive {
        assert_eq!(files.put("w/made/at/once.txt", "x").await.0, StatusCode::OK);
        events.until("create", "made/at/once.txt").await;
        fs::create_dir_all(dir.join("made2/deeper")).unwrap();
        fs::write(dir.join("made2/deeper/x.txt"), "x").unwrap();
        events.until("create", "made2/deeper/x.txt").await;
    }

    // The watch ends with its folder.
    fs::remove_dir_all(&dir).unwrap();
    while events.next().await.is_some() {}
}

#[tokio::test]
async fn changes_are_watched_in_a_folder_and_below_it() {
    let server = server().await;
    let (_cwd, cwd) = folder();
    let (_extra, extra) = folder();
    let session = Files::session(&server, &cwd, &extra).await;
    let legacy = Files::legacy(&server, &extra).await;
    for files in [&session, &legacy] {
        for recursive in [false, true] {
            changes_are_seen(files, recursive).await;
        }
    }
}

#[tokio::test]
async fn a_watch_ends_with_its_session_and_refuses_files() {
    let server = server().await;
    let (_cwd, cwd) = folder();
    let files = Files::session(&server, &cwd, &cwd).await;
    fs::write(cwd.join("file.txt"), "").unwrap();
    let watch = files.request(Method::GET, "/watch", &[("path", "file.txt")]);
    assert_error(
        &json_answer(watch).await,
        StatusCode::BAD_REQUEST,
        "not_a_directory",
        "file",
    );
    let watch = files.request(Method::GET, "/watch", &[("path", "none")]);
    assert_error(
        &json_answer(watch).await,
        StatusCode::NOT_FOUND,
        "file_not_found",
        "none",
    );

    let mut events = files.watch(".", true).await;
    let (status, answer) = server.request(Method::DELETE, &files.base, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
    assert_eq!(events.next().await, None);
}
