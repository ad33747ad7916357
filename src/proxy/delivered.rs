//! The jobs whose callbacks were delivered, remembered per process against replays.
//! Keyed by the job's id alone: a callback is forwarded only for a finished job, and a
//! finished job's state never changes again, so a second callback for a delivered job is
//! a replay and is refused before it costs a GetJob upstream.

use alloc::collections::VecDeque;
use alloc::string::String;
use std::collections::HashSet;

/// Delivered callbacks remembered, at most; the oldest are forgotten first.
pub const MAX_DELIVERED: usize = 10_000;

/// The ids of the jobs whose callbacks were delivered (or are being delivered).
#[derive(Default)]
pub struct Delivered {
    ids: HashSet<String>,
    order: VecDeque<String>,
}

impl Delivered {
    /// Whether the callback of job `id` was delivered, or is being delivered.
    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    /// Records `id`; `false` if it was already there.
    pub fn insert(&mut self, id: &str) -> bool {
        if !self.ids.insert(id.into()) {
            return false;
        }
        self.order.push_back(id.into());
        if self.order.len() > MAX_DELIVERED {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
        true
    }

    /// Forgets `id` again (its delivery failed, so the upstream's retry may deliver it).
    pub fn forget(&mut self, id: &str) {
        self.ids.remove(id);
        self.order.retain(|x| x != id);
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_refuses_forgets_and_stays_bounded() {
        let mut d = Delivered::default();
        assert!(!d.contains("job-1"));
        assert!(d.insert("job-1"));
        assert!(d.contains("job-1"));
        assert!(!d.insert("job-1"), "a replay");
        d.forget("job-1");
        assert!(!d.contains("job-1"));
        assert!(d.insert("job-1"));
        for i in 0..MAX_DELIVERED * 2 {
            d.insert(&format!("j{i}"));
        }
        assert_eq!(d.len(), MAX_DELIVERED);
        assert!(!d.contains("job-1"), "the oldest is forgotten first");
    }
}
