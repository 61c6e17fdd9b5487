//! One way to try again: an operation repeated with doubling pauses while its error
//! is one worth waiting out (EBUSY from a cgroup still emptying, EINVAL from a process
//! still being forked, a state the kernel has not reached yet), within a budget.

use std::time::{Duration, Instant};

/// How long to keep trying, and how long to pause in between.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    /// The first pause; each next one is twice as long, up to `max_delay`.
    pub first: Duration,
    pub max_delay: Duration,
    pub budget: Budget,
}

/// When to give up.
#[derive(Clone, Copy, Debug)]
pub enum Budget {
    /// No new attempt once this much time has passed since the first.
    For(Duration),
    /// At most this many attempts after the first.
    Retries(u32),
}

impl Backoff {
    /// Removing a cgroup that is still emptying (EBUSY): 1 ms doubling to 100 ms, for
    /// up to `patience`.
    pub fn busy(patience: Duration) -> Backoff {
        Backoff {
            first: Duration::from_millis(1),
            max_delay: Duration::from_millis(100),
            budget: Budget::For(patience),
        }
    }

    /// Runs `op` until it succeeds, fails with an error `again` does not accept, or
    /// the budget is spent; returns the last result.
    pub fn retry<T, E>(
        self,
        mut op: impl FnMut() -> Result<T, E>,
        mut again: impl FnMut(&E) -> bool,
    ) -> Result<T, E> {
        let start = Instant::now();
        let mut delay = self.first;
        let mut retries = 0u32;
        loop {
            let err = match op() {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let in_budget = match self.budget {
                Budget::For(d) => start.elapsed() < d,
                Budget::Retries(n) => retries < n,
            };
            if !in_budget || !again(&err) {
                return Err(err);
            }
            std::thread::sleep(delay);
            delay = (delay * 2).min(self.max_delay);
            retries += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: Duration = Duration::from_micros(10);

    #[test]
    fn retries_only_what_it_is_told() {
        let b = Backoff {
            first: FAST,
            max_delay: FAST,
            budget: Budget::Retries(8),
        };
        let mut n = 0;
        let r: Result<(), u32> = b.retry(
            || {
                n += 1;
                Err(n)
            },
            |_| true,
        );
        assert_eq!(r, Err(9), "one try and eight retries");
        let mut n = 0;
        let r: Result<u32, &str> = b.retry(
            || {
                n += 1;
                if n < 3 {
                    Err("busy")
                } else {
                    Ok(n)
                }
            },
            |e| *e == "busy",
        );
        assert_eq!(r, Ok(3));
        let mut n = 0;
        let r: Result<(), &str> = b.retry(
            || {
                n += 1;
                Err("fatal")
            },
            |e| *e == "busy",
        );
        assert_eq!((r, n), (Err("fatal"), 1));
    }

    #[test]
    fn a_time_budget_ends() {
        let b = Backoff {
            first: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
            budget: Budget::For(Duration::from_millis(30)),
        };
        let start = Instant::now();
        let r: Result<(), ()> = b.retry(|| Err(()), |_| true);
        assert!(r.is_err());
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert!(start.elapsed() < Duration::from_secs(2));
    }
}
