//! Idle connections shared by every thread that uses one client.
//!
//! Connections are keyed by scheme, host, port, proxy and TLS configuration. The most recently
//! returned connection is handed out first (it is the least likely to have been closed by the
//! server). Caps: idle connections in total, idle connections per key, and idle age (the
//! client's idle timeout, or less when the server announced `Keep-Alive: timeout=N`).
//!
//! A connection idle for less than [`PoolConfig::check_after`] is handed out without a check:
//! if the server closed it meanwhile, the request fails before any response byte and is retried
//! once on a fresh connection (idempotent requests only). Older ones get one non-blocking peek.

// `PoolKey` holds an `Arc<ClientConfig>`, which has inner mutability (its session cache), but
// `TlsId` hashes and compares by address only, so keys never change in the map.
#![allow(clippy::mutable_key_type)]

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::conn::Conn;
use crate::key::PoolKey;

/// Caps on idle connections.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolConfig {
    pub(crate) max_idle: usize,
    pub(crate) max_idle_per_host: usize,
    pub(crate) idle_timeout: Duration,
    pub(crate) check_after: Duration,
}

struct Idle {
    by_key: HashMap<PoolKey, Vec<Conn>>,
    total: usize,
}

/// The pool.
pub(crate) struct Pool {
    idle: Mutex<Idle>,
    config: PoolConfig,
}

impl Pool {
    pub(crate) fn new(config: PoolConfig) -> Pool {
        Pool { idle: Mutex::new(Idle { by_key: HashMap::new(), total: 0 }), config }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Idle> {
        // A panic while holding the lock cannot leave the map inconsistent in a harmful way.
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An idle connection for `key` that is still usable, if any.
    pub(crate) fn take(&self, key: &PoolKey) -> Option<Conn> {
        let mut dropped = Vec::new();
        let found = {
            let mut idle = self.lock();
            let mut found = None;
            let mut removed = 0;
            if let Some(list) = idle.by_key.get_mut(key) {
                while let Some(conn) = list.pop() {
                    removed += 1;
                    let age = conn.idle_since.elapsed();
                    let limit = conn
                        .server_idle_limit
                        .map_or(self.config.idle_timeout, |l| l.min(self.config.idle_timeout));
                    if age > limit {
                        dropped.push(conn);
                        continue;
                    }
                    found = Some((conn, age));
                    break;
                }
                if list.is_empty() {
                    idle.by_key.remove(key);
                }
            }
            idle.total -= removed;
            found
        };
        // Closing sockets and peeking happen outside the lock.
        drop(dropped);
        let (conn, age) = found?;
        if age >= self.config.check_after && !conn.is_alive() {
            return None;
        }
        Some(conn)
    }

    /// True when a connection for `key` handed back now would be kept without closing
    /// another: below the caps on idle connections for it and in all.
    pub(crate) fn wants(&self, key: &PoolKey) -> bool {
        let idle = self.lock();
        let for_key = idle.by_key.get(key).map_or(0, Vec::len);
        for_key < self.config.max_idle_per_host && idle.total < self.config.max_idle
    }

    /// Keeps `conn` for later, within the caps.
    pub(crate) fn put(&self, mut conn: Conn) {
        if self.config.max_idle == 0 || self.config.max_idle_per_host == 0 {
            return;
        }
        conn.idle_since = Instant::now();
        conn.reused = true;
        let mut evicted = Vec::new();
        {
            let mut idle = self.lock();
            let per_host = self.config.max_idle_per_host;
            let list = idle.by_key.entry(conn.key.clone()).or_default();
            if list.len() >= per_host {
                evicted.push(list.remove(0));
            }
            list.push(conn);
            let added = 1 - evicted.len();
            idle.total += added;
            while idle.total > self.config.max_idle {
                // Evict the connection idle the longest, across all keys.
                let oldest = idle
                    .by_key
                    .iter()
                    .filter_map(|(k, l)| l.first().map(|c| (c.idle_since, k.clone())))
                    .min_by_key(|(t, _)| *t)
                    .map(|(_, k)| k);
                let Some(k) = oldest else { break };
                if let Some(list) = idle.by_key.get_mut(&k) {
                    evicted.push(list.remove(0));
                    if list.is_empty() {
                        idle.by_key.remove(&k);
                    }
                }
                idle.total -= 1;
            }
        }
        drop(evicted);
    }

    /// Closes every idle connection.
    pub(crate) fn close_all(&self) {
        let all = {
            let mut idle = self.lock();
            idle.total = 0;
            std::mem::take(&mut idle.by_key)
        };
        drop(all);
    }

    /// Number of idle connections.
    pub(crate) fn idle_count(&self) -> usize {
        self.lock().total
    }
}
