//! The part of Python's regex syntax that response templates use for their delimiters
//! (`open_pattern`, `close_pattern`, `start_anchor_pattern`, an `xml-inline` `tag_pattern`).
//!
//! The engine matches fixed markers, not regexes, so a pattern is read into a short sequence of
//! atoms and the compiler takes from it what a marker table can say: literal text (with
//! optional pieces and alternatives expanded into several markers), blanks at either end of a
//! marker, a named group standing for a function name, key or value, and `.*?` skipping to the
//! next literal. Anything else (lookarounds, backreferences, repetition of literal text, a
//! character class outside a named group) is refused with the position it was found at.

use std::fmt;

/// Longest pattern read (characters); real templates stay well under 200.
pub const MAX_PATTERN: usize = 2048;
/// Deepest nesting of groups.
const MAX_DEPTH: usize = 8;
/// Most markers one pattern may expand into (optional pieces and alternatives multiply).
pub const MAX_EXPANSION: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Atom {
    /// Literal text.
    Lit(String),
    /// `\s*` or `\s+`: blanks.
    Blank,
    /// `.*?`, `.*`, `[^X]*`: anything up to what follows.
    Skip,
    /// `(?P<name>...)`: a named group; what it matches is not looked at here.
    Group(String),
    /// `^`: the start of the message.
    Start,
    /// `(?:a|b)`, with `optional` for a trailing `?` (or a single optional character).
    Alt {
        choices: Vec<Vec<Atom>>,
        optional: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    /// Character offset in the pattern.
    pub at: usize,
    pub reason: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.reason, self.at)
    }
}

/// Read a pattern into atoms (adjacent literal characters merged).
pub fn read(pattern: &str) -> Result<Vec<Atom>, PatternError> {
    let chars: Vec<char> = pattern.chars().collect();
    if chars.len() > MAX_PATTERN {
        return Err(PatternError {
            at: MAX_PATTERN,
            reason: format!("pattern longer than {MAX_PATTERN} characters"),
        });
    }
    let mut reader = Reader { chars, at: 0 };
    let choices = reader.alternation(0)?;
    if reader.at < reader.chars.len() {
        return Err(reader.error("unbalanced ')'"));
    }
    Ok(match <[Vec<Atom>; 1]>::try_from(choices) {
        Ok([only]) => only,
        Err(choices) => vec![Atom::Alt {
            choices,
            optional: false,
        }],
    })
}

struct Reader {
    chars: Vec<char>,
    at: usize,
}

impl Reader {
    fn error(&self, reason: impl Into<String>) -> PatternError {
        PatternError {
            at: self.at,
            reason: reason.into(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn eat(&mut self, text: &str) -> bool {
        let n = text.chars().count();
        let matches = self.chars.len() >= self.at + n
            && text
                .chars()
                .zip(&self.chars[self.at..])
                .all(|(a, &b)| a == b);
        if matches {
            self.at += n;
        }
        matches
    }

    fn alternation(&mut self, depth: usize) -> Result<Vec<Vec<Atom>>, PatternError> {
        if depth > MAX_DEPTH {
            return Err(self.error(format!("groups nested deeper than {MAX_DEPTH}")));
        }
        let mut choices = vec![self.sequence(depth)?];
        while self.eat("|") {
            choices.push(self.sequence(depth)?);
        }
        Ok(choices)
    }

    fn sequence(&mut self, depth: usize) -> Result<Vec<Atom>, PatternError> {
        let mut atoms: Vec<Atom> = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom(depth)?;
            // A `?` after one literal character makes that character optional.
            if self.peek() == Some('?') {
                if let Atom::Lit(text) = &atom {
                    self.at += 1;
                    atoms.push(Atom::Alt {
                        choices: vec![vec![Atom::Lit(text.clone())]],
                        optional: true,
                    });
                    continue;
                }
            }
            if matches!(self.peek(), Some('*' | '+' | '?' | '{')) {
                return Err(self.error("repetition is only understood as \\s*, \\s+ or .*?"));
            }
            match (atoms.last_mut(), atom) {
                (Some(Atom::Lit(text)), Atom::Lit(more)) => text.push_str(&more),
                (_, atom) => atoms.push(atom),
            }
        }
        Ok(atoms)
    }

    fn atom(&mut self, depth: usize) -> Result<Atom, PatternError> {
        if self.eat("\\s*") || self.eat("\\s+") {
            return Ok(Atom::Blank);
        }
        if self.eat(".*?") || self.eat(".+?") || self.eat(".*") || self.eat(".+") {
            return Ok(Atom::Skip);
        }
        if self.eat("[^") {
            // `[^X]*`: anything up to what follows (the class itself is not checked).
            while let Some(c) = self.peek() {
                self.at += 1;
                if c == '\\' {
                    self.at += 1;
                } else if c == ']' {
                    return if self.eat("*") || self.eat("+") {
                        Ok(Atom::Skip)
                    } else {
                        Err(self.error("a negated class is only understood as [^...]*"))
                    };
                }
            }
            return Err(self.error("unterminated character class"));
        }
        if self.eat("(?P<") {
            let mut name = String::new();
            while let Some(c) = self.peek() {
                self.at += 1;
                if c == '>' {
                    self.group_body(depth)?;
                    return Ok(Atom::Group(name));
                }
                name.push(c);
            }
            return Err(self.error("unterminated group name"));
        }
        if self.eat("(?:") || self.eat("(") {
            if matches!(self.peek(), Some('?')) {
                return Err(self.error("lookarounds and inline flags are not supported"));
            }
            let choices = self.alternation(depth + 1)?;
            if !self.eat(")") {
                return Err(self.error("unterminated group"));
            }
            let optional = self.eat("?");
            return Ok(Atom::Alt { choices, optional });
        }
        let c = self.peek().expect("atom() is called before the end");
        self.at += 1;
        match c {
            '^' => Ok(Atom::Start),
            '\\' => {
                let Some(e) = self.peek() else {
                    return Err(self.error("pattern ends with a lone backslash"));
                };
                self.at += 1;
                match e {
                    'n' => Ok(Atom::Lit("\n".into())),
                    't' => Ok(Atom::Lit("\t".into())),
                    'r' => Ok(Atom::Lit("\r".into())),
                    e if e.is_ascii_alphanumeric() => Err(PatternError {
                        at: self.at - 2,
                        reason: format!("\\{e} is only understood inside a named group"),
                    }),
                    e => Ok(Atom::Lit(e.to_string())),
                }
            }
            '.' | '$' | '[' | '*' | '+' | '?' | '{' => Err(PatternError {
                at: self.at - 1,
                reason: format!("{c:?} is not understood here"),
            }),
            c => Ok(Atom::Lit(c.to_string())),
        }
    }

    /// Skip the body of a named group up to its `)` (classes and escapes included).
    fn group_body(&mut self, depth: usize) -> Result<(), PatternError> {
        let mut open = 1usize;
        let mut in_class = false;
        while let Some(c) = self.peek() {
            self.at += 1;
            match c {
                '\\' => self.at += 1,
                '[' => in_class = true,
                ']' => in_class = false,
                '(' if !in_class => {
                    open += 1;
                    if open > MAX_DEPTH.saturating_sub(depth) {
                        return Err(self.error(format!("groups nested deeper than {MAX_DEPTH}")));
                    }
                }
                ')' if !in_class => {
                    open -= 1;
                    if open == 0 {
                        return Ok(());
                    }
                }
                _ => {}
            }
        }
        Err(self.error("unterminated named group"))
    }
}

/// One way of reading a marker pattern: the literal texts it can match, and whether one of its
/// alternatives is `^` (the start of the message). Blanks at either end are left out (they stay
/// in the surrounding text); anything else that is not literal is an error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Literals {
    pub texts: Vec<String>,
    pub at_start: bool,
}

pub fn literals(atoms: &[Atom]) -> Result<Literals, String> {
    let mut out = Literals::default();
    for choice in expand(atoms)? {
        match choice.as_slice() {
            [Atom::Start] => out.at_start = true,
            [] => return Err("an alternative matches the empty string".into()),
            atoms => {
                let trimmed = trim_blanks(atoms);
                match trimmed {
                    [Atom::Lit(text)] => {
                        if !out.texts.contains(text) {
                            out.texts.push(text.clone());
                        }
                    }
                    [] => return Err("an alternative matches only blanks".into()),
                    _ => {
                        return Err(format!(
                            "only literal text (with optional parts and blanks at either end) can be a marker; found {}",
                            describe(trimmed)
                        ))
                    }
                }
            }
        }
    }
    Ok(out)
}

fn trim_blanks(mut atoms: &[Atom]) -> &[Atom] {
    while let [Atom::Blank, rest @ ..] = atoms {
        atoms = rest;
    }
    while let [rest @ .., Atom::Blank] = atoms {
        atoms = rest;
    }
    atoms
}

/// Every sequence without `Alt` the atoms can stand for, literals merged (at most
/// `MAX_EXPANSION`).
pub fn expand(atoms: &[Atom]) -> Result<Vec<Vec<Atom>>, String> {
    let mut out: Vec<Vec<Atom>> = vec![Vec::new()];
    for atom in atoms {
        let options: Vec<Vec<Atom>> = match atom {
            Atom::Alt { choices, optional } => {
                let mut options = Vec::new();
                for choice in choices {
                    options.extend(expand(choice)?);
                }
                if *optional {
                    options.push(Vec::new());
                }
                options
            }
            atom => vec![vec![atom.clone()]],
        };
        let mut next = Vec::new();
        for head in &out {
            for tail in &options {
                let mut joined = head.clone();
                for atom in tail {
                    push_merged(&mut joined, atom.clone());
                }
                next.push(joined);
            }
        }
        if next.len() > MAX_EXPANSION {
            return Err(format!(
                "the pattern stands for more than {MAX_EXPANSION} different markers"
            ));
        }
        out = next;
    }
    Ok(out)
}

fn push_merged(atoms: &mut Vec<Atom>, atom: Atom) {
    match (atoms.last_mut(), atom) {
        (Some(Atom::Lit(text)), Atom::Lit(more)) => text.push_str(&more),
        (_, atom) => atoms.push(atom),
    }
}

pub fn describe(atoms: &[Atom]) -> String {
    let parts: Vec<String> = atoms
        .iter()
        .map(|atom| match atom {
            Atom::Lit(text) => format!("{text:?}"),
            Atom::Blank => "blanks".into(),
            Atom::Skip => "a skip (.*?)".into(),
            Atom::Group(name) => format!("group {name:?}"),
            Atom::Start => "^".into(),
            Atom::Alt { .. } => "alternatives".into(),
        })
        .collect();
    parts.join(" + ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Atom {
        Atom::Lit(s.into())
    }

    #[test]
    fn escapes_and_literals_merge() {
        assert_eq!(
            read(r"<\|channel\|>commentary to=functions\.").unwrap(),
            vec![lit("<|channel|>commentary to=functions.")]
        );
        assert_eq!(read(r"a\nb").unwrap(), vec![lit("a\nb")]);
    }

    #[test]
    fn groups_blanks_and_skips() {
        assert_eq!(
            read(r"<tool_call>\s*<function=(?P<name>[^>\s]+)>").unwrap(),
            vec![
                lit("<tool_call>"),
                Atom::Blank,
                lit("<function="),
                Atom::Group("name".into()),
                lit(">"),
            ]
        );
        assert_eq!(
            read(r"x(?P<name>\w+).*?<\|message\|>").unwrap(),
            vec![
                lit("x"),
                Atom::Group("name".into()),
                Atom::Skip,
                lit("<|message|>")
            ]
        );
        assert_eq!(
            read(r"(?:<\|m\|>)?[^<]*<\|t\|>").unwrap()[1..],
            [Atom::Skip, lit("<|t|>")]
        );
    }

    #[test]
    fn start_alternative_and_optional_character() {
        let atoms = read(r"(?:^|<think>\s*)").unwrap();
        let found = literals(&atoms).unwrap();
        assert!(found.at_start);
        assert_eq!(found.texts, vec!["<think>".to_string()]);
        let found = literals(&read(r"\n?</response>").unwrap()).unwrap();
        assert_eq!(
            found.texts,
            vec!["\n</response>".to_string(), "</response>".to_string()]
        );
        let found = literals(&read("a|b|c").unwrap()).unwrap();
        assert_eq!(found.texts.len(), 3);
    }

    #[test]
    fn refusals_say_where() {
        for (pattern, at) in [
            (r"(?=x)y", 1),
            (r"a\d", 1),
            (r"ab+", 2),
            (r"a.b", 1),
            (r"(?P<name>\w+", 12),
            (r"\", 1),
        ] {
            let error = read(pattern).unwrap_err();
            assert_eq!(error.at, at, "{pattern}: {error}");
        }
        assert!(literals(&read(r"<a>\s*<b>").unwrap()).is_err());
        assert!(literals(&read(r"(?P<name>\w+)").unwrap()).is_err());
        assert!(literals(&read(r"(?:a|b)(?:c|d)(?:e|f)(?:g|h)(?:i|j)(?:k|l)").unwrap()).is_err());
    }
}
