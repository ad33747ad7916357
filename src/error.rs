//! The one error type of the crate, and the validation issue it carries.

use alloc::string::String;
use alloc::vec::Vec;

use serde::Serialize;

#[cfg(feature = "js")]
use tsify::Tsify;

/// What kind of rule an input broke: a request body, the client's options, the proxy's
/// config. On the wire and in TypeScript each code is its snake_case name: `one_of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "js", derive(Tsify))]
#[serde(rename_all = "snake_case")]
pub enum IssueCode {
    /// A required field is missing or empty.
    Required,
    /// A value has the wrong JSON type.
    Type,
    /// Not exactly one of a set of exclusive fields is set.
    OneOf,
    /// A string is longer than its limit.
    TooLong,
    /// A string has characters its field does not allow.
    Pattern,
    /// A number is outside its range.
    Range,
    /// A number is not one of the enum's values.
    Enum,
    /// An index points at nothing.
    Reference,
    /// A field that the rest of the request makes meaningless.
    NotApplicable,
    /// Not an absolute http(s) URL.
    Url,
    /// `action` names no action of the API.
    UnknownAction,
    /// A key that names no option (of the proxy's config): a typo, or an option of another version.
    UnknownOption,
    /// A value that must not be given where it was, because it would leak: credentials in a
    /// browser page, or in a body sent to the proxy.
    Forbidden,
}

impl IssueCode {
    /// The code as JavaScript and JSON see it: `required`, `one_of`, …
    pub fn name(self) -> &'static str {
        match self {
            IssueCode::Required => "required",
            IssueCode::Type => "type",
            IssueCode::OneOf => "one_of",
            IssueCode::TooLong => "too_long",
            IssueCode::Pattern => "pattern",
            IssueCode::Range => "range",
            IssueCode::Enum => "enum",
            IssueCode::Reference => "reference",
            IssueCode::NotApplicable => "not_applicable",
            IssueCode::Url => "url",
            IssueCode::UnknownAction => "unknown_action",
            IssueCode::UnknownOption => "unknown_option",
            IssueCode::Forbidden => "forbidden",
        }
    }
}

/// One broken rule in an input: a request body, options, a config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "js", derive(Tsify))]
pub struct Issue {
    /// Where, from the body's root: `createJobRequest.outputs[0].smartContentDescriptor.singingCloning.modelName`.
    pub path: String,
    /// Which kind of rule was broken.
    pub code: IssueCode,
    /// What is wrong, in plain words; the path says which field.
    pub message: &'static str,
}

/// How many characters of a response body an error keeps for display.
pub const BODY_EXCERPT_CHARS: usize = 1024;

/// Everything that can go wrong, as one enum. `code()` is the stable name JavaScript sees.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The request breaks rules of the API; nothing was sent.
    Validation { issues: Vec<Issue> },
    /// The service answered with an error object.
    Api { status: u16, request_id: Option<String>, error_code: Option<String>, message: String, body: String },
    /// The service answered a non-success status with a body that is no API error.
    Http { status: u16, request_id: Option<String>, body: String },
    /// The answer could not be read as the action's response.
    Parse { status: u16, request_id: Option<String>, reason: &'static str, body: String },
    /// The request did not reach the service, or its answer did not arrive.
    Network { message: String },
    /// The request or the wait took longer than allowed.
    Timeout,
    /// The caller aborted; `reason` is the abort reason as text.
    Aborted { reason: String },
}

impl Error {
    /// A `validation` error of one issue: `path` broke a rule of kind `code`.
    pub fn validation(path: &str, code: IssueCode, message: &'static str) -> Error {
        Error::Validation { issues: alloc::vec![Issue { path: path.into(), code, message }] }
    }

    /// `validation`, `api`, `http`, `parse`, `network`, `timeout` or `aborted`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Validation { .. } => "validation",
            Error::Api { .. } => "api",
            Error::Http { .. } => "http",
            Error::Parse { .. } => "parse",
            Error::Network { .. } => "network",
            Error::Timeout => "timeout",
            Error::Aborted { .. } => "aborted",
        }
    }

    /// The HTTP status of the answer, where there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::Http { status, .. } | Error::Parse { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The service's `requestId`, where the answer had one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api { request_id, .. } | Error::Http { request_id, .. } | Error::Parse { request_id, .. } => {
                request_id.as_deref()
            }
            _ => None,
        }
    }

    /// The whole response body, where there was one.
    pub fn body(&self) -> Option<&str> {
        match self {
            Error::Api { body, .. } | Error::Http { body, .. } | Error::Parse { body, .. } => Some(body),
            _ => None,
        }
    }

    /// At most [`BODY_EXCERPT_CHARS`] characters of the body, for logs and messages.
    pub fn body_excerpt(&self) -> Option<&str> {
        self.body().map(|body| match body.char_indices().nth(BODY_EXCERPT_CHARS) {
            Some((end, _)) => body.get(..end).unwrap_or(body),
            None => body,
        })
    }

    /// Whether the same request may succeed when sent again: network errors,
    /// timeouts, 408, 429 and 5xx.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Network { .. } | Error::Timeout => true,
            _ => self.status().is_some_and(is_retryable_status),
        }
    }

    /// The same error with every occurrence of each secret in its texts replaced by
    /// `[redacted]`, for a client that holds credentials and a service that echoes them.
    pub fn redact(mut self, secrets: &[&str]) -> Error {
        let scrub = |text: &mut String| {
            for secret in secrets.iter().filter(|s| !s.is_empty()) {
                if let Some(scrubbed) = replace_all(text, secret, "[redacted]") {
                    *text = scrubbed;
                }
            }
        };
        match &mut self {
            Error::Api { message, body, error_code, request_id, .. } => {
                scrub(message);
                scrub(body);
                error_code.as_mut().map(scrub);
                request_id.as_mut().map(scrub);
            }
            Error::Http { body, request_id, .. } | Error::Parse { body, request_id, .. } => {
                scrub(body);
                request_id.as_mut().map(scrub);
            }
            Error::Network { message } => scrub(message),
            Error::Aborted { reason } => scrub(reason),
            Error::Validation { .. } | Error::Timeout => {}
        }
        self
    }

    /// A one-line description without the body.
    pub fn message(&self) -> String {
        let mut out = String::new();
        match self {
            Error::Validation { issues } => {
                out.push_str("invalid request");
                for (i, issue) in issues.iter().enumerate() {
                    out.push_str(if i == 0 { ": " } else { "; " });
                    out.push_str(if issue.path.is_empty() { "body" } else { &issue.path });
                    out.push(' ');
                    out.push_str(issue.message);
                }
            }
            Error::Api { message, error_code, .. } => {
                out.push_str("the service refused the request");
                if let Some(code) = error_code {
                    out.push_str(" (");
                    out.push_str(code);
                    out.push(')');
                }
                out.push_str(": ");
                out.push_str(message);
            }
            Error::Http { status, .. } => {
                out.push_str("the service answered HTTP ");
                push_number(&mut out, *status as u64);
            }
            Error::Parse { reason, .. } => {
                out.push_str("unreadable response: ");
                out.push_str(reason);
            }
            Error::Network { message } => {
                out.push_str("network error: ");
                out.push_str(message);
            }
            Error::Timeout => out.push_str("timed out"),
            Error::Aborted { reason } => {
                out.push_str("aborted: ");
                out.push_str(reason);
            }
        }
        out
    }
}

impl From<Issue> for Error {
    fn from(issue: Issue) -> Error {
        Error::Validation { issues: alloc::vec![issue] }
    }
}

impl From<Vec<Issue>> for Error {
    fn from(issues: Vec<Issue>) -> Error {
        Error::Validation { issues }
    }
}

/// 408, 429 and 5xx: answers that say "try again".
pub fn is_retryable_status(status: u16) -> bool {
    status == 408 || status == 429 || (500..600).contains(&status)
}

/// `text` with every `needle` replaced, or `None` when there is none. A byte search,
/// because the standard library's substring search costs page weight; a match of a
/// whole UTF-8 needle always starts and ends on character boundaries.
pub fn replace_all(text: &str, needle: &str, with: &str) -> Option<String> {
    let (haystack, pattern) = (text.as_bytes(), needle.as_bytes());
    if pattern.is_empty() || pattern.len() > haystack.len() {
        return None;
    }
    let mut out = String::new();
    let (mut copied, mut at) = (0, 0);
    while at + pattern.len() <= haystack.len() {
        if haystack[at..at + pattern.len()] == *pattern {
            out.push_str(text.get(copied..at).unwrap_or(""));
            out.push_str(with);
            at += pattern.len();
            copied = at;
        } else {
            at += 1;
        }
    }
    if copied == 0 {
        return None;
    }
    out.push_str(text.get(copied..).unwrap_or(""));
    Some(out)
}

/// Appends a number without the formatting machinery, which costs page weight.
pub(crate) fn push_number(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[i..].iter().map(|&d| d as char));
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Error {}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn codes_are_named_as_serde_writes_them() {
        // The one rule (snake_case) for every code; the codes of more than one word, where it shows.
        for code in [IssueCode::OneOf, IssueCode::UnknownAction, IssueCode::UnknownOption, IssueCode::Forbidden] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.name());
        }
    }
}
