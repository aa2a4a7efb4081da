//! Which part of a client search Postgres's trigram indexes should look up.
//!
//! `pg_trgm` answers `LIKE '%…%'` from a GIN index by reading, for each trigram of the pattern,
//! the list of rows that hold it, and keeping the rows on every list: the cost is the lists'
//! combined length, however few rows they share. "client 4242" among a million clients named
//! "Bench client N" reads five lists of a million rows ("cli", "lie", "ien", "ent", "nt ") to
//! keep the few hundred rows that also hold "424" and "242": ~50 ms, where "%424%" alone takes
//! ~3. So the index is given the part of the search whose trigrams are rarest, and the whole
//! search then filters the rows it finds: the same matches, read from the short lists only.
//!
//! How rare a trigram is comes from a sample of the stored names and client IDs: the values
//! Postgres's own statistics keep for those columns (`pg_stats.histogram_bounds`, about a hundred
//! each, gathered by ANALYZE and autovacuum), read again every few minutes. Without statistics
//! (a new database) the search is looked up whole, as before.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sqlx::AnyPool;

use super::DbError;

/// A trigram as `pg_trgm` forms it: three lower-case characters, spaces padding word edges.
type Trigram = [char; 3];

/// One column's sampled values, and how many of them hold each trigram.
#[derive(Debug, Default)]
struct Column {
    values: Vec<String>,
    holding: HashMap<Trigram, u32>,
}

impl Column {
    fn of<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut column = Self::default();
        let mut seen = Vec::new();
        for value in values {
            seen.clear();
            value_trigrams(value, &mut seen);
            seen.sort_unstable();
            seen.dedup();
            for t in &seen {
                *column.holding.entry(*t).or_default() += 1;
            }
            column.values.push(value.to_string());
        }
        column
    }

    /// A count among the sampled values as a share of the table; none counts as half a value
    /// (rarer than any seen, but not free).
    fn share(&self, count: usize) -> f64 {
        let count = if count == 0 { 0.5 } else { count as f64 };
        count / self.values.len().max(1) as f64
    }

    /// The cost of looking `part` (with `trigrams`) up in this column's index, as a share of the
    /// table, and the rows it yields: the lengths of the trigrams' lists, plus those rows, each
    /// read from the table and filtered (many times the work of a list entry).
    fn cost(&self, trigrams: &[Trigram], part: &str) -> (f64, f64) {
        let lists: f64 =
            trigrams.iter().map(|t| self.share(self.holding.get(t).map_or(0, |&n| n as usize))).sum();
        let rows = self.share(self.values.iter().filter(|v| v.contains(part)).count());
        (lists + ROW_WEIGHT * rows, rows)
    }
}

/// A row read from the table and filtered costs about this many index list entries.
const ROW_WEIGHT: f64 = 10.0;

/// Sampled trigram counts of the two indexed columns.
#[derive(Debug)]
pub struct Sample {
    name: Column,
    client_id: Column,
}

impl Sample {
    pub fn of<'a>(
        names: impl IntoIterator<Item = &'a str>,
        client_ids: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        Self { name: Column::of(names), client_id: Column::of(client_ids) }
    }

    fn is_empty(&self) -> bool {
        self.name.values.is_empty() && self.client_id.values.is_empty()
    }

    /// The part of `search` to look up in each index when that is markedly cheaper than the
    /// whole; `None`: look up the whole. Each column gets the part rarest in it (a client ID
    /// seldom holds the words of a name). Every part is a substring of the search, so whatever
    /// the search matches, its parts match too.
    pub fn key(&self, search: &str) -> Option<Key> {
        if self.is_empty() {
            return None;
        }
        let lowered = search.to_lowercase();
        let whole = pattern_set(&lowered);
        if whole.is_empty() {
            return None;
        }
        let whole = self.name.cost(&whole, &lowered).0 + self.client_id.cost(&whole, search).0;
        let chars: Vec<char> = search.chars().collect();
        // (cost, rows, part), the cheapest so far for each column: lower-cased for the name,
        // as typed for the client ID.
        let mut name: Option<(f64, f64, String)> = None;
        let mut client_id: Option<(f64, f64, String)> = None;
        for start in 0..chars.len() {
            for len in 3..=KEY_MAX_CHARS.min(chars.len() - start) {
                let typed: String = chars[start..start + len].iter().collect();
                let lower = typed.to_lowercase();
                // Lower-casing is not always per character (a final sigma): keep only parts of
                // the lowered search itself.
                if !lowered.contains(&lower) {
                    continue;
                }
                let trigrams = pattern_set(&lower);
                if trigrams.is_empty() {
                    continue;
                }
                for (column, best, part) in
                    [(&self.name, &mut name, &lower), (&self.client_id, &mut client_id, &typed)]
                {
                    let (cost, rows) = column.cost(&trigrams, part);
                    // Cheaper wins; at equal cost the longer part (fewer rows to filter).
                    if best.as_ref().is_none_or(|(c, _, p)| cost < *c || (cost == *c && part.len() > p.len()))
                    {
                        *best = Some((cost, rows, part.clone()));
                    }
                }
            }
        }
        let ((name_cost, name_rows, name), (id_cost, id_rows, client_id)) = (name?, client_id?);
        (name_cost + id_cost < whole / 2.0).then_some(Key { name, client_id, rows: name_rows + id_rows })
    }
}

/// The distinct trigrams `pg_trgm` looks up for `LIKE '%part%'`.
fn pattern_set(part: &str) -> Vec<Trigram> {
    let mut trigrams = Vec::new();
    pattern_trigrams(part, &mut trigrams);
    trigrams.sort_unstable();
    trigrams.dedup();
    trigrams
}

/// A part of a search to look up in the trigram indexes.
#[derive(Debug, PartialEq)]
pub struct Key {
    /// For `name_key`: lower-cased.
    pub name: String,
    /// For `client_id`: as typed (perhaps another part of the search).
    pub client_id: String,
    /// The estimated rows it yields from both indexes, as a share of the table.
    pub rows: f64,
}

impl Key {
    /// Whether the key yields few enough rows that collecting every match through it beats
    /// walking the sort order, wherever the matches lie in it.
    pub fn is_selective(&self) -> bool {
        self.rows < 0.2
    }
}

/// Parts of a search weighed as index keys are at most this long (in characters): the cheapest
/// part is short, and the search filters the rest.
const KEY_MAX_CHARS: usize = 8;

/// `pg_trgm`'s word characters: letters and digits.
fn is_word(c: char) -> bool {
    c.is_alphanumeric()
}

/// The trigrams of one word, padded with two spaces before when its start is known and one after
/// when its end is.
fn word_trigrams(word: &[char], starts: bool, ends: bool, out: &mut Vec<Trigram>) {
    let mut padded = Vec::with_capacity(word.len() + 3);
    if starts {
        padded.extend([' ', ' ']);
    }
    for c in word {
        padded.extend(c.to_lowercase());
    }
    if ends {
        padded.push(' ');
    }
    out.extend(padded.windows(3).map(|w| [w[0], w[1], w[2]]));
}

/// The words of `text` (runs of word characters) with whether each has a known start and end.
fn words(text: &str, edges_known: bool) -> Vec<(Vec<char>, bool, bool)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !is_word(chars[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_word(chars[i]) {
            i += 1;
        }
        let starts = start > 0 || edges_known;
        let ends = i < chars.len() || edges_known;
        out.push((chars[start..i].to_vec(), starts, ends));
    }
    out
}

/// The trigrams a stored value is indexed under: every word padded on both sides.
fn value_trigrams(value: &str, out: &mut Vec<Trigram>) {
    for (word, starts, ends) in words(value, true) {
        word_trigrams(&word, starts, ends, out);
    }
}

/// The trigrams `pg_trgm` looks up for `LIKE '%part%'`: a word's start (end) is known only where
/// the part has a non-word character before (after) it.
fn pattern_trigrams(part: &str, out: &mut Vec<Trigram>) {
    for (word, starts, ends) in words(part, false) {
        word_trigrams(&word, starts, ends, out);
    }
}

/// The process's sample, read again when older than [`SampleCache::MAX_AGE`].
#[derive(Debug, Default)]
pub struct SampleCache {
    taken: Mutex<Option<(Instant, Arc<Sample>)>>,
}

impl SampleCache {
    pub const MAX_AGE: Duration = Duration::from_secs(300);

    /// The current sample; `None` while the table has no statistics yet (asked again next time).
    pub async fn get(&self, pool: &AnyPool) -> Result<Option<Arc<Sample>>, DbError> {
        if let Some((at, sample)) = &*self.taken.lock().unwrap_or_else(|e| e.into_inner())
            && at.elapsed() < Self::MAX_AGE
        {
            return Ok(Some(sample.clone()));
        }
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT attname::text, unnest(histogram_bounds::text::text[]) FROM pg_stats \
             WHERE schemaname = current_schema() AND tablename = 'clients' \
             AND attname IN ('name_key', 'client_id')",
        )
        .fetch_all(pool)
        .await?;
        let of = |column: &'static str| rows.iter().filter(move |r| r.0 == column).map(|r| r.1.as_str());
        let sample = Arc::new(Sample::of(of("name_key"), of("client_id")));
        if sample.is_empty() {
            return Ok(None);
        }
        *self.taken.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), sample.clone()));
        Ok(Some(sample))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigrams(f: fn(&str, &mut Vec<Trigram>), text: &str) -> Vec<String> {
        let mut out = Vec::new();
        f(text, &mut out);
        out.iter().map(|t| t.iter().collect()).collect()
    }

    #[test]
    fn values_and_patterns_form_trigrams_as_pg_trgm_does() {
        assert_eq!(trigrams(value_trigrams, "Ab 4"), ["  a", " ab", "ab ", "  4", " 4 "]);
        // Inside %…%, a word's edge is known only where the part shows it.
        assert_eq!(trigrams(pattern_trigrams, "4242"), ["424", "242"]);
        assert_eq!(trigrams(pattern_trigrams, " 42"), ["  4", " 42"]);
        assert_eq!(trigrams(pattern_trigrams, "client 4"), ["cli", "lie", "ien", "ent", "nt ", "  4"]);
        assert_eq!(trigrams(pattern_trigrams, "-4-"), ["  4", " 4 "]);
        assert!(trigrams(pattern_trigrams, "ab").is_empty());
    }

    /// "Bench client N" for a thousand N, and their client IDs.
    fn bench_sample() -> Sample {
        let names: Vec<String> = (0..1000).map(|i| format!("bench client {i}")).collect();
        let ids: Vec<String> = (0..1000).map(|i| format!("bench-{i}")).collect();
        Sample::of(names.iter().map(String::as_str), ids.iter().map(String::as_str))
    }

    #[test]
    fn the_rarest_part_of_a_search_is_looked_up() {
        let sample = bench_sample();
        // "client" is in every name: the digits are looked up instead.
        let key = sample.key("Client 4242").unwrap();
        assert!("4242".contains(&key.name) && key.name.len() >= 3, "{key:?}");
        assert!(key.is_selective(), "{key:?}");
        // No sampled client ID holds "client": the client ID index looks that up.
        assert!("Client".contains(&key.client_id), "{key:?}");
        // The name's part is lower-cased; the client ID's keeps the search's case.
        let key = sample.key("CLIENT XQZW").unwrap();
        assert!("client xqzw".contains(&key.name) && key.name.contains('x'), "{key:?}");
        assert!("CLIENT XQZW".contains(&key.client_id) && key.client_id.len() >= 3, "{key:?}");
        // In most rows: never selective.
        assert!(sample.key("bench c").is_none_or(|k| !k.is_selective()));
        // A part that yields fewer rows beats one whose lists alone are shorter: " 42" (words
        // starting "42") rather than "t 4" (words starting "4").
        let names: Vec<String> = (0..1000).map(|i| format!("bench client {i}")).collect();
        let ids: Vec<String> = (0..1000).map(|i| format!("b-{i}")).collect();
        let sample = Sample::of(names.iter().map(String::as_str), ids.iter().map(String::as_str));
        let key = sample.key("client 42").unwrap();
        assert!(key.name.ends_with(" 42") && "client 42".contains(&key.name), "{key:?}");
        // Nothing markedly rarer than the whole: the whole is looked up.
        assert_eq!(sample.key("4242"), None);
        assert_eq!(sample.key("xqzw"), None);
        // Without statistics nothing is chosen.
        assert_eq!(Sample::of([], []).key("client 4242"), None);
    }
}
