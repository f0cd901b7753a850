//! Application state: values given to the server once
//! ([`ServerBuilder::state`](crate::ServerBuilder::state)) that every handler reads by type
//! ([`Context::state`](crate::Context::state)), without an `Arc` cloned into each closure.

use std::any::{Any, TypeId};

/// The values the server holds for its handlers, one per type.
#[derive(Default)]
pub(crate) struct StateMap {
    /// Few entries (one per type an application shares): a scan beats a hash.
    items: Vec<(TypeId, Box<dyn Any + Send + Sync>)>,
}

impl StateMap {
    /// Keeps `value`, replacing a value of the same type.
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        let id = TypeId::of::<T>();
        let boxed: Box<dyn Any + Send + Sync> = Box::new(value);
        match self.items.iter_mut().find(|(t, _)| *t == id) {
            Some(slot) => slot.1 = boxed,
            None => self.items.push((id, boxed)),
        }
    }

    /// The value of type `T`, if one was given.
    pub(crate) fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        let id = TypeId::of::<T>();
        self.items.iter().find(|(t, _)| *t == id).and_then(|(_, v)| v.downcast_ref::<T>())
    }
}

/// The panic of [`Context::state`](crate::Context::state) for a type never given.
#[cold]
#[track_caller]
pub(crate) fn missing<T>() -> ! {
    panic!(
        "no application state of type `{}`: give it to the server with ServerBuilder::state",
        std::any::type_name::<T>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_per_type() {
        let mut map = StateMap::default();
        assert!(map.get::<u32>().is_none());
        map.insert(7u32);
        map.insert(String::from("db"));
        map.insert(9u32);
        assert_eq!(map.get::<u32>(), Some(&9));
        assert_eq!(map.get::<String>().map(String::as_str), Some("db"));
        assert!(map.get::<u64>().is_none());
    }
}
