//! The client's state: the connection and its reconnects, the E2B sandbox it runs in (E2B
//! mode), the handlers, and the promises of `start()`, `stop()` and `closed`, driven by the
//! socket's events.

use std::{cell::RefCell, rc::Rc};

use js_sys::{Function, JsString, Math, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue, prelude::Closure};
use wasm_bindgen_futures::{JsFuture, future_to_promise, spawn_local};

use crate::{
    backoff,
    controls::{self, Controls},
    dispatch::Dispatch,
    endpoints::Endpoints,
    error::ClientError,
    files::Files,
    handlers::Handlers,
    messages::{self, Stream},
    options::{ClientOptions, Server, Session},
    prompts::{self, Prompts},
    sandbox::Sandbox,
    sessions,
    socket::{Socket, SocketEvent},
    state::{CloseInfo, ConnectionState as State, StateWatch},
    timer::Timer,
    watch::AbortController,
};

/// A client; clones share it.
#[derive(Debug, Clone)]
pub(crate) struct Client(Rc<RefCell<Inner>>);

#[derive(Debug)]
struct Inner {
    options: ClientOptions,
    watch: StateWatch,
    /// The server's id of the session: given, created by `start()`, or the legacy one's, from
    /// its `connected` frame.
    session_id: Option<String>,
    /// E2B mode: the sandbox `start()` created, until `stop()` (or a failed start) kills it.
    sandbox: Option<Sandbox>,
    socket: Option<Socket>,
    handlers: Handlers<Function>,
    /// The socket's `onmessage`, and what it reads.
    dispatch: Dispatch,
    /// The permission prompts waiting, and `onPermissionRequest`'s handlers.
    prompts: Prompts,
    /// The live controls sent whose results have not come.
    controls: Controls,
    /// Told of exceptions thrown by handlers; `console.error` without it.
    on_error: Option<Function>,
    /// The connection being made, settled by its `connected` frame, a refusal, or its end.
    pending: Option<Pending>,
    /// The wait before the next reconnect attempt.
    backoff: Option<Timer>,
    /// `stop()` was called in this run.
    stopping: bool,
    /// `stop()`'s promises, resolved when the run is over.
    stopped: Vec<Function>,
    /// The last close of this run's sockets.
    last_close: Option<CloseInfo>,
    /// `messages()` iterators, ended with the run.
    streams: Vec<Rc<RefCell<Stream>>>,
    /// `watchDir`'s watches, which `stop()` ends (an open stream keeps Node running).
    watches: Vec<AbortController>,
}

#[derive(Debug)]
struct Pending {
    url: String,
    resolve: Function,
    reject: Function,
}

impl Inner {
    /// Hands the handlers as they are now to the dispatch.
    fn handlers_changed(&self) {
        let handlers = self.handlers.snapshot();
        self.dispatch
            .set_handlers(handlers.iter().map(|(_, handler)| handler));
    }

    /// The server: at `connectionUrl`, or in the sandbox while there is one.
    fn endpoints(&self) -> Result<&Endpoints, ClientError> {
        match (&self.options.server, &self.sandbox) {
            (Server::At(endpoints), _) => Ok(endpoints),
            (Server::Sandbox(_), Some(sandbox)) => Ok(&sandbox.endpoints),
            (Server::Sandbox(_), None) => Err(ClientError::NoSandbox),
        }
    }

    /// The v1 session's id; none for the legacy session.
    fn session(&self) -> Result<Option<&str>, ClientError> {
        match (&self.options.session, &self.session_id) {
            (Session::Legacy, _) => Ok(None),
            (_, Some(id)) => Ok(Some(id)),
            (_, None) => Err(ClientError::NoSession),
        }
    }

    /// The socket's URL (the legacy `/ws`, or the session's), and the token it takes.
    fn socket_url(&self) -> Result<(String, Option<String>), ClientError> {
        let endpoints = self.endpoints()?;
        let url = endpoints.socket(self.session()?, self.dispatch.last_seq());
        Ok((url, endpoints.token().map(str::to_owned)))
    }
}

impl Client {
    pub(crate) fn new(options: ClientOptions, on_error: Option<Function>) -> Self {
        let session_id = match &options.session {
            Session::Existing(id) => Some(id.clone()),
            Session::Legacy | Session::New => None,
        };
        Self(Rc::new_cyclic(|weak| {
            let (to_inspect, to_prompts, to_report) = (weak.clone(), weak.clone(), weak.clone());
            let dispatch = Dispatch::new(
                options.debug,
                move |frame| {
                    if let Some(inner) = to_inspect.upgrade() {
                        Client(inner).on_first_frame(&frame);
                    }
                },
                move |frame| {
                    if let Some(inner) = to_prompts.upgrade() {
                        let client = Client(inner);
                        prompts::on_frame(&client, &frame);
                        controls::on_frame(&client, &frame);
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
                watch: StateWatch::default(),
                session_id,
                socket: None,
                handlers: Handlers::default(),
                dispatch,
                prompts: Prompts::default(),
                controls: Controls::default(),
                on_error,
                pending: None,
                backoff: None,
                stopping: false,
                stopped: Vec::new(),
                last_close: None,
                streams: Vec::new(),
                sandbox: None,
                watches: Vec::new(),
            })
        }))
    }

    pub(crate) fn state(&self) -> State {
        self.0.borrow().watch.state()
    }

    pub(crate) fn session_id(&self) -> Option<String> {
        self.0.borrow().session_id.clone()
    }

    pub(crate) fn closed(&self) -> Promise {
        self.0.borrow_mut().watch.closed()
    }

    /// Prepares the session (posts the config, or creates the session), connects, and resolves
    /// once the server says `connected`.
    pub(crate) fn start(&self) -> Promise {
        {
            let mut inner = self.0.borrow_mut();
            if matches!(
                inner.watch.state(),
                State::Connecting | State::Connected | State::Reconnecting
            ) {
                return Promise::reject(&ClientError::AlreadyStarted.into());
            }
            inner.stopping = false;
            inner.last_close = None;
        }
        self.set_state(State::Connecting);
        let client = self.clone();
        future_to_promise(async move {
            let connected = async {
                client.prepare().await?;
                match client.connect().await {
                    Err(error) => Err(client.refusal().await.unwrap_or(error)),
                    connected => connected,
                }
            };
            match connected.await {
                Ok(()) => Ok(JsValue::UNDEFINED),
                Err(error) => {
                    let stopped = client.0.borrow().stopping;
                    let mut error = if stopped { ClientError::Stopped } else { error };
                    // A sandbox left half-started would run (and cost) until its timeout.
                    let sandbox = client.0.borrow_mut().sandbox.take();
                    if let Some(sandbox) = sandbox
                        && let Err(failed) =
                            JsFuture::from(sandbox.kill(&Promise::resolve(&JsValue::UNDEFINED)))
                                .await
                    {
                        let failed = crate::describe(&failed);
                        error = ClientError::Message(format!(
                            "{error}; and the sandbox {} was left running: {failed}",
                            sandbox.id
                        ));
                    }
                    client.finish(&error.to_string());
                    Err(error.into())
                }
            }
        })
    }

    /// What comes before the first connection: in E2B mode the sandbox, created and up;
    /// then the legacy config posted, or the session created (once: a restarted client
    /// attaches to it again).
    async fn prepare(&self) -> Result<(), ClientError> {
        let (options, sandboxed) = {
            let inner = self.0.borrow();
            (inner.options.clone(), inner.sandbox.is_some())
        };
        let debug = options.debug;
        if let Server::Sandbox(e2b) = &options.server
            && !sandboxed
        {
            self.unless_stopped()?;
            log(debug, &format!("Creating sandbox from {}", e2b.template));
            let sandbox = e2b.create().await?;
            log(debug, &format!("Sandbox created: {}", sandbox.id));
            {
                // Kept at once: stop() and a failed start() kill it from here on. A new
                // server: the session and the frames of the last one's are not there.
                let mut inner = self.0.borrow_mut();
                inner.sandbox = Some(sandbox.clone());
                inner.dispatch.forget_seq();
                if inner.options.session == Session::New {
                    inner.session_id = None;
                }
            }
            self.unless_stopped()?;
            let pause = |ms| self.pause(ms);
            sandbox.start_server(e2b.ready_timeout_ms, pause).await?;
        }
        let (endpoints, created) = {
            let inner = self.0.borrow();
            (inner.endpoints()?.clone(), inner.session_id.is_some())
        };
        let config = options.config.as_deref();
        match options.session {
            Session::Legacy => {
                if let Some(config) = config {
                    let url = endpoints.config();
                    log(debug, &format!("Configuring server at {url}"));
                    let post = endpoints.request("POST", url).json(config);
                    post.send("configure server").await?;
                }
            }
            Session::New if !created => {
                log(debug, "Creating a session");
                let info = sessions::create(&endpoints, config).await?;
                self.0.borrow_mut().session_id = Some(sessions::id_of(&info)?);
            }
            Session::New | Session::Existing(_) => {}
        }
        self.unless_stopped()
    }

    /// Fails once `stop()` was called in this run.
    fn unless_stopped(&self) -> Result<(), ClientError> {
        match self.0.borrow().stopping {
            true => Err(ClientError::Stopped),
            false => Ok(()),
        }
    }

    /// Waits `ms`, unless `stop()` cuts it short (then fails).
    async fn pause(&self, ms: u32) -> Result<(), ClientError> {
        self.unless_stopped()?;
        let (timer, waited) = Timer::start(ms);
        self.0.borrow_mut().backoff = Some(timer);
        let _ = waited.await;
        self.0.borrow_mut().backoff = None;
        self.unless_stopped()
    }

    /// Opens a socket resuming after the last frame handed over; resolves once the server says
    /// `connected`, rejects if it refuses or the socket ends first.
    async fn connect(&self) -> Result<(), ClientError> {
        let ((url, token), listener, debug) = {
            let inner = self.0.borrow();
            let url = inner.socket_url()?;
            inner.dispatch.inspect(true);
            let listener = inner.dispatch.listener().clone();
            (url, listener, inner.options.debug)
        };
        log(debug, &format!("Connecting to {url}"));
        let connected = Promise::new(&mut |resolve, reject| {
            let url = url.clone();
            self.0.borrow_mut().pending = Some(Pending {
                url,
                resolve,
                reject,
            });
        });
        let weak = Rc::downgrade(&self.0);
        let socket = Socket::open(&url, token.as_deref(), &listener, move |event| {
            if let Some(inner) = weak.upgrade() {
                Client(inner).on_event(event);
            }
        });
        match socket {
            Ok(socket) => self.0.borrow_mut().socket = Some(socket),
            Err(reason) => {
                let mut inner = self.0.borrow_mut();
                inner.pending = None;
                inner.dispatch.inspect(false);
                return Err(ClientError::Connect { url, reason });
            }
        }
        JsFuture::from(connected)
            .await
            .map_err(|e| ClientError::Message(crate::describe(&e)))?;
        log(debug, "Connected");
        Ok(())
    }

    /// After a dropped connection: attempts with backoff until one connects or `stop()`.
    async fn reconnect(self) {
        let debug = self.0.borrow().options.debug;
        let mut attempt = 0;
        // stop() ends each step: the wait (cancelled), the attempt (its socket closed), or,
        // called before either began, this check.
        while !self.0.borrow().stopping {
            let delay = backoff::delay_ms(attempt, Math::random());
            log(debug, &format!("Reconnecting in {delay} ms"));
            if self.pause(delay).await.is_err() {
                break;
            }
            match self.connect().await {
                Ok(()) => return,
                Err(error) => log(debug, &format!("Reconnect failed: {error}")),
            }
            if self.0.borrow().stopping {
                break;
            }
            // A deleted session never comes back, nor does a token the server no longer takes:
            // no point trying on. Too many wrong tokens from this address (429) passes.
            if let Some(gone) = (self.refusal().await).filter(|e| e.status() != Some(429.0)) {
                let mut inner = self.0.borrow_mut();
                let code = inner.last_close.as_ref().map_or(1006, |close| close.code);
                inner.last_close = Some(CloseInfo {
                    code,
                    reason: gone.to_string(),
                });
                break;
            }
            attempt += 1;
        }
        self.finish("stopped");
    }

    /// Why the server refuses this client's socket, if its HTTP side says so (a WebSocket
    /// refused at its handshake does not tell): the token missing or wrong (401), too many
    /// wrong ones from here (429), the v1 session deleted.
    async fn refusal(&self) -> Option<ClientError> {
        let (endpoints, url) = {
            let inner = self.0.borrow();
            let endpoints = inner.endpoints().ok()?.clone();
            let url = match inner.session().ok()? {
                Some(id) => endpoints.session(id),
                None => endpoints.config(),
            };
            (endpoints, url)
        };
        let error = endpoints.request("GET", url).send("connect").await.err()?;
        let refused = matches!(error.status(), Some(401.0 | 429.0))
            || error.code().as_deref() == Some("session_not_found");
        refused.then_some(error)
    }

    /// The session's files API, once the client knows where it is: the server at
    /// `connectionUrl` (from the start), the sandbox's (from `start()` to `stop()`); a v1
    /// session's once its id is known.
    pub(crate) fn files(&self) -> Result<Files, ClientError> {
        let inner = self.0.borrow();
        Ok(Files {
            endpoints: inner.endpoints()?.clone(),
            session: inner.session()?.map(str::to_owned),
        })
    }

    /// Keeps a watch's controller for `stop()` to abort, and forgets those of ended watches.
    pub(crate) fn add_watch(&self, controller: AbortController) {
        let mut inner = self.0.borrow_mut();
        inner.watches.retain(|watch| !watch.signal().aborted());
        inner.watches.push(controller);
    }

    /// A JS function that reports what it is given, as [`Client::report`] does.
    pub(crate) fn reporter(&self) -> Function {
        let weak = Rc::downgrade(&self.0);
        let report = Closure::<dyn Fn(JsValue)>::new(move |error: JsValue| {
            if let Some(inner) = weak.upgrade() {
                Client(inner).report(&error);
            }
        });
        report.into_js_value().unchecked_into()
    }

    /// Sends a message's JSON text, already known to be valid.
    pub(crate) fn send(&self, text: &JsString) -> Result<(), ClientError> {
        let inner = self.0.borrow();
        match &inner.socket {
            Some(socket) if inner.watch.state() == State::Connected && socket.is_open() => {
                socket.send(text).map_err(ClientError::Message)
            }
            _ => Err(ClientError::NotConnected),
        }
    }

    /// Adds a frame handler; the returned function removes it.
    pub(crate) fn on_message(&self, handler: Function) -> Function {
        let id = self.0.borrow_mut().handlers.add(handler);
        self.0.borrow().handlers_changed();
        self.unsubscriber(move |inner| {
            if inner.handlers.remove(id) {
                inner.handlers_changed();
            }
        })
    }

    /// Adds a state handler; the returned function removes it.
    pub(crate) fn on_state_change(&self, handler: Function) -> Function {
        let id = self.0.borrow_mut().watch.handlers.add(handler);
        self.unsubscriber(move |inner| {
            inner.watch.handlers.remove(id);
        })
    }

    /// Adds a permission handler; the returned function removes it.
    pub(crate) fn on_permission_request(&self, handler: Function) -> Function {
        let id = prompts::add_handler(self, handler);
        self.unsubscriber(move |inner| {
            inner.prompts.handlers.remove(id);
        })
    }

    /// Runs `change` on the permission prompts (which must not call back into the client).
    pub(crate) fn prompts<R>(&self, change: impl FnOnce(&mut Prompts) -> R) -> R {
        change(&mut self.0.borrow_mut().prompts)
    }

    /// Runs `change` on the live controls waiting (which must not call back into the client).
    pub(crate) fn controls<R>(&self, change: impl FnOnce(&mut Controls) -> R) -> R {
        change(&mut self.0.borrow_mut().controls)
    }

    /// A JS function running `remove` on the client, if it still exists.
    fn unsubscriber(&self, remove: impl Fn(&mut Inner) + 'static) -> Function {
        let weak = Rc::downgrade(&self.0);
        let unsubscribe = Closure::<dyn FnMut()>::new(move || {
            if let Some(inner) = weak.upgrade() {
                remove(&mut inner.borrow_mut());
            }
        });
        unsubscribe.into_js_value().into()
    }

    /// The frames from now on as an async iterator, until the client is closed.
    pub(crate) fn messages(&self) -> Object {
        let stream = Rc::new(RefCell::new(Stream::default()));
        let unsubscribe = self.on_message(messages::feeder(stream.clone()));
        let mut inner = self.0.borrow_mut();
        if inner.watch.state() == State::Closed {
            stream.borrow_mut().end();
        }
        inner.streams.push(stream.clone());
        messages::iterator(stream, unsubscribe)
    }

    /// Closes the connection for good, ends the watches, and kills the sandbox (E2B mode);
    /// resolves once done. Safe to call at any time, twice.
    pub(crate) fn stop(&self) -> Promise {
        let (closed, sandbox, watches) = {
            let mut inner = self.0.borrow_mut();
            let closed = Self::close(&mut inner);
            (
                closed,
                inner.sandbox.take(),
                std::mem::take(&mut inner.watches),
            )
        };
        for watch in watches {
            watch.abort();
        }
        // Killed as the connection closes: a sandbox going ends it as well.
        match sandbox {
            Some(sandbox) => sandbox.kill(&closed),
            None => closed,
        }
    }

    /// Ends the run, if there is one; the promise resolves once it is over.
    fn close(inner: &mut Inner) -> Promise {
        if matches!(inner.watch.state(), State::Idle | State::Closed) {
            return Promise::resolve(&JsValue::UNDEFINED);
        }
        inner.stopping = true;
        let mut resolver = None;
        let closed = Promise::new(&mut |resolve, _| resolver = Some(resolve));
        inner.stopped.extend(resolver);
        // What is under way ends, and with it the run: the socket's close event, the backoff's
        // wait, or start()'s request (checked when it answers).
        if let Some(socket) = &inner.socket {
            socket.close();
        }
        if let Some(timer) = &inner.backoff {
            timer.cancel();
        }
        closed
    }

    fn on_event(&self, event: SocketEvent) {
        let connecting = self.0.borrow().pending.is_some();
        match event {
            SocketEvent::Open => {} // the `connected` frame follows
            // Node 22's WebSocket reports a failed connection with `error` alone, no `close`.
            SocketEvent::Error if connecting => self.on_ended(CloseInfo {
                code: 1006,
                reason: "the connection failed".to_owned(),
            }),
            SocketEvent::Error => {} // the close follows
            SocketEvent::Closed { code, reason } => self.on_ended(CloseInfo { code, reason }),
        }
    }

    /// A frame while a connection is being made: `connected` settles it, an `error` (the
    /// server's refusal) fails it.
    fn on_first_frame(&self, frame: &JsValue) {
        let field = |name: &str| {
            Reflect::get(frame, &name.into())
                .ok()
                .and_then(|v| v.as_string())
        };
        match field("type").as_deref() {
            Some("connected") => {
                let pending = {
                    let mut inner = self.0.borrow_mut();
                    inner.dispatch.inspect(false);
                    if let Some(id) = field("session_id") {
                        // Another session (the server restarted anew): its numbers start over.
                        if inner.session_id.as_ref().is_some_and(|known| *known != id) {
                            inner.dispatch.forget_seq();
                        }
                        inner.session_id = Some(id);
                    }
                    inner.pending.take()
                };
                self.set_state(State::Connected);
                if let Some(pending) = pending {
                    let _ = pending.resolve.call0(&JsValue::NULL);
                }
            }
            Some("error") => {
                let (pending, socket) = {
                    let mut inner = self.0.borrow_mut();
                    inner.dispatch.inspect(false);
                    (inner.pending.take(), inner.socket.take())
                };
                // The socket owns the closure running now: free it after this event.
                spawn_local(async move { drop(socket) });
                if let Some(pending) = pending {
                    let refusal =
                        ClientError::ConnectionRefused(field("error").unwrap_or_default());
                    let _ = pending.reject.call1(&JsValue::NULL, &refusal.into());
                }
            }
            _ => {}
        }
    }

    /// A socket ended: fails the connection being made (its caller decides what follows), or
    /// reconnects an established one unless stopped or told not to.
    fn on_ended(&self, close: CloseInfo) {
        let why = match close.reason.as_str() {
            "" => format!("closed with code {}", close.code),
            reason => format!("closed with code {}: {reason}", close.code),
        };
        let (socket, pending, established, reconnect, debug) = {
            let mut inner = self.0.borrow_mut();
            inner.dispatch.inspect(false);
            inner.last_close = Some(close);
            let established = inner.watch.state() == State::Connected;
            let reconnect = inner.options.reconnect && !inner.stopping;
            (
                inner.socket.take(),
                inner.pending.take(),
                established,
                reconnect,
                inner.options.debug,
            )
        };
        // The socket owns the closure running now: free it after this event, not during it.
        spawn_local(async move { drop(socket) });
        controls::connection_ended(self);
        log(debug, &format!("Disconnected: {why}"));
        if let Some(pending) = pending {
            let failed = ClientError::Connect {
                url: pending.url,
                reason: why,
            };
            let _ = pending.reject.call1(&JsValue::NULL, &failed.into());
        } else if established && reconnect {
            self.set_state(State::Reconnecting);
            spawn_local(self.clone().reconnect());
        } else if established {
            self.finish(&why);
        }
    }

    /// The run is over: `closed` resolves (with the last close, or 1006 and `why`), and so do
    /// `stop()`'s promises; `messages()` iterators end.
    fn finish(&self, why: &str) {
        let (stopped, streams) = {
            let mut inner = self.0.borrow_mut();
            inner.dispatch.inspect(false);
            let close = match (inner.stopping, inner.last_close.take()) {
                (true, _) => CloseInfo {
                    code: 1000,
                    reason: String::new(),
                },
                (false, Some(close)) => close,
                (false, None) => CloseInfo {
                    code: 1006,
                    reason: why.to_owned(),
                },
            };
            inner.watch.close(&close);
            (
                std::mem::take(&mut inner.stopped),
                std::mem::take(&mut inner.streams),
            )
        };
        for stream in streams {
            stream.borrow_mut().end();
        }
        self.set_state(State::Closed);
        for resolve in stopped {
            let _ = resolve.call0(&JsValue::NULL);
        }
    }

    /// Moves to `state` and tells the state handlers, if it changed.
    fn set_state(&self, state: State) {
        let handlers = self.0.borrow_mut().watch.set(state);
        let name = JsValue::from(state.name());
        for handler in handlers {
            if let Err(error) = handler.call1(&JsValue::NULL, &name) {
                self.report(&error);
            }
        }
    }

    /// An exception from a handler or a frame, or a handler's permission answer that could not
    /// be sent: to `onError`, else the console.
    pub(crate) fn report(&self, error: &JsValue) {
        let on_error = self.0.borrow().on_error.clone();
        match on_error.map(|on_error| on_error.call1(&JsValue::NULL, error)) {
            Some(Ok(_)) => {}
            Some(Err(_)) | None => web_sys::console::error_2(
                &"ClaudeAgentClient: a handler threw, a frame was not JSON, or an answer failed"
                    .into(),
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
