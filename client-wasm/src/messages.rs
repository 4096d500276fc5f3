//! `for await (const message of client.messages())`: the frames from the server as an async
//! iterator, from the call on, ending when the connection closes (or the loop breaks).

use std::{cell::RefCell, collections::VecDeque, rc::Rc};

use js_sys::{Function, Object, Promise, Reflect, Symbol};
use wasm_bindgen::{JsCast, JsValue, prelude::Closure};

/// Frames not yet taken, or a `next()` waiting for one.
#[derive(Debug, Default)]
pub(crate) struct Stream {
    queue: VecDeque<JsValue>,
    waiting: Option<Function>,
    done: bool,
}

impl Stream {
    pub(crate) fn push(&mut self, frame: JsValue) {
        if self.done {
            return;
        }
        match self.waiting.take() {
            Some(resolve) => settle(&resolve, &frame, false),
            None => self.queue.push_back(frame),
        }
    }

    /// No more frames: what is queued is still taken, then the iteration ends.
    pub(crate) fn end(&mut self) {
        self.done = true;
        if let Some(resolve) = self.waiting.take() {
            settle(&resolve, &JsValue::UNDEFINED, true);
        }
    }

    fn next(&mut self) -> Promise {
        if let Some(frame) = self.queue.pop_front() {
            return resolved(&step(&frame, false));
        }
        if self.done {
            return resolved(&step(&JsValue::UNDEFINED, true));
        }
        let mut waiting = None;
        let next = Promise::new(&mut |resolve, _| waiting = Some(resolve));
        self.waiting = waiting;
        next
    }
}

/// The iterator object over `stream`; `unsubscribe` runs when the loop ends early.
pub(crate) fn iterator(stream: Rc<RefCell<Stream>>, unsubscribe: Function) -> Object {
    let iterator = Object::new();
    let from = stream.clone();
    let next = Closure::<dyn FnMut() -> Promise>::new(move || from.borrow_mut().next());
    let finish = Closure::<dyn FnMut() -> Promise>::new(move || {
        stream.borrow_mut().end();
        let _ = unsubscribe.call0(&JsValue::NULL);
        resolved(&step(&JsValue::UNDEFINED, true))
    });
    let this = iterator.clone();
    let itself = Closure::<dyn FnMut() -> Object>::new(move || this.clone());
    set(&iterator, &"next".into(), &next.into_js_value());
    set(&iterator, &"return".into(), &finish.into_js_value());
    set(
        &iterator,
        &Symbol::async_iterator().into(),
        &itself.into_js_value(),
    );
    iterator
}

/// A promise already resolved with `value`.
fn resolved(value: &JsValue) -> Promise {
    Promise::resolve(value)
}

/// `{ value, done }`.
fn step(value: &JsValue, done: bool) -> JsValue {
    let step = Object::new();
    set(&step, &"value".into(), value);
    set(&step, &"done".into(), &done.into());
    step.into()
}

fn settle(resolve: &Function, value: &JsValue, done: bool) {
    let _ = resolve.call1(&JsValue::NULL, &step(value, done));
}

fn set(object: &Object, key: &JsValue, value: &JsValue) {
    Reflect::set(object, key, value).expect("setting a field of a plain object");
}

/// Feeds `stream` from a frame handler.
pub(crate) fn feeder(stream: Rc<RefCell<Stream>>) -> Function {
    let feed = Closure::<dyn FnMut(JsValue)>::new(move |frame| stream.borrow_mut().push(frame));
    feed.into_js_value().unchecked_into()
}
