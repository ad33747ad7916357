//! One reader of untyped input: a [`Value`] walked field by field, each wrong field an
//! [`Issue`] at its path, all of them collected so that the caller hears of every one at
//! once. Request validation, the proxy's config and the client's options read through it,
//! so that one kind of mistake has one code and one message wherever it is made.
//!
//! [`Path`] and [`push_key`]/[`push_index`]/[`join`] are the one way issue paths are
//! written: `createJobRequest.outputs[0].contentId`, `config.allowedOrigins[1]`.

use alloc::string::String;
use alloc::vec::Vec;

use super::value::Value;
use crate::error::{push_number, Issue, IssueCode};

/// A field's place in a tree, kept as a chain of borrowed segments and written out only
/// when an issue needs it.
#[derive(Clone, Copy)]
pub enum Path<'a> {
    /// The tree itself; written as the empty path.
    Root,
    /// The member `key` of the object at the parent path.
    Key(&'a Path<'a>, &'a str),
    /// The item at an index of the array at the parent path.
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    /// Appends the path to `out`.
    pub fn render(&self, out: &mut String) {
        match *self {
            Path::Root => {}
            Path::Key(parent, key) => {
                parent.render(out);
                push_key(out, key);
            }
            Path::Index(parent, index) => {
                parent.render(out);
                push_index(out, index);
            }
        }
    }

    /// The path as text.
    pub fn rendered(&self) -> String {
        let mut out = String::new();
        self.render(&mut out);
        out
    }
}

/// Appends the member `key` to the path `out`: `a` then `b` is `a.b`; at the root, `b`.
pub fn push_key(out: &mut String, key: &str) {
    if !out.is_empty() {
        out.push('.');
    }
    out.push_str(key);
}

/// Appends the item `index` to the path `out`: `a` then 0 is `a[0]`.
pub fn push_index(out: &mut String, index: usize) {
    out.push('[');
    push_number(out, index as u64);
    out.push(']');
}

/// The path `child` (`b`, `b.c`, `[0].b` or empty), which was written from its own root,
/// below the path `parent`.
pub fn join(parent: &str, child: &str) -> String {
    let mut out = String::from(parent);
    if child.starts_with('[') {
        out.push_str(child);
    } else if !child.is_empty() {
        push_key(&mut out, child);
    }
    out
}

/// A place in an untyped tree: what is there and where.
#[derive(Clone, Copy)]
pub struct Field<'v, 'p> {
    /// `None` when the field is absent (for an object's member: missing or `null`).
    pub value: Option<&'v Value>,
    /// Where the field is, from the input's root.
    pub path: Path<'p>,
}

impl<'v, 'p> Field<'v, 'p> {
    /// The field `value` (`None`: absent) at `path`.
    pub fn new(value: Option<&'v Value>, path: Path<'p>) -> Self {
        Field { value, path }
    }

    /// The member `key` of this field's object. A `null` member counts as absent, as
    /// JavaScript callers pass `undefined` and `null` alike; so does any member of a non-object.
    pub fn key<'a>(&'a self, key: &'a str) -> Field<'v, 'a> {
        Field { value: self.value.and_then(|v| v.get_non_null(key)), path: Path::Key(&self.path, key) }
    }

    /// The item `index` of this field's array, which is `item`. A `null` item is a value
    /// of the wrong type, not an absent one.
    pub fn item<'a>(&'a self, index: usize, item: &'v Value) -> Field<'v, 'a> {
        Field { value: Some(item), path: Path::Index(&self.path, index) }
    }
}

/// Reads fields, collecting an issue for each wrong one. Every read returns `None` for an
/// absent or wrong field, so that the caller can go on to the next and report it too.
#[derive(Default)]
pub struct Reader {
    /// What was reported so far, in order.
    pub issues: Vec<Issue>,
}

impl Reader {
    /// Records an issue at `path`.
    pub fn report(&mut self, path: &Path, code: IssueCode, message: &'static str) {
        self.issues.push(Issue { path: path.rendered(), code, message });
    }

    /// Whether an issue was already reported at `path` (so a wrong type is not reported twice).
    pub fn reported_at(&self, path: &Path) -> bool {
        let rendered = path.rendered();
        self.issues.iter().any(|issue| issue.path == rendered)
    }

    /// `value` when no issue was reported, else the issues.
    pub fn finish<T>(self, value: T) -> Result<T, Vec<Issue>> {
        if self.issues.is_empty() {
            Ok(value)
        } else {
            Err(self.issues)
        }
    }

    /// The field's value; a missing `required` one is reported.
    fn present<'v>(&mut self, field: &Field<'v, '_>, required: bool) -> Option<&'v Value> {
        if field.value.is_none() && required {
            self.report(&field.path, IssueCode::Required, "is required");
        }
        field.value
    }

    /// An object, as a field to read members from.
    pub fn object<'v, 'p>(&mut self, field: Field<'v, 'p>, required: bool) -> Option<Field<'v, 'p>> {
        match self.present(&field, required)? {
            Value::Object(_) => Some(field),
            _ => {
                self.report(&field.path, IssueCode::Type, "must be an object");
                None
            }
        }
    }

    /// Any string, empty too: in answers, where the service decides what is valid.
    pub fn text<'v>(&mut self, field: Field<'v, '_>, required: bool) -> Option<&'v str> {
        match self.present(&field, required)? {
            Value::String(s) => Some(s),
            _ => {
                self.report(&field.path, IssueCode::Type, "must be a string");
                None
            }
        }
    }

    /// A string; a `required` one must not be empty, an optional one may be.
    pub fn string<'v>(&mut self, field: Field<'v, '_>, required: bool) -> Option<&'v str> {
        let text = self.text(field, required)?;
        self.refuse_empty(&field, text, required)
    }

    /// An optional string that, when given, must not be empty (a secret, a setting).
    pub fn non_empty<'v>(&mut self, field: Field<'v, '_>) -> Option<&'v str> {
        let text = self.text(field, false)?;
        self.refuse_empty(&field, text, true)
    }

    fn refuse_empty<'v>(&mut self, field: &Field, text: &'v str, refuse: bool) -> Option<&'v str> {
        if refuse && text.is_empty() {
            self.report(&field.path, IssueCode::Required, "must not be empty");
            return None;
        }
        Some(text)
    }

    /// An optional boolean; `message` says what it must be (`must be a boolean`).
    pub fn boolean(&mut self, field: Field, message: &'static str) -> Option<bool> {
        match self.present(&field, false)? {
            Value::Bool(b) => Some(*b),
            _ => {
                self.report(&field.path, IssueCode::Type, message);
                None
            }
        }
    }

    /// A number without a fraction.
    pub fn integer(&mut self, field: Field, required: bool) -> Option<f64> {
        match self.present(&field, required)? {
            Value::Number(n) if n.get().fract() == 0.0 => Some(n.get()),
            _ => {
                self.report(&field.path, IssueCode::Type, "must be an integer");
                None
            }
        }
    }

    /// An integer from `min` to `max`; `message` says the range to whoever is out of it.
    pub fn integer_in(
        &mut self,
        field: Field,
        required: bool,
        min: f64,
        max: f64,
        message: &'static str,
    ) -> Option<f64> {
        let n = self.integer(field, required)?;
        if !(min..=max).contains(&n) {
            self.report(&field.path, IssueCode::Range, message);
            return None;
        }
        Some(n)
    }

    /// An optional number from `min` to `max`; with `whole`, a fraction is out of range too
    /// (an option's count, where `1.5` is a wrong amount rather than a wrong type).
    pub fn number_in(&mut self, field: Field, min: f64, max: f64, whole: bool) -> Option<f64> {
        match self.present(&field, false)? {
            Value::Number(n) if (!whole || n.get().fract() == 0.0) && (min..=max).contains(&n.get()) => Some(n.get()),
            Value::Number(_) => {
                self.report(&field.path, IssueCode::Range, "is out of range");
                None
            }
            _ => {
                self.report(&field.path, IssueCode::Type, "must be a number");
                None
            }
        }
    }

    /// An array; `allow_empty` when `[]` will do.
    pub fn array<'v>(&mut self, field: Field<'v, '_>, required: bool, allow_empty: bool) -> Option<&'v [Value]> {
        match self.present(&field, required)? {
            Value::Array(items) if items.is_empty() && !allow_empty => {
                self.report(&field.path, IssueCode::Required, "must not be empty");
                None
            }
            Value::Array(items) => Some(items),
            _ => {
                self.report(&field.path, IssueCode::Type, "must be an array");
                None
            }
        }
    }

    /// An array of non-empty strings (a list of names, origins, hosts); `[]` will do.
    pub fn strings(&mut self, field: Field, required: bool) -> Option<Vec<String>> {
        match field.value {
            None => {
                if required {
                    self.report(&field.path, IssueCode::Required, "is required (an array of strings, empty for none)");
                }
                None
            }
            Some(Value::Array(items)) if items.iter().all(|i| matches!(i, Value::String(s) if !s.is_empty())) => {
                Some(items.iter().filter_map(Value::as_str).map(String::from).collect())
            }
            Some(_) => {
                self.report(&field.path, IssueCode::Type, "must be an array of non-empty strings");
                None
            }
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn joins_paths_one_way() {
        let root = Path::Root;
        let a = Path::Key(&root, "a");
        let item = Path::Index(&a, 2);
        assert_eq!(Path::Key(&item, "b").rendered(), "a[2].b");
        assert_eq!(Path::Index(&root, 0).rendered(), "[0]");
        assert_eq!(root.rendered(), "");
        assert_eq!(join("config", "b.c"), "config.b.c");
        assert_eq!(join("config", "[0]"), "config[0]");
        assert_eq!(join("config", ""), "config");
        assert_eq!(join("", "b"), "b");
    }

    #[test]
    fn reads_fields_and_collects_every_issue() {
        let tree = Value::parse(r#"{"s":"","n":1.5,"b":"yes","o":[],"a":[],"l":["x",""],"z":null}"#).unwrap();
        let root = Path::Root;
        let top = Field::new(Some(&tree), Path::Key(&root, "config"));
        let mut r = Reader::default();
        assert_eq!(r.string(top.key("s"), false), Some(""));
        assert_eq!(r.non_empty(top.key("s")), None);
        assert_eq!(r.string(top.key("z"), true), None);
        assert_eq!(r.integer(top.key("n"), false), None);
        assert_eq!(r.number_in(top.key("n"), 0.0, 9.0, true), None);
        assert_eq!(r.number_in(top.key("n"), 0.0, 9.0, false), Some(1.5));
        assert_eq!(r.boolean(top.key("b"), "must be a boolean"), None);
        assert!(r.object(top.key("o"), false).is_none());
        assert_eq!(r.array(top.key("a"), true, false), None);
        assert_eq!(r.strings(top.key("l"), false), None);
        let found: Vec<(&str, &str)> = r.issues.iter().map(|i| (i.path.as_str(), i.code.name())).collect();
        assert_eq!(
            found,
            [
                ("config.s", "required"),
                ("config.z", "required"),
                ("config.n", "type"),
                ("config.n", "range"),
                ("config.b", "type"),
                ("config.o", "type"),
                ("config.a", "required"),
                ("config.l", "type"),
            ]
        );
        assert!(r.reported_at(&Path::Key(&Path::Key(&root, "config"), "b")));
        assert!(r.finish(()).is_err());
        assert_eq!(Reader::default().finish(7), Ok(7));
    }
}
