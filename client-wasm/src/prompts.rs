//! Permission prompts for `onPermissionRequest`: which wait for an answer, each offered to the
//! handlers once, and the answer a handler decides sent unless the prompt was resolved
//! meanwhile. Fed by the frames that say what waits: `permission_request`,
//! `permission_resolved`, and `connected`, which lists what waits when a connection is made.

use js_sys::{Array, Function, JsString, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{JsFuture, spawn_local};

use crate::{client::Client, error::ClientError, handlers::Handlers, outgoing};

/// The prompts this client knows to wait, and the handlers that decide on them.
#[derive(Debug, Default)]
pub(crate) struct Prompts {
    pub(crate) handlers: Handlers<Function>,
    /// Oldest first.
    waiting: Vec<Prompt>,
    /// The history a connection replays ends at this `seq`. Its prompts are taken from
    /// `connected`'s list alone, as the history also holds prompts answered long ago.
    replayed_until: f64,
}

#[derive(Debug)]
struct Prompt {
    id: String,
    request: JsValue,
    /// Handlers are deciding on it, or one has decided.
    offered: bool,
    /// A handler's answer decided while the client was away: sent once it is connected again,
    /// if the prompt still waits then.
    unsent: Option<JsString>,
}

/// A prompt for handlers to decide on, in turn.
#[derive(Debug)]
struct Offer {
    id: String,
    request: JsValue,
    handlers: Vec<Function>,
}

impl Prompts {
    /// A connection is made: what waits is what `connected` lists. The answers to send now,
    /// and the prompts new to this client.
    fn connected(&mut self, frame: &JsValue) -> (Vec<(String, JsString)>, Vec<Offer>) {
        self.replayed_until = field(frame, "latest_seq").as_f64().unwrap_or(0.0);
        let listed = field(frame, "pending_permissions")
            .dyn_into::<Array>()
            .map(|list| list.to_vec())
            .unwrap_or_default();
        let ids: Vec<String> = listed.iter().map(request_id).collect();
        // Those not listed were resolved while the client was away.
        self.waiting.retain(|prompt| ids.contains(&prompt.id));
        let unsent = (self.waiting.iter_mut())
            .filter_map(|prompt| Some((prompt.id.clone(), prompt.unsent.take()?)))
            .collect();
        let offers = (ids.into_iter().zip(listed))
            .filter_map(|(id, request)| self.add(id, request))
            .collect();
        (unsent, offers)
    }

    /// A `permission_request` frame: a new prompt, unless it is history or known already.
    fn requested(&mut self, frame: &JsValue) -> Option<Offer> {
        let seq = field(frame, "seq").as_f64().unwrap_or(f64::INFINITY);
        if seq <= self.replayed_until {
            return None;
        }
        let request = field(frame, "data");
        self.add(request_id(&request), request)
    }

    /// Takes in the prompt `id` unless known already; its offer to the handlers, if any.
    fn add(&mut self, id: String, request: JsValue) -> Option<Offer> {
        if self.waiting.iter().any(|prompt| prompt.id == id) {
            return None;
        }
        self.waiting.push(Prompt {
            id,
            request,
            offered: false,
            unsent: None,
        });
        let handlers = self
            .handlers
            .snapshot()
            .iter()
            .map(|(_, h)| h.clone())
            .collect();
        self.offer(self.waiting.len() - 1, handlers)
    }

    /// The prompts no handler decides on, offered to a new `handler`.
    fn offers_to(&mut self, handler: &Function) -> Vec<Offer> {
        let mut offers = Vec::new();
        for index in 0..self.waiting.len() {
            if !self.waiting[index].offered {
                offers.extend(self.offer(index, vec![handler.clone()]));
            }
        }
        offers
    }

    fn offer(&mut self, index: usize, handlers: Vec<Function>) -> Option<Offer> {
        if handlers.is_empty() {
            return None; // it waits for a handler, or another client
        }
        let prompt = &mut self.waiting[index];
        prompt.offered = true;
        Some(Offer {
            id: prompt.id.clone(),
            request: prompt.request.clone(),
            handlers,
        })
    }

    fn is_waiting(&self, id: &str) -> bool {
        self.waiting.iter().any(|prompt| prompt.id == id)
    }

    /// The prompt waits no more: resolved, or answered by this client.
    fn done(&mut self, id: &str) {
        self.waiting.retain(|prompt| prompt.id != id);
    }

    /// No handler decided on the prompt: a handler added later is offered it.
    fn declined(&mut self, id: &str) {
        self.find(id, |prompt| prompt.offered = false);
    }

    fn keep_unsent(&mut self, id: &str, answer: JsString) {
        self.find(id, |prompt| prompt.unsent = Some(answer));
    }

    fn find(&mut self, id: &str, change: impl FnOnce(&mut Prompt)) {
        if let Some(prompt) = self.waiting.iter_mut().find(|prompt| prompt.id == id) {
            change(prompt);
        }
    }
}

/// Takes a frame the dispatch passes on (`connected`, `permission_request`,
/// `permission_resolved`): sends the answers that waited for a connection, and offers new
/// prompts to the handlers.
pub(crate) fn on_frame(client: &Client, frame: &JsValue) {
    match field(frame, "type").as_string().as_deref() {
        Some("connected") => {
            let (unsent, offers) = client.prompts(|prompts| prompts.connected(frame));
            for (id, answer) in unsent {
                if let Err(error) = send(client, &id, &answer) {
                    client.report(&error.into());
                }
            }
            offers.into_iter().for_each(|offer| ask(client, offer));
        }
        Some("permission_request") => {
            if let Some(offer) = client.prompts(|prompts| prompts.requested(frame)) {
                ask(client, offer);
            }
        }
        Some("permission_resolved") => {
            let id = request_id(&field(frame, "data"));
            client.prompts(|prompts| prompts.done(&id));
        }
        _ => {}
    }
}

/// Adds a handler, which is offered the prompts waiting that no handler decides on; the id
/// removes it.
pub(crate) fn add_handler(client: &Client, handler: Function) -> u32 {
    let (id, offers) = client.prompts(|prompts| {
        let offers = prompts.offers_to(&handler);
        (prompts.handlers.add(handler), offers)
    });
    offers.into_iter().for_each(|offer| ask(client, offer));
    id
}

/// `respondToPermission`: sends `decision` as the answer to the prompt `id`.
pub(crate) fn respond(client: &Client, id: &str, decision: &JsValue) -> Result<(), ClientError> {
    send(client, id, &outgoing::permission_response(id, decision)?)
}

/// Sends `answer` to the prompt `id`, which then waits no more for this client.
fn send(client: &Client, id: &str, answer: &JsString) -> Result<(), ClientError> {
    client.send(answer)?;
    client.prompts(|prompts| prompts.done(id));
    Ok(())
}

/// Offers a prompt to its handlers in turn, until one decides.
fn ask(client: &Client, offer: Offer) {
    let client = client.clone();
    spawn_local(async move {
        let Offer {
            id,
            request,
            handlers,
        } = offer;
        for handler in handlers {
            let decided = match handler.call1(&JsValue::NULL, &request) {
                // A promise or not, awaited alike.
                Ok(returned) => JsFuture::from(Promise::resolve(&returned)).await,
                Err(thrown) => Err(thrown),
            };
            let waiting = client.prompts(|prompts| prompts.is_waiting(&id));
            match decided {
                Err(error) => client.report(&error),
                // Nothing: the next handler's turn, or another client's.
                Ok(decision) if decision.is_null() || decision.is_undefined() => {}
                Ok(decision) => {
                    // Resolved meanwhile: a late answer would only be refused.
                    if waiting {
                        answer(&client, &id, &decision);
                    }
                    return;
                }
            }
            if !waiting {
                return;
            }
        }
        client.prompts(|prompts| prompts.declined(&id));
    });
}

/// Sends a handler's decision on the prompt `id`; one decided while the client is away is sent
/// once it is connected again.
fn answer(client: &Client, id: &str, decision: &JsValue) {
    let sent = outgoing::permission_response(id, decision).and_then(|answer| {
        match send(client, id, &answer) {
            Err(ClientError::NotConnected) => {
                client.prompts(|prompts| prompts.keep_unsent(id, answer));
                Ok(())
            }
            sent => sent,
        }
    });
    if let Err(error) = sent {
        client.prompts(|prompts| prompts.declined(id));
        client.report(&error.into());
    }
}

fn field(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn request_id(request: &JsValue) -> String {
    field(request, "request_id").as_string().unwrap_or_default()
}
