//! Suggestions for misspelt names: the closest known name to one that was not found.
//!
//! Validation, expressions and schedules all word "unknown X (did you mean `y`?)" with it;
//! it lives apart so that none of them imports another for it.

/// Returns the candidate closest to `wanted`: one equal to it ignoring case, else the nearest
/// within an edit distance of 2 (never one that would replace all of `wanted`). Ties go to the
/// earliest candidate.
pub fn did_you_mean<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let wanted_lower = wanted.to_lowercase();
    let wanted_len = wanted.chars().count();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let distance = if candidate.to_lowercase() == wanted_lower {
            0
        } else {
            match levenshtein_within(wanted, candidate, 2) {
                Some(d) if d < wanted_len => d,
                _ => continue,
            }
        };
        if best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// Returns the Levenshtein distance between `a` and `b` (in characters) if it is at most `max`.
/// Only a band of width `2 * max + 1` is computed, so long strings cost little.
fn levenshtein_within(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let inf = max + 1;
    // Row 0: distance from the empty prefix of `a`. Cells never written stay at `inf`.
    let mut prev: Vec<usize> = (0..=b.len()).map(|j| j.min(inf)).collect();
    let mut cur = vec![inf; b.len() + 1];
    for (i, &ca) in a.iter().enumerate() {
        let i = i + 1;
        let lo = i.saturating_sub(max).max(1);
        let hi = (i + max).min(b.len());
        let first = if lo == 1 { i.min(inf) } else { inf };
        if let Some(cell) = cur.get_mut(lo - 1) {
            *cell = first;
        }
        let mut row_min = first;
        for j in lo..=hi {
            let diagonal = prev.get(j - 1).copied().unwrap_or(inf);
            let up = prev.get(j).copied().unwrap_or(inf);
            let left = cur.get(j - 1).copied().unwrap_or(inf);
            let substitution = diagonal + usize::from(b.get(j - 1) != Some(&ca));
            let value = substitution.min(up + 1).min(left + 1).min(inf);
            if let Some(cell) = cur.get_mut(j) {
                *cell = value;
            }
            row_min = row_min.min(value);
        }
        if let Some(cell) = cur.get_mut(hi + 1) {
            *cell = inf;
        }
        if row_min >= inf {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.get(b.len()).copied().filter(|&d| d <= max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::STEP_TYPES;

    #[test]
    fn did_you_mean_picks_the_closest() {
        assert_eq!(did_you_mean("paralel", STEP_TYPES), Some("parallel"));
        assert_eq!(did_you_mean("TASK", STEP_TYPES), Some("task"));
        assert_eq!(did_you_mean("lop", STEP_TYPES), Some("loop"));
        assert_eq!(did_you_mean("workflow", STEP_TYPES), None);
        assert_eq!(did_you_mean("x", ["ab", "y"]), None);
        assert_eq!(did_you_mean("ab", ["xy"]), None);
        assert_eq!(did_you_mean("anything", []), None);
        // A case-insensitive match beats a closer spelling; ties go to the first candidate.
        assert_eq!(did_you_mean("Data", ["date", "data"]), Some("data"));
        assert_eq!(did_you_mean("abcd", ["abce", "abcf"]), Some("abce"));
        assert_eq!(did_you_mean("résumé", ["resume", "résume"]), Some("résume"));
    }

    #[test]
    fn did_you_mean_is_fast_on_long_strings() {
        let long = "a".repeat(200_000);
        let other = format!("{}b", "a".repeat(199_999));
        assert_eq!(did_you_mean(&long, [other.as_str()]), Some(other.as_str()));
        let far = "b".repeat(200_000);
        assert_eq!(did_you_mean(&long, [far.as_str()]), None);
    }

    fn naive_levenshtein(a: &str, b: &str) -> usize {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for i in 1..=a.len() {
            let mut cur = vec![i; b.len() + 1];
            for j in 1..=b.len() {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                cur[j] = (prev[j - 1] + cost).min(prev[j] + 1).min(cur[j - 1] + 1);
            }
            prev = cur;
        }
        prev[b.len()]
    }

    #[test]
    fn banded_levenshtein_matches_the_naive_one() {
        let words = [
            "",
            "a",
            "b",
            "ab",
            "ba",
            "abc",
            "acb",
            "output",
            "ouput",
            "outptu",
            "input",
            "strategy-doc",
            "strategy-docs",
            "Strategy-Doc",
            "kitten",
            "sitting",
            "flaw",
            "lawn",
            "ééé",
            "eée",
        ];
        for a in words {
            for b in words {
                for max in 0..4 {
                    let naive = naive_levenshtein(a, b);
                    let expected = (naive <= max).then_some(naive);
                    assert_eq!(levenshtein_within(a, b, max), expected, "{a:?} {b:?} {max}");
                }
            }
        }
    }
}
