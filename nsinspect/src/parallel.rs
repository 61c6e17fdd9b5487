//! Spreading independent /proc reads over the cores: the work is system calls, which
//! run in parallel in the kernel, so two cores nearly halve a scan.

use std::sync::OnceLock;

/// Threads to use for `n` items: one per core, at most 4, and one when there is too
/// little work to pay for a thread.
pub fn workers_for(n: usize, min_per_worker: usize) -> usize {
    if n < 2 * min_per_worker {
        return 1;
    }
    cores().clamp(1, 4).min(n / min_per_worker)
}

/// The CPUs this process may run on, asked once: one `sched_getaffinity`. (std's
/// `available_parallelism` also reads /proc/self/cgroup and, on v1, the whole mount
/// table to find a CPU quota, on every call: more than a small scan costs.)
fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| {
        nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0))
            .map(|set| {
                (0..nix::sched::CpuSet::count())
                    .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
                    .count()
            })
            .unwrap_or(1)
    })
}

/// Runs `work` over contiguous chunks of `items`, one chunk per thread, and returns
/// the chunks' results in order.
pub fn chunked<T: Sync, R: Send>(
    items: &[T],
    min_per_worker: usize,
    work: impl Fn(&[T]) -> R + Sync,
) -> Vec<R> {
    let workers = workers_for(items.len(), min_per_worker);
    if workers <= 1 {
        return vec![work(items)];
    }
    let chunk = items.len().div_ceil(workers);
    let work = &work;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(move || work(part)))
            .collect();
        // A worker cannot panic short of a bug; its part is then missing, not the rest.
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_once_in_order() {
        let items: Vec<u32> = (0..10_000).collect();
        let parts = chunked(&items, 100, |part| part.to_vec());
        assert_eq!(parts.concat(), items);
        let small = chunked(&items[..10], 100, |part| part.len());
        assert_eq!(small, [10]);
        assert_eq!(chunked(&[] as &[u32], 1, |p| p.len()), [0]);
    }

    #[test]
    fn worker_counts() {
        assert_eq!(workers_for(0, 256), 1);
        assert_eq!(workers_for(511, 256), 1);
        assert!(workers_for(100_000, 256) <= 4);
        let cpus = std::thread::available_parallelism().map_or(1, |p| p.get());
        // std's figure is the affinity, lowered by a cgroup CPU quota.
        assert!(cores() >= cpus.max(1));
    }
}
