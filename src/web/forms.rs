//! Small helpers shared by the form pages.

use std::collections::BTreeMap;

/// Field errors of a form, looked up by the template.
#[derive(Debug, Default, Clone)]
pub struct Errors(pub BTreeMap<&'static str, String>);

impl Errors {
    pub fn get(&self, field: &str) -> &str {
        self.0.get(field).map(String::as_str).unwrap_or("")
    }
    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }
}

/// `?a=1&b=x y` style query strings for links (pagination, sort) that keep the other filters.
pub fn query_string(pairs: &[(&str, String)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        q.append_pair(k, v);
    }
    let q = q.finish();
    if q.is_empty() { q } else { format!("?{q}") }
}

/// Blank → None, for optional filters.
pub fn nonblank(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}
