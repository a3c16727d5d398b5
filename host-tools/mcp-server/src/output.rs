//! Fits the outcome of an agent's script into the model's token budget.
//!
//! The MCP server hands the result and logs of a script run back to the LLM as one
//! JSON text. A script can return megabytes, which would flood the model's context,
//! so this module caps that text at a token budget (counted by [`TokenCounter`]).
//! When it has to cut, it keeps the earliest content, marks every cut in place, and
//! puts a `"truncated"` note first that says how much was cut and how to ask for
//! less. The text it returns is always valid JSON.

use serde_json::{Map, Value};

use crate::tokens::TokenCounter;

/// Key of the note that says the output was cut; the first key of any cut output.
const NOTE_KEY: &str = "truncated";
/// Key under which a cut top-level value that is not an object is kept.
const WRAPPED_KEY: &str = "value";
/// Key of the last entry of a cut object, whose value says how many keys were left out.
const MORE_KEYS_KEY: &str = "…";
/// Replaces arrays and objects nested deeper than [`MAX_DEPTH`] in a cut output.
const TOO_DEEP: &str = "… [nested too deep]";
/// Nesting depth below which a cut output replaces arrays and objects with [`TOO_DEEP`].
const MAX_DEPTH: usize = 64;
/// How many cuts [`fit`] tries before it settles for the best one that fit, or for
/// the note alone.
const MAX_ATTEMPTS: usize = 12;
/// A cut that fits and fills this share of the tokens left for content is kept
/// without trying a larger one.
const GOOD_FILL: f64 = 0.9;
/// Aim this far below the budget when resizing, so the next cut is likely to fit.
const AIM: f64 = 0.95;
/// Bounds on how much one retry resizes the character budget, so that one bad
/// estimate neither throws away most of the content nor jumps far past the budget.
const RESIZE_RANGE: (f64, f64) = (0.25, 4.0);

/// The model-facing JSON text, within a budget.
#[derive(Debug)]
pub struct Fitted {
    /// Compact, valid JSON.
    pub text: String,
    /// Tokens of `text`.
    pub tokens: usize,
    /// Tokens of the full text when it had to be cut, else `None`.
    pub cut_from: Option<usize>,
}

/// Serializes `value` (in practice an object such as `{"result": ..., "logs": [...]}`)
/// as compact JSON; when that is more than `max_tokens`, cuts it until it fits.
///
/// A cut keeps the earliest content: the first array items, the first object keys
/// and the start of strings, each cut marked in place (`"abc… [4,210 more
/// characters]"`, a last item `"… [37 more items]"`, a last key `"…": "[12 more
/// keys]"`), and arrays and objects nested deeper than 64 levels become `"… [nested
/// too deep]"`. The cut output is an object whose first key, `"truncated"`, says how
/// much was cut and how to ask for less; a value that is not an object (or already
/// has a `"truncated"` key) goes under `"value"`.
///
/// The full text is counted once. The cut is then found by guessing a character
/// budget from the full text's characters per token and counting only the cut
/// candidates, resizing the budget by how far each one missed, for at most 12
/// tries. When nothing but the note fits (tiny budgets), the note alone is returned,
/// even if it is over `max_tokens`.
pub fn fit(value: &Value, max_tokens: usize, counter: &TokenCounter) -> Fitted {
    let (full_tokens, chars_per_token) = {
        let full_text = to_compact_json(value);
        let full_tokens = counter.count(&full_text);
        if full_tokens <= max_tokens {
            return Fitted {
                text: full_text,
                tokens: full_tokens,
                cut_from: None,
            };
        }
        let chars_per_token = full_text.chars().count() as f64 / full_tokens as f64;
        (full_tokens, chars_per_token)
    };
    let cutting = Cutting {
        full_tokens,
        max_tokens,
        counter,
    };
    let note_only = cutting.settle(
        &Shape::NoteOnly,
        cutting.render(&Shape::NoteOnly, max_tokens),
    );
    let content_tokens = max_tokens.saturating_sub(note_only.tokens);
    if content_tokens == 0 {
        return note_only;
    }
    let mut search = BudgetSearch {
        char_budget: (content_tokens as f64 * chars_per_token) as usize,
        largest_fitting: 0,
        smallest_overshooting: None,
    };
    let mut best_fitting = None;
    for _ in 0..MAX_ATTEMPTS {
        let Some(shape) = cut_to(value, search.char_budget) else {
            break;
        };
        let candidate = cutting.render(&shape, max_tokens);
        let fits = candidate.tokens <= max_tokens;
        let fill =
            candidate.tokens.saturating_sub(note_only.tokens).max(1) as f64 / content_tokens as f64;
        if fits {
            best_fitting = Some((shape, candidate));
        }
        if (fits && fill >= GOOD_FILL) || !search.resize(fits, fill) {
            break;
        }
    }
    match best_fitting {
        Some((shape, fitted)) => cutting.settle(&shape, fitted),
        None => note_only,
    }
}

/// The character budget [`fit`] cuts to, and what earlier cuts taught about it.
struct BudgetSearch {
    /// The budget of the next cut.
    char_budget: usize,
    /// The largest budget whose cut fit the token budget, or 0.
    largest_fitting: usize,
    /// The smallest budget whose cut did not fit, if any.
    smallest_overshooting: Option<usize>,
}

impl BudgetSearch {
    /// Records whether the cut at the current budget `fits` and which share of the
    /// tokens for content it would `fill` (over 1 when it does not fit), then picks
    /// the next budget: scaled by the fill, or halfway between what fit and what did
    /// not when the scaled one has already been ruled out. Every next budget lies
    /// above the largest that fit, so a later fitting cut is a better one. `false`
    /// when no budget is left to try.
    fn resize(&mut self, fits: bool, fill: f64) -> bool {
        if fits {
            self.largest_fitting = self.char_budget;
        } else {
            self.smallest_overshooting = Some(self.char_budget);
        }
        let scaled =
            (self.char_budget as f64 * (AIM / fill).clamp(RESIZE_RANGE.0, RESIZE_RANGE.1)) as usize;
        let next_budget = match self.smallest_overshooting {
            None => scaled.max(self.char_budget.saturating_add(1)),
            Some(overshooting) if overshooting <= self.largest_fitting + 1 => return false,
            Some(overshooting) if (self.largest_fitting + 1..overshooting).contains(&scaled) => {
                scaled
            }
            Some(overshooting) => self.largest_fitting + (overshooting - self.largest_fitting) / 2,
        };
        self.char_budget = next_budget;
        true
    }
}

/// Compact JSON of `value`, the same text as `serde_json::to_string`, written
/// without recursion so that deeply nested values cannot overflow the stack.
fn to_compact_json(value: &Value) -> String {
    enum Entries<'v> {
        Items(std::slice::Iter<'v, Value>),
        Fields(serde_json::map::Iter<'v>),
    }
    struct OpenContainer<'v> {
        entries: Entries<'v>,
        has_entries: bool,
        closing_bracket: char,
    }

    let mut json = String::new();
    let mut open: Vec<OpenContainer> = Vec::new();
    let mut next_value = Some(value);
    loop {
        if let Some(value) = next_value.take() {
            let (opening_bracket, entries, closing_bracket) = match value {
                Value::Array(items) => ('[', Entries::Items(items.iter()), ']'),
                Value::Object(fields) => ('{', Entries::Fields(fields.iter()), '}'),
                leaf => {
                    json.push_str(&leaf.to_string());
                    continue;
                }
            };
            json.push(opening_bracket);
            open.push(OpenContainer {
                entries,
                has_entries: false,
                closing_bracket,
            });
        }
        let Some(container) = open.last_mut() else {
            return json;
        };
        let entry = match &mut container.entries {
            Entries::Items(items) => items.next().map(|item| (None, item)),
            Entries::Fields(fields) => fields.next().map(|(key, field)| (Some(key), field)),
        };
        match entry {
            Some((key, entry_value)) => {
                if container.has_entries {
                    json.push(',');
                }
                container.has_entries = true;
                if let Some(key) = key {
                    json.push_str(&Value::from(key.as_str()).to_string());
                    json.push(':');
                }
                next_value = Some(entry_value);
            }
            None => {
                json.push(container.closing_bracket);
                open.pop();
            }
        }
    }
}

/// What a cut output holds besides the `"truncated"` note.
enum Shape {
    /// The first keys of a top-level object, which follow the note.
    Fields(Map<String, Value>),
    /// A cut top-level value that is not an object, kept under `"value"`.
    Wrapped(Value),
    /// Nothing: even the smallest cut did not fit.
    NoteOnly,
}

impl Shape {
    /// The output object: the note first, then the content.
    fn with_note(&self, note: String) -> Value {
        let mut output = Map::new();
        output.insert(NOTE_KEY.to_owned(), Value::String(note));
        match self {
            Shape::Fields(fields) => output.extend(fields.clone()),
            Shape::Wrapped(value) => {
                output.insert(WRAPPED_KEY.to_owned(), value.clone());
            }
            Shape::NoteOnly => {}
        }
        Value::Object(output)
    }
}

/// Cuts the content of the output to about `char_budget` characters of JSON, or
/// `None` when not even the outermost container fits.
fn cut_to(value: &Value, char_budget: usize) -> Option<Shape> {
    let mut cutter = Cutter::default();
    match value {
        Value::Object(fields) if !fields.contains_key(NOTE_KEY) => cutter
            .cut_object(fields, char_budget, 0)
            .map(|(fields, _)| Shape::Fields(fields)),
        other => cutter
            .cut(other, char_budget, 0)
            .map(|(value, _)| Shape::Wrapped(value)),
    }
}

/// One output being cut: what the note says and how its texts are counted.
struct Cutting<'c> {
    full_tokens: usize,
    max_tokens: usize,
    counter: &'c TokenCounter,
}

impl Cutting<'_> {
    /// The note telling the model that the output was cut to about `about_tokens`.
    fn note(&self, about_tokens: usize) -> String {
        format!(
            "This output was cut from {} to about {} tokens (limit {}). Return less: filter, \
             slice or summarize in the code, or pick only the fields you need.",
            with_thousands(self.full_tokens),
            with_thousands(about_tokens),
            with_thousands(self.max_tokens),
        )
    }

    /// The output text of `shape` with a note saying it is about `about_tokens` long.
    fn render(&self, shape: &Shape, about_tokens: usize) -> Fitted {
        let text = shape.with_note(self.note(about_tokens)).to_string();
        Fitted {
            tokens: self.counter.count(&text),
            text,
            cut_from: Some(self.full_tokens),
        }
    }

    /// Rewrites the note of `rendered` with its real size, unless that makes it
    /// exceed both the budget and its former size.
    fn settle(&self, shape: &Shape, rendered: Fitted) -> Fitted {
        let exact = self.render(shape, rendered.tokens);
        if exact.tokens <= self.max_tokens.max(rendered.tokens) {
            exact
        } else {
            rendered
        }
    }
}

/// The entries of an array or object that fit a character budget.
struct KeptEntries {
    /// The kept values, cut where needed, in their original order.
    values: Vec<Value>,
    /// How many entries after them were left out.
    left_out: usize,
    /// Characters of the container's JSON, with brackets, keys and the marker for
    /// the left-out entries.
    json_chars: usize,
}

/// Walks a value depth-first and keeps what fits a character budget, earliest
/// content first.
#[derive(Default)]
struct Cutter {
    /// Set once something did not fit; everything after it is left out, so the
    /// output is always a prefix of the content.
    budget_spent: bool,
}

impl Cutter {
    /// `value` cut to at most `char_budget` characters of JSON and the characters it
    /// takes, or `None` when it has to be left out.
    fn cut(&mut self, value: &Value, char_budget: usize, depth: usize) -> Option<(Value, usize)> {
        if self.budget_spent {
            return None;
        }
        let cut = match value {
            Value::Array(_) | Value::Object(_) if depth >= MAX_DEPTH => {
                keep_whole(Value::from(TOO_DEEP), char_budget)
            }
            Value::Array(items) => self.cut_array(items, char_budget, depth),
            Value::Object(fields) => self
                .cut_object(fields, char_budget, depth)
                .map(|(fields, json_chars)| (Value::Object(fields), json_chars)),
            Value::String(text) => self.cut_string(text, char_budget),
            scalar => keep_whole(scalar.clone(), char_budget),
        };
        if cut.is_none() {
            self.budget_spent = true;
        }
        cut
    }

    /// The first items that fit, then `"… [N more items]"` if any were left out.
    fn cut_array(
        &mut self,
        items: &[Value],
        char_budget: usize,
        depth: usize,
    ) -> Option<(Value, usize)> {
        let kept = self.cut_entries(
            items.iter().map(|item| (0, item)),
            |left_out| json_string_chars(&more_items(left_out)),
            char_budget,
            depth,
        )?;
        let mut values = kept.values;
        if kept.left_out > 0 {
            values.push(Value::String(more_items(kept.left_out)));
        }
        Some((Value::Array(values), kept.json_chars))
    }

    /// The first keys that fit, then `"…": "[N more keys]"` if any were left out.
    fn cut_object(
        &mut self,
        fields: &Map<String, Value>,
        char_budget: usize,
        depth: usize,
    ) -> Option<(Map<String, Value>, usize)> {
        let key_chars = |key: &str| json_string_chars(key) + 1;
        let kept = self.cut_entries(
            fields.iter().map(|(key, field)| (key_chars(key), field)),
            |left_out| key_chars(MORE_KEYS_KEY) + json_string_chars(&more_keys(left_out)),
            char_budget,
            depth,
        )?;
        let mut kept_fields: Map<String, Value> = fields.keys().cloned().zip(kept.values).collect();
        if kept.left_out > 0 {
            kept_fields.insert(
                MORE_KEYS_KEY.to_owned(),
                Value::String(more_keys(kept.left_out)),
            );
        }
        Some((kept_fields, kept.json_chars))
    }

    /// Keeps the first `entries` (each the characters of its key, if any, and its
    /// value) that fit `char_budget`, always leaving room for the marker that
    /// `marker_chars` sizes for the entries left out. `None` when not even the
    /// brackets and that marker fit.
    fn cut_entries<'v>(
        &mut self,
        entries: impl ExactSizeIterator<Item = (usize, &'v Value)>,
        marker_chars: impl Fn(usize) -> usize,
        char_budget: usize,
        depth: usize,
    ) -> Option<KeptEntries> {
        let entry_count = entries.len();
        let mut json_chars = 2;
        let mut values = Vec::new();
        for (index, (key_chars, value)) in entries.enumerate() {
            let comma = usize::from(index > 0);
            let later_entries = entry_count - index - 1;
            let room_for_later = if later_entries == 0 {
                0
            } else {
                1 + marker_chars(later_entries)
            };
            let cut = char_budget
                .checked_sub(json_chars + comma + key_chars + room_for_later)
                .and_then(|room| self.cut(value, room, depth + 1));
            let Some((value, value_chars)) = cut else {
                self.budget_spent = true;
                let left_out = entry_count - index;
                json_chars += comma + marker_chars(left_out);
                return (json_chars <= char_budget).then_some(KeptEntries {
                    values,
                    left_out,
                    json_chars,
                });
            };
            json_chars += comma + key_chars + value_chars;
            values.push(value);
        }
        (json_chars <= char_budget).then_some(KeptEntries {
            values,
            left_out: 0,
            json_chars,
        })
    }

    /// `text` whole if it fits, else its start followed by `"… [N more characters]"`.
    fn cut_string(&mut self, text: &str, char_budget: usize) -> Option<(Value, usize)> {
        let room = char_budget.checked_sub(2)?;
        let whole = json_prefix(text, room);
        if whole.bytes == text.len() {
            return Some((Value::String(text.to_owned()), whole.json_chars + 2));
        }
        let text_chars = text.chars().count();
        let marker_room = more_characters(text_chars).chars().count();
        let start = json_prefix(text, room.checked_sub(marker_room)?);
        let marker = more_characters(text_chars - start.chars);
        self.budget_spent = true;
        let json_chars = start.json_chars + marker.chars().count() + 2;
        Some((
            Value::String(format!("{}{marker}", &text[..start.bytes])),
            json_chars,
        ))
    }
}

/// `value` with the characters of its JSON, if they fit `char_budget`.
fn keep_whole(value: Value, char_budget: usize) -> Option<(Value, usize)> {
    let json_chars = value.to_string().chars().count();
    (json_chars <= char_budget).then_some((value, json_chars))
}

/// The start of a string kept by [`json_prefix`].
struct JsonPrefix {
    /// Length in bytes, always at a character boundary.
    bytes: usize,
    /// Length in characters.
    chars: usize,
    /// Characters it takes inside a JSON string, with escapes.
    json_chars: usize,
}

/// The longest start of `text` that takes at most `room` characters inside a JSON
/// string.
fn json_prefix(text: &str, room: usize) -> JsonPrefix {
    let mut prefix = JsonPrefix {
        bytes: 0,
        chars: 0,
        json_chars: 0,
    };
    for char in text.chars() {
        let json_chars = prefix.json_chars + escaped_chars(char);
        if json_chars > room {
            break;
        }
        prefix = JsonPrefix {
            bytes: prefix.bytes + char.len_utf8(),
            chars: prefix.chars + 1,
            json_chars,
        };
    }
    prefix
}

/// Characters of `text` as a JSON string, quotes included.
fn json_string_chars(text: &str) -> usize {
    text.chars().map(escaped_chars).sum::<usize>() + 2
}

/// Characters `char` takes inside a JSON string as serde_json escapes it.
fn escaped_chars(char: char) -> usize {
    match char {
        '"' | '\\' | '\u{8}' | '\u{c}' | '\n' | '\r' | '\t' => 2,
        control if control < ' ' => 6,
        _ => 1,
    }
}

/// End of a cut string: `"… [4,210 more characters]"`.
fn more_characters(left_out: usize) -> String {
    format!("… [{}]", left_out_count(left_out, "character"))
}

/// Last item of a cut array: `"… [37 more items]"`.
fn more_items(left_out: usize) -> String {
    format!("… [{}]", left_out_count(left_out, "item"))
}

/// Value of the last key of a cut object: `"[12 more keys]"`.
fn more_keys(left_out: usize) -> String {
    format!("[{}]", left_out_count(left_out, "key"))
}

/// How many of `noun` were left out, plural unless one: `"4,210 more characters"`.
fn left_out_count(count: usize, noun: &str) -> String {
    let plural = if count == 1 { "" } else { "s" };
    format!("{} more {noun}{plural}", with_thousands(count))
}

/// `number` with commas between groups of three digits: `48,210`.
fn with_thousands(number: usize) -> String {
    let digits = number.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Deterministic pseudo-random numbers (SplitMix64) for generated shapes.
    struct SplitMix(u64);

    impl SplitMix {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut mixed = self.0;
            mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            mixed ^ (mixed >> 31)
        }

        fn below(&mut self, bound: usize) -> usize {
            (self.next() % bound as u64) as usize
        }
    }

    /// Characters for generated strings: ASCII, escapes, control characters,
    /// multibyte letters, emoji and a special token.
    const PIECES: &[&str] = &[
        "a",
        "b",
        "word ",
        " ",
        "é",
        "中",
        "文",
        "😀",
        "👩‍💻",
        "\"",
        "\\",
        "\n",
        "\t",
        "\u{1}",
        "/",
        "<|endoftext|>",
        "42",
        ".",
        "{",
        "]",
    ];

    fn generate_text(rng: &mut SplitMix, pieces: usize) -> String {
        (0..pieces)
            .map(|_| PIECES[rng.below(PIECES.len())])
            .collect()
    }

    /// A string value: mostly short, sometimes thousands of pieces long.
    fn generate_string(rng: &mut SplitMix) -> String {
        let pieces = if rng.below(6) == 0 {
            rng.below(2000)
        } else {
            rng.below(40)
        };
        generate_text(rng, pieces)
    }

    fn generate_value(rng: &mut SplitMix, depth: usize) -> Value {
        let kinds = if depth >= 4 { 4 } else { 7 };
        match rng.below(kinds) {
            0 => Value::Null,
            1 => Value::Bool(rng.below(2) == 0),
            2 if rng.below(2) == 0 => json!(rng.next() as i64),
            2 => json!(rng.below(1_000_000) as f64 / 7.0),
            3 => Value::String(generate_string(rng)),
            _ => generate_container(rng, depth),
        }
    }

    /// An array or object: long near the top, short deeper down.
    fn generate_container(rng: &mut SplitMix, depth: usize) -> Value {
        let length = if depth <= 1 && rng.below(2) == 0 {
            rng.below(300)
        } else {
            rng.below(8)
        };
        if rng.below(2) == 0 {
            return Value::Array(
                (0..length)
                    .map(|_| generate_value(rng, depth + 1))
                    .collect(),
            );
        }
        Value::Object(
            (0..length)
                .map(|index| {
                    let key_pieces = rng.below(10);
                    let key = format!("{}{index}", generate_text(rng, key_pieces));
                    (key, generate_value(rng, depth + 1))
                })
                .collect(),
        )
    }

    /// Mostly what a script run returns, `{"result": ..., "logs": [...]}`, and
    /// every fourth shape any value at all.
    fn generate_output(rng: &mut SplitMix, shape: usize) -> Value {
        if shape.is_multiple_of(4) {
            return generate_value(rng, 0);
        }
        let log_count = rng.below(30);
        let logs: Vec<Value> = (0..log_count)
            .map(|_| Value::String(generate_string(rng)))
            .collect();
        json!({ "result": generate_container(rng, 1), "logs": logs })
    }

    /// Takes a value apart without recursion, so dropping deep nesting cannot
    /// overflow the stack.
    fn drop_flat(value: Value) {
        let mut pending = vec![value];
        while let Some(value) = pending.pop() {
            match value {
                Value::Array(items) => pending.extend(items),
                Value::Object(fields) => pending.extend(fields.into_iter().map(|(_, field)| field)),
                _ => {}
            }
        }
    }

    fn is_note_only(output: &Value) -> bool {
        output
            .as_object()
            .is_some_and(|fields| fields.len() == 1 && fields[NOTE_KEY].is_string())
    }

    /// Checks what every fitted output promises and returns it parsed.
    fn check(value: &Value, max_tokens: usize, fitted: &Fitted) -> Value {
        let counter = TokenCounter::o200k();
        let output: Value = serde_json::from_str(&fitted.text).expect("the output is valid JSON");
        assert_eq!(fitted.tokens, counter.count(&fitted.text));
        match fitted.cut_from {
            None => {
                assert_eq!(
                    fitted.text,
                    serde_json::to_string(value).expect("serializes")
                );
                assert!(fitted.tokens <= max_tokens);
            }
            Some(full_tokens) => {
                assert!(full_tokens > max_tokens);
                let first_key = output.as_object().and_then(|fields| fields.keys().next());
                assert_eq!(first_key.map(String::as_str), Some(NOTE_KEY));
                assert!(
                    fitted.tokens <= max_tokens || is_note_only(&output),
                    "{} tokens over a budget of {max_tokens}: {}",
                    fitted.tokens,
                    fitted.text
                );
            }
        }
        output
    }

    fn fit_and_check(value: &Value, max_tokens: usize) -> (Fitted, Value) {
        let fitted = fit(value, max_tokens, &TokenCounter::o200k());
        let output = check(value, max_tokens, &fitted);
        (fitted, output)
    }

    #[test]
    fn small_value_is_returned_unchanged() {
        let value = json!({"result": {"count": 3, "names": ["a", "b", "c"]}, "logs": ["done"]});
        let (fitted, _) = fit_and_check(&value, 6000);
        assert_eq!(fitted.cut_from, None);
        assert_eq!(
            fitted.text,
            serde_json::to_string(&value).expect("serializes")
        );
    }

    #[test]
    fn large_array_keeps_first_items_and_counts_the_rest() {
        let items: Vec<Value> = (0..5000)
            .map(|index| json!({"id": index, "name": format!("item {index}")}))
            .collect();
        let value = json!({"result": items, "logs": []});
        let (fitted, output) = fit_and_check(&value, 500);
        assert!(fitted.cut_from.is_some_and(|full| full > 500));
        let kept = output["result"].as_array().expect("result stays an array");
        assert_eq!(kept[0], json!({"id": 0, "name": "item 0"}));
        assert_eq!(kept[1], json!({"id": 1, "name": "item 1"}));
        let whole_items = kept.iter().take_while(|item| item.is_object()).count();
        let marker = kept
            .last()
            .and_then(Value::as_str)
            .expect("a marker ends the array");
        assert_eq!(marker, more_items(5000 - whole_items));
        assert_eq!(output["…"], json!("[1 more key]"));
    }

    #[test]
    fn long_string_is_cut_at_a_character_boundary() {
        let text = "日本語のテキスト😀🎉 and some English. ".repeat(2000);
        let value = json!({ "result": text });
        let (_, output) = fit_and_check(&value, 300);
        let cut = output["result"].as_str().expect("result stays a string");
        let (kept, marker) = cut.split_once("… [").expect("the cut is marked");
        assert!(!kept.is_empty());
        assert!(text.starts_with(kept));
        let left_out = text.chars().count() - kept.chars().count();
        assert_eq!(format!("… [{marker}"), more_characters(left_out));
        assert!(marker.contains(','), "large counts are grouped: {marker}");
    }

    #[test]
    fn object_keeps_first_keys_and_counts_the_rest() {
        let fields: Map<String, Value> = (0..400)
            .map(|index| {
                (
                    format!("key_{index}"),
                    json!(format!("value number {index}")),
                )
            })
            .collect();
        let value = json!({ "result": fields });
        let (_, output) = fit_and_check(&value, 200);
        let kept = output["result"]
            .as_object()
            .expect("result stays an object");
        let kept_keys: Vec<&String> = kept.keys().collect();
        assert_eq!(kept_keys[0], "key_0");
        assert_eq!(kept_keys[1], "key_1");
        assert_eq!(kept_keys.last().map(|key| key.as_str()), Some("…"));
        let whole_keys = kept.len() - 1;
        assert_eq!(kept["…"], json!(more_keys(400 - whole_keys)));
    }

    #[test]
    fn top_level_non_object_is_wrapped() {
        let value = json!((0..3000).collect::<Vec<_>>());
        let (_, output) = fit_and_check(&value, 100);
        let fields = output.as_object().expect("the output is an object");
        assert_eq!(fields.keys().collect::<Vec<_>>(), [NOTE_KEY, WRAPPED_KEY]);
        assert_eq!(output[WRAPPED_KEY][0], json!(0));

        let text = json!("long text ".repeat(3000));
        let (_, output) = fit_and_check(&text, 100);
        assert!(
            output[WRAPPED_KEY]
                .as_str()
                .is_some_and(|cut| cut.starts_with("long text"))
        );
    }

    #[test]
    fn object_with_its_own_truncated_key_is_wrapped() {
        let value = json!({"truncated": false, "result": "x ".repeat(5000)});
        let (_, output) = fit_and_check(&value, 100);
        assert!(output[NOTE_KEY].is_string());
        assert_eq!(output[WRAPPED_KEY][NOTE_KEY], json!(false));
    }

    #[test]
    fn truncated_note_is_the_first_key_and_reports_the_sizes() {
        let value = json!({"result": "many words ".repeat(20_000), "logs": ["a"]});
        let (fitted, output) = fit_and_check(&value, 6000);
        let full_tokens = fitted.cut_from.expect("the value was cut");
        let expected = format!(
            "This output was cut from {} to about {} tokens (limit 6,000). Return less: filter, \
             slice or summarize in the code, or pick only the fields you need.",
            with_thousands(full_tokens),
            with_thousands(fitted.tokens),
        );
        assert_eq!(output[NOTE_KEY], json!(expected));
        assert!(fitted.text.starts_with("{\"truncated\":"));
        assert!(
            fitted.tokens > 5000,
            "most of the budget is used: {}",
            fitted.tokens
        );
    }

    #[test]
    fn cut_fills_the_budget_when_text_density_varies() {
        // The full text averages about one character per token, its start about
        // four, so the first estimate is far too small and has to grow.
        let value = json!({"result": [
            "plain ascii text ".repeat(2000),
            "日本語のテキストです。".repeat(20_000),
        ]});
        let (fitted, _) = fit_and_check(&value, 2000);
        assert!(
            fitted.tokens >= 1800,
            "only {} of 2,000 tokens",
            fitted.tokens
        );
    }

    #[test]
    fn tiny_budgets_give_the_note_alone() {
        let value = json!({"result": "many words ".repeat(1000)});
        for max_tokens in [0, 1, 5, 20] {
            let (fitted, output) = fit_and_check(&value, max_tokens);
            assert!(
                is_note_only(&output),
                "budget {max_tokens}: {}",
                fitted.text
            );
        }
    }

    #[test]
    fn generated_shapes_fit_and_stay_valid() {
        let mut rng = SplitMix(7);
        let budgets = [0, 3, 20, 45, 60, 100, 250, 1000, 4000];
        let mut cut_outputs = 0;
        for shape in 0..50 {
            let value = generate_output(&mut rng, shape);
            assert_eq!(
                to_compact_json(&value),
                serde_json::to_string(&value).expect("serializes")
            );
            let max_tokens = budgets[shape % budgets.len()];
            let (fitted, output) = fit_and_check(&value, max_tokens);
            if fitted.cut_from.is_some() {
                cut_outputs += 1;
            }
            if max_tokens >= 100 {
                assert!(fitted.tokens <= max_tokens);
                assert!(!is_note_only(&output), "room for content: {}", fitted.text);
            }
        }
        assert!(
            cut_outputs >= 20,
            "only {cut_outputs} of 50 shapes were cut"
        );
    }

    #[test]
    fn deep_nesting_is_cut_without_overflowing_the_stack() {
        let mut value = json!({"bottom": "deep words ".repeat(5000)});
        for _ in 0..10_000 {
            value = Value::Array(vec![value]);
        }
        let fitted = fit(&value, 1000, &TokenCounter::o200k());
        assert!(fitted.cut_from.is_some());
        let output = check(&value, 1000, &fitted);
        assert!(fitted.text.contains(TOO_DEEP));
        drop_flat(value);
        drop_flat(output);
    }

    #[test]
    fn two_megabyte_value_fits() {
        let records: Vec<Value> = (0..12_000)
            .map(|index| json!({"id": index, "title": format!("Record {index}"), "body": "lorem ipsum dolor sit amet ".repeat(5)}))
            .collect();
        let logs: Vec<Value> = (0..2000)
            .map(|index| json!(format!("step {index} finished")))
            .collect();
        let value = json!({ "result": records, "logs": logs });
        assert!(value.to_string().len() > 2_000_000);
        let (fitted, output) = fit_and_check(&value, 6000);
        assert!(fitted.cut_from.is_some());
        assert_eq!(output["result"][0]["id"], json!(0));
        assert!(fitted.tokens <= 6000);
    }

    #[test]
    fn thousands_are_grouped() {
        let grouped: Vec<String> = [0, 7, 999, 1000, 48_210, 1_234_567]
            .map(with_thousands)
            .into();
        assert_eq!(grouped, ["0", "7", "999", "1,000", "48,210", "1,234,567"]);
    }
}
