//! This process's own CPU time, user and kernel, from `/proc/self/stat` (Linux), with no
//! `unsafe` and no libc: the clock-tick rate comes from the auxiliary vector the kernel gave
//! the process (`/proc/self/auxv`, `AT_CLKTCK`), as the C library's `sysconf` reads it.

use std::time::Duration;

/// CPU time spent so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTime {
    /// In user space.
    pub user: Duration,
    /// In the kernel on the process's behalf.
    pub kernel: Duration,
}

impl CpuTime {
    /// The time spent between `earlier` and `self`.
    pub fn since(self, earlier: CpuTime) -> CpuTime {
        CpuTime {
            user: self.user.saturating_sub(earlier.user),
            kernel: self.kernel.saturating_sub(earlier.kernel),
        }
    }
}

/// Reads the process's CPU time so far; `None` where `/proc` cannot say (not Linux).
pub fn now() -> Option<CpuTime> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_ascii_whitespace();
    // Fields 14 and 15 of the whole line (utime, stime) are the 12th and 13th after the name.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    let hz = clock_ticks_per_second();
    let ticks = |t: u64| Duration::from_nanos(t.saturating_mul(1_000_000_000) / hz);
    Some(CpuTime { user: ticks(utime), kernel: ticks(stime) })
}

/// `AT_CLKTCK` from `/proc/self/auxv` (pairs of native-endian words); 100, the value Linux
/// gives on every architecture it runs on, where it cannot be read.
fn clock_ticks_per_second() -> u64 {
    const AT_CLKTCK: u64 = 17;
    const WORD: usize = std::mem::size_of::<usize>();
    let Ok(auxv) = std::fs::read("/proc/self/auxv") else { return 100 };
    let word = |b: &[u8]| {
        let mut w = [0u8; WORD];
        w.copy_from_slice(b);
        usize::from_ne_bytes(w) as u64
    };
    auxv.chunks_exact(2 * WORD)
        .map(|pair| (word(&pair[..WORD]), word(&pair[WORD..])))
        .find(|&(key, _)| key == AT_CLKTCK)
        .map(|(_, hz)| hz)
        .filter(|&hz| hz > 0)
        .unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_time_on_linux() {
        if !cfg!(target_os = "linux") {
            return;
        }
        assert_eq!(clock_ticks_per_second(), 100);
        let before = now().expect("/proc/self/stat");
        // Spin for a bounded while until a tick of CPU time shows (ticks are 10 ms).
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while now().unwrap().since(before) == CpuTime::default() && start.elapsed().as_secs() < 5 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        let spent = now().unwrap().since(before);
        assert!(spent.user + spent.kernel > Duration::ZERO);
    }
}
