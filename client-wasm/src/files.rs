//! The files of the session's workspace, through the server's files API (`/files…` for the
//! legacy session, `/v1/sessions/{id}/files…` for a v1 one; the same in an E2B sandbox):
//! `writeFile`, `readFile`, `removeFile`, `listFiles` and `watchDir`, shaped as the original
//! client's (the e2b SDK's `EntryInfo` and `FilesystemEvent`). Each returns the promise of its
//! request, chained in JS: no Rust future for any of them.

use js_sys::{ArrayBuffer, Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue, prelude::wasm_bindgen};

use crate::{
    client::Client,
    endpoints::Endpoints,
    error::{ClientError, rejected},
    http, watch,
};

#[wasm_bindgen(module = "/js/glue.js")]
extern "C" {
    fn entry(answer: Promise) -> Promise;
    fn entries(answer: Promise) -> Promise;
}

#[wasm_bindgen]
extern "C" {
    /// The global `Blob` class, for `instanceof`.
    #[wasm_bindgen(js_name = Blob)]
    type JsBlob;
}

/// A session's files API.
#[derive(Debug)]
pub(crate) struct Files {
    pub(crate) endpoints: Endpoints,
    /// A v1 session's id; none for the legacy session.
    pub(crate) session: Option<String>,
}

impl Files {
    fn request(&self, method: &str, route: &str, path: &str, query: &str) -> http::Request {
        let url = self.endpoints.files(self.session.as_deref(), route, path);
        self.endpoints.request(method, url + query)
    }

    /// Writes `content` (a string, `Blob`, `ArrayBuffer` or typed array) to `path`, creating
    /// its folders; resolves with the file's entry.
    pub(crate) fn write(&self, path: &str, content: &JsValue) -> Promise {
        let takes = content.is_string()
            || content.is_instance_of::<JsBlob>()
            || content.is_instance_of::<ArrayBuffer>()
            || ArrayBuffer::is_view(content);
        if !takes {
            return rejected(ClientError::Message(
                "writeFile: content must be a string, Blob, ArrayBuffer or Uint8Array".to_owned(),
            ));
        }
        let write = self.request("PUT", "", path, "").body(content);
        entry(write.promise("write file", "json"))
    }

    /// The content of `path`: a string (`"text"`, the default; refused if it is not UTF-8) or a
    /// `Blob`.
    pub(crate) fn read(&self, path: &str, format: &JsValue) -> Promise {
        let (query, read) = match format.as_string().as_deref() {
            _ if format.is_undefined() => ("&format=text", "text"),
            Some("text") => ("&format=text", "text"),
            Some("blob") => ("&format=bytes", "blob"),
            _ => {
                return rejected(ClientError::Message(format!(
                    r#"readFile: format must be "text" or "blob", not {}"#,
                    crate::describe(format)
                )));
            }
        };
        self.request("GET", "", path, query)
            .promise("read file", read)
    }

    /// Removes the file, or the folder with its contents, at `path`.
    pub(crate) fn remove(&self, path: &str) -> Promise {
        let remove = self.request("DELETE", "", path, "");
        remove.promise("remove file", "json") // 204: resolves with undefined
    }

    /// The entries of the folder `path`, sorted by name.
    pub(crate) fn list(&self, path: &str) -> Promise {
        entries(
            self.request("GET", "/list", path, "")
                .promise("list files", "json"),
        )
    }
}

/// `watchDir(path, onEvent, {recursive, onExit})`: resolves with the watch's handle once the
/// server has set it; `stop()` on the handle, or the client's, ends it.
pub(crate) fn watch_dir(
    client: &Client,
    path: &str,
    on_event: &Function,
    opts: &JsValue,
) -> Promise {
    let files = match client.files() {
        Ok(files) => files,
        Err(error) => return rejected(error),
    };
    let option = |key: &str| match opts.is_object() {
        true => Reflect::get(opts, &key.into()).unwrap_or(JsValue::UNDEFINED),
        false => JsValue::UNDEFINED,
    };
    let controller = watch::AbortController::new();
    client.add_watch(controller.clone());
    let query = match option("recursive").is_truthy() {
        true => "&recursive=true",
        false => "",
    };
    let response = (files.request("GET", "/watch", path, query))
        .signal(&controller.signal())
        .promise("watch", "response");
    let (on_exit, report) = (option("onExit"), client.reporter());
    watch::follow(response, &controller, on_event, &on_exit, &report)
}
