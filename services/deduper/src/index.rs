//! The deduper's memory: every article seen in the window, with its fingerprints, and the
//! indexes that find exact and near duplicates. Pure data structure, no I/O: the stage and
//! the offline tool both drive it, and it reports every change as a key/value entry so that
//! the runtime can persist it.

use std::collections::{BTreeSet, HashMap};

use serde::Deserialize;

use crate::fingerprint::{self, Words, minhash, minhash_similarity, shingles_of};

/// The deduper's tuning, from the `deduper:` section of its configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `window_secs`: how long an article is remembered after it was first seen (default 7 days).
    #[serde(default = "default_window_secs")]
    pub window_secs: u64,
    /// `near_threshold`: the estimated Jaccard similarity of word 3-shingles (title and text) at
    /// or above which two articles may be the same story (default 0.4; see ARCHITECTURE.md for
    /// how the thresholds were tuned).
    #[serde(default = "default_near_threshold")]
    pub near_threshold: f64,
    /// `title_threshold`: below `strong_threshold`, a near duplicate must also share this share
    /// of its headline's words (default 0.25): channels and outlets repeat long boilerplate
    /// descriptions under different stories, and the headline is what tells them apart.
    #[serde(default = "default_title_threshold")]
    pub title_threshold: f64,
    /// `strong_threshold`: at or above this similarity the headlines need not match (default 0.9).
    #[serde(default = "default_strong_threshold")]
    pub strong_threshold: f64,
    /// `near_min_words`: articles with fewer words (title and text) are only deduplicated
    /// exactly, never as near duplicates: a few words say too little to tell stories apart.
    #[serde(default = "default_near_min_words")]
    pub near_min_words: usize,
    /// `strong_min_words`: the strong rule (similarity at or above `strong_threshold` with no
    /// headline word in common) applies only to articles of at least this many words (title
    /// and text, links left out; default 100). A wire story under a rewritten headline is long;
    /// a short video or podcast description that is mostly the channel's boilerplate is not,
    /// and there the headline is all that tells two items apart.
    #[serde(default = "default_strong_min_words")]
    pub strong_min_words: usize,
    /// `containment_threshold`: when no remembered article is a near duplicate by Jaccard, a
    /// shorter text is the same story as a longer one when at least this share of its
    /// (sampled) word 3-shingles is contained in the longer (default 0.8): a feed's summary
    /// of an article and the article itself, a live blog's update and the live page. The
    /// headline rules above guard it as they guard Jaccard (see ARCHITECTURE.md).
    #[serde(default = "default_containment_threshold")]
    pub containment_threshold: f64,
    /// `cjk_near_threshold`: `near_threshold` for text written mostly in CJK characters,
    /// shingled in characters (default 0.6; see ARCHITECTURE.md, "Chinese, Japanese and
    /// Russian text").
    #[serde(default = "default_cjk_near_threshold")]
    pub cjk_near_threshold: f64,
    /// `containment_min_words`: a text contained in another must have at least this many
    /// words of body text, links left out (default 25): a sentence or two says too little.
    #[serde(default = "default_containment_min_words")]
    pub containment_min_words: usize,
    /// `containment_title_threshold`: a contained text must share this share of its
    /// headline's words with the other's (default 0.5; `title_threshold` is for Jaccard): a
    /// summary says less than a whole copy, and stories on one subject share background
    /// paragraphs, so the headlines must agree more.
    #[serde(default = "default_containment_title_threshold")]
    pub containment_title_threshold: f64,
    /// `common_shingle_articles`: a sampled shingle held by more remembered articles than
    /// this is common (an outlet's boilerplate, a stock phrase) and does not count towards
    /// containment (default 20).
    #[serde(default = "default_common_shingle_articles")]
    pub common_shingle_articles: usize,
}

fn default_window_secs() -> u64 {
    7 * 24 * 3600
}
fn default_near_threshold() -> f64 {
    0.4
}
fn default_title_threshold() -> f64 {
    0.25
}
fn default_strong_threshold() -> f64 {
    0.9
}
fn default_near_min_words() -> usize {
    12
}
fn default_strong_min_words() -> usize {
    100
}
fn default_containment_threshold() -> f64 {
    0.8
}
fn default_cjk_near_threshold() -> f64 {
    0.6
}
fn default_containment_min_words() -> usize {
    25
}
fn default_containment_title_threshold() -> f64 {
    0.5
}
fn default_common_shingle_articles() -> usize {
    20
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            window_secs: default_window_secs(),
            near_threshold: default_near_threshold(),
            title_threshold: default_title_threshold(),
            strong_threshold: default_strong_threshold(),
            near_min_words: default_near_min_words(),
            strong_min_words: default_strong_min_words(),
            containment_threshold: default_containment_threshold(),
            cjk_near_threshold: default_cjk_near_threshold(),
            containment_min_words: default_containment_min_words(),
            containment_title_threshold: default_containment_title_threshold(),
            common_shingle_articles: default_common_shingle_articles(),
        }
    }
}

/// MinHash functions per signature.
pub const PERMUTATIONS: usize = 64;
/// LSH bands of [`ROWS`] rows each; `BANDS * ROWS == PERMUTATIONS`. A pair with Jaccard `j`
/// becomes a candidate with probability `1 − (1 − j^ROWS)^BANDS`: with 32 bands of 2 rows,
/// 0.996 at 0.4 and 0.27 at 0.1 (each candidate is then checked against the thresholds on
/// the whole signature).
pub const BANDS: usize = 32;
/// Rows per LSH band.
pub const ROWS: usize = PERMUTATIONS / BANDS;
/// One word 3-shingle in this many (by its hash) is a containment sample: containment is
/// estimated on the samples, and only they are remembered and indexed.
pub const SAMPLE_EVERY: u64 = 2;
/// Containment samples are remembered from the first this many words of an article's text
/// (its lead, where summaries come from); the article being decided is read whole.
pub const HEAD_WORDS: usize = 100;
/// Remembered articles are looked up by the samples of the first this many words of the
/// article being decided (a live blog's updates, a summary's paragraphs lie there); how much
/// of a candidate's lead the new text holds is then counted on the whole text. A remembered
/// lead that lies only further down (an earlier version of a live page) is found by Jaccard.
pub const QUERY_WORDS: usize = 300;

/// An article id as a number: the 128-bit hex id of `record::article_id`. Other ids (which
/// the pipeline does not produce) are hashed into the same space.
pub fn id_number(id: &str) -> u128 {
    if id.len() == 32
        && let Ok(n) = u128::from_str_radix(id, 16)
    {
        return n;
    }
    let hi = fingerprint::hash_bytes(id.as_bytes());
    let lo = fingerprint::mix(hi ^ 0x5bd1_e995);
    (u128::from(hi) << 64) | u128::from(lo)
}

/// The id as the pipeline writes it: 32 lower-case hex digits.
pub fn id_string(id: u128) -> String {
    format!("{id:032x}")
}

/// What the deduper remembers about one article.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// When it was first seen (Unix seconds): the window counts from here.
    pub seen: i64,
    /// Its story cluster.
    pub story: u128,
    /// The article it is a near duplicate of, if any.
    pub duplicate_of: Option<u128>,
    /// Its similarity to `duplicate_of`.
    pub similarity: f32,
    /// Its latest revision; 0 when it was dropped as an exact copy of another article.
    pub revision: u32,
    /// [`fingerprint::content_key`] of its latest revision.
    pub content: u64,
    /// [`fingerprint::material_key`] of its latest revision.
    pub material: u64,
    /// A 64-bit set of its headline's words (one bit per word).
    pub title: u64,
    /// A hash of the numbers in its headline (dates, episode and day counts); 0 when none.
    pub numbers: u64,
    /// The MinHash signature of its latest revision; empty when it is not a near-duplicate
    /// candidate (too short, or dropped as an exact copy).
    pub signature: Box<[u32]>,
    /// Words of its text, links left out (0 in entries of the format before containment).
    pub words: u32,
    /// The containment samples of its text's first [`HEAD_WORDS`] words, sorted, each once;
    /// empty when it is not a near-duplicate candidate.
    pub samples: Box<[u32]>,
    /// [`fingerprint::numbers`] of its text's first [`HEAD_WORDS`] words (the part its
    /// samples are of); empty when it is not a near-duplicate candidate, or in entries of the
    /// formats before numbers.
    pub text_numbers: Box<[u32]>,
    /// [`template_headline`] of its headline (empty unless it is written in CJK characters,
    /// and in entries of the formats before it).
    pub headline: Box<str>,
}

/// The persisted format: 4 since the text's numbers and the CJK headline (words, the
/// samples' count and samples, the numbers' count and numbers, then the headline, after the
/// signature); 3 (words and samples, no numbers) and 2 (no words, no
/// samples) are still read.
const FORMAT: u8 = 4;
const FORMAT_BEFORE_NUMBERS: u8 = 3;
const FORMAT_BEFORE_CONTAINMENT: u8 = 2;

impl Entry {
    /// The persisted form: a version byte, then fixed-width little-endian fields, the
    /// signature's length and values, the word count, and the samples.
    pub fn encode(&self) -> Vec<u8> {
        let values = self.signature.len() + self.samples.len() + self.text_numbers.len();
        let mut out = Vec::with_capacity(88 + 4 * values + self.headline.len());
        out.push(FORMAT);
        out.extend(self.seen.to_le_bytes());
        out.extend(self.story.to_le_bytes());
        out.extend(self.duplicate_of.unwrap_or(0).to_le_bytes());
        out.push(u8::from(self.duplicate_of.is_some()));
        out.extend(self.similarity.to_le_bytes());
        out.extend(self.revision.to_le_bytes());
        out.extend(self.content.to_le_bytes());
        out.extend(self.material.to_le_bytes());
        out.extend(self.title.to_le_bytes());
        out.extend(self.numbers.to_le_bytes());
        out.extend(u32::try_from(self.signature.len()).unwrap_or(u32::MAX).to_le_bytes());
        for v in self.signature.iter() {
            out.extend(v.to_le_bytes());
        }
        out.extend(self.words.to_le_bytes());
        for values in [&self.samples, &self.text_numbers] {
            out.extend(u32::try_from(values.len()).unwrap_or(u32::MAX).to_le_bytes());
            for v in values.iter() {
                out.extend(v.to_le_bytes());
            }
        }
        out.extend(self.headline.as_bytes());
        out
    }

    /// Reads the persisted form. The first deduper stored only an RFC 3339 time; such an
    /// entry still catches a repeat of its URL, with no fingerprints.
    pub fn decode(id: u128, bytes: &[u8]) -> Option<Entry> {
        let format = bytes.first().copied();
        if format == Some(FORMAT) || format == Some(FORMAT_BEFORE_NUMBERS) || format == Some(FORMAT_BEFORE_CONTAINMENT)
        {
            let mut at = 1;
            let mut take = |n: usize| {
                let slice = bytes.get(at..at + n);
                at += n;
                slice
            };
            let seen = i64::from_le_bytes(take(8)?.try_into().ok()?);
            let story = u128::from_le_bytes(take(16)?.try_into().ok()?);
            let dup = u128::from_le_bytes(take(16)?.try_into().ok()?);
            let has_dup = take(1)?[0] == 1;
            let similarity = f32::from_le_bytes(take(4)?.try_into().ok()?);
            let revision = u32::from_le_bytes(take(4)?.try_into().ok()?);
            let content = u64::from_le_bytes(take(8)?.try_into().ok()?);
            let material = u64::from_le_bytes(take(8)?.try_into().ok()?);
            let title = u64::from_le_bytes(take(8)?.try_into().ok()?);
            let numbers = u64::from_le_bytes(take(8)?.try_into().ok()?);
            let values = |bytes: &[u8]| -> Option<Box<[u32]>> {
                (bytes.len() % 4 == 0).then(|| {
                    bytes
                        .chunks_exact(4)
                        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect()
                })
            };
            // Sorted and each once, whatever the bytes said: the index relies on it.
            let sorted = |values: Box<[u32]>| {
                let mut values = values.into_vec();
                values.sort_unstable();
                values.dedup();
                values.into_boxed_slice()
            };
            // A count, then that many values.
            macro_rules! counted {
                () => {{
                    let len = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
                    values(take(len.checked_mul(4)?)?)?
                }};
            }
            let (signature, words, samples, text_numbers, headline) = if format == Some(FORMAT_BEFORE_CONTAINMENT) {
                let signature = values(bytes.get(at..)?)?;
                (signature, 0, Box::default(), Box::default(), Box::default())
            } else {
                let signature = counted!();
                let words = u32::from_le_bytes(take(4)?.try_into().ok()?);
                if format == Some(FORMAT) {
                    let samples = sorted(counted!());
                    let numbers = sorted(counted!());
                    let headline: Box<str> = std::str::from_utf8(bytes.get(at..)?).ok()?.into();
                    (signature, words, samples, numbers, headline)
                } else {
                    let samples = sorted(values(bytes.get(at..)?)?);
                    (signature, words, samples, Box::default(), Box::default())
                }
            };
            return Some(Entry {
                seen,
                story,
                duplicate_of: has_dup.then_some(dup),
                similarity,
                revision,
                content,
                material,
                title,
                numbers,
                signature,
                words,
                samples,
                text_numbers,
                headline,
            });
        }
        let at = chrono::DateTime::parse_from_rfc3339(std::str::from_utf8(bytes).ok()?).ok()?;
        Some(Entry {
            seen: at.timestamp(),
            story: id,
            duplicate_of: None,
            similarity: 0.0,
            revision: 1,
            content: 0,
            material: 0,
            title: 0,
            numbers: 0,
            signature: Box::new([]),
            words: 0,
            samples: Box::new([]),
            text_numbers: Box::new([]),
            headline: Box::default(),
        })
    }
}

/// The deduper's decision on one article.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// A story not seen in the window: emitted, and it starts a cluster.
    New,
    /// A near duplicate of `of`: emitted, in `of`'s cluster, with its similarity (the
    /// estimated Jaccard, or when `contained`, the share of the shorter text's shingles
    /// found in the longer).
    Near {
        of: u128,
        story: u128,
        similarity: f64,
        contained: bool,
    },
    /// The same article (id) with materially changed text: emitted as revision `revision`.
    Revision {
        revision: u32,
        story: u128,
        duplicate_of: Option<u128>,
        similarity: Option<f64>,
    },
    /// The same article again, unchanged or changed only trivially: dropped.
    ExactUrl { story: u128 },
    /// Another article with the same content: dropped.
    ExactContent { of: u128, story: u128 },
}

/// One article to decide on.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub text: &'a str,
    /// The decision time (Unix seconds); the window is counted in it.
    pub now: i64,
}

/// No slot: the end of an LSH chain.
const NIL: u32 = u32::MAX;

/// One remembered article in the slab.
#[derive(Debug)]
struct Slot {
    id: u128,
    entry: Entry,
    /// Per band, the next slot with the same band hash ([`NIL`] at the end of the chain).
    next: [u32; BANDS],
    /// Per containment sample (`entry.samples[i]`), the next slot with that sample.
    sample_next: Box<[u32]>,
}

/// The window of remembered articles and its indexes.
///
/// Entries live in a slab addressed by 32-bit slot numbers, and each LSH band table maps a
/// band hash to the first slot of a chain threaded through the slots' `next` arrays. Most
/// band hashes are held by one article, so a table entry is 12 bytes and a chain link 4,
/// instead of a bucket vector of 128-bit ids per band (about 4 KB per article before, about
/// 1.5 KB now: see `memory_bytes` and `bench/deduper`).
#[derive(Debug, Default)]
pub struct Index {
    settings: Settings,
    /// Article id → its slot.
    ids: HashMap<u128, u32>,
    slots: Vec<Option<Slot>>,
    /// Slots free for reuse.
    free: Vec<u32>,
    /// Content key → the article that has it.
    by_content: HashMap<u64, u128>,
    /// One table per LSH band: the band's hash → the first slot of its chain.
    bands: Vec<HashMap<u64, u32, Prehashed>>,
    /// Containment sample → (the first slot of its chain, how many slots the chain holds).
    samples: HashMap<u32, (u32, u32), Prehashed>,
    /// Samples held in the chains.
    sampled: usize,
    /// Numbers held by the entries, and the bytes of their headlines.
    numbered: usize,
    headline_bytes: usize,
    /// (first seen, id): eviction order.
    by_time: BTreeSet<(i64, u128)>,
    /// Entries with a signature (in the LSH tables).
    indexed: usize,
    /// Changes since the last [`Index::take_changes`]: id → new entry, or `None` when evicted.
    changes: Vec<(u128, Option<Vec<u8>>)>,
}

impl Index {
    pub fn new(settings: Settings) -> Index {
        Index {
            settings,
            bands: (0..BANDS).map(|_| HashMap::default()).collect(),
            ..Index::default()
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Articles remembered.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The entry of an article, if remembered.
    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entry(id_number(id))
    }

    fn entry(&self, id: u128) -> Option<&Entry> {
        let slot = *self.ids.get(&id)?;
        self.slots[slot as usize].as_ref().map(|s| &s.entry)
    }

    /// An estimate of the memory the window takes: the entries with their signatures and
    /// the three indexes, at the tables' current capacities. Cheap (no walk over entries).
    pub fn memory_bytes(&self) -> usize {
        use std::mem::size_of;
        // hashbrown stores one control byte per slot besides the slot itself.
        let table = |capacity: usize, slot: usize| capacity * (slot + 1);
        let mut bytes = table(self.ids.capacity(), size_of::<(u128, u32)>())
            + self.slots.capacity() * size_of::<Option<Slot>>()
            + self.free.capacity() * size_of::<u32>()
            + table(self.by_content.capacity(), size_of::<(u64, u128)>())
            // B-tree nodes hold up to 11 keys; count them at two-thirds full.
            + self.by_time.len() * size_of::<(i64, u128)>() * 3 / 2
            + self.indexed * PERMUTATIONS * size_of::<u32>()
            // Each sample is stored in its entry and linked in its chain.
            + self.sampled * 2 * size_of::<u32>()
            + self.numbered * size_of::<u32>()
            + self.headline_bytes
            + table(self.samples.capacity(), size_of::<(u32, (u32, u32))>());
        for band in &self.bands {
            bytes += table(band.capacity(), size_of::<(u64, u32)>());
        }
        bytes
    }

    /// The state changes since the last call: (article id, encoded entry or `None`).
    pub fn take_changes(&mut self) -> Vec<(String, Option<Vec<u8>>)> {
        std::mem::take(&mut self.changes)
            .into_iter()
            .map(|(id, value)| (id_string(id), value))
            .collect()
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        let settings = self.settings.clone();
        *self = Index::new(settings);
    }

    /// Applies one persisted entry (a value, or a deletion), as written by [`Index::take_changes`].
    pub fn restore(&mut self, id: &str, value: Option<&[u8]>) {
        let id = id_number(id);
        self.remove(id);
        if let Some(entry) = value.and_then(|v| Entry::decode(id, v)) {
            self.insert(id, entry);
        }
    }

    /// Drops the articles first seen more than the window before `now`; returns how many.
    pub fn evict(&mut self, now: i64) -> usize {
        let horizon = now.saturating_sub(i64::try_from(self.settings.window_secs).unwrap_or(i64::MAX));
        let mut evicted = 0;
        while let Some(&(seen, id)) = self.by_time.first() {
            if seen >= horizon {
                break;
            }
            self.remove(id);
            self.changes.push((id, None));
            evicted += 1;
        }
        evicted
    }

    /// Decides on one article and remembers it.
    pub fn decide(&mut self, input: Input<'_>) -> Verdict {
        self.evict(input.now);
        let id = id_number(input.id);
        // The text is tokenised once, for every key and feature below.
        let (title_words, text_words) = (Words::of(input.title), Words::of(input.text));
        let content = fingerprint::content_key_of(&title_words, &text_words);
        let material = fingerprint::material_key_of(&title_words, &text_words);
        if let Some(old) = self.entry(id).cloned() {
            if old.revision > 0 && (old.content == content || old.material == material || old.content == 0) {
                return Verdict::ExactUrl { story: old.story };
            }
            if old.revision > 0 {
                // A persisted entry may say anything (a damaged changelog): at the top, the
                // revision stays there.
                let revision = old.revision.saturating_add(1);
                let features = self.features(&title_words, &text_words);
                let entry = Entry {
                    revision,
                    content,
                    material,
                    title: title_bits(input.title),
                    numbers: title_numbers(input.title),
                    signature: features.signature,
                    words: features.text_words,
                    samples: features.head,
                    text_numbers: features.head_numbers.into_boxed_slice(),
                    headline: template_headline(input.title).into(),
                    ..old.clone()
                };
                self.remember(id, entry);
                return Verdict::Revision {
                    revision,
                    story: old.story,
                    duplicate_of: old.duplicate_of,
                    similarity: old.duplicate_of.map(|_| f64::from(old.similarity)),
                };
            }
            // Dropped before as an exact copy of another article, now changed: decided afresh.
        }
        if let Some(&of) = self.by_content.get(&content)
            && of != id
            && let Some(original) = self.entry(of)
        {
            let story = original.story;
            let entry = Entry {
                seen: input.now,
                story,
                duplicate_of: Some(of),
                similarity: 1.0,
                revision: 0,
                content,
                material,
                title: 0,
                numbers: 0,
                signature: Box::new([]),
                words: 0,
                samples: Box::new([]),
                text_numbers: Box::new([]),
                headline: Box::default(),
            };
            self.remember(id, entry);
            return Verdict::ExactContent { of, story };
        }
        let features = self.features(&title_words, &text_words);
        let (title, numbers) = (title_bits(input.title), title_numbers(input.title));
        let headline = template_headline(input.title);
        let probe = Probe {
            title,
            headline: &headline,
            numbers,
            words: features.words,
            text_words: features.text_words as usize,
            cjk: text_words.shingle_size() == fingerprint::SHINGLE_CJK,
            head_numbers: &features.head_numbers,
        };
        // The closest article by Jaccard, and the one this text is contained in (or contains).
        // When both are found and are of different stories, the story first seen wins: a
        // summary that arrives after two fragments of its story (its article, and another
        // summary that could not be linked to it) joins the story downstream saw first.
        let near = self
            .nearest(id, &features, probe)
            .map(|(of, similarity)| (of, similarity, false));
        let contained = self
            .containing(id, &features, probe)
            .map(|(of, share)| (of, share, true));
        let best = match (near, contained) {
            (Some(n), Some(c)) if self.story_seen(c.0) < self.story_seen(n.0) => Some(c),
            (Some(n), _) => Some(n),
            (None, c) => c,
        };
        let (verdict, story, duplicate_of, similarity) = match best {
            Some((of, similarity, contained)) => {
                let story = self.entry(of).map_or(of, |e| e.story);
                let verdict = Verdict::Near {
                    of,
                    story,
                    similarity,
                    contained,
                };
                (verdict, story, Some(of), similarity)
            }
            None => (Verdict::New, id, None, 0.0),
        };
        self.remember(
            id,
            Entry {
                seen: input.now,
                story,
                duplicate_of,
                similarity: similarity as f32,
                revision: 1,
                content,
                material,
                title,
                numbers,
                signature: features.signature,
                words: features.text_words,
                samples: features.head,
                text_numbers: features.head_numbers.into_boxed_slice(),
                headline: headline.into(),
            },
        );
        verdict
    }

    /// The near-duplicate features of an article: none when it is too short to be a
    /// candidate.
    fn features(&self, title: &Words, text: &Words) -> Features {
        let text_words = text.len_without_links();
        let words = title.len() + text_words;
        let text_words = u32::try_from(text_words).unwrap_or(u32::MAX);
        if words < self.settings.near_min_words {
            return Features {
                words,
                text_words,
                ..Features::default()
            };
        }
        let signature = minhash(&shingles_of(title, text, text.shingle_size()), PERMUTATIONS);
        let [all, head, query] = fingerprint::samples(text, SAMPLE_EVERY, [usize::MAX, HEAD_WORDS, QUERY_WORDS]);
        Features {
            signature: signature.into_boxed_slice(),
            words,
            text_words,
            all,
            head: head.into_boxed_slice(),
            query,
            numbers: fingerprint::numbers(text, usize::MAX),
            head_numbers: fingerprint::numbers(text, HEAD_WORDS),
        }
    }

    /// Whether the headlines allow a containment link at all: no different numbers (a series'
    /// "day 392" summary is contained in its "day 366" page when both open with the same
    /// template), and enough words in common for one of [`Index::share_suffices`]'s rules.
    fn headlines_may_agree(&self, probe: Probe<'_>, other: &Entry) -> bool {
        if probe.numbers != 0 && other.numbers != 0 && probe.numbers != other.numbers {
            return false;
        }
        (probe.title != 0 && probe.title == other.title)
            || title_similarity(probe.title, other.title) >= self.settings.containment_title_threshold
    }

    /// When the story of a remembered article was first seen: when its first article was, if
    /// still remembered, or else when this one was.
    fn story_seen(&self, id: u128) -> (i64, u128) {
        let Some(entry) = self.entry(id) else {
            return (i64::MAX, id);
        };
        let seen = self.entry(entry.story).map_or(entry.seen, |first| first.seen);
        (seen, entry.story)
    }

    /// Whether two texts, one of them short, look alike mostly by what many other articles
    /// hold too: an outlet's boilerplate around two different teasers, a newsletter's sign-up
    /// text. Read on the containment samples: when the shorter text holds common samples, at
    /// least half of its uncommon ones must be in the other. Long texts (both of
    /// [`Settings::strong_min_words`] or more) are not checked: their own words outweigh any
    /// boilerplate, and only the first [`HEAD_WORDS`] of a remembered one are sampled.
    fn alike_by_boilerplate(&self, features: &Features, probe: Probe<'_>, other: &Entry) -> bool {
        let s = &self.settings;
        let short = s.strong_min_words;
        if (probe.text_words >= short && other.words as usize >= short) || other.words == 0 {
            return false;
        }
        let common = s.common_shingle_articles;
        let (shorter, longer): (&[u32], &[u32]) = if probe.text_words <= other.words as usize {
            (&features.head, &other.samples)
        } else {
            (&other.samples, &features.all)
        };
        let uncommon: Vec<u32> = shorter.iter().copied().filter(|&x| self.holders(x) < common).collect();
        if uncommon.len() == shorter.len() {
            return false;
        }
        let shared = uncommon.iter().filter(|x| longer.binary_search(x).is_ok()).count();
        2 * shared < uncommon.len() || uncommon.is_empty()
    }

    /// How many remembered articles hold a containment sample.
    fn holders(&self, sample: u32) -> usize {
        self.samples.get(&sample).map_or(0, |&(_, n)| n as usize)
    }

    /// The remembered article that contains the most of this one's text, or whose text this
    /// one contains, at or above the containment threshold and passing the headline rules;
    /// with the share contained.
    ///
    /// Candidates are the articles holding two or more of the samples of this text's first
    /// [`QUERY_WORDS`] words (common samples, held by [`Settings::common_shingle_articles`]
    /// or more, left out) whose headlines may agree ([`Index::headlines_may_agree`]). For
    /// each, two shares are read on the whole text: of its remembered samples (its lead) found anywhere in this text (a summary
    /// remembered, its article arriving; an earlier live page, the later one arriving), and
    /// of this text's lead samples found in its (an article remembered, its summary arriving).
    fn containing(&self, id: u128, features: &Features, probe: Probe<'_>) -> Option<(u128, f64)> {
        if features.all.is_empty() {
            return None;
        }
        let s = &self.settings;
        let common = s.common_shingle_articles;
        let mut candidates: Vec<u32> = Vec::new();
        for &sample in &features.query {
            let Some(&(head, n)) = self.samples.get(&sample) else {
                continue;
            };
            if n as usize >= common {
                continue;
            }
            let mut at = head;
            while let Some(slot) = self.slot(at) {
                candidates.push(at);
                let Ok(i) = slot.entry.samples.binary_search(&sample) else {
                    break;
                };
                at = slot.sample_next[i];
            }
        }
        candidates.sort_unstable();
        // This text's lead, common samples left out: read once, when a candidate needs it.
        let mut lead: Option<Vec<u32>> = None;
        let mut best: Option<(u128, f64)> = None;
        for run in candidates.chunk_by(|a, b| a == b) {
            // One sample in common is chance.
            if run.len() < 2 {
                continue;
            }
            let Some(slot) = self.slot(run[0]) else {
                continue;
            };
            let entry = &slot.entry;
            // The headline rules first: they are cheap, and rule out most candidates.
            if slot.id == id
                || !self.headlines_may_agree(probe, entry)
                || template_instances(probe.headline, &entry.headline)
            {
                continue;
            }
            // Its lead anywhere in this text.
            let (mut theirs, mut hits) = (0, 0);
            for x in entry.samples.iter().filter(|&&x| self.holders(x) < common) {
                theirs += 1;
                hits += usize::from(features.all.binary_search(x).is_ok());
            }
            let in_this = if entry.words as usize >= s.containment_min_words && theirs >= MIN_SAMPLES {
                (hits as f64 / theirs as f64, hits)
            } else {
                (0.0, 0)
            };
            // This text's lead in its.
            let lead = lead.get_or_insert_with(|| {
                features
                    .head
                    .iter()
                    .copied()
                    .filter(|&x| self.holders(x) < common)
                    .collect()
            });
            let in_theirs = if probe.text_words >= s.containment_min_words && lead.len() >= MIN_SAMPLES {
                let found = lead.iter().filter(|x| entry.samples.binary_search(x).is_ok()).count();
                (found as f64 / lead.len() as f64, found)
            } else {
                (0.0, 0)
            };
            let (their_words, our_words) = (entry.words as usize, probe.text_words);
            // (The share, samples found, the contained text's words and the other's, and the
            // numbers of the part contained and of the part it was found in: its lead in
            // this whole text, or this text's lead in its lead.)
            let (share, found, lengths, numbers) = if in_this.0 >= in_theirs.0 {
                let numbers = (&entry.text_numbers[..], &features.numbers[..]);
                (in_this.0, in_this.1, (their_words, our_words), numbers)
            } else {
                let numbers = (&features.head_numbers[..], &entry.text_numbers[..]);
                (in_theirs.0, in_theirs.1, (our_words, their_words), numbers)
            };
            if best.is_none_or(|(b, s)| share > s || (share == s && slot.id < b))
                && self.share_suffices(share, found, lengths, probe, entry)
                && numbers_agree(numbers.0, numbers.1)
            {
                best = Some((slot.id, share));
            }
        }
        best
    }

    /// Whether the share contained is enough, given the headlines (which
    /// [`Index::headlines_may_agree`] has let through): with
    /// [`Settings::containment_title_threshold`] of headline words in common,
    /// [`Settings::containment_threshold`] of the shorter text; with the very same specific
    /// headline, less. `lengths` are the words of the contained text and of the other.
    fn share_suffices(
        &self,
        share: f64,
        found: usize,
        lengths: (usize, usize),
        probe: Probe<'_>,
        other: &Entry,
    ) -> bool {
        let s = &self.settings;
        let headlines = title_similarity(probe.title, other.title);
        if headlines >= s.containment_title_threshold && share >= s.containment_threshold {
            return true;
        }
        // The same headline, word for word, and a good part of a text at most two thirds as long as
        // the other (a teaser that an outlet's own boilerplate follows, before that
        // boilerplate is common). Not for a headline of a few words, which names a series or a
        // section ("Morning briefing", 联播快讯; 国内联播快讯 has six characters and counts),
        // and not between texts of a size: a series under one headline (each day's report) is
        // that.
        let (contained, container) = lengths;
        probe.title != 0
            && probe.title == other.title
            && probe.title.count_ones() >= SPECIFIC_HEADLINE_WORDS
            && 3 * contained <= 2 * container
            && share >= SAME_HEADLINE_SHARE
            && found >= SAME_HEADLINE_FOUND
    }

    /// The most similar remembered article at or above the threshold, among the LSH candidates.
    fn nearest(&self, id: u128, features: &Features, probe: Probe<'_>) -> Option<(u128, f64)> {
        let signature = &features.signature[..];
        if signature.len() != PERMUTATIONS {
            return None;
        }
        // A close copy shares most bands: collect the candidates once, so that each is
        // compared once, however many of its bands match.
        let mut candidates: Vec<u32> = Vec::new();
        for (band, table) in self.bands.iter().enumerate() {
            let mut at = table.get(&band_hash(signature, band)).copied().unwrap_or(NIL);
            while let Some(slot) = self.slot(at) {
                candidates.push(at);
                at = slot.next[band];
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut best: Option<(u128, f64)> = None;
        for candidate in candidates {
            let Some(slot) = self.slot(candidate) else {
                continue;
            };
            if slot.id == id {
                continue;
            }
            let similarity = minhash_similarity(signature, &slot.entry.signature);
            // On a tie the lowest id wins, whatever the slot order.
            if best.is_none_or(|(b, s)| similarity > s || (similarity == s && slot.id < b))
                && self.same_story(similarity, probe, &slot.entry)
                && !self.alike_by_boilerplate(features, probe, &slot.entry)
            {
                best = Some((slot.id, similarity));
            }
        }
        best
    }

    fn slot(&self, at: u32) -> Option<&Slot> {
        self.slots.get(at as usize)?.as_ref()
    }

    /// The near-duplicate rule, given the estimated Jaccard similarity of the shingles.
    fn same_story(&self, similarity: f64, probe: Probe<'_>, other: &Entry) -> bool {
        let s = &self.settings;
        let threshold = if probe.cjk {
            s.cjk_near_threshold
        } else {
            s.near_threshold
        };
        if similarity < threshold {
            return false;
        }
        // "Day 366" and "day 392" of a running series, or one show's episodes of different
        // dates: the same template, different stories.
        if probe.numbers != 0 && other.numbers != 0 && probe.numbers != other.numbers && similarity < 0.95 {
            return false;
        }
        // «李强举行仪式欢迎[匈牙利|埃塞俄比亚]总理访华»: one template, two visits.
        if similarity < s.strong_threshold && template_instances(probe.headline, &other.headline) {
            return false;
        }
        // «国家卫生健康委通报最新疫情», each day: one headline, one text but for the figures.
        if probe.cjk && similarity < s.strong_threshold && !numbers_agree(probe.head_numbers, &other.text_numbers) {
            return false;
        }
        if title_similarity(probe.title, other.title) >= s.title_threshold {
            return true;
        }
        let shared = (probe.title & other.title).count_ones();
        similarity >= s.strong_threshold && (shared > 0 || probe.words >= s.strong_min_words)
    }

    fn remember(&mut self, id: u128, entry: Entry) {
        self.changes.push((id, Some(entry.encode())));
        self.remove(id);
        self.insert(id, entry);
    }

    fn insert(&mut self, id: u128, entry: Entry) {
        self.by_time.insert((entry.seen, id));
        if entry.content != 0 {
            self.by_content.entry(entry.content).or_insert(id);
        }
        let at = match self.free.pop() {
            Some(at) => at,
            None => {
                self.slots.push(None);
                u32::try_from(self.slots.len() - 1).expect("fewer than 4 billion remembered articles")
            }
        };
        let mut sample_next = vec![NIL; entry.samples.len()].into_boxed_slice();
        for (next, &sample) in sample_next.iter_mut().zip(entry.samples.iter()) {
            let (head, n) = self.samples.entry(sample).or_insert((NIL, 0));
            *next = *head;
            *head = at;
            *n += 1;
        }
        self.sampled += entry.samples.len();
        self.numbered += entry.text_numbers.len();
        self.headline_bytes += entry.headline.len();
        let mut next = [NIL; BANDS];
        if entry.signature.len() == PERMUTATIONS {
            self.indexed += 1;
            // The new article becomes the head of each of its bands' chains.
            for (band, table) in self.bands.iter_mut().enumerate() {
                let head = table.entry(band_hash(&entry.signature, band)).or_insert(NIL);
                next[band] = *head;
                *head = at;
            }
        }
        self.slots[at as usize] = Some(Slot {
            id,
            entry,
            next,
            sample_next,
        });
        self.ids.insert(id, at);
    }

    fn remove(&mut self, id: u128) {
        let Some(at) = self.ids.remove(&id) else {
            return;
        };
        let Some(Slot {
            entry,
            next,
            sample_next,
            ..
        }) = self.slots[at as usize].take()
        else {
            return;
        };
        self.sampled -= entry.samples.len();
        self.numbered -= entry.text_numbers.len();
        self.headline_bytes -= entry.headline.len();
        for (&sample, &after) in entry.samples.iter().zip(sample_next.iter()) {
            let Some((head, n)) = self.samples.get_mut(&sample) else {
                continue;
            };
            *n -= 1;
            if *head == at {
                if after == NIL {
                    self.samples.remove(&sample);
                } else {
                    *head = after;
                }
                continue;
            }
            let mut before = *head;
            while let Some(Some(slot)) = self.slots.get_mut(before as usize) {
                let Ok(i) = slot.entry.samples.binary_search(&sample) else {
                    break;
                };
                if slot.sample_next[i] == at {
                    slot.sample_next[i] = after;
                    break;
                }
                before = slot.sample_next[i];
            }
        }
        self.free.push(at);
        self.by_time.remove(&(entry.seen, id));
        if self.by_content.get(&entry.content) == Some(&id) {
            self.by_content.remove(&entry.content);
        }
        if entry.signature.len() == PERMUTATIONS {
            self.indexed -= 1;
            for (band, &after) in next.iter().enumerate() {
                let key = band_hash(&entry.signature, band);
                let Some(head) = self.bands[band].get_mut(&key) else {
                    continue;
                };
                if *head == at {
                    // Unlinked at the head; the band hash goes when its chain is empty.
                    if after == NIL {
                        self.bands[band].remove(&key);
                    } else {
                        *head = after;
                    }
                    continue;
                }
                // Unlinked further down: find the slot before it.
                let mut before = *head;
                while let Some(Some(slot)) = self.slots.get_mut(before as usize) {
                    if slot.next[band] == at {
                        slot.next[band] = after;
                        break;
                    }
                    before = slot.next[band];
                }
            }
        }
    }
}

/// What the near-duplicate rule needs to know of the article being decided, besides its
/// signature.
#[derive(Debug, Clone, Copy)]
struct Probe<'a> {
    /// [`title_bits`] of its headline.
    title: u64,
    /// [`template_headline`] of its headline.
    headline: &'a str,
    /// [`title_numbers`] of its headline.
    numbers: u64,
    /// Its words, title and text, links left out.
    words: usize,
    /// Its text's words, links left out.
    text_words: usize,
    /// Whether its text is written mostly in CJK characters.
    cjk: bool,
    /// [`fingerprint::numbers`] of its first [`HEAD_WORDS`] words.
    head_numbers: &'a [u32],
}

/// The hasher of tables whose keys are hashes already (band hashes, containment samples):
/// the key itself, spread over 64 bits. SipHash over them cost a tenth of a decision.
#[derive(Debug, Clone, Copy, Default)]
struct Prehashed;

impl std::hash::BuildHasher for Prehashed {
    type Hasher = KeyHasher;
    fn build_hasher(&self) -> KeyHasher {
        KeyHasher(0)
    }
}

#[derive(Debug, Default)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Not used by u32 and u64 keys; any other key still hashes soundly.
        for &b in bytes {
            self.0 = fingerprint::mix(self.0 ^ u64::from(b));
        }
    }
    fn write_u32(&mut self, v: u32) {
        // Samples are 32 bits of a hash: spread them over the word the table indexes by.
        self.0 = u64::from(v).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// Containment samples a text needs before its share contained in another means anything.
const MIN_SAMPLES: usize = 4;
/// A contained text with at least this many distinct numbers must find half of them in the
/// other ([`numbers_agree`]).
const NUMBERS_CHECKED: usize = 3;

/// Whether the numbers of a text contained in another are the other's: at least half of
/// them, when it has [`NUMBERS_CHECKED`] or more (both sorted). A summary, a trimmed or
/// rewritten copy and a live blog's earlier page carry the figures and dates of the whole;
/// the next instance of a template does not: this month's trade figures, the next day's
/// tally, «前十个月…7362亿元…17.3%» and «前三季度…6731.4亿元…18.7%» under one bulletin's
/// headline, share most of their words but not their numbers. When the other is remembered
/// from a format before numbers (no numbers), there is nothing to compare.
fn numbers_agree(contained: &[u32], other: &[u32]) -> bool {
    if contained.len() < NUMBERS_CHECKED || other.is_empty() {
        return true;
    }
    let found = contained.iter().filter(|n| other.binary_search(n).is_ok()).count();
    2 * found >= contained.len()
}
/// Under the same headline, this share of the shorter text contained is enough, when it is at
/// least [`SAME_HEADLINE_FOUND`] samples (about a sentence).
const SAME_HEADLINE_SHARE: f64 = 0.4;
const SAME_HEADLINE_FOUND: usize = 8;
/// Distinct headline words (bits of [`title_bits`]; a CJK character is a word) a headline
/// needs to name one story rather than a series.
const SPECIFIC_HEADLINE_WORDS: u32 = 6;

/// What near-duplicate detection reads of an article.
#[derive(Debug, Default)]
struct Features {
    /// The MinHash signature; empty when the article is too short to be a candidate.
    signature: Box<[u32]>,
    /// Words of title and text, links left out.
    words: usize,
    /// Words of the text, links left out.
    text_words: u32,
    /// The containment samples of the whole text, sorted, each once.
    all: Vec<u32>,
    /// Those of its first [`HEAD_WORDS`] words (what is remembered).
    head: Box<[u32]>,
    /// Those of its first [`QUERY_WORDS`] words (what candidates are looked up by).
    query: Vec<u32>,
    /// [`fingerprint::numbers`] of the whole text, and of its first [`HEAD_WORDS`] words.
    numbers: Vec<u32>,
    head_numbers: Vec<u32>,
}

/// The share of headline words two [`title_bits`] sets have in common (1 when both are empty).
fn title_similarity(a: u64, b: u64) -> f64 {
    let union = (a | b).count_ones();
    if union == 0 {
        1.0
    } else {
        f64::from((a & b).count_ones()) / f64::from(union)
    }
}

/// The headline without the outlet or programme name that follows it: the part before the
/// first " | ", " - ", " – " or " — " ("Troops advance | TV Patrol" → "Troops advance"), or the
/// whole headline when nothing comes before such a separator. Outlets repeat their name under
/// every story, so it says nothing about whether two stories are one.
pub fn headline_core(title: &str) -> &str {
    let cut = [" | ", " - ", " – ", " — "]
        .iter()
        .filter_map(|sep| title.find(sep))
        .min();
    match cut {
        Some(at) if !fingerprint::words(&title[..at]).is_empty() => &title[..at],
        _ => title,
    }
}

/// The [`headline_core`] of a headline written in CJK characters, as the characters and
/// words it is made of (folded, punctuation and spaces left out but for the title marks
/// 《》 around a named document, programme or work), for [`template_instances`]; empty for
/// other headlines.
pub fn template_headline(title: &str) -> String {
    let mut words = 0;
    let mut cjk = 0;
    let mut out = String::new();
    for piece in headline_core(title).split_inclusive(['《', '》']) {
        let (text, mark) = match piece.strip_suffix('《').or_else(|| piece.strip_suffix('》')) {
            Some(text) => (text, piece[text.len()..].chars().next()),
            None => (piece, None),
        };
        for w in fingerprint::words(text) {
            words += 1;
            cjk += usize::from(w.chars().count() == 1 && w.chars().all(analysis::is_cjk));
            out.push_str(&w);
        }
        out.extend(mark);
    }
    if cjk * 2 <= words {
        return String::new();
    }
    out
}

/// The titles a [`template_headline`] names between 《 and 》, folded.
fn named_titles(headline: &str) -> impl Iterator<Item = &str> {
    headline
        .split('《')
        .skip(1)
        .filter_map(|t| t.split_once('》').map(|(t, _)| t))
        .filter(|t| !t.is_empty())
}

/// Whether both headlines name documents or works, and none of one's is one of the other's
/// (or a part of it, as «《意见》» is of «《关于…的意见》»): «印发《关于进一步完善医疗卫生服务
/// 体系的意见》» and «印发《关于进一步深化改革促进乡村医疗卫生体系健康发展的意见》» announce two
/// documents in one template, and their texts, written in one office's words, share much.
fn name_other_titles(a: &str, b: &str) -> bool {
    let mut any = false;
    for x in named_titles(a) {
        for y in named_titles(b) {
            if x.contains(y) || y.contains(x) {
                return false;
            }
            any = true;
        }
    }
    any
}

/// Whether two CJK headlines ([`template_headline`]) are one template with a different name
/// in it: the same beginning and end, and between them, on each side, two or more characters
/// of which the other has none. Xinhua's and CCTV's diplomatic news is written that way,
/// «习近平会见[尼泊尔|韩国]总理», «李强举行仪式欢迎[匈牙利|埃塞俄比亚]总理访华», and their texts
/// share most of their shingles too; or headlines that name different documents between 《
/// and 》 ([`name_other_titles`]). A copy keeps its headline, or changes a character or two
/// in it, or adds to it («（全文）»), and is not held back.
pub fn template_instances(a: &str, b: &str) -> bool {
    if a.is_empty() || b.is_empty() || a == b {
        return false;
    }
    if name_other_titles(a, b) {
        return true;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let room = a.len().min(b.len()) - prefix;
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(room)
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    if prefix + suffix < 2 || ma.len() < 2 || mb.len() < 2 {
        return false;
    }
    // A long slot shares a few common characters by chance («人民日报评论员文章：[继续推进生态
    // 文明建设要正确处理几个重大关系|全面推进美丽中国建设，加快推进人与自然和谐共生的现代化]——论…»);
    // a rewrite of one headline shares most of its words.
    let (short, long) = if ma.len() <= mb.len() { (ma, mb) } else { (mb, ma) };
    let shared = short.iter().filter(|c| long.contains(c)).count();
    3 * shared < short.len()
}

/// One bit per word of the [`headline_core`]: a set of words in 64 bits, for a quick headline
/// overlap.
pub fn title_bits(title: &str) -> u64 {
    fingerprint::words(headline_core(title))
        .iter()
        .fold(0u64, |bits, w| bits | 1 << (fingerprint::hash_bytes(w.as_bytes()) % 64))
}

/// A hash of the set of numbers in a headline: runs of digits, or of Chinese numerals
/// (第三十八次, 三省); 0 when it has none.
pub fn title_numbers(title: &str) -> u64 {
    let digit = |c: char| c.is_ascii_digit() || "〇零一二两三四五六七八九十百千万亿".contains(c);
    let mut numbers: Vec<&str> = title.split(|c: char| !digit(c)).filter(|n| !n.is_empty()).collect();
    if numbers.is_empty() {
        return 0;
    }
    numbers.sort_unstable();
    numbers.dedup();
    fingerprint::hash_bytes(numbers.join(" ").as_bytes()) | 1
}

fn band_hash(signature: &[u32], band: usize) -> u64 {
    signature[band * ROWS..(band + 1) * ROWS]
        .iter()
        .fold(band as u64, |h, &v| fingerprint::mix(h ^ u64::from(v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Index {
        /// Every live indexed slot is in exactly one chain per band, under its own band hash,
        /// and chains hold nothing else.
        fn check_chains(&self) {
            for (band, table) in self.bands.iter().enumerate() {
                let mut seen = std::collections::HashSet::new();
                for (&key, &head) in table {
                    let mut at = head;
                    assert_ne!(at, NIL, "empty chain left under a band hash");
                    while at != NIL {
                        let slot = self.slots[at as usize].as_ref().expect("chain through a free slot");
                        assert_eq!(band_hash(&slot.entry.signature, band), key);
                        assert!(seen.insert(at), "slot {at} twice in band {band}");
                        at = slot.next[band];
                    }
                }
                assert_eq!(seen.len(), self.indexed, "band {band}");
            }
            // Containment samples: each chain holds exactly the slots with its sample, as
            // many as its count says, and every sample of every slot is in its chain.
            let mut linked = 0;
            for (&sample, &(head, n)) in &self.samples {
                let (mut at, mut count) = (head, 0);
                while at != NIL {
                    let slot = self.slots[at as usize]
                        .as_ref()
                        .expect("sample chain through a free slot");
                    let i = slot
                        .entry
                        .samples
                        .binary_search(&sample)
                        .expect("a chained slot holds the sample");
                    count += 1;
                    at = slot.sample_next[i];
                }
                assert_eq!(count, n, "sample {sample:x}");
                linked += count as usize;
            }
            let held: usize = self.slots.iter().flatten().map(|s| s.entry.samples.len()).sum();
            assert_eq!((linked, held), (self.sampled, self.sampled));
            assert_eq!(self.ids.len() + self.free.len(), self.slots.len());
        }
    }

    /// Found by fuzzing (`newswire-fuzz run dedup_state`, debug build): a restored entry at
    /// revision `u32::MAX` overflowed on the next revision (a panic with overflow checks, a
    /// wrap to revision 0, "dropped as a copy", without).
    #[test]
    fn a_restored_entry_at_the_last_revision_stays_there() {
        let input = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/fuzz/seeds/dedup_state/crash-revision-overflow.bin"
        ))
        .unwrap();
        let id = "0123456789abcdef0123456789abcdef";
        let entry = Entry::decode(id_number(id), &input).unwrap();
        assert_eq!(entry.revision, u32::MAX);
        let mut index = Index::new(Settings::default());
        index.restore(id, Some(&input));
        let verdict = index.decide(Input {
            id,
            title: "Putin and Xi exchange warm words",
            text: "an entirely new text of the article, which is a material revision of it",
            now: entry.seen,
        });
        assert!(
            matches!(verdict, Verdict::Revision { revision: u32::MAX, .. }),
            "{verdict:?}"
        );
    }

    #[test]
    fn lsh_chains_stay_consistent_through_inserts_revisions_and_evictions() {
        let mut index = Index::new(Settings {
            window_secs: 100,
            ..Settings::default()
        });
        let body = |n: usize| {
            // Three families of texts, so that chains hold several articles.
            format!(
                "the river rose above its banks near the old bridge in family {} and the town council met \
                 again on the question of the dam {}",
                n % 3,
                if n % 2 == 0 { "tonight" } else { "this week" }
            )
        };
        for n in 0..60usize {
            let id = format!("{n:032x}");
            index.decide(Input {
                id: &id,
                title: &format!("River rises in family {}", n % 3),
                text: &body(n),
                now: (n as i64) * 10,
            });
            if n % 7 == 0 {
                // A material revision of an earlier article moves it in every chain.
                let old = format!("{:032x}", n / 2);
                index.decide(Input {
                    id: &old,
                    title: "River rises",
                    text: &format!("{} with a new paragraph about the evacuation {n}", body(n / 2)),
                    now: (n as i64) * 10,
                });
            }
            index.check_chains();
        }
        // The window holds the last 100 s only (eleven articles, and the revised ones that
        // came back after their eviction); older articles were evicted from every chain.
        assert!((11..=13).contains(&index.len()), "{}", index.len());
        index.evict(10_000);
        assert!(index.is_empty());
        index.check_chains();
        assert!(index.bands.iter().all(HashMap::is_empty));
    }

    #[test]
    fn the_headline_core_leaves_out_the_outlet() {
        assert_eq!(headline_core("Troops advance | TV Patrol"), "Troops advance");
        assert_eq!(headline_core("Troops advance - BBC News"), "Troops advance");
        assert_eq!(headline_core("Troops advance – CNN | Live"), "Troops advance");
        assert_eq!(headline_core("Troops advance"), "Troops advance");
        assert_eq!(headline_core("Well-known troops advance"), "Well-known troops advance");
        assert_eq!(headline_core(" | Only a name"), " | Only a name");
        assert_eq!(
            title_bits("Troops advance | TV Patrol"),
            title_bits("troops, ADVANCE - Reuters")
        );
    }
}
