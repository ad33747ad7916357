//! ListModels when models are per identity. The upstream cannot filter a listing by owner,
//! so the proxy reads the whole listing a page at a time (up to [`MAX_PAGES`] pages of
//! [`PAGE`]), keeps what the caller may see, and pages that itself. The shell only posts
//! the requests this asks for and hands back the answers.

use alloc::vec::Vec;

use super::reply::Reply;
use super::scope::Scope;
use super::scrub::Scrubber;
use super::upstream;
use crate::model::{ListModelsRequest, Value};
use crate::transport::Answer;

/// Models per upstream page: the API's largest `limit`.
pub const PAGE: u32 = 100;
/// Pages read at most, so one caller's listing costs at most this many upstream requests.
pub const MAX_PAGES: u32 = 20;

/// A listing being read from the upstream.
#[derive(Debug, Default)]
pub struct ModelListing {
    models: Vec<Value>,
    request_id: Option<Value>,
    pages: u32,
    /// The offset of the next page, or `None` once the listing is whole.
    next: Option<u32>,
}

impl ModelListing {
    pub fn new() -> Self {
        ModelListing { next: Some(0), ..ModelListing::default() }
    }

    /// The next page to ask the upstream for; `None` when the listing is whole or
    /// [`MAX_PAGES`] have been read.
    pub fn next_request(&self) -> Option<ListModelsRequest> {
        let offset = self.next.filter(|_| self.pages < MAX_PAGES)?;
        Some(ListModelsRequest::new(offset, PAGE))
    }

    /// Takes the upstream's answer to [`Self::next_request`]. An answer that is not a
    /// listing (an error, a body that is not JSON) ends the listing: it is the caller's
    /// answer, as received.
    pub fn add_page(&mut self, answer: &Answer, scrubber: &Scrubber) -> Result<(), Reply> {
        let as_received = || upstream::as_received(answer, scrubber);
        let success = (200..300).contains(&answer.status);
        let mut raw = Value::parse(&answer.text).ok().filter(|_| success).ok_or_else(as_received)?;
        if self.request_id.is_none() {
            self.request_id = raw.get("requestId").cloned();
        }
        let listing = raw.get_mut("listModelsResponse").ok_or_else(as_received)?;
        let total = match listing.get("total") {
            Some(Value::Number(n)) => n.get(),
            _ => 0.0,
        };
        self.pages += 1;
        let Some(Value::Array(page)) = listing.remove("models") else {
            self.next = None;
            return Ok(());
        };
        let offset = self.next.unwrap_or(0) + page.len() as u32;
        self.next = (!page.is_empty() && (offset as f64) < total).then_some(offset);
        self.models.extend(page);
        Ok(())
    }

    /// The caller's answer: the page it `asked` for of the models it may see.
    pub fn answer(self, asked: &ListModelsRequest, scope: &Scope, scrubber: &Scrubber) -> Reply {
        let visible = scope.visible_models(self.models);
        let total = visible.len();
        let page: Vec<Value> = visible.into_iter().skip(asked.offset as usize).take(asked.limit as usize).collect();
        let mut body = Value::Object(Vec::new());
        if let Some(id) = self.request_id {
            body.set("requestId", id);
        }
        let listing = Value::Object(alloc::vec![
            ("total".into(), Value::Number((total as f64).into())),
            ("models".into(), Value::Array(page)),
        ]);
        body.set("listModelsResponse", listing);
        Reply::json(200, scrubber.body(&body.to_json()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINE: &str = "uabcdefghijk_";

    /// An upstream holding `names` in order, answering `offset`/`limit` as the API does
    /// (a second implementation of paging, written for the test).
    fn upstream_page(names: &[String], request: &ListModelsRequest) -> Answer {
        let end = names.len().min((request.offset + request.limit) as usize);
        let start = (request.offset as usize).min(end);
        let models: Vec<String> = names[start..end].iter().map(|n| format!(r#"{{"name":"{n}","status":1}}"#)).collect();
        let text = format!(
            r#"{{"requestId":"req-{}","listModelsResponse":{{"total":{},"models":[{}]}}}}"#,
            request.offset,
            names.len(),
            models.join(",")
        );
        Answer { status: 200, retry_after: None, text }
    }

    fn read_all(names: &[String]) -> (ModelListing, Vec<u32>) {
        let scrubber = Scrubber::new(&[]);
        let mut listing = ModelListing::new();
        let mut offsets = Vec::new();
        while let Some(request) = listing.next_request() {
            offsets.push(request.offset);
            listing.add_page(&upstream_page(names, &request), &scrubber).unwrap();
        }
        (listing, offsets)
    }

    fn names_of(reply: &Reply) -> (f64, Vec<String>) {
        let body = Value::parse(reply.body.as_deref().unwrap()).unwrap();
        let listing = body.get("listModelsResponse").unwrap();
        let Some(Value::Number(total)) = listing.get("total") else { panic!("no total") };
        let Some(Value::Array(models)) = listing.get("models") else { panic!("no models") };
        let names = models.iter().map(|m| m.get("name").and_then(Value::as_str).unwrap().to_string()).collect();
        (total.get(), names)
    }

    /// 250 models upstream: every third the caller's, the built-in `default`, the rest another identity's.
    fn mixed_upstream() -> Vec<String> {
        (0..250)
            .map(|i| match i {
                7 => "default".to_string(),
                i if i % 3 == 0 => format!("{MINE}voice_{i}"),
                i => format!("uzzzzzzzzzzz_other_{i}"),
            })
            .collect()
    }

    #[test]
    fn reads_every_page_of_250_models_and_pages_the_callers_part_from_an_offset() {
        let names = mixed_upstream();
        let (listing, offsets) = read_all(&names);
        assert_eq!(offsets, [0, 100, 200], "three pages of 100 cover 250");
        // The expectation, computed from the names alone: the caller's (prefix taken off) and `default`.
        let visible: Vec<String> = names
            .iter()
            .filter_map(|n| if n == "default" { Some(n.clone()) } else { n.strip_prefix(MINE).map(String::from) })
            .collect();
        assert_eq!(visible.len(), 85, "84 of the caller's and default");
        let scope = Scope { prefix: MINE.into(), models: true, files: false };
        let reply = listing.answer(&ListModelsRequest::new(30, 40), &scope, &Scrubber::new(&[]));
        assert_eq!(reply.status, 200);
        let (total, page) = names_of(&reply);
        assert_eq!(total, 85.0);
        assert_eq!(page, visible[30..70]);
        let body = Value::parse(reply.body.as_deref().unwrap()).unwrap();
        assert_eq!(body.get("requestId").and_then(Value::as_str), Some("req-0"), "the first page's request id");
    }

    #[test]
    fn an_offset_past_the_callers_models_gives_an_empty_page_with_the_total() {
        let (listing, _) = read_all(&mixed_upstream());
        let scope = Scope { prefix: MINE.into(), models: true, files: false };
        let (total, page) = names_of(&listing.answer(&ListModelsRequest::new(100, 100), &scope, &Scrubber::new(&[])));
        assert_eq!((total, page.len()), (85.0, 0));
    }

    #[test]
    fn stops_after_the_last_page_and_at_the_page_cap() {
        let exact: Vec<String> = (0..200).map(|i| format!("{MINE}m{i}")).collect();
        assert_eq!(read_all(&exact).1, [0, 100], "no request past a full last page");
        assert_eq!(read_all(&[]).1, [0]);
        let huge: Vec<String> = (0..5000).map(|i| format!("{MINE}m{i}")).collect();
        let (listing, offsets) = read_all(&huge);
        assert_eq!(offsets.len(), MAX_PAGES as usize);
        assert_eq!(offsets.last(), Some(&((MAX_PAGES - 1) * PAGE)));
        let scope = Scope { prefix: MINE.into(), models: true, files: false };
        let (total, _) = names_of(&listing.answer(&ListModelsRequest::new(0, 1), &scope, &Scrubber::new(&[])));
        assert_eq!(total, (MAX_PAGES * PAGE) as f64, "what could be read");
    }

    #[test]
    fn an_upstream_error_is_the_callers_answer() {
        let mut listing = ModelListing::new();
        let failed = Answer { status: 503, retry_after: Some("3".into()), text: r#"{"error":"busy"}"#.into() };
        let reply = listing.add_page(&failed, &Scrubber::new(&[])).unwrap_err();
        assert_eq!(reply.status, 503);
        assert!(reply.headers.iter().any(|(n, v)| *n == "retry-after" && v == "3"));
        let html = Answer { status: 200, retry_after: None, text: "<html>".into() };
        assert_eq!(listing.add_page(&html, &Scrubber::new(&[])).unwrap_err().status, 502);
    }
}
