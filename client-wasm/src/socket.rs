//! The WebSocket transport: `web_sys::WebSocket` with its handlers owned here and detached
//! before it closes, so that no event can reach a freed closure (gloo-net's WebSocket does
//! exactly that in Node, and crashes it).

use js_sys::{Array, Function, JsString};
use wasm_bindgen::{
    JsCast, JsValue,
    prelude::{Closure, wasm_bindgen},
};
use web_sys::{CloseEvent, Event, WebSocket};

/// What the socket reports.
#[derive(Debug)]
pub(crate) enum SocketEvent {
    Open,
    Error,
    Closed { code: u16, reason: String },
}

type Callback<E> = Closure<dyn FnMut(E)>;

/// An open (or opening) WebSocket.
#[derive(Debug)]
pub(crate) struct Socket {
    ws: WebSocket,
    _on_open: Callback<Event>,
    _on_error: Callback<Event>,
    _on_close: Callback<Event>,
}

impl Socket {
    /// Opens `url`, with `token` if the server takes one: frames go to `on_message`, the rest
    /// to `report`.
    pub(crate) fn open(
        url: &str,
        token: Option<&str>,
        on_message: &Function,
        report: impl Fn(SocketEvent) + Clone + 'static,
    ) -> Result<Self, String> {
        // A browser's WebSocket cannot send an Authorization header: the token travels as a
        // subprotocol entry beside the one the server answers with.
        let ws = match token {
            Some(token) => {
                let token = format!("claude-agent.token.{token}");
                let protocols = Array::of2(&"claude-agent".into(), &token.into());
                WebSocket::new_with_str_sequence(url, &protocols)
            }
            None => WebSocket::new(url),
        };
        let ws = ws.map_err(|e| crate::describe(&e))?;
        let to = report.clone();
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_| to(SocketEvent::Open));
        let to = report.clone();
        let on_error = Closure::<dyn FnMut(Event)>::new(move |_| to(SocketEvent::Error));
        // Node has no `CloseEvent` class, so the event is read field by field.
        let on_close = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            let close = event.unchecked_ref::<CloseEvent>();
            report(SocketEvent::Closed {
                code: close.code(),
                reason: close.reason(),
            });
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message));
        ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Self {
            ws,
            _on_open: on_open,
            _on_error: on_error,
            _on_close: on_close,
        })
    }

    pub(crate) fn is_open(&self) -> bool {
        self.ws.ready_state() == WebSocket::OPEN
    }

    pub(crate) fn send(&self, text: &JsString) -> Result<(), String> {
        self.ws
            .unchecked_ref::<TextSender>()
            .send(text)
            .map_err(|e| crate::describe(&e))
    }

    /// Starts a clean close; the `Closed` event follows.
    pub(crate) fn close(&self) {
        let _ = self.ws.close_with_code(1000);
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onerror(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}

#[wasm_bindgen]
extern "C" {
    /// A `WebSocket`, for a `send` that takes a JS string as it is (web_sys's takes a `&str`,
    /// copied out of wasm memory).
    type TextSender;
    #[wasm_bindgen(method, js_name = send, catch)]
    fn send(this: &TextSender, text: &JsString) -> Result<(), JsValue>;
}
