//! The client's state: the connection's phase, the handlers, and the promises of `start()` and
//! `stop()`, driven by the socket's events.

use std::{cell::RefCell, rc::Rc};

use js_sys::{Function, JsString, Object, Promise, Reflect};
use wasm_bindgen::{JsValue, prelude::Closure};
use wasm_bindgen_futures::{JsFuture, future_to_promise, spawn_local};

use crate::{
    dispatch::Dispatch,
    error::ClientError,
    handlers::Handlers,
    http::post_config,
    messages::{self, Stream},
    options::ClientOptions,
    socket::{Socket, SocketEvent},
};

/// A client; clones share it.
#[derive(Debug, Clone)]
pub(crate) struct Client(Rc<RefCell<Inner>>);

#[derive(Debug)]
struct Inner {
    options: ClientOptions,
    phase: Phase,
    socket: Option<Socket>,
    handlers: Handlers<Function>,
    /// The socket's `onmessage`, and what it reads.
    dispatch: Dispatch,
    /// Told of exceptions thrown by handlers; `console.error` without it.
    on_error: Option<Function>,
    /// `start()`'s promise, settled by the first frame (or the socket closing).
    started: Option<(Function, Function)>,
    /// `stop()`'s promises, resolved when the socket has closed.
    stopped: Vec<Function>,
    /// `messages()` iterators, ended when the socket closes.
    streams: Vec<Rc<RefCell<Stream>>>,
}

impl Inner {
    /// Hands the handlers as they are now to the dispatch.
    fn handlers_changed(&self) {
        let handlers = self.handlers.snapshot();
        self.dispatch
            .set_handlers(handlers.iter().map(|(_, handler)| handler));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Starting,
    Open,
    Closed,
}

impl Client {
    pub(crate) fn new(options: ClientOptions, on_error: Option<Function>) -> Self {
        Self(Rc::new_cyclic(|weak| {
            let (to_inspect, to_report) = (weak.clone(), weak.clone());
            let dispatch = Dispatch::new(
                options.debug,
                move |frame| {
                    if let Some(inner) = to_inspect.upgrade() {
                        Client(inner).on_first_frame(&frame);
                    }
                },
                move |error| {
                    if let Some(inner) = to_report.upgrade() {
                        Client(inner).report(&error);
                    }
                },
            );
            RefCell::new(Inner {
                options,
                phase: Phase::Idle,
                socket: None,
                handlers: Handlers::default(),
                dispatch,
                on_error,
                started: None,
                stopped: Vec::new(),
                streams: Vec::new(),
            })
        }))
    }

    /// Posts the config (if any), connects, and resolves once the server says `connected`.
    pub(crate) fn start(&self) -> Promise {
        let client = self.clone();
        future_to_promise(async move {
            client
                .connect()
                .await
                .map(|()| JsValue::UNDEFINED)
                .map_err(Into::into)
        })
    }

    async fn connect(&self) -> Result<(), ClientError> {
        let (endpoints, config, debug) = {
            let mut inner = self.0.borrow_mut();
            if matches!(inner.phase, Phase::Starting | Phase::Open) {
                return Err(ClientError::AlreadyStarted);
            }
            inner.phase = Phase::Starting;
            (
                inner.options.endpoints.clone(),
                inner.options.config.clone(),
                inner.options.debug,
            )
        };
        let failed = |error: ClientError| {
            self.0.borrow_mut().phase = Phase::Closed;
            error
        };
        if let Some(config) = config {
            log(
                debug,
                &format!("Configuring server at {}", endpoints.config),
            );
            post_config(&endpoints.config, &config)
                .await
                .map_err(failed)?;
        }
        log(debug, &format!("Connecting to {}", endpoints.socket));
        let connected = Promise::new(&mut |resolve, reject| {
            self.0.borrow_mut().started = Some((resolve, reject));
        });
        let weak = Rc::downgrade(&self.0);
        let listener = {
            let inner = self.0.borrow();
            inner.dispatch.inspect(true);
            inner.dispatch.listener().clone()
        };
        let socket = Socket::open(&endpoints.socket, &listener, move |event| {
            if let Some(inner) = weak.upgrade() {
                Client(inner).on_event(event);
            }
        })
        .map_err(|reason| {
            failed(ClientError::Connect {
                url: endpoints.socket.clone(),
                reason,
            })
        })?;
        self.0.borrow_mut().socket = Some(socket);
        JsFuture::from(connected)
            .await
            .map_err(|e| ClientError::Message(crate::describe(&e)))?;
        log(debug, "Connected");
        Ok(())
    }

    /// Sends a message's JSON text, already known to be valid.
    pub(crate) fn send(&self, text: &JsString) -> Result<(), ClientError> {
        let inner = self.0.borrow();
        match &inner.socket {
            Some(socket) if inner.phase == Phase::Open && socket.is_open() => {
                socket.send(text).map_err(ClientError::Message)
            }
            _ => Err(ClientError::NotConnected),
        }
    }

    /// Adds a handler; the returned function removes it.
    pub(crate) fn on_message(&self, handler: Function) -> Function {
        let id = self.0.borrow_mut().handlers.add(handler);
        self.0.borrow().handlers_changed();
        let weak = Rc::downgrade(&self.0);
        let unsubscribe = Closure::<dyn FnMut()>::new(move || {
            if let Some(inner) = weak.upgrade()
                && inner.borrow_mut().handlers.remove(id)
            {
                inner.borrow().handlers_changed();
            }
        });
        unsubscribe.into_js_value().into()
    }

    /// The frames from now on as an async iterator, until the connection closes.
    pub(crate) fn messages(&self) -> Object {
        let stream = Rc::new(RefCell::new(Stream::default()));
        let unsubscribe = self.on_message(messages::feeder(stream.clone()));
        let mut inner = self.0.borrow_mut();
        if inner.phase == Phase::Closed {
            stream.borrow_mut().end();
        }
        inner.streams.push(stream.clone());
        messages::iterator(stream, unsubscribe)
    }

    /// Closes the connection; resolves once it is closed. Safe to call at any time, twice.
    pub(crate) fn stop(&self) -> Promise {
        let mut inner = self.0.borrow_mut();
        let Some(socket) = &inner.socket else {
            return Promise::resolve(&JsValue::UNDEFINED);
        };
        socket.close();
        let mut resolver = None;
        let closed = Promise::new(&mut |resolve, _| resolver = Some(resolve));
        inner.stopped.extend(resolver);
        closed
    }

    fn on_event(&self, event: SocketEvent) {
        match event {
            SocketEvent::Open => {} // the `connected` frame follows
            // Node 22's WebSocket reports a failed connection with `error` alone, no `close`.
            SocketEvent::Error if self.0.borrow().phase == Phase::Starting => {
                self.on_closed("the connection failed".to_owned());
            }
            SocketEvent::Error => {} // the close follows
            SocketEvent::Closed { code, reason } if reason.is_empty() => {
                self.on_closed(format!("closed with code {code}"));
            }
            SocketEvent::Closed { code, reason } => {
                self.on_closed(format!("closed with code {code}: {reason}"));
            }
        }
    }

    /// A frame while `start()` waits: `connected` resolves it, an `error` (the server's
    /// refusal) rejects it.
    fn on_first_frame(&self, frame: &JsValue) {
        let field = |name: &str| {
            Reflect::get(frame, &name.into())
                .ok()
                .and_then(|v| v.as_string())
        };
        let settle = {
            let mut inner = self.0.borrow_mut();
            match field("type").as_deref() {
                Some("connected") => {
                    inner.phase = Phase::Open;
                    inner.dispatch.inspect(false);
                    inner
                        .started
                        .take()
                        .map(|(resolve, _)| (resolve, JsValue::UNDEFINED))
                }
                Some("error") => inner.started.take().map(|(_, reject)| {
                    let refusal = ClientError::Refused(field("error").unwrap_or_default());
                    (reject, JsValue::from(refusal))
                }),
                _ => None,
            }
        };
        if let Some((settle, value)) = settle {
            let _ = settle.call1(&JsValue::NULL, &value);
        }
    }

    /// The connection is over (`why`): settles `start()` if it was pending and every `stop()`.
    fn on_closed(&self, why: String) {
        let (socket, started, stopped, url, debug) = {
            let mut inner = self.0.borrow_mut();
            inner.phase = Phase::Closed;
            inner.dispatch.inspect(false);
            for stream in inner.streams.drain(..) {
                stream.borrow_mut().end();
            }
            let url = inner.options.endpoints.socket.clone();
            (
                inner.socket.take(),
                inner.started.take(),
                std::mem::take(&mut inner.stopped),
                url,
                inner.options.debug,
            )
        };
        // The socket owns the closure running now: free it after this event, not during it.
        spawn_local(async move { drop(socket) });
        log(debug, &format!("Disconnected: {why}"));
        if let Some((_, reject)) = started {
            let failed = ClientError::Connect { url, reason: why };
            let _ = reject.call1(&JsValue::NULL, &failed.into());
        }
        for resolve in stopped {
            let _ = resolve.call0(&JsValue::NULL);
        }
    }

    /// An exception from a handler or a frame: to `onError`, else the console.
    fn report(&self, error: &JsValue) {
        let on_error = self.0.borrow().on_error.clone();
        match on_error.map(|on_error| on_error.call1(&JsValue::NULL, error)) {
            Some(Ok(_)) => {}
            Some(Err(_)) | None => web_sys::console::error_2(
                &"ClaudeAgentClient: a frame could not be handled".into(),
                error,
            ),
        }
    }
}

fn log(debug: bool, text: &str) {
    if debug {
        web_sys::console::log_1(&text.into());
    }
}
