//! Locking a std `Mutex` whose holder panicked: what it guards is still usable, and one
//! panicked task must not take every later one down with it.

use std::sync::{Mutex, MutexGuard};

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
