//! Discovery: the granted connectors' methods, searchable from inside the
//! sandbox as `codemode.search(query, { limit })` and
//! `codemode.describe(name)`.
//!
//! An agent facing thousands of operations should find the few it needs in
//! code, not read them all. The index is built once per [`Grants`] (they are
//! shared behind an `Arc`, so once per connector set), on the first search,
//! and never on a run that does not search.
//!
//! Ranking is a small BM25-like sum: each query word that matches a word of a
//! method's name (weight 4, less in long names), path or tags (2) or
//! description (1) adds that weight times the word's rarity across all
//! methods. A query word that no method has counts half for the words it
//! begins or that begin it (`gis` finds `gist`), and words like `a` and
//! `the` do not count.
//! Words are split at punctuation and camelCase, lowercased, made singular,
//! and abbreviated the way API names abbreviate them (`repository` is
//! `repo`), so `listIssues`, `list-issues` and `list issue` meet, and so do
//! `repos_get` and "get a repository".
//!
//! A method's TypeScript declaration is generated when it is described (or
//! taken from [`Connector::declaration`]), not when the index is built.
//!
//! [`Grants`]: crate::Grants

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use codemode_typescript::declare::namespace_declaration;
use serde_json::{Value, json};

use crate::catalog::first_sentence;

use crate::connector::{Connector, MethodDescription};

/// The most results one search returns.
pub const MAX_SEARCH_RESULTS: usize = 50;
/// Descriptions in search results keep their first sentence, cut to at most
/// this many characters, the ellipsis included.
const SUMMARY_CHARS: usize = 241;
/// Only this much of a query is read.
const MAX_QUERY_CHARS: usize = 1000;
/// `describe` looks up names of at most this many bytes, or twice the
/// longest name it knows when that is more: a longer name is refused before
/// any look-up, so the work stays bounded whatever the script sends.
const MAX_NAME_BYTES: usize = 256;
/// How much of an unknown name an error message repeats.
const QUOTED_NAME_CHARS: usize = 80;

const NAME_WEIGHT: f32 = 4.0;
const PATH_WEIGHT: f32 = 2.0;
const DESCRIPTION_WEIGHT: f32 = 1.0;
const NAMESPACE_WEIGHT: f32 = 1.0;
/// What a word counts for when it only begins, or is begun by, a query word.
const PARTIAL: f32 = 0.5;
/// The shortest word that counts as the beginning of a longer query word.
const MIN_STEM: usize = 4;
/// Query words too common to rank by.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "by", "for", "from", "in", "is", "it", "of", "on", "or", "the", "to", "with",
];

/// One granted method.
pub(crate) struct Entry {
    pub(crate) namespace: String,
    /// The name the script calls it by.
    pub(crate) identifier: String,
    connector: Arc<dyn Connector>,
    /// Its index in the connector's methods.
    index: usize,
}

impl Entry {
    pub(crate) fn method(&self) -> Option<&MethodDescription> {
        self.connector.methods().get(self.index)
    }

    pub(crate) fn qualified_name(&self) -> String {
        format!("{}.{}", self.namespace, self.identifier)
    }
}

/// The search index over every granted method.
pub(crate) struct Discovery {
    pub(crate) entries: Vec<Entry>,
    /// Each word, with the entries it appears in and its best weight there.
    words: BTreeMap<String, Vec<(u32, f32)>>,
    /// The longest name `describe` finds, in bytes.
    longest_name: usize,
}

impl Discovery {
    /// Index `(namespace, identifiers, connector)` for each grant; the
    /// identifiers are the connector's method names as the script calls
    /// them, in the connector's order.
    pub(crate) fn build<'g>(
        grants: impl Iterator<Item = (&'g str, &'g [String], &'g Arc<dyn Connector>)>,
    ) -> Self {
        let mut entries = Vec::new();
        let mut words: BTreeMap<String, Vec<(u32, f32)>> = BTreeMap::new();
        let mut name_lengths = Vec::new();
        let mut longest_name = 0;
        for (namespace, identifiers, connector) in grants {
            for (index, (identifier, method)) in
                identifiers.iter().zip(connector.methods()).enumerate()
            {
                let id = entries.len() as u32;
                longest_name =
                    longest_name.max(namespace.len() + 1 + identifier.len().max(method.name.len()));
                entries.push(Entry {
                    namespace: namespace.to_owned(),
                    identifier: identifier.clone(),
                    connector: Arc::clone(connector),
                    index,
                });
                let mut best: HashMap<String, f32> = HashMap::new();
                let mut add = |text: &str, weight: f32| {
                    for word in split_words(text) {
                        let slot = best.entry(word).or_insert(0.0);
                        *slot = slot.max(weight);
                    }
                };
                add(identifier, NAME_WEIGHT);
                add(&method.name, NAME_WEIGHT);
                add(namespace, NAMESPACE_WEIGHT);
                if let Some(path) = &method.path {
                    add(path, PATH_WEIGHT);
                }
                for tag in &method.tags {
                    add(tag, PATH_WEIGHT);
                }
                add(&method.description, DESCRIPTION_WEIGHT);
                for (word, weight) in best {
                    words.entry(word).or_default().push((id, weight));
                }
                let name_words = split_words(identifier);
                let counted = name_words
                    .iter()
                    .filter(|w| !STOP_WORDS.contains(&w.as_str()));
                name_lengths.push(counted.count().max(1) as f32);
            }
        }
        // Like BM25's length normalization, for names only: a word counts
        // for more in `repos_get` than in a name of nine words.
        let average = name_lengths.iter().sum::<f32>() / name_lengths.len().max(1) as f32;
        for postings in words.values_mut() {
            for (entry, weight) in postings.iter_mut() {
                if *weight == NAME_WEIGHT {
                    *weight /= 0.75 + 0.25 * name_lengths[*entry as usize] / average;
                }
            }
        }
        Self {
            entries,
            words,
            longest_name,
        }
    }

    /// The entries matching `query`, best first, at most `limit`.
    pub(crate) fn rank(&self, query: &str, limit: usize) -> Vec<&Entry> {
        let query: String = query.chars().take(MAX_QUERY_CHARS).collect();
        let total = self.entries.len() as f32;
        let rarity = |postings: &[(u32, f32)]| (1.0 + total / postings.len() as f32).ln();
        let mut scores = vec![0.0f32; self.entries.len()];
        let mut query_words = split_words(&query);
        query_words.retain(|word| !STOP_WORDS.contains(&word.as_str()));
        query_words.sort();
        query_words.dedup();
        for word in &query_words {
            let mut best: HashMap<u32, f32> = HashMap::new();
            let mut credit = |postings: &[(u32, f32)], factor: f32| {
                let factor = factor * rarity(postings);
                for &(entry, weight) in postings {
                    let slot = best.entry(entry).or_insert(0.0);
                    *slot = slot.max(weight * factor);
                }
            };
            if let Some(postings) = self.words.get(word) {
                credit(postings, 1.0);
            } else {
                // A word no method has may be a fragment (`repo` of
                // `repository`) or a longer form (`reposit` of `repo`).
                let longer = self.words.range(word.clone()..);
                for (_, postings) in longer.take_while(|(w, _)| w.starts_with(word.as_str())) {
                    if word.len() >= 3 {
                        credit(postings, PARTIAL);
                    }
                }
                for end in (MIN_STEM..word.len()).filter(|&end| word.is_char_boundary(end)) {
                    if let Some(postings) = self.words.get(&word[..end]) {
                        credit(postings, PARTIAL);
                    }
                }
            }
            for (entry, score) in best {
                scores[entry as usize] += score;
            }
        }
        let mut ranked: Vec<usize> = (0..self.entries.len())
            .filter(|&entry| scores[entry] > 0.0)
            .collect();
        // Equal scores keep the grants' order.
        ranked.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        ranked.truncate(limit.min(MAX_SEARCH_RESULTS));
        ranked
            .into_iter()
            .map(|entry| &self.entries[entry])
            .collect()
    }

    /// `codemode.search`: a JSON array of `{ name, description, path?,
    /// tags? }`, best match first.
    pub(crate) fn search(&self, query: &str, limit: usize) -> String {
        let results: Vec<Value> = self
            .rank(query, limit)
            .into_iter()
            .filter_map(|entry| {
                let method = entry.method()?;
                let mut result = json!({
                    "name": entry.qualified_name(),
                    "description": first_sentence(&method.description, SUMMARY_CHARS),
                });
                if let Some(path) = &method.path {
                    result["path"] = json!(path);
                }
                if !method.tags.is_empty() {
                    result["tags"] = json!(method.tags);
                }
                Some(result)
            })
            .collect();
        Value::Array(results).to_string()
    }

    /// `codemode.describe`: one method as JSON, found by `namespace.name`
    /// (its identifier or its original name) or by a name only one
    /// namespace has. An unknown name gets an error listing close matches.
    ///
    /// A name longer than [`MAX_NAME_BYTES`] (or twice the longest known
    /// name) is refused before any look-up.
    pub(crate) fn describe(&self, name: &str) -> Result<String, String> {
        if name.len() > MAX_NAME_BYTES.max(2 * self.longest_name) {
            let quoted: String = name.chars().take(QUOTED_NAME_CHARS).collect();
            return Err(format!(
                "no method is named `{quoted}…`: the name is {} bytes long, and no method's is longer than {} (`codemode.search(query)` finds methods)",
                name.len(),
                self.longest_name
            ));
        }
        if let Some((entry, method)) = self.find(name) {
            return Ok(described(entry, method).to_string());
        }
        if let Some(described) = self.described_type(name) {
            return Ok(described.to_string());
        }
        Err({
            let close: Vec<String> = self
                .close_matches(name, 3)
                .into_iter()
                .map(|entry| format!("`{}`", entry.qualified_name()))
                .collect();
            let mut message = format!("no method is named `{name}`");
            if !close.is_empty() {
                message.push_str(&format!("; close matches: {}", close.join(", ")));
            }
            message.push_str(" (`codemode.search(query)` finds methods)");
            message
        })
    }

    /// A named type of a connector's declarations, `namespace.TypeName`,
    /// described as `{ name, declaration }`; `None` when there is no such
    /// type. (Asked only for a name that is no method.)
    fn described_type(&self, name: &str) -> Option<Value> {
        let (namespace, type_name) = name.split_once('.')?;
        let entry = self
            .entries
            .iter()
            .find(|entry| entry.namespace == namespace)?;
        let declaration = entry.connector.type_declaration(namespace, &[type_name])?;
        Some(json!({ "name": name, "declaration": declaration }))
    }

    /// Every method, described as [`Discovery::describe`] describes one, in
    /// namespace order.
    pub(crate) fn catalog(&self) -> Vec<Value> {
        self.entries
            .iter()
            .filter_map(|entry| Some(described(entry, entry.method()?)))
            .collect()
    }

    /// At most `limit` methods a mistyped `name` may have meant: those
    /// within a few edits of it (in its namespace, when it names one),
    /// nearest first, then those its words rank highest.
    fn close_matches(&self, name: &str, limit: usize) -> Vec<&Entry> {
        let (namespace, wanted) = split_name(name);
        let length = wanted.chars().count();
        let most_edits = (length / 4).max(2);
        let mut near: Vec<(usize, &Entry)> = self
            .entries
            .iter()
            .filter(|entry| namespace.is_none_or(|namespace| namespace == entry.namespace))
            // Names whose lengths differ by more than `most_edits` are more
            // edits apart than that: skip them without the quadratic count.
            .filter(|entry| entry.identifier.chars().count().abs_diff(length) <= most_edits)
            .map(|entry| {
                (
                    strsim::damerau_levenshtein(wanted, &entry.identifier),
                    entry,
                )
            })
            .filter(|(edits, _)| *edits <= most_edits)
            .collect();
        near.sort_by_key(|(edits, _)| *edits);
        let mut close: Vec<&Entry> = near.into_iter().map(|(_, entry)| entry).collect();
        for entry in self.rank(name, limit) {
            if !close.iter().any(|known| std::ptr::eq(*known, entry)) {
                close.push(entry);
            }
        }
        close.truncate(limit);
        close
    }

    fn find(&self, name: &str) -> Option<(&Entry, &MethodDescription)> {
        let (namespace, wanted) = split_name(name);
        let mut found = self.entries.iter().filter_map(|entry| {
            if namespace.is_some_and(|namespace| namespace != entry.namespace) {
                return None;
            }
            let method = entry.method()?;
            (entry.identifier == wanted || method.name == wanted || method.name == name)
                .then_some((entry, method))
        });
        let first = found.next()?;
        // A bare name that several namespaces have is ambiguous.
        match (namespace, found.next()) {
            (None, Some(_)) => None,
            _ => Some(first),
        }
    }
}

/// `namespace.method` as its namespace and method; a bare name has no
/// namespace.
fn split_name(name: &str) -> (Option<&str>, &str) {
    match name.split_once('.') {
        Some((namespace, method)) => (Some(namespace), method),
        None => (None, name),
    }
}

/// One method as JSON: its qualified name, description, TypeScript
/// declaration (the connector's own, or generated from its schemas) and
/// schemas, with its original name, path and tags where it has them.
pub(crate) fn described(entry: &Entry, method: &MethodDescription) -> Value {
    let declaration = entry
        .connector
        .brief_declaration(&entry.namespace, &method.name)
        .unwrap_or_else(|| declaration(&[(entry, method)]));
    let mut described = json!({
        "name": entry.qualified_name(),
        "description": method.description,
        "declaration": declaration,
        "inputSchema": method.input_schema,
        "outputSchema": method.output_schema,
    });
    if method.name != entry.identifier {
        described["originalName"] = json!(method.name);
    }
    if let Some(path) = &method.path {
        described["path"] = json!(path);
    }
    if !method.tags.is_empty() {
        described["tags"] = json!(method.tags);
    }
    described
}

/// The TypeScript declaration of `methods`, all of one grant, in one
/// `declare namespace` block: the connector's own, or generated from their
/// schemas.
pub(crate) fn declaration(methods: &[(&Entry, &MethodDescription)]) -> String {
    let Some((first, _)) = methods.first() else {
        return String::new();
    };
    let names: Vec<&str> = methods
        .iter()
        .map(|(_, method)| method.name.as_str())
        .collect();
    first
        .connector
        .declaration(&first.namespace, &names)
        .unwrap_or_else(|| {
            let typed: Vec<(&str, &MethodDescription)> = methods
                .iter()
                .map(|(entry, method)| (entry.identifier.as_str(), *method))
                .collect();
            namespace_declaration(&first.namespace, &typed)
        })
}

/// Lowercased words, split at anything not a letter or digit and at
/// camelCase humps, with a plural `s` dropped.
fn split_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    let mut finish = |word: &mut String| {
        if !word.is_empty() {
            words.push(stem(std::mem::take(word)));
        }
    };
    for c in text.chars() {
        if !c.is_alphanumeric() {
            finish(&mut word);
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower {
            finish(&mut word);
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        word.extend(c.to_lowercase());
    }
    finish(&mut word);
    words
}

/// One form per word: plurals made singular (`repositories`, `issues`),
/// then the long forms of words APIs abbreviate made short (`repository` is
/// `repo`), so that a query meets a name whichever form either uses.
fn stem(mut word: String) -> String {
    if word.len() > 4 && word.ends_with("ies") {
        word.truncate(word.len() - 3);
        word.push('y');
    } else if word.len() > 3
        && word.ends_with('s')
        && !["ss", "us", "is"].iter().any(|end| word.ends_with(end))
    {
        word.pop();
    }
    match ABBREVIATIONS.iter().find(|(long, _)| *long == word) {
        Some((_, short)) => (*short).to_owned(),
        None => word,
    }
}

/// Long words and the short forms API names use for them.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("application", "app"),
    ("authentication", "auth"),
    ("authorization", "auth"),
    ("configuration", "config"),
    ("directory", "dir"),
    ("environment", "env"),
    ("information", "info"),
    ("organization", "org"),
    ("repository", "repo"),
    ("specification", "spec"),
];

#[cfg(test)]
pub(crate) mod tests {
    use async_trait::async_trait;

    use super::*;
    use crate::CallContext;
    use crate::connector::ConnectorError;

    /// A connector with these methods, never called.
    pub(crate) struct Listed(pub(crate) Vec<MethodDescription>);

    #[async_trait]
    impl Connector for Listed {
        fn methods(&self) -> &[MethodDescription] {
            &self.0
        }
        async fn call(&self, _: &CallContext, _: Value) -> Result<Value, ConnectorError> {
            Err(ConnectorError::new("not called in these tests"))
        }
    }

    /// The methods `(name, description)` granted as `github`, indexed.
    pub(crate) fn discovery(methods: &[(&str, &str)]) -> Discovery {
        let listed = methods
            .iter()
            .map(|(name, description)| MethodDescription::new(*name, *description))
            .collect();
        let connector: Arc<dyn Connector> = Arc::new(Listed(listed));
        let identifiers: Vec<String> = methods.iter().map(|(name, _)| name.to_string()).collect();
        Discovery::build([("github", identifiers.as_slice(), &connector)].into_iter())
    }

    #[test]
    fn words_split_at_punctuation_and_humps_and_drop_plurals() {
        assert_eq!(
            split_words("listIssues for-repo GET /repos/{owner}"),
            ["list", "issue", "for", "repo", "get", "repo", "owner"]
        );
        assert_eq!(split_words("class access"), ["class", "access"]);
        assert_eq!(
            split_words("Repositories of an Organization"),
            ["repo", "of", "an", "org"]
        );
    }

    #[test]
    fn names_outrank_descriptions_and_prefixes_count() {
        let index = discovery(&[
            ("list_issues", "Lists the issues of a repository."),
            ("get_repo", "Gets a repository; mentions issues in passing."),
            ("delete_gist", "Deletes a gist."),
        ]);
        let names = |query: &str| -> Vec<String> {
            index
                .rank(query, 10)
                .into_iter()
                .map(|entry| entry.identifier.clone())
                .collect()
        };
        assert_eq!(names("issues"), ["list_issues", "get_repo"]);
        assert_eq!(names("repository"), ["get_repo", "list_issues"]);
        assert_eq!(names("repo"), ["get_repo", "list_issues"]);
        assert_eq!(names("gis"), ["delete_gist"]);
        assert!(names("nothing matches").is_empty());
        assert_eq!(names("issue").len(), 2);
    }

    #[test]
    fn describe_finds_qualified_and_bare_names_and_suggests_close_ones() {
        let index = discovery(&[
            ("list_issues", "Lists issues."),
            ("get_repo", "Gets a repo."),
        ]);
        assert!(index.describe("github.get_repo").is_ok());
        assert!(index.describe("get_repo").is_ok());
        let error = index
            .describe("github.get_repos")
            .expect_err("an unknown name is refused");
        assert!(error.contains("`github.get_repo`"), "{error}");
    }

    #[test]
    fn summaries_keep_the_first_sentence() {
        let summary = |text: &str| first_sentence(text, SUMMARY_CHARS);
        assert_eq!(summary("Gets a thing. More text."), "Gets a thing.");
        assert_eq!(summary("Line one\nline two"), "Line one");
        assert_eq!(summary(&"x".repeat(300)).chars().count(), SUMMARY_CHARS);
    }
}
