//! Method handlers by method: the standard methods in a slot each (found without hashing,
//! once per request), extension methods in a map.

use http_utils::Method;

use crate::handler::quick_hash::QuickMap;

/// The standard methods, in slot order.
const STANDARD: [Method; 9] = [
    Method::Get,
    Method::Head,
    Method::Post,
    Method::Put,
    Method::Delete,
    Method::Connect,
    Method::Options,
    Method::Trace,
    Method::Patch,
];

/// The slot of a standard method.
fn slot(method: &Method) -> Option<usize> {
    Some(match method {
        Method::Get => 0,
        Method::Head => 1,
        Method::Post => 2,
        Method::Put => 3,
        Method::Delete => 4,
        Method::Connect => 5,
        Method::Options => 6,
        Method::Trace => 7,
        Method::Patch => 8,
        Method::Other(_) => return None,
    })
}

/// A map from methods to their handlers (`V`).
#[derive(Clone)]
pub(crate) struct MethodTable<V> {
    standard: [Option<V>; 9],
    others: QuickMap<Method, V>,
}

impl<V> Default for MethodTable<V> {
    fn default() -> MethodTable<V> {
        MethodTable { standard: std::array::from_fn(|_| None), others: QuickMap::default() }
    }
}

impl<V> MethodTable<V> {
    /// The handler of `method`.
    #[inline]
    pub(crate) fn get(&self, method: &Method) -> Option<&V> {
        match slot(method) {
            Some(i) => self.standard[i].as_ref(),
            None => self.others.get(method),
        }
    }

    /// True when `method` has a handler.
    pub(crate) fn contains_key(&self, method: &Method) -> bool {
        self.get(method).is_some()
    }

    /// Sets the handler of `method`; returns the one it replaces.
    pub(crate) fn insert(&mut self, method: Method, handler: V) -> Option<V> {
        match slot(&method) {
            Some(i) => self.standard[i].replace(handler),
            None => self.others.insert(method, handler),
        }
    }

    /// Removes the handler of `method` and returns it.
    pub(crate) fn remove(&mut self, method: &Method) -> Option<V> {
        match slot(method) {
            Some(i) => self.standard[i].take(),
            None => self.others.remove(method),
        }
    }

    /// The methods with a handler: the standard ones in slot order, then the others.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &Method> + '_ {
        STANDARD
            .iter()
            .zip(&self.standard)
            .filter(|(_, h)| h.is_some())
            .map(|(m, _)| m)
            .chain(self.others.keys())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn standard_and_extension_methods_each_keep_their_handler() {
        let mut t = MethodTable::default();
        let h = |n: u16| -> Arc<u16> { Arc::new(n) };
        let purge = Method::extension("PURGE").unwrap();
        for (i, m) in STANDARD.iter().enumerate() {
            assert_eq!(slot(m), Some(i));
            assert!(t.insert(m.clone(), h(200)).is_none());
        }
        assert!(t.insert(purge.clone(), h(201)).is_none());
        assert!(t.insert(Method::Get, h(202)).is_some());
        assert_eq!(t.keys().count(), 10);
        assert!(t.contains_key(&purge) && t.contains_key(&Method::Patch));
        assert!(t.remove(&Method::Patch).is_some() && t.remove(&Method::Patch).is_none());
        assert!(t.remove(&purge).is_some());
        assert!(!t.contains_key(&purge) && !t.contains_key(&Method::Patch));
        assert_eq!(t.keys().count(), 8);
        assert!(t.get(&Method::extension("OTHER").unwrap()).is_none());
    }
}
