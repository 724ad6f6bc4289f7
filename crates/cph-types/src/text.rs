//! Character classes and length-bounded text rules: the one definition behind every string
//! constraint in this crate. Each rule both checks a value and renders the equivalent JSON Schema
//! fragment (`pattern`, `minLength`, `maxLength`), so validators and `schemas/` cannot drift apart.

use serde_json::{Map, Value, json};

/// The CJK characters the property catalogue accepts: the CJK Unified Ideographs block
/// (U+4E00..=U+9FFF) and its Extension A (U+3400..=U+4DBF).
///
/// Both blocks lie in the Basic Multilingual Plane, so one character is one UTF-16 unit and the
/// generated patterns mean the same in ECMA-262 with or without the `u` flag and in Rust's
/// `regex`. Punctuation, kana, hangul and the astral extensions are not included.
pub const CJK_RANGES: [(char, char); 2] = [('\u{3400}', '\u{4DBF}'), ('\u{4E00}', '\u{9FFF}')];

/// One class of characters a [`Charset`] is built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CharClass {
    /// ASCII letters `A-Z` and `a-z` ("letters" in the API reference).
    AsciiLetters,
    /// ASCII lower-case letters `a-z`.
    AsciiLowerLetters,
    /// ASCII decimal digits `0-9`.
    AsciiDigits,
    /// Lower-case hexadecimal digits `0-9a-f`.
    LowerHex,
    /// The ideographs of [`CJK_RANGES`].
    Cjk,
    /// The space character U+0020 (no other whitespace).
    Space,
    /// Exactly the listed ASCII punctuation characters.
    Literal(&'static str),
}

impl CharClass {
    /// Whether `c` belongs to this class.
    pub fn contains(self, c: char) -> bool {
        match self {
            CharClass::AsciiLetters => c.is_ascii_alphabetic(),
            CharClass::AsciiLowerLetters => c.is_ascii_lowercase(),
            CharClass::AsciiDigits => c.is_ascii_digit(),
            CharClass::LowerHex => c.is_ascii_digit() || ('a'..='f').contains(&c),
            CharClass::Cjk => CJK_RANGES.iter().any(|&(lo, hi)| (lo..=hi).contains(&c)),
            CharClass::Space => c == ' ',
            CharClass::Literal(chars) => chars.contains(c),
        }
    }

    /// The body of a regex character class (without brackets) matching this class.
    fn regex_body(self) -> String {
        match self {
            CharClass::AsciiLetters => "A-Za-z".to_owned(),
            CharClass::AsciiLowerLetters => "a-z".to_owned(),
            CharClass::AsciiDigits => "0-9".to_owned(),
            CharClass::LowerHex => "0-9a-f".to_owned(),
            CharClass::Cjk => CJK_RANGES
                .iter()
                .map(|&(lo, hi)| format!("\\u{:04X}-\\u{:04X}", u32::from(lo), u32::from(hi)))
                .collect(),
            CharClass::Space => " ".to_owned(),
            CharClass::Literal(chars) => chars.chars().map(class_char).collect(),
        }
    }

    /// Human wording, as in the API reference.
    fn describe(self) -> String {
        match self {
            CharClass::AsciiLetters => "letters".to_owned(),
            CharClass::AsciiLowerLetters => "lower-case letters".to_owned(),
            CharClass::AsciiDigits => "digits".to_owned(),
            CharClass::LowerHex => "lower-case hex digits".to_owned(),
            CharClass::Cjk => "CJK".to_owned(),
            CharClass::Space => "space".to_owned(),
            CharClass::Literal(chars) => format!("`{chars}`"),
        }
    }
}

/// `c` as it stands inside a regex character class.
fn class_char(c: char) -> String {
    match c {
        // Only these are special inside a class; escaping anything else would be an invalid
        // identity escape under ECMA-262's `u` flag.
        '\\' | ']' | '[' | '^' | '-' => format!("\\{c}"),
        other => other.to_string(),
    }
}

/// A set of allowed characters: the union of its classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charset(&'static [CharClass]);

impl Charset {
    /// A charset made of the given classes.
    pub const fn new(classes: &'static [CharClass]) -> Self {
        Charset(classes)
    }

    /// The classes this charset is made of.
    pub fn classes(self) -> &'static [CharClass] {
        self.0
    }

    /// Whether `c` is allowed.
    pub fn contains(self, c: char) -> bool {
        self.0.iter().any(|class| class.contains(c))
    }

    /// A bracketed regex character class (ECMA-262 and Rust `regex` compatible).
    pub fn regex_class(self) -> String {
        self.regex_class_without(&[])
    }

    /// [`Charset::regex_class`] less the `excluded` punctuation (taken out of the
    /// [`CharClass::Literal`]s, the only classes that hold punctuation).
    fn regex_class_without(self, excluded: &[char]) -> String {
        let body: String = self
            .0
            .iter()
            .map(|class| match class {
                CharClass::Literal(chars) => chars
                    .chars()
                    .filter(|c| !excluded.contains(c))
                    .map(class_char)
                    .collect(),
                other => other.regex_body(),
            })
            .collect();
        format!("[{body}]")
    }

    /// Human wording, e.g. "letters, digits, `-_` and space".
    pub fn describe(self) -> String {
        let parts: Vec<String> = self.0.iter().map(|class| class.describe()).collect();
        match parts.split_last() {
            None => "no characters".to_owned(),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        }
    }
}

/// A string of `min..=max` characters (Unicode scalar values, as JSON Schema counts them), each
/// from `charset`, or any character when `charset` is `None`; for a path, also no `..` segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TextRule {
    pub(crate) min: usize,
    pub(crate) max: usize,
    pub(crate) charset: Option<Charset>,
    /// A `/`-separated path that must not climb: no segment is `..`.
    no_parent_segments: bool,
}

/// The path segment [`TextRule::no_parent_segments`] refuses.
const PARENT_SEGMENT: &str = "..";

impl TextRule {
    pub(crate) const fn new(min: usize, max: usize, charset: Option<Charset>) -> Self {
        TextRule {
            min,
            max,
            charset,
            no_parent_segments: false,
        }
    }

    /// The same rule for a `/`-separated path in which no segment may be `..` (so the path
    /// cannot climb out of where it is put). Needs a charset holding `.` and `/`.
    pub(crate) const fn no_parent_segments(mut self) -> Self {
        self.no_parent_segments = true;
        self
    }

    /// Whether `value` satisfies the rule. Stops at the first character past `max`.
    pub(crate) fn check(&self, value: &str) -> bool {
        let mut count = 0usize;
        for c in value.chars() {
            count += 1;
            if count > self.max {
                return false;
            }
            if self.charset.is_some_and(|charset| !charset.contains(c)) {
                return false;
            }
        }
        count >= self.min
            && !(self.no_parent_segments && value.split('/').any(|s| s == PARENT_SEGMENT))
    }

    /// The anchored regex equivalent to [`TextRule::check`], or `None` when any character is
    /// allowed (the length keywords then carry the whole rule). For a path without `..`
    /// segments the length is left to the length keywords too: without lookahead, the pattern
    /// spells out every segment that is not `..`.
    pub(crate) fn pattern(&self) -> Option<String> {
        let charset = self.charset?;
        if self.no_parent_segments {
            // Any segment but `..`: empty, `.`, or starting with a non-dot (after at most one
            // dot), or `..` followed by more.
            let any = charset.regex_class_without(&['/']);
            let non_dot = charset.regex_class_without(&['/', '.']);
            let segment = format!("(?:\\.?(?:{non_dot}{any}*)?|\\.\\.{any}+)");
            return Some(format!("^{segment}(?:/{segment})*$"));
        }
        let quantifier = if self.min == self.max {
            format!("{{{}}}", self.min)
        } else {
            format!("{{{},{}}}", self.min, self.max)
        };
        Some(format!("^{}{quantifier}$", charset.regex_class()))
    }

    /// Human wording, e.g. "1 to 64 characters of letters, digits and `-`".
    pub(crate) fn describe(&self) -> String {
        let count = if self.min == self.max {
            format!("exactly {}", self.min)
        } else if self.min == 0 {
            format!("at most {}", self.max)
        } else {
            format!("{} to {}", self.min, self.max)
        };
        let text = match self.charset {
            Some(charset) => format!("{count} characters of {}", charset.describe()),
            None => format!("{count} characters"),
        };
        if self.no_parent_segments {
            format!("{text}, with no `{PARENT_SEGMENT}` path segment")
        } else {
            text
        }
    }

    /// The JSON Schema keywords for a string following this rule.
    pub(crate) fn schema_keywords(&self) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("type".to_owned(), json!("string"));
        map.insert("minLength".to_owned(), json!(self.min));
        map.insert("maxLength".to_owned(), json!(self.max));
        if let Some(pattern) = self.pattern() {
            map.insert("pattern".to_owned(), json!(pattern));
        }
        map
    }
}

/// Every string of up to `depth` of `pieces` put end to end, the empty one included: samples on
/// which a validator and its pattern must agree.
#[cfg(test)]
pub(crate) fn samples_of(pieces: &[&str], depth: usize) -> Vec<String> {
    let mut samples = vec![String::new()];
    let mut last = samples.clone();
    for _ in 0..depth {
        last = last
            .iter()
            .flat_map(|s| pieces.iter().map(move |p| format!("{s}{p}")))
            .collect();
        samples.extend(last.iter().cloned());
    }
    samples
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORDS: Charset = Charset::new(&[
        CharClass::AsciiLetters,
        CharClass::Cjk,
        CharClass::Literal("-_\\]"),
        CharClass::Space,
    ]);

    #[test]
    fn check_counts_characters_not_bytes() {
        let rule = TextRule::new(1, 2, Some(WORDS));
        assert!(rule.check("中文"));
        assert!(!rule.check("中文字"));
        assert!(!rule.check(""));
    }

    #[test]
    fn check_rejects_characters_outside_the_charset() {
        let rule = TextRule::new(0, 10, Some(WORDS));
        assert!(rule.check("a-b_c d\\]"));
        assert!(!rule.check("a\tb"));
        assert!(!rule.check("1"));
        assert!(!rule.check("ã"));
    }

    #[test]
    fn pattern_escapes_class_metacharacters() {
        let rule = TextRule::new(1, 3, Some(WORDS));
        assert_eq!(
            rule.pattern().as_deref(),
            Some("^[A-Za-z\\u3400-\\u4DBF\\u4E00-\\u9FFF\\-_\\\\\\] ]{1,3}$")
        );
    }

    #[test]
    fn any_char_rule_has_no_pattern_but_lengths() {
        let rule = TextRule::new(1, 1024, None);
        assert_eq!(rule.pattern(), None);
        let keywords = rule.schema_keywords();
        assert_eq!(keywords.get("maxLength"), Some(&json!(1024)));
        assert!(rule.check("any / thing ✓"));
    }

    #[test]
    fn describe_reads_like_the_api_reference() {
        assert_eq!(
            TextRule::new(0, 15, Some(Charset::new(&[CharClass::AsciiDigits]))).describe(),
            "at most 15 characters of digits"
        );
        assert_eq!(
            TextRule::new(1, 2, Some(WORDS)).describe(),
            "1 to 2 characters of letters, CJK, `-_\\]` and space"
        );
    }
}
