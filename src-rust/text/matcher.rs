//! Finding a fixed set of markers (tags, stop strings) in text that arrives in pieces.
//!
//! `Markers` compiles the patterns into an Aho-Corasick automaton over bytes. Its state after
//! any input is the longest suffix of that input which is still a prefix of some pattern, so
//! the state's depth is exactly how much text must be held back: everything before it can be
//! released at once, and nothing is ever scanned twice. `MarkerScanner` carries that state and
//! the held-back bytes from one piece to the next.
//!
//! Matches are reported at the earliest position where a pattern completes; when several
//! patterns complete at the same position the one listed first wins. Patterns are valid UTF-8,
//! so a match and a held-back suffix always start on a character boundary (UTF-8 is
//! self-synchronising) and released text never splits a character.

use std::sync::{Arc, Mutex};

const ROOT: u32 = 0;
const NO_MATCH: u32 = u32::MAX;

/// How the scanner jumps over text that cannot start any pattern.
#[derive(Debug, Clone)]
enum FirstBytes {
    One(u8),
    Two(u8, u8),
    Three(u8, u8, u8),
    Table(Box<[bool; 256]>),
}

impl FirstBytes {
    fn new(bytes: &[u8]) -> FirstBytes {
        match *bytes {
            [a] => FirstBytes::One(a),
            [a, b] => FirstBytes::Two(a, b),
            [a, b, c] => FirstBytes::Three(a, b, c),
            _ => {
                let mut table = Box::new([false; 256]);
                for &b in bytes {
                    table[b as usize] = true;
                }
                FirstBytes::Table(table)
            }
        }
    }

    #[inline]
    fn find(&self, haystack: &[u8]) -> Option<usize> {
        match self {
            FirstBytes::One(a) => memchr::memchr(*a, haystack),
            FirstBytes::Two(a, b) => memchr::memchr2(*a, *b, haystack),
            FirstBytes::Three(a, b, c) => memchr::memchr3(*a, *b, *c, haystack),
            FirstBytes::Table(table) => haystack.iter().position(|&b| table[b as usize]),
        }
    }
}

/// Largest dense table (states × byte classes) built; past it the automaton keeps the trie's
/// own edges and follows failure links, so memory stays linear in the total pattern length.
const MAX_DENSE_ENTRIES: usize = 1 << 16;

/// How a state moves on a byte.
#[derive(Debug, Clone)]
enum Transitions {
    /// `table[state * stride + class_of[byte]]`: one load per byte, for the usual few short
    /// markers and stop strings.
    Dense {
        class_of: Box<[u8; 256]>,
        stride: usize,
        table: Vec<u32>,
    },
    /// The trie's edges (`edges[first[state]..first[state + 1]]`, sorted by byte) and the
    /// failure links: a missing edge falls back along `fail` (amortised O(1) per byte).
    Sparse {
        first: Vec<u32>,
        edges: Vec<(u8, u32)>,
        fail: Vec<u32>,
    },
}

/// A compiled set of patterns (a byte-level Aho-Corasick automaton).
#[derive(Debug, Clone)]
pub struct Markers {
    patterns: Vec<Box<str>>,
    transitions: Transitions,
    /// Length in bytes of the string each state stands for (= bytes to hold back).
    depth: Vec<u32>,
    /// The pattern (lowest index) completing at this state, or NO_MATCH.
    output: Vec<u32>,
    first_bytes: Option<FirstBytes>,
    max_len: usize,
}

/// The trie's child of `state` on `byte`, if any.
#[inline]
fn child(first: &[u32], edges: &[(u8, u32)], state: u32, byte: u8) -> Option<u32> {
    let row = &edges[first[state as usize] as usize..first[state as usize + 1] as usize];
    if row.len() <= 8 {
        row.iter().find(|(b, _)| *b == byte).map(|&(_, next)| next)
    } else {
        row.binary_search_by_key(&byte, |&(b, _)| b)
            .ok()
            .map(|i| row[i].1)
    }
}

/// The automaton's move from `state` on `byte` using the trie and failure links.
#[inline]
fn follow(first: &[u32], edges: &[(u8, u32)], fail: &[u32], mut state: u32, byte: u8) -> u32 {
    loop {
        if let Some(next) = child(first, edges, state, byte) {
            return next;
        }
        if state == ROOT {
            return ROOT;
        }
        state = fail[state as usize];
    }
}

impl Markers {
    /// Compile `patterns`; the index in the slice is the pattern id and the tie-break priority.
    ///
    /// # Panics
    /// If a pattern is empty (callers validate user input before).
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Markers {
        Markers::build(patterns, MAX_DENSE_ENTRIES)
    }

    /// `new` with the dense table allowed up to `dense_budget` entries.
    fn build<S: AsRef<str>>(patterns: &[S], dense_budget: usize) -> Markers {
        let patterns: Vec<Box<str>> = patterns.iter().map(|p| p.as_ref().into()).collect();
        assert!(
            patterns.iter().all(|p| !p.is_empty()),
            "marker patterns must not be empty"
        );

        // The trie, one child list per state: memory linear in the total pattern length.
        let mut children: Vec<Vec<(u8, u32)>> = vec![Vec::new()];
        let mut depth: Vec<u32> = vec![0];
        let mut output: Vec<u32> = vec![NO_MATCH];
        for (id, p) in patterns.iter().enumerate() {
            let mut state = ROOT as usize;
            for &b in p.as_bytes() {
                state = match children[state].iter().find(|(c, _)| *c == b) {
                    Some(&(_, next)) => next as usize,
                    None => {
                        let next = depth.len();
                        children[state].push((b, next as u32));
                        children.push(Vec::new());
                        depth.push(depth[state] + 1);
                        output.push(NO_MATCH);
                        next
                    }
                };
            }
            if output[state] == NO_MATCH {
                output[state] = id as u32;
            }
        }
        let states = depth.len();
        let mut first = Vec::with_capacity(states + 1);
        let mut edges = Vec::with_capacity(states);
        for row in &mut children {
            row.sort_unstable();
            first.push(edges.len() as u32);
            edges.extend_from_slice(row);
        }
        first.push(edges.len() as u32);
        drop(children);

        // Breadth-first: failure links, and outputs merged along them (a parent's failure
        // state is always finished before its children).
        let mut fail = vec![ROOT; states];
        let mut order = Vec::with_capacity(states);
        order.extend(edges[..first[1] as usize].iter().map(|&(_, next)| next));
        let mut at = 0;
        while at < order.len() {
            let state = order[at];
            at += 1;
            let inherited = output[fail[state as usize] as usize];
            let own = &mut output[state as usize];
            if inherited != NO_MATCH && (*own == NO_MATCH || inherited < *own) {
                *own = inherited;
            }
            for e in first[state as usize]..first[state as usize + 1] {
                let (byte, next) = edges[e as usize];
                fail[next as usize] = follow(&first, &edges, &fail, fail[state as usize], byte);
                order.push(next);
            }
        }

        let mut class_of = Box::new([0u8; 256]);
        let mut classes = 1usize;
        for &(b, _) in &edges {
            // UTF-8 text uses at most 243 distinct bytes, so the classes fit in a u8.
            if class_of[b as usize] == 0 {
                class_of[b as usize] = classes as u8;
                classes += 1;
            }
        }
        let transitions = if states * classes <= dense_budget {
            let mut bytes_of = vec![0u8; classes];
            for b in 0..=255u8 {
                bytes_of[class_of[b as usize] as usize] = b;
            }
            let stride = classes;
            let mut table = vec![ROOT; states * stride];
            // Root first, then breadth-first: a state's failure row is always complete.
            for state in std::iter::once(ROOT).chain(order.iter().copied()) {
                for (class, &byte) in bytes_of.iter().enumerate().skip(1) {
                    let slot = state as usize * stride + class;
                    table[slot] = match child(&first, &edges, state, byte) {
                        Some(next) => next,
                        None if state == ROOT => ROOT,
                        None => table[fail[state as usize] as usize * stride + class],
                    };
                }
            }
            Transitions::Dense {
                class_of,
                stride,
                table,
            }
        } else {
            Transitions::Sparse { first, edges, fail }
        };

        let mut firsts: Vec<u8> = patterns.iter().map(|p| p.as_bytes()[0]).collect();
        firsts.sort_unstable();
        firsts.dedup();
        let first_bytes = (!patterns.is_empty()).then(|| FirstBytes::new(&firsts));
        let max_len = patterns.iter().map(|p| p.len()).max().unwrap_or(0);
        Markers {
            patterns,
            transitions,
            depth,
            output,
            first_bytes,
            max_len,
        }
    }
    /// `Markers::new`, memoised: servers build a parser per request with the same few marker
    /// and stop lists, and compiling the automaton costs more than a whole short response.
    /// The compiled sets are immutable and shared; the cache keeps the last few sets.
    pub fn shared<S: AsRef<str>>(patterns: &[S]) -> Arc<Markers> {
        const CACHE_SIZE: usize = 32;
        const CACHE_MAX_BYTES: usize = 4096;
        static CACHE: Mutex<Vec<Arc<Markers>>> = Mutex::new(Vec::new());
        let same = |m: &Markers| {
            m.patterns.len() == patterns.len()
                && m.patterns
                    .iter()
                    .zip(patterns)
                    .all(|(a, b)| **a == *b.as_ref())
        };
        if let Ok(cache) = CACHE.lock() {
            if let Some(found) = cache.iter().find(|m| same(m)) {
                return Arc::clone(found);
            }
        }
        let markers = Arc::new(Markers::new(patterns));
        // Only small sets are kept: a cache of large ones would hold megabytes for good.
        let total: usize = patterns.iter().map(|p| p.as_ref().len()).sum();
        if total > CACHE_MAX_BYTES {
            return markers;
        }
        if let Ok(mut cache) = CACHE.lock() {
            if cache.len() == CACHE_SIZE {
                cache.remove(0);
            }
            cache.push(Arc::clone(&markers));
        }
        markers
    }

    pub fn pattern(&self, id: usize) -> &str {
        &self.patterns[id]
    }

    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The longest pattern, in bytes: an upper bound on what a scanner ever holds back.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Advance `state` over `bytes`; stop right after the first byte that completes a pattern
    /// and return `(pattern id, bytes consumed)`.
    #[inline]
    fn advance(&self, state: &mut u32, bytes: &[u8]) -> Option<(usize, usize)> {
        match &self.transitions {
            Transitions::Dense {
                class_of,
                stride,
                table,
            } => self.run(state, bytes, |s, b| {
                table[s as usize * stride + class_of[b as usize] as usize]
            }),
            Transitions::Sparse { first, edges, fail } => {
                self.run(state, bytes, |s, b| follow(first, edges, fail, s, b))
            }
        }
    }

    #[inline(always)]
    fn run(
        &self,
        state: &mut u32,
        bytes: &[u8],
        step: impl Fn(u32, u8) -> u32,
    ) -> Option<(usize, usize)> {
        let Some(first_bytes) = &self.first_bytes else {
            return None;
        };
        let mut s = *state;
        let mut i = 0;
        while i < bytes.len() {
            if s == ROOT {
                match first_bytes.find(&bytes[i..]) {
                    Some(skip) => i += skip,
                    None => break,
                }
            }
            s = step(s, bytes[i]);
            i += 1;
            let out = self.output[s as usize];
            if out != NO_MATCH {
                *state = ROOT;
                return Some((out as usize, i));
            }
        }
        *state = s;
        None
    }
}

/// The outcome of feeding one piece of text to a `MarkerScanner`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// No marker completed; the whole piece was consumed (part of it may be held back).
    Pending,
    /// Pattern `id` completed after `consumed` bytes of the piece; the text before the
    /// marker was released and the scanner is reset. The rest of the piece is untouched.
    Found { id: usize, consumed: usize },
}

/// Streaming search state for one `Markers` set: the automaton state plus the bytes it stands
/// for (the held-back suffix, never longer than the longest pattern).
#[derive(Debug, Clone, Default)]
pub struct MarkerScanner {
    state: u32,
    held: String,
}

impl MarkerScanner {
    pub fn new() -> MarkerScanner {
        MarkerScanner::default()
    }

    /// Text held back because it may still grow into a marker.
    pub fn held(&self) -> &str {
        &self.held
    }

    /// Forget the held text (the caller has dealt with it) and start from scratch.
    pub fn reset(&mut self) {
        self.state = ROOT;
        self.held.clear();
    }

    /// Release the held text through `release` (end of stream) and reset.
    pub fn flush(&mut self, mut release: impl FnMut(&str)) {
        if !self.held.is_empty() {
            release(&self.held);
        }
        self.reset();
    }

    /// Feed `input`. Text that can no longer be part of a marker goes to `release`, in order,
    /// possibly in two pieces (held text, then new text).
    pub fn scan(&mut self, markers: &Markers, input: &str, mut release: impl FnMut(&str)) -> Scan {
        match markers.advance(&mut self.state, input.as_bytes()) {
            Some((id, consumed)) => {
                // The marker ends `consumed` bytes into `input`; it starts `len` bytes before,
                // possibly inside the held text.
                let total_before = self.held.len() + consumed;
                let start = total_before - markers.pattern(id).len();
                if start <= self.held.len() {
                    if start > 0 {
                        release(&self.held[..start]);
                    }
                } else {
                    if !self.held.is_empty() {
                        release(&self.held);
                    }
                    release(&input[..start - self.held.len()]);
                }
                self.held.clear();
                Scan::Found { id, consumed }
            }
            None => {
                let keep = markers.depth[self.state as usize] as usize;
                if keep <= input.len() {
                    if !self.held.is_empty() {
                        release(&self.held);
                        self.held.clear();
                    }
                    let cut = input.len() - keep;
                    if cut > 0 {
                        release(&input[..cut]);
                    }
                    self.held.push_str(&input[cut..]);
                } else {
                    // The held suffix reaches back into text held from earlier pieces.
                    let drop = self.held.len() + input.len() - keep;
                    if drop > 0 {
                        release(&self.held[..drop]);
                        self.held.drain(..drop);
                    }
                    self.held.push_str(input);
                }
                Scan::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(patterns: &[&str], pieces: &[&str]) -> (String, Option<(usize, String)>) {
        let markers = Markers::new(patterns);
        let mut scanner = MarkerScanner::new();
        let mut released = String::new();
        for (n, piece) in pieces.iter().enumerate() {
            match scanner.scan(&markers, piece, |s| released.push_str(s)) {
                Scan::Pending => {}
                Scan::Found { id, consumed } => {
                    let rest: String = piece[consumed..].to_string() + &pieces[n + 1..].concat();
                    return (released, Some((id, rest)));
                }
            }
        }
        scanner.flush(|s| released.push_str(s));
        (released, None)
    }

    #[test]
    fn holds_only_a_growing_prefix() {
        let markers = Markers::new(&["<think>"]);
        let mut scanner = MarkerScanner::new();
        let mut out = String::new();
        assert_eq!(
            scanner.scan(&markers, "hello <th", |s| out.push_str(s)),
            Scan::Pending
        );
        assert_eq!(out, "hello ");
        assert_eq!(scanner.held(), "<th");
        assert_eq!(
            scanner.scan(&markers, "ings>", |s| out.push_str(s)),
            Scan::Pending
        );
        assert_eq!(out, "hello <things>");
        assert_eq!(scanner.held(), "");
    }

    #[test]
    fn finds_a_marker_split_anywhere() {
        let text = "abc<tool_call>{}";
        for cut1 in 0..text.len() {
            for cut2 in cut1..text.len() {
                let (released, found) = run(
                    &["<tool_call>"],
                    &[&text[..cut1], &text[cut1..cut2], &text[cut2..]],
                );
                assert_eq!(released, "abc");
                assert_eq!(found, Some((0, "{}".to_string())));
            }
        }
    }

    #[test]
    fn earliest_completion_wins_and_ties_go_to_the_first_listed() {
        assert_eq!(run(&["abcd", "bc"], &["xabcd"]).1, Some((1, "d".into())));
        assert_eq!(run(&["abcd", "bc"], &["xabcd"]).0, "xa");
        // "b" and "ab" both end at the same byte: list order decides.
        assert_eq!(
            run(&["b", "ab"], &["xab"]),
            ("xa".into(), Some((0, "".into())))
        );
        assert_eq!(
            run(&["ab", "b"], &["xab"]),
            ("x".into(), Some((0, "".into())))
        );
    }

    #[test]
    fn overlapping_prefixes_fall_back_correctly() {
        // "aab" inside "aaab": after "aaa" the held text is "aa".
        let (released, found) = run(&["aab"], &["a", "a", "a", "b!"]);
        assert_eq!(released, "a");
        assert_eq!(found, Some((0, "!".into())));
    }

    #[test]
    fn multibyte_markers_never_split_characters() {
        let marker = "<｜tool▁calls▁begin｜>";
        let text = format!("é{marker}x");
        let mut boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        boundaries.push(text.len());
        for &cut in &boundaries {
            let (released, found) = run(&[marker], &[&text[..cut], &text[cut..]]);
            assert_eq!(released, "é");
            assert_eq!(found, Some((0, "x".into())));
        }
    }

    #[test]
    fn shared_sets_are_reused() {
        let a = Markers::shared(&["<a>", "</a>"]);
        let b = Markers::shared(&["<a>", "</a>"]);
        let c = Markers::shared(&["</a>", "<a>"]);
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(c.pattern(0), "</a>");
    }

    #[test]
    fn no_patterns_releases_everything() {
        assert_eq!(run(&[], &["abc", "def"]), ("abcdef".into(), None));
    }

    #[test]
    fn large_sets_stay_linear_and_agree_with_small_ones() {
        // 4 KiB of varied bytes: past the dense-table budget, so the sparse automaton runs.
        let long: String = (0..4096)
            .map(|i| (b'a' + (i * 7 % 26) as u8) as char)
            .collect();
        let markers = Markers::new(&[long.as_str(), "zz", "abc"]);
        assert!(matches!(markers.transitions, Transitions::Sparse { .. }));
        assert!(markers.depth.len() <= 4096 + 5);
        let text = format!("xx{}yy{long}zz", &long[..4000]);
        for pieces in [
            vec![text.as_str()],
            text.as_bytes()
                .chunks(97)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect(),
        ] {
            let big = run(&[long.as_str(), "zz", "abc"], &pieces);
            assert_eq!(big.0, format!("xx{}yy", &long[..4000]));
            assert_eq!(big.1, Some((0, "zz".into())));
        }
        // The same answers as the dense automaton on a set small enough for it.
        for (patterns, text) in [
            (&["abcd", "bc"][..], "xabcd"),
            (&["aab"][..], "aaab!"),
            (&["he", "she", "his", "hers"][..], "ushers"),
        ] {
            let dense = Markers::new(patterns);
            let sparse = Markers::build(patterns, 0);
            assert!(matches!(dense.transitions, Transitions::Dense { .. }));
            assert!(matches!(sparse.transitions, Transitions::Sparse { .. }));
            for end in 0..=text.len() {
                let (mut a, mut b) = (ROOT, ROOT);
                assert_eq!(
                    dense.advance(&mut a, &text.as_bytes()[..end]),
                    sparse.advance(&mut b, &text.as_bytes()[..end])
                );
                assert_eq!(dense.depth[a as usize], sparse.depth[b as usize]);
            }
        }
    }
}
