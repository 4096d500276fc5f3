//! A session's permission prompts: the CLI's `can_use_tool` requests waiting for a person, each
//! answered once, by whichever client answers first.

use std::{
    collections::{BTreeMap, VecDeque},
    time::{Duration, Instant},
};

use claude_agent_protocol::{
    agent::AgentRequest,
    permissions::{PermissionAnswer, PermissionRequest},
};
use serde_json::Value;
use thiserror::Error;

use crate::{agent::Answer, metrics};

/// Resolved prompts remembered, so that a late answer is told it is late rather than unknown.
const REMEMBERED: usize = 1_000;

#[derive(Debug, Error, PartialEq, Eq)]
pub(crate) enum PromptError {
    #[error("No permission request {0:?} is pending")]
    Unknown(String),
    #[error("The permission request {0:?} was already resolved")]
    Resolved(String),
}

/// A prompt, the CLI's answer to give, and when it was asked.
#[derive(Debug)]
struct Pending {
    prompt: PermissionRequest,
    answer: Answer,
    asked: Instant,
}

#[derive(Debug, Default)]
pub(super) struct Prompts {
    /// By request id, oldest first (the CLI's ids are UUIDs: the order is kept apart).
    pending: BTreeMap<u64, Pending>,
    next: u64,
    resolved: VecDeque<String>,
}

impl Prompts {
    /// Takes the CLI's request in: the prompt for clients, or, if the request is not one, why,
    /// with its answer back to refuse it.
    pub(super) fn ask(
        &mut self,
        request: AgentRequest,
        answer: Answer,
    ) -> Result<PermissionRequest, (Answer, String)> {
        let mut fields = request.fields;
        fields.insert("request_id".into(), answer.request_id().into());
        match serde_json::from_value::<PermissionRequest>(Value::Object(fields)) {
            Ok(prompt) => {
                let pending = Pending {
                    prompt: prompt.clone(),
                    answer,
                    asked: Instant::now(),
                };
                self.pending.insert(self.next, pending);
                self.next += 1;
                Ok(prompt)
            }
            Err(error) => Err((answer, format!("an unreadable permission request: {error}"))),
        }
    }

    /// The pending prompt `answer` is for, taken out to be answered.
    pub(super) fn answer(
        &mut self,
        answer: &PermissionAnswer,
    ) -> Result<(PermissionRequest, Answer), PromptError> {
        let id = &answer.request_id;
        self.take(id).ok_or_else(|| {
            if self.resolved.contains(id) {
                PromptError::Resolved(id.clone())
            } else {
                PromptError::Unknown(id.clone())
            }
        })
    }

    /// The prompt the CLI withdrew, if it was pending.
    pub(super) fn withdraw(&mut self, request_id: &str) -> Option<PermissionRequest> {
        self.take(request_id).map(|(prompt, _)| prompt)
    }

    /// The prompts unanswered for `timeout` since they were asked or since `alone` (when the
    /// last client left), whichever is later: taken out to be denied.
    pub(super) fn expired(
        &mut self,
        alone: Instant,
        timeout: Duration,
    ) -> Vec<(PermissionRequest, Answer)> {
        let now = Instant::now();
        let ids: Vec<String> = self
            .pending
            .values()
            .filter(|p| p.asked.max(alone) + timeout <= now)
            .map(|p| p.prompt.request_id.clone())
            .collect();
        ids.iter().filter_map(|id| self.take(id)).collect()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    pub(super) fn len(&self) -> usize {
        self.pending.len()
    }

    /// Every pending prompt, taken out: their agent is gone.
    pub(super) fn drain(&mut self) -> Vec<PermissionRequest> {
        let ids: Vec<String> = self.list().into_iter().map(|p| p.request_id).collect();
        ids.iter().filter_map(|id| self.withdraw(id)).collect()
    }

    /// The pending prompts, oldest first.
    pub(super) fn list(&self) -> Vec<PermissionRequest> {
        self.pending.values().map(|p| p.prompt.clone()).collect()
    }

    fn take(&mut self, request_id: &str) -> Option<(PermissionRequest, Answer)> {
        let key = *self
            .pending
            .iter()
            .find(|(_, p)| p.prompt.request_id == request_id)?
            .0;
        let taken = self.pending.remove(&key)?;
        metrics::prompt_resolved(taken.asked.elapsed());
        if self.resolved.len() == REMEMBERED {
            self.resolved.pop_front();
        }
        self.resolved.push_back(request_id.to_owned());
        Some((taken.prompt, taken.answer))
    }
}
