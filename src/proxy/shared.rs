//! The proxy's shared state as operations: the rate-limit buckets, the claims that make a
//! resent CreateJob one job and a replayed callback one delivery, the daily upload quota and
//! the job events. Each [`Op`] is atomic in every store that runs it, so that proxies
//! sharing a store act as one:
//! - [`MemoryState`] here runs them in one process (the default), and inside a Cloudflare
//!   Durable Object (js/proxy-durable.js), where one object serves every Worker isolate;
//! - js/store-redis.js runs the same operations as Lua scripts in Redis for Node deployments.
//!
//! An external store speaks the JSON of [`Op`] and [`Outcome`] (serde's names); this module
//! decides nothing about requests, it only keeps what the decisions ask it to.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::events::{Event, Events};
use super::rate_limit::{Buckets, RateLimit};
use super::recent::Recent;
use crate::model::Value;

/// How long a CreateJob's claim is held while it is in flight (then settled for [`CREATE_MS`],
/// or released): a waiter on an instance that died mid-create takes over after this.
pub const PENDING_MS: f64 = 60_000.0;
/// How long a settled CreateJob is remembered: resends come within seconds.
pub const CREATE_MS: f64 = 120_000.0;
/// How long a delivered callback is remembered against replays: a week.
pub const DELIVERED_MS: f64 = 7.0 * 86_400_000.0;
/// Claims remembered at most per set in one process; the oldest are forgotten first.
pub const MAX_CLAIMS: usize = 10_000;

/// A set of claims: what a key in it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ClaimSet {
    /// CreateJobs by [`super::idempotency::create_key`]: held while in flight, then the answer.
    Create,
    /// Callbacks by job id: delivered (or being delivered).
    Delivered,
}

impl ClaimSet {
    /// How long a settled claim lasts.
    pub fn ttl_ms(self) -> f64 {
        match self {
            ClaimSet::Create => CREATE_MS,
            ClaimSet::Delivered => DELIVERED_MS,
        }
    }
}

/// One operation on the shared state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Op {
    /// Takes a token from the bucket `key` (a bucket is made full on first use).
    Take { key: String, capacity: f64, refill_per_second: f64 },
    /// Claims `key` in `set`: the first claim holds it (for [`PENDING_MS`] if it is settled
    /// later, else for the set's time); later ones see its value once settled.
    Claim { set: ClaimSet, key: String, pending: bool },
    /// Gives a held claim its value, for the set's time.
    Settle { set: ClaimSet, key: String, value: String },
    /// Drops a claim: the create failed, the delivery failed.
    Release { set: ClaimSet, key: String },
    /// Counts one upload of `size` bytes against `key`'s quota of the UTC day `day`.
    Quota { key: String, day: i64, size: u64, max_count: u32, max_bytes: u64 },
    /// Records a job of `scope` (JSON text, as its caller sees it): an event when its `state`
    /// differs from the last one recorded.
    Record { scope: String, job: String },
    /// The events of `scope` after `last_event_id` (all buffered when unknown or absent).
    Replay { scope: String, last_event_id: Option<String> },
}

/// What an [`Op`] did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Outcome {
    /// `Take` or `Quota`: allowed.
    Allowed,
    /// `Take` or `Quota`: refused; allowed again in this many whole seconds.
    Refused { wait_s: u32 },
    /// `Claim`: this caller holds the key now.
    Claimed,
    /// `Claim`: another holds it; with its value once settled.
    Held { value: Option<String> },
    /// `Settle`, `Release`.
    Done,
    /// `Record`: the event it made, if any; `Replay`: the events, and the newest event's number.
    Events { events: Vec<StoredEvent>, latest: u64 },
}

/// An event as a store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredEvent {
    pub id: String,
    pub seq: u64,
    pub at_ms: f64,
    pub data: String,
}

impl From<Event> for StoredEvent {
    fn from(event: Event) -> StoredEvent {
        StoredEvent { seq: event.seq(), id: event.id, at_ms: event.at_ms, data: event.data }
    }
}

impl From<StoredEvent> for Event {
    fn from(event: StoredEvent) -> Event {
        Event::new(event.id, event.seq, event.at_ms, event.data)
    }
}

impl Op {
    /// The op as a store reads it.
    pub fn to_json(&self) -> String {
        crate::model::value::to_value(self).to_json()
    }

    /// Whether a store that cannot run this op must refuse the request (fail closed): what
    /// creates something. Reads and rate limits go on with the instance's own memory.
    pub fn fails_closed(&self) -> bool {
        !matches!(self, Op::Take { .. } | Op::Record { .. } | Op::Replay { .. })
    }

    /// Whether a store that restarts must run this op again to be what it was: the same ops
    /// as fail closed (the claims and the quota; buckets refill, and events are a buffer of
    /// minutes). Replayed in order at their times, these alone rebuild what must last (the
    /// Durable Object's log, js/proxy-durable.js).
    pub fn lasts(&self) -> bool {
        self.fails_closed()
    }
}

/// How long a store keeps a lasting op (see [`Op::lasts`]) for a replay: the longest any of
/// them counts, a delivered callback's week.
pub const LASTING_MS: f64 = DELIVERED_MS;

impl Outcome {
    /// An outcome from a store's JSON, `None` when it is not one.
    pub fn from_json(text: &str) -> Option<Outcome> {
        Value::parse(text).ok()?.decode().ok()
    }

    pub fn to_json(&self) -> String {
        crate::model::value::to_value(self).to_json()
    }
}

/// A claim: `None` while pending.
struct Claim {
    value: Option<String>,
    /// Until when a pending claim holds (`PENDING_MS` after it was made).
    pending_until_ms: f64,
}

/// The shared state in one process's memory: the default store, and the one inside the
/// Durable Object.
pub struct MemoryState {
    buckets: Buckets,
    creates: Recent<Claim>,
    delivered: Recent<Claim>,
    quota: Quota,
    events: Events,
}

/// Each key's uploads on one UTC day.
#[derive(Default)]
struct Quota {
    day: i64,
    used: std::collections::HashMap<String, (u32, u64)>,
}

/// Keys tracked at most in one day by the quota: beyond them new keys are refused uploads
/// until the next day rather than let the map grow.
pub const MAX_QUOTA_KEYS: usize = 100_000;

impl MemoryState {
    /// An empty state; event ids start with `start_ms` (see [`Events::new`]).
    pub fn new(start_ms: f64) -> MemoryState {
        MemoryState {
            buckets: Buckets::default(),
            creates: Recent::new(CREATE_MS, MAX_CLAIMS),
            delivered: Recent::new(DELIVERED_MS, MAX_CLAIMS),
            quota: Quota::default(),
            events: Events::with_defaults(start_ms),
        }
    }

    /// Runs `op` at `now_ms`.
    pub fn run(&mut self, op: &Op, now_ms: f64) -> Outcome {
        match op {
            Op::Take { key, capacity, refill_per_second } => {
                let limit = RateLimit { capacity: *capacity, refill_per_second: *refill_per_second };
                match self.buckets.take(key, limit, now_ms) {
                    Ok(()) => Outcome::Allowed,
                    Err(wait_s) => Outcome::Refused { wait_s },
                }
            }
            Op::Claim { set, key, pending } => {
                let claims = self.claims(*set);
                // A pending claim whose holder did not settle it in time is given up.
                if claims.get(key, now_ms).is_some_and(|c| c.value.is_none() && c.pending_until_ms <= now_ms) {
                    claims.remove(key);
                }
                if let Some(claim) = claims.get(key, now_ms) {
                    return Outcome::Held { value: claim.value.clone() };
                }
                let pending_until_ms = if *pending { now_ms + PENDING_MS } else { f64::INFINITY };
                claims.insert(key.clone(), now_ms, Claim { value: None, pending_until_ms });
                Outcome::Claimed
            }
            Op::Settle { set, key, value } => {
                let claims = self.claims(*set);
                claims.remove(key);
                let claim = Claim { value: Some(value.clone()), pending_until_ms: f64::INFINITY };
                claims.insert(key.clone(), now_ms, claim);
                Outcome::Done
            }
            Op::Release { set, key } => {
                self.claims(*set).remove(key);
                Outcome::Done
            }
            Op::Quota { key, day, size, max_count, max_bytes } => {
                self.quota.take(key, *day, *size, *max_count, *max_bytes, now_ms)
            }
            Op::Record { scope, job } => match Value::parse(job) {
                Ok(job) => self.record(scope, &job, now_ms),
                Err(_) => Outcome::Events { events: Vec::new(), latest: self.events.latest() },
            },
            Op::Replay { scope, last_event_id } => {
                let missed = self.events.replay(scope, last_event_id.as_deref(), now_ms);
                Outcome::Events {
                    events: missed.into_iter().map(StoredEvent::from).collect(),
                    latest: self.events.latest(),
                }
            }
        }
    }

    /// [`Op::Record`] of a job already read: what the shell runs in memory without the JSON.
    pub fn record(&mut self, scope: &str, job: &Value, now_ms: f64) -> Outcome {
        let made = self.events.record(scope, job, now_ms);
        Outcome::Events { events: made.into_iter().map(StoredEvent::from).collect(), latest: self.events.latest() }
    }

    /// The events of `scope` after the one numbered `after`: what a stream of this process
    /// has not been given yet.
    pub fn since(&mut self, scope: &str, after: u64, now_ms: f64) -> Vec<Event> {
        self.events.since(scope, after, now_ms)
    }

    fn claims(&mut self, set: ClaimSet) -> &mut Recent<Claim> {
        match set {
            ClaimSet::Create => &mut self.creates,
            ClaimSet::Delivered => &mut self.delivered,
        }
    }
}

impl Quota {
    fn take(&mut self, key: &str, day: i64, size: u64, max_count: u32, max_bytes: u64, now_ms: f64) -> Outcome {
        if day != self.day {
            self.day = day;
            self.used.clear();
        }
        let refused = || {
            let wait_s = ((day + 1) as f64 * 86_400.0 - now_ms / 1000.0).ceil().clamp(1.0, 86_400.0) as u32;
            Outcome::Refused { wait_s }
        };
        if !self.used.contains_key(key) && self.used.len() >= MAX_QUOTA_KEYS {
            return refused();
        }
        let (count, bytes) = self.used.entry(key.into()).or_default();
        if *count >= max_count || bytes.saturating_add(size) > max_bytes {
            return refused();
        }
        *count += 1;
        *bytes += size;
        Outcome::Allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(key: &str) -> Op {
        Op::Take { key: key.into(), capacity: 2.0, refill_per_second: 1.0 }
    }

    fn claim(key: &str, pending: bool) -> Op {
        Op::Claim { set: ClaimSet::Create, key: key.into(), pending }
    }

    #[test]
    fn the_lasting_ops_replayed_rebuild_the_claims_and_the_quota() {
        // A day and a half of mixed ops, with their times; then a fresh state given only the lasting ones
        // from the last week must answer every claim and quota as the first does.
        let ops: Vec<(Op, f64)> = (0..400u32)
            .map(|i| {
                let at = f64::from(i) * 300_000.0;
                let key = format!("k{}", i % 23);
                let set = if i % 2 == 0 { ClaimSet::Create } else { ClaimSet::Delivered };
                let op = match i % 7 {
                    0 => Op::Claim { set, key, pending: i % 3 == 0 },
                    1 => Op::Settle { set, key, value: format!("v{i}") },
                    2 => Op::Release { set, key },
                    3 => Op::Quota { key, day: (at / 86_400_000.0) as i64, size: 7, max_count: 4, max_bytes: 20 },
                    4 => take(&key),
                    5 => Op::Record { scope: key, job: format!(r#"{{"id":"j","state":{}}}"#, i % 4) },
                    _ => Op::Claim { set, key, pending: false },
                };
                (op, at)
            })
            .collect();
        let mut whole = MemoryState::new(0.0);
        let mut replayed = MemoryState::new(0.0);
        for (op, at) in &ops {
            whole.run(op, *at);
        }
        let end = ops.last().unwrap().1;
        for (op, at) in ops.iter().filter(|(op, at)| op.lasts() && end - at <= LASTING_MS) {
            replayed.run(op, *at);
        }
        let later = end + 1000.0;
        let day = (later / 86_400_000.0) as i64;
        for i in 0..23 {
            let key = format!("k{i}");
            for set in [ClaimSet::Create, ClaimSet::Delivered] {
                let ask = Op::Claim { set, key: key.clone(), pending: false };
                assert_eq!(whole.run(&ask, later), replayed.run(&ask, later), "{key} {set:?}");
            }
            // Uploads until the day's bytes run out: the counts so far must match.
            let quota = Op::Quota { key, day, size: 7, max_count: 4, max_bytes: 20 };
            for _ in 0..3 {
                assert_eq!(whole.run(&quota, later), replayed.run(&quota, later));
            }
        }
        assert!(!take("a").lasts() && !Op::Replay { scope: "s".into(), last_event_id: None }.lasts());
    }

    #[test]
    fn ops_and_outcomes_have_one_json_each() {
        // The JSON an external store reads and writes (js/store-redis.js), written out by hand.
        assert_eq!(
            take("identity:a").to_json(),
            r#"{"op":"take","key":"identity:a","capacity":2,"refillPerSecond":1}"#
        );
        assert_eq!(
            Op::Claim { set: ClaimSet::Delivered, key: "j".into(), pending: false }.to_json(),
            r#"{"op":"claim","set":"delivered","key":"j","pending":false}"#
        );
        assert_eq!(
            Op::Quota { key: "u".into(), day: 20_000, size: 5, max_count: 3, max_bytes: 9 }.to_json(),
            r#"{"op":"quota","key":"u","day":20000,"size":5,"maxCount":3,"maxBytes":9}"#
        );
        assert_eq!(
            Op::Replay { scope: "s".into(), last_event_id: None }.to_json(),
            r#"{"op":"replay","scope":"s","lastEventId":null}"#
        );
        let outcomes = [
            (r#"{"outcome":"allowed"}"#, Outcome::Allowed),
            (r#"{"outcome":"refused","waitS":3}"#, Outcome::Refused { wait_s: 3 }),
            (r#"{"outcome":"held","value":null}"#, Outcome::Held { value: None }),
            (r#"{"outcome":"held","value":"x"}"#, Outcome::Held { value: Some("x".into()) }),
            (
                r#"{"outcome":"events","events":[{"id":"1-1","seq":1,"atMs":5,"data":"{}"}],"latest":1}"#,
                Outcome::Events {
                    events: vec![StoredEvent { id: "1-1".into(), seq: 1, at_ms: 5.0, data: "{}".into() }],
                    latest: 1,
                },
            ),
        ];
        for (json, outcome) in outcomes {
            assert_eq!(Outcome::from_json(json).as_ref(), Some(&outcome), "{json}");
            assert_eq!(outcome.to_json(), json);
        }
        assert_eq!(Outcome::from_json(r#"{"outcome":"maybe"}"#), None);
        assert_eq!(Outcome::from_json("not json"), None);
    }

    #[test]
    fn buckets_are_taken_per_key() {
        let mut state = MemoryState::new(0.0);
        assert_eq!(state.run(&take("a"), 0.0), Outcome::Allowed);
        assert_eq!(state.run(&take("a"), 0.0), Outcome::Allowed);
        assert_eq!(state.run(&take("a"), 0.0), Outcome::Refused { wait_s: 1 });
        assert_eq!(state.run(&take("b"), 0.0), Outcome::Allowed);
        assert_eq!(state.run(&take("a"), 1000.0), Outcome::Allowed);
    }

    #[test]
    fn a_claim_is_held_then_settled_or_released() {
        let mut state = MemoryState::new(0.0);
        assert_eq!(state.run(&claim("k", true), 0.0), Outcome::Claimed);
        assert_eq!(state.run(&claim("k", true), 1.0), Outcome::Held { value: None });
        let settle = Op::Settle { set: ClaimSet::Create, key: "k".into(), value: "answer".into() };
        assert_eq!(state.run(&settle, 2.0), Outcome::Done);
        assert_eq!(state.run(&claim("k", true), 3.0), Outcome::Held { value: Some("answer".into()) });
        assert_eq!(state.run(&claim("k", true), 2.0 + CREATE_MS), Outcome::Claimed, "forgotten after its time");
        // A released claim may be made again; the sets are apart.
        assert_eq!(state.run(&Op::Release { set: ClaimSet::Create, key: "k".into() }, 5.0), Outcome::Done);
        assert_eq!(state.run(&claim("k", true), 5.0), Outcome::Claimed);
        let delivered = Op::Claim { set: ClaimSet::Delivered, key: "k".into(), pending: false };
        assert_eq!(state.run(&delivered, 5.0), Outcome::Claimed);
        assert_eq!(state.run(&delivered, 5.0 + CREATE_MS), Outcome::Held { value: None }, "a week, not two minutes");
    }

    #[test]
    fn a_pending_claim_never_settled_is_given_up() {
        let mut state = MemoryState::new(0.0);
        assert_eq!(state.run(&claim("k", true), 0.0), Outcome::Claimed);
        assert_eq!(state.run(&claim("k", true), PENDING_MS - 1.0), Outcome::Held { value: None });
        assert_eq!(state.run(&claim("k", true), PENDING_MS), Outcome::Claimed, "its holder died mid-create");
    }

    #[test]
    fn the_quota_counts_uploads_and_bytes_per_day() {
        let mut state = MemoryState::new(0.0);
        let day = 20_000;
        let at = |hours: f64| (day as f64 * 86_400.0 + hours * 3600.0) * 1000.0;
        let quota = |key: &str, size, day| Op::Quota { key: key.into(), day, size, max_count: 3, max_bytes: 1000 };
        for _ in 0..3 {
            assert_eq!(state.run(&quota("a", 10, day), at(0.0)), Outcome::Allowed);
        }
        assert_eq!(state.run(&quota("a", 10, day), at(1.0)), Outcome::Refused { wait_s: 82_800 });
        assert_eq!(state.run(&quota("b", 1001, day), at(1.0)), Outcome::Refused { wait_s: 82_800 }, "bytes too");
        assert_eq!(state.run(&quota("b", 1000, day), at(1.0)), Outcome::Allowed);
        assert_eq!(state.run(&quota("a", 10, day + 1), at(24.0)), Outcome::Allowed, "a new day");
    }

    #[test]
    fn records_and_replays_events() {
        let mut state = MemoryState::new(7.0);
        let record = |state: &mut MemoryState, n: u8| {
            let job = format!(r#"{{"id":"j","state":{n}}}"#);
            state.run(&Op::Record { scope: "s".into(), job }, 0.0)
        };
        let Outcome::Events { events, latest: 1 } = record(&mut state, 1) else { panic!("no event") };
        assert_eq!((events[0].id.as_str(), events[0].seq), ("7-1", 1));
        assert_eq!(record(&mut state, 1), Outcome::Events { events: vec![], latest: 1 }, "the same state");
        record(&mut state, 2);
        let replay = |last: Option<&str>| Op::Replay { scope: "s".into(), last_event_id: last.map(Into::into) };
        let Outcome::Events { events, latest: 2 } = state.run(&replay(Some("7-1")), 1.0) else { panic!() };
        assert_eq!(events.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["7-2"]);
        let Outcome::Events { events, .. } = state.run(&replay(None), 1.0) else { panic!() };
        assert_eq!(events.len(), 2);
    }
}
