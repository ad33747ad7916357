//! Job events (`GET {prefix}/events`): what each caller's event stream carries. Per scope
//! (the 13-character prefix of the caller's jobs, which both a caller and a verified
//! callback's job name), a bounded buffer of the changes of its jobs' states, each with an
//! id, so that a reconnect with `Last-Event-ID` gets what it missed; and the Server-Sent
//! Events text of each. Pure: the shell records what it learns and writes the text.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;

use super::error_code::ProxyErrorCode;
use super::reply::Reply;
use super::scope::Scope;
use super::scrub::Scrubber;
use crate::model::response::add_status;
use crate::model::{Action, Value};

/// How long an event is kept for replay: 15 minutes.
pub const DEFAULT_MAX_AGE_MS: f64 = 15.0 * 60.0 * 1000.0;
/// Events kept per scope at most; the oldest go first.
pub const DEFAULT_MAX_PER_SCOPE: usize = 200;
/// Scopes with buffered events at most; the one least recently changed goes first.
pub const DEFAULT_MAX_SCOPES: usize = 10_000;

/// How often every scope's old events are forgotten (each scope's own, whenever it is used).
const SWEEP_MS: f64 = 1000.0;

/// Event streams open at once per scope at most: each holds a connection and a timer, and
/// a page needs one (a few tabs a few more).
pub const MAX_STREAMS_PER_SCOPE: usize = 8;

/// The 429 for one stream too many (see [`MAX_STREAMS_PER_SCOPE`]): the client may retry
/// once another of its streams has closed.
pub fn too_many_streams() -> Reply {
    Reply::error(429, ProxyErrorCode::RateLimited, "this identity has too many event streams open")
        .with_header("retry-after", "15".into())
}

/// The comment line written when nothing else is: it keeps the connection open through
/// intermediaries that close idle ones, and every `EventSource` ignores it.
pub const HEARTBEAT: &str = ": keep-alive\n\n";

/// One change of a job's state, as its caller sees the job.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The `id:` of the event: `{process start ms}-{n}`.
    pub id: String,
    /// The counter part of `id`, increasing in the process.
    seq: u64,
    pub at_ms: f64,
    /// The job, one line of JSON.
    pub data: String,
}

impl Event {
    /// An event as a store made it.
    pub fn new(id: String, seq: u64, at_ms: f64, data: String) -> Event {
        Event { id, seq, at_ms, data }
    }

    /// The order of the event in the process: later events have larger ones.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The event as Server-Sent Events text: `id:`, `event: job`, one `data:` line, a blank line.
    pub fn to_sse(&self) -> String {
        let mut out = String::with_capacity(self.data.len() + self.id.len() + 32);
        out.push_str("id: ");
        out.push_str(&self.id);
        out.push_str("\nevent: job\ndata: ");
        // JSON from the tree's writer has no raw line breaks (they are escaped in strings);
        // dropping any keeps one event one `data:` line whatever happens.
        out.extend(self.data.chars().filter(|c| *c != '\n' && *c != '\r'));
        out.push_str("\n\n");
        out
    }
}

#[derive(Default)]
struct ScopeEvents {
    events: VecDeque<Event>,
    /// The last state recorded per job id, for dedupe, with the seq that recorded it
    /// (the oldest are forgotten beyond `max_per_scope`).
    last_state: BTreeMap<String, (String, u64)>,
    /// The seq of the newest event, for the eviction of whole scopes.
    newest: u64,
}

/// Every scope's buffered events, bounded in age, per scope and in scopes.
pub struct Events {
    process: String,
    next: u64,
    max_age_ms: f64,
    max_per_scope: usize,
    max_scopes: usize,
    scopes: BTreeMap<String, ScopeEvents>,
    /// When every scope was last looked at for old events.
    swept_ms: f64,
}

impl Events {
    /// An empty buffer; ids are `{process_start_ms}-{n}`, so that an id of an earlier
    /// process is never taken for one of this one.
    pub fn new(process_start_ms: f64, max_age_ms: f64, max_per_scope: usize, max_scopes: usize) -> Events {
        let mut process = String::new();
        crate::error::push_number(&mut process, process_start_ms.max(0.0) as u64);
        Events {
            process,
            next: 0,
            max_age_ms,
            max_per_scope,
            max_scopes,
            scopes: BTreeMap::new(),
            swept_ms: f64::NEG_INFINITY,
        }
    }

    /// With the defaults: 15 minutes, 200 events per scope, 10,000 scopes.
    pub fn with_defaults(process_start_ms: f64) -> Events {
        Events::new(process_start_ms, DEFAULT_MAX_AGE_MS, DEFAULT_MAX_PER_SCOPE, DEFAULT_MAX_SCOPES)
    }

    /// Records `job` (unscoped, as its caller sees it, with `status`) for `scope` at
    /// `now_ms`: an event when its `state` differs from the last one recorded for the job,
    /// `None` otherwise (or when it has no `id`).
    pub fn record(&mut self, scope: &str, job: &Value, now_ms: f64) -> Option<Event> {
        self.expire(scope, now_ms);
        let job_id = job.get("id").and_then(Value::as_str)?;
        let state = job.get("state").map(Value::to_json).unwrap_or_default();
        if self.scopes.get(scope).and_then(|s| s.last_state.get(job_id)).is_some_and(|(last, _)| *last == state) {
            return None;
        }
        self.next += 1;
        let seq = self.next;
        let mut id = self.process.clone();
        id.push('-');
        crate::error::push_number(&mut id, seq);
        let event = Event { id, seq, at_ms: now_ms, data: job.to_json() };
        if !self.scopes.contains_key(scope) && self.scopes.len() >= self.max_scopes {
            // The scope changed least recently goes: its caller has been quiet longest.
            let oldest = self.scopes.iter().min_by_key(|(_, s)| s.newest).map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.scopes.remove(&oldest);
            }
        }
        let entry = self.scopes.entry(scope.into()).or_default();
        entry.newest = seq;
        entry.last_state.insert(job_id.into(), (state, seq));
        if entry.last_state.len() > self.max_per_scope {
            let oldest = entry.last_state.iter().min_by_key(|(_, (_, s))| *s).map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                entry.last_state.remove(&oldest);
            }
        }
        entry.events.push_back(event.clone());
        while entry.events.len() > self.max_per_scope {
            entry.events.pop_front();
        }
        Some(event)
    }

    /// The events of `scope` a client that saw `last_event_id` missed, oldest first: those
    /// after it, or every one still buffered when the id is absent, unknown (another
    /// process's, or made up) or too old to be buffered.
    pub fn replay(&mut self, scope: &str, last_event_id: Option<&str>, now_ms: f64) -> Vec<Event> {
        self.expire(scope, now_ms);
        let Some(buffered) = self.scopes.get(scope) else { return Vec::new() };
        let after = last_event_id.and_then(|id| self.seq_of(id)).filter(|seq| *seq <= self.next);
        let known = after.filter(|seq| buffered.events.front().is_some_and(|first| *seq >= first.seq));
        buffered.events.iter().filter(|e| known.is_none_or(|seq| e.seq > seq)).cloned().collect()
    }

    /// The events of `scope` after the one numbered `after` (see [`Event::seq`]), oldest first.
    pub fn since(&mut self, scope: &str, after: u64, now_ms: f64) -> Vec<Event> {
        self.expire(scope, now_ms);
        let Some(buffered) = self.scopes.get(scope) else { return Vec::new() };
        buffered.events.iter().filter(|e| e.seq > after).cloned().collect()
    }

    /// The number of the newest event of the process (0 before the first): a stream that
    /// has sent everything so far has this as its cursor.
    pub fn latest(&self) -> u64 {
        self.next
    }

    /// The counter of an id of this process.
    fn seq_of(&self, id: &str) -> Option<u64> {
        let n = id.strip_prefix(self.process.as_str())?.strip_prefix('-')?;
        n.bytes().all(|b| b.is_ascii_digit()).then(|| n.parse().ok()).flatten()
    }

    /// Forgets `scope`'s events older than the maximum age, and the scope once it has none;
    /// every other scope's too at most once per [`SWEEP_MS`], so that a request costs the same
    /// with one scope buffered or ten thousand.
    fn expire(&mut self, scope: &str, now_ms: f64) {
        let max_age = self.max_age_ms;
        let emptied = |s: &mut ScopeEvents| {
            while s.events.front().is_some_and(|e| now_ms - e.at_ms >= max_age) {
                s.events.pop_front();
            }
            s.events.is_empty()
        };
        if !(now_ms - self.swept_ms < SWEEP_MS && now_ms >= self.swept_ms) {
            self.swept_ms = now_ms;
            self.scopes.retain(|_, s| !emptied(s));
        } else if self.scopes.get_mut(scope).is_some_and(emptied) {
            self.scopes.remove(scope);
        }
    }

    /// How many events are buffered in all.
    pub fn len(&self) -> usize {
        self.scopes.values().map(|s| s.events.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.scopes.is_empty()
    }
}

/// The jobs of a successful answer to `action` as the proxy gives it its caller (`answer`,
/// already unscoped and scrubbed), each with `status` as `parseResponse` adds it.
pub fn jobs_of_answer(action: Action, answer: &Value) -> Vec<Value> {
    let Some(payload) = answer.get(action.response_key()) else { return Vec::new() };
    let mut jobs: Vec<Value> = match (action, payload.get("job"), payload.get("jobs")) {
        (Action::CreateJob | Action::GetJob, Some(job @ Value::Object(_)), _) => alloc::vec![job.clone()],
        (Action::ListJobs, _, Some(Value::Array(jobs))) => jobs.clone(),
        _ => Vec::new(),
    };
    jobs.iter_mut().for_each(add_status);
    jobs
}

/// A job as the upstream reports it (re-read for a verified callback), as the caller whose
/// `scope` it is sees it: unscoped (`restore` gives a callback URL back as the caller wrote
/// it, `None` for one the caller did not ask for), with `status`, scrubbed.
pub fn job_for_caller(
    job: &Value,
    scope: &Scope,
    restore: &dyn Fn(&str, &str) -> Option<String>,
    scrubber: &Scrubber,
) -> Value {
    let mut job = job.clone();
    scope.unscope_job(&mut job, restore);
    add_status(&mut job);
    scrubber.value(&mut job);
    job
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANN: &str = "uaaaaaaaaaaa_";
    const BOB: &str = "ubbbbbbbbbbb_";

    fn job(id: &str, state: u8) -> Value {
        let mut job = Value::parse(&format!(r#"{{"id":"{id}","state":{state},"customId":"song"}}"#)).unwrap();
        add_status(&mut job);
        job
    }

    fn ids(events: &[Event]) -> Vec<&str> {
        events.iter().map(|e| e.id.as_str()).collect()
    }

    #[test]
    fn records_changes_of_state_in_order_and_drops_repeats() {
        let mut events = Events::with_defaults(1000.0);
        let a = events.record(ANN, &job("j1", 1), 0.0).unwrap();
        assert_eq!(a.id, "1000-1");
        assert_eq!(events.record(ANN, &job("j1", 1), 1.0), None, "the same state twice is one event");
        let b = events.record(ANN, &job("j1", 2), 2.0).unwrap();
        let c = events.record(ANN, &job("j2", 1), 3.0).unwrap();
        assert_eq!(events.record(ANN, &job("j1", 2), 4.0), None);
        let d = events.record(ANN, &job("j1", 3), 5.0).unwrap();
        assert_eq!(ids(&events.replay(ANN, None, 6.0)), [a.id, b.id, c.id, d.id.clone()]);
        assert!(d.data.contains(r#""status":"COMPLETED""#), "{}", d.data);
        assert_eq!(events.record(ANN, &Value::parse(r#"{"state":1}"#).unwrap(), 7.0), None, "no id, no event");
    }

    #[test]
    fn replays_what_came_after_an_id_and_everything_for_an_unknown_one() {
        let mut events = Events::with_defaults(1000.0);
        let a = events.record(ANN, &job("j1", 1), 0.0).unwrap();
        let b = events.record(ANN, &job("j1", 2), 1.0).unwrap();
        let c = events.record(ANN, &job("j1", 3), 2.0).unwrap();
        assert_eq!(ids(&events.replay(ANN, Some(&a.id), 3.0)), [b.id.as_str(), c.id.as_str()]);
        assert!(events.replay(ANN, Some(&c.id), 3.0).is_empty(), "nothing missed");
        assert_eq!(ids(&events.since(ANN, a.seq(), 3.0)), [b.id.as_str(), c.id.as_str()]);
        assert!(events.since(ANN, events.latest(), 3.0).is_empty());
        assert!(events.since(BOB, 0, 3.0).is_empty(), "another scope's cursor sees nothing of Ann's");
        for unknown in ["999-1", "1000-", "1000-x", "1000-99", "garbage", "", "1000-+1"] {
            assert_eq!(events.replay(ANN, Some(unknown), 3.0).len(), 3, "{unknown}");
        }
    }

    #[test]
    fn another_identitys_events_are_never_in_a_buffer() {
        let mut events = Events::with_defaults(0.0);
        events.record(ANN, &job("j1", 1), 0.0).unwrap();
        let bobs = events.record(BOB, &job("j9", 3), 0.0).unwrap();
        let anns = events.replay(ANN, None, 1.0);
        assert_eq!(anns.len(), 1);
        assert!(anns.iter().all(|e| e.data.contains(r#""id":"j1""#)));
        // Bob's id after Ann's own: still only Ann's events, never Bob's.
        assert!(events.replay(ANN, Some(&bobs.id), 1.0).iter().all(|e| !e.data.contains("j9")));
        assert_eq!(ids(&events.replay(BOB, None, 1.0)), [bobs.id.as_str()]);
        assert!(events.replay("uccccccccccc_", None, 1.0).is_empty());
    }

    #[test]
    fn events_expire_after_fifteen_minutes() {
        let mut events = Events::with_defaults(0.0);
        let minute = 60_000.0;
        let old = events.record(ANN, &job("j1", 1), 0.0).unwrap();
        let new = events.record(ANN, &job("j1", 2), 10.0 * minute).unwrap();
        assert_eq!(events.replay(ANN, None, 15.0 * minute - 1.0).len(), 2);
        assert_eq!(ids(&events.replay(ANN, None, 15.0 * minute)), [new.id.as_str()]);
        // The expired id is too old: everything still buffered is replayed.
        assert_eq!(ids(&events.replay(ANN, Some(&old.id), 15.0 * minute)), [new.id.as_str()]);
        assert!(events.replay(ANN, None, 25.0 * minute).is_empty());
        assert!(events.is_empty(), "a scope without events is forgotten");
    }

    #[test]
    fn memory_is_bounded_per_scope_and_in_scopes() {
        let mut events = Events::new(0.0, DEFAULT_MAX_AGE_MS, 3, 2);
        for n in 0..10 {
            events.record(ANN, &job(&format!("j{n}"), 1), f64::from(n)).unwrap();
        }
        let kept = events.replay(ANN, None, 20.0);
        assert_eq!(kept.len(), 3, "the oldest went first");
        assert!(kept[0].data.contains(r#""id":"j7""#) && kept[2].data.contains(r#""id":"j9""#));
        assert!(events.scopes[ANN].last_state.len() <= 3);
        events.record(BOB, &job("b", 1), 21.0).unwrap();
        events.record(ANN, &job("j10", 1), 22.0).unwrap();
        events.record("uccccccccccc_", &job("c", 1), 23.0).unwrap();
        assert!(events.replay(BOB, None, 24.0).is_empty(), "the scope changed least recently went");
        assert_eq!(events.replay(ANN, None, 24.0).len(), 3);
        assert_eq!(events.len(), 4);
    }

    #[test]
    fn a_record_costs_the_same_with_many_scopes_buffered() {
        // Each record once looked at every scope: 20,000 records among 10,000 scopes were
        // 10^8 steps. Now a record looks at its own scope, and at all of them once a second.
        let mut events = Events::with_defaults(0.0);
        let started = std::time::Instant::now();
        for n in 0..20_000u32 {
            let scope = format!("u{:011}_", n % 10_000);
            events.record(&scope, &job(&format!("j{n}"), 1), f64::from(n) / 100.0).unwrap();
        }
        assert_eq!(events.len(), 20_000);
        assert!(started.elapsed().as_secs_f64() < 1.5, "{:?}", started.elapsed());
        // The sweep still forgets every scope's old events.
        assert!(events.replay("u00000000000_", None, DEFAULT_MAX_AGE_MS + 1e6).is_empty());
        assert!(events.is_empty());
    }

    #[test]
    fn events_are_written_as_server_sent_events() {
        let mut events = Events::with_defaults(5.0);
        let event = events.record(ANN, &job("j1", 3), 0.0).unwrap();
        assert_eq!(
            event.to_sse(),
            "id: 5-1\nevent: job\ndata: {\"id\":\"j1\",\"state\":3,\"customId\":\"song\",\"status\":\"COMPLETED\"}\n\n"
        );
        let odd = Event { id: "1".into(), seq: 1, at_ms: 0.0, data: "{\"a\":\n1}".into() };
        assert_eq!(odd.to_sse().matches("data:").count(), 1);
        assert_eq!(HEARTBEAT, ": keep-alive\n\n");
    }

    #[test]
    fn one_stream_too_many_waits() {
        let reply = too_many_streams();
        assert_eq!((reply.status, reply.error_code().as_deref()), (429, Some("rate_limited")));
        assert!(reply.headers.iter().any(|(n, _)| *n == "retry-after"));
    }

    #[test]
    fn the_jobs_of_an_answer_get_their_status() {
        let jobs_of = |action, text: &str| jobs_of_answer(action, &Value::parse(text).unwrap());
        let got = jobs_of(Action::GetJob, r#"{"getJobResponse":{"job":{"id":"j","state":2}}}"#);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].get("status").and_then(Value::as_str), Some("PROCESSING"));
        let list = r#"{"listJobsResponse":{"jobs":[{"id":"a","state":1},{"id":"b","state":4}],"total":2}}"#;
        assert_eq!(jobs_of(Action::ListJobs, list).len(), 2);
        assert!(jobs_of(Action::GetJob, r#"{"getJobResponse":{"job":"j"}}"#).is_empty());
        assert!(jobs_of(Action::ListModels, r#"{"listModelsResponse":{}}"#).is_empty());
    }

    #[test]
    fn a_re_read_job_is_unscoped_for_its_caller() {
        let scope = Scope { prefix: ANN.into(), models: true, files: false };
        let raw = Value::parse(
            r#"{"id":"j","state":3,"customId":"uaaaaaaaaaaa_song","callback":"https://p/cb/x","note":"secret-one"}"#,
        )
        .unwrap();
        let seen = job_for_caller(&raw, &scope, &|_, _| None, &Scrubber::new(&["secret-one".into()]));
        assert_eq!(seen.get("customId").and_then(Value::as_str), Some("song"));
        assert!(seen.get("callback").is_none(), "a callback the caller did not ask for is not shown");
        assert_eq!(seen.get("status").and_then(Value::as_str), Some("COMPLETED"));
        assert!(!seen.to_json().contains("secret-one"));
    }
}
