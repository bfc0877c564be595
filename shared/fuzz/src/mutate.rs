//! The inputs of a run: each seed once and unchanged, every other input until the seeds are
//! done (so that a short run mutates from the start too), and mutants of them.
//!
//! Input number `i` is a pure function of the run's seed, `i`, the seeds and the target's
//! dictionary ([`Generator::input`]); nothing depends on what earlier inputs did (there is
//! no coverage feedback). So any input of a run can be made again from its number alone:
//! the watchdog writes a hung input that way, and the parent process rebuilds the input a
//! worker died on (see `harness`).

/// A small, fast pseudo-random generator (SplitMix64): the same numbers on every platform
/// and with every version of the crate's dependencies.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next_u64() % n as u64) as usize
    }

    /// True one time in `n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// A length, mostly small: `1..=max`, with small values much more likely.
    pub fn small_len(&mut self, max: usize) -> usize {
        let cap = match self.below(8) {
            0..=4 => 4,
            5 | 6 => 32,
            _ => 4096,
        };
        1 + self.below(cap.min(max.max(1)))
    }
}

/// Mixes the run's seed and an input number into the generator seed of that input.
fn input_seed(seed: u64, index: u64) -> u64 {
    let mut rng = Rng::new(seed ^ index.wrapping_mul(0xd1b5_4a32_d192_ed03));
    rng.next_u64() ^ index
}

/// Bytes that often matter to parsers.
const INTERESTING_BYTES: &[u8] = b"\x00\x01\x7f\x80\xff\xfe\xef\xbb\xbf<>&;\"'=/\\:%#?@[]{}() \t\r\n*-+.,0";

/// Numbers at the edges of integer types, dates and counters, as text.
const INTERESTING_NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "127",
    "128",
    "255",
    "256",
    "-2147483648",
    "2147483647",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "340282366920938463463374607431768211456",
    "1e308",
    "1e400",
    "-0",
    "0.0000000000000000000000000001",
    "NaN",
    "9999",
    "10000",
    "262143",
    "+262144",
    "-262144",
    "60",
    "61",
    "99",
    "100",
    "101",
];

/// Text that breaks byte-indexed string handling: multi-byte characters, characters whose
/// case mapping changes length, joiners, bidi controls, a BOM, a replacement character.
const INTERESTING_TEXT: &[&str] = &[
    "é",
    "\u{0130}",
    "ß",
    "\u{FB01}",
    "\u{1E9E}",
    "Σ",
    "ǅ",
    "\u{200B}",
    "\u{200D}",
    "\u{202E}",
    "\u{FEFF}",
    "\u{FFFD}",
    "\u{10FFFF}",
    "😀",
    "👨‍👩‍👧",
    "e\u{301}",
    "俄罗斯",
    "Россия",
    "ﷺ",
    "\u{0}",
];

/// Sizes a growing mutation aims at; the largest is the target's limit.
const GROW_SIZES: &[usize] = &[1 << 10, 1 << 13, 1 << 16];

/// Makes the inputs of one run of one target.
#[derive(Debug)]
pub struct Generator {
    seed: u64,
    seeds: Vec<Vec<u8>>,
    dictionary: Vec<Vec<u8>>,
    max_len: usize,
}

impl Generator {
    /// `seeds` are inputs 0, 2, 4... in order (longer ones cut to `max_len`); `dictionary`
    /// holds the target's tokens; no input is longer than `max_len`.
    pub fn new(seed: u64, seeds: Vec<Vec<u8>>, dictionary: &[&[u8]], max_len: usize) -> Generator {
        let seeds = seeds
            .into_iter()
            .map(|mut s| {
                s.truncate(max_len);
                s
            })
            .collect();
        Generator {
            seed,
            seeds,
            dictionary: dictionary.iter().map(|t| t.to_vec()).collect(),
            max_len: max_len.max(1),
        }
    }

    pub fn seeds(&self) -> &[Vec<u8>] {
        &self.seeds
    }

    /// Input number `index` of the run.
    pub fn input(&self, index: u64) -> Vec<u8> {
        if index % 2 == 0
            && let Some(seed) = usize::try_from(index / 2).ok().and_then(|i| self.seeds.get(i))
        {
            return seed.clone();
        }
        let mut rng = Rng::new(input_seed(self.seed, index));
        let mut data = if self.seeds.is_empty() || rng.one_in(64) {
            let len = rng.small_len(64);
            (0..len).map(|_| rng.next_u64() as u8).collect()
        } else {
            self.seeds[rng.below(self.seeds.len())].clone()
        };
        // 1, 2, 4, 8 or 16 mutations, fewer more often.
        let rounds = 1usize << rng.below(5).min(rng.below(5));
        for _ in 0..rounds {
            self.mutate(&mut data, &mut rng);
        }
        data.truncate(self.max_len);
        data
    }

    fn token<'a>(&'a self, rng: &mut Rng, scratch: &'a mut Vec<u8>) -> &'a [u8] {
        match rng.below(8) {
            0 => INTERESTING_NUMBERS[rng.below(INTERESTING_NUMBERS.len())].as_bytes(),
            1 => INTERESTING_TEXT[rng.below(INTERESTING_TEXT.len())].as_bytes(),
            _ if !self.dictionary.is_empty() => &self.dictionary[rng.below(self.dictionary.len())],
            _ => {
                scratch.clear();
                scratch.push(INTERESTING_BYTES[rng.below(INTERESTING_BYTES.len())]);
                scratch
            }
        }
    }

    /// A random range of `data`: (start, length), length at least 1 unless `data` is empty.
    fn range(data: &[u8], rng: &mut Rng) -> (usize, usize) {
        if data.is_empty() {
            return (0, 0);
        }
        let start = rng.below(data.len());
        let len = rng.small_len(data.len() - start);
        (start, len)
    }

    /// One mutation, in place.
    fn mutate(&self, data: &mut Vec<u8>, rng: &mut Rng) {
        let mut scratch = Vec::new();
        match rng.below(16) {
            // Flip a bit.
            0 if !data.is_empty() => {
                let at = rng.below(data.len());
                data[at] ^= 1 << rng.below(8);
            }
            // Set a byte, random or interesting.
            1 if !data.is_empty() => {
                let at = rng.below(data.len());
                data[at] = if rng.one_in(2) {
                    rng.next_u64() as u8
                } else {
                    INTERESTING_BYTES[rng.below(INTERESTING_BYTES.len())]
                };
            }
            // Insert random bytes.
            2 => {
                let at = rng.below(data.len() + 1);
                let len = rng.small_len(16);
                let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
                data.splice(at..at, bytes);
            }
            // Delete a range.
            3 if !data.is_empty() => {
                let (start, len) = Self::range(data, rng);
                data.drain(start..start + len);
            }
            // Duplicate a range somewhere else.
            4 if !data.is_empty() => {
                let (start, len) = Self::range(data, rng);
                let copy = data[start..start + len].to_vec();
                let at = rng.below(data.len() + 1);
                data.splice(at..at, copy);
            }
            // Truncate.
            5 if !data.is_empty() => {
                let at = rng.below(data.len());
                data.truncate(at);
            }
            // Splice another seed in: this input's head, then the other's tail, or a range of
            // the other put over a range of this one.
            6 | 7 if !self.seeds.is_empty() => {
                let other = &self.seeds[rng.below(self.seeds.len())];
                if rng.one_in(2) {
                    let head = rng.below(data.len() + 1);
                    let tail = rng.below(other.len() + 1);
                    data.truncate(head);
                    data.extend_from_slice(&other[tail..]);
                } else {
                    let (from, len) = Self::range(other, rng);
                    let (at, old) = Self::range(data, rng);
                    data.splice(at..at + old, other[from..from + len].iter().copied());
                }
            }
            // Insert a token.
            8..=10 => {
                let at = rng.below(data.len() + 1);
                let token = self.token(rng, &mut scratch).to_vec();
                data.splice(at..at, token);
            }
            // Put a token over a range.
            11 if !data.is_empty() => {
                let (start, len) = Self::range(data, rng);
                let token = self.token(rng, &mut scratch).to_vec();
                data.splice(start..start + len, token);
            }
            // Grow: repeat a range (or a token) until the input reaches a size, sometimes the
            // target's largest.
            12 => {
                let size = if rng.one_in(16) {
                    self.max_len
                } else {
                    GROW_SIZES[rng.below(GROW_SIZES.len())].min(self.max_len)
                };
                let unit = if data.is_empty() || rng.one_in(2) {
                    self.token(rng, &mut scratch).to_vec()
                } else {
                    let (start, len) = Self::range(data, rng);
                    data[start..start + len].to_vec()
                };
                if unit.is_empty() || data.len() >= size {
                    return;
                }
                let copies = (size - data.len()) / unit.len();
                let at = rng.below(data.len() + 1);
                let grown: Vec<u8> = unit.iter().copied().cycle().take(copies * unit.len()).collect();
                data.splice(at..at, grown);
            }
            // Swap the case of the ASCII letters of a range (`and`/`AND`, `<TITLE>`).
            13 if !data.is_empty() => {
                let (start, len) = Self::range(data, rng);
                for b in &mut data[start..start + len] {
                    if b.is_ascii_alphabetic() {
                        *b ^= 0x20;
                    }
                }
            }
            // Cut at a random point and put the two parts the other way round.
            14 if data.len() > 1 => {
                let at = 1 + rng.below(data.len() - 1);
                data.rotate_left(at);
            }
            // Replace a run of digits with an interesting number.
            15 if !data.is_empty() => {
                let start = rng.below(data.len());
                if let Some(first) = data[start..].iter().position(u8::is_ascii_digit) {
                    let from = start + first;
                    let to = from + data[from..].iter().take_while(|b| b.is_ascii_digit()).count();
                    let number = INTERESTING_NUMBERS[rng.below(INTERESTING_NUMBERS.len())];
                    data.splice(from..to, number.bytes());
                }
            }
            // A mutation that does not apply to this input: insert a token instead.
            _ => {
                let at = rng.below(data.len() + 1);
                let token = self.token(rng, &mut scratch).to_vec();
                data.splice(at..at, token);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generator() -> Generator {
        Generator::new(
            7,
            vec![
                b"<rss><item>a</item></rss>".to_vec(),
                b"https://example.com/a?b=1".to_vec(),
            ],
            &[b"<item>", b"%"],
            4096,
        )
    }

    #[test]
    fn seeds_alternate_with_mutants_that_depend_only_on_the_seed_and_number() {
        let g = generator();
        assert_eq!(g.input(0), b"<rss><item>a</item></rss>");
        assert_eq!(g.input(2), b"https://example.com/a?b=1");
        assert_ne!(g.input(1), g.input(0));
        assert_ne!(g.input(4), g.input(2));
        let again = generator();
        for i in 0..2000 {
            let input = g.input(i);
            assert!(input.len() <= 4096);
            assert_eq!(input, again.input(i), "input {i} is reproducible");
        }
        let other = Generator::new(8, g.seeds().to_vec(), &[b"<item>", b"%"], 4096);
        assert!((2..200).any(|i| other.input(i) != g.input(i)), "the seed matters");
        let distinct: std::collections::HashSet<Vec<u8>> = (2..2000).map(|i| g.input(i)).collect();
        assert!(distinct.len() > 1500, "mutants differ: {}", distinct.len());
    }

    #[test]
    fn some_inputs_grow_to_the_limit() {
        let g = generator();
        assert!((2..20_000).any(|i| g.input(i).len() == 4096));
    }

    #[test]
    fn no_seeds_still_makes_inputs() {
        let g = Generator::new(1, Vec::new(), &[], 100);
        assert!((0..100).map(|i| g.input(i)).any(|i| !i.is_empty()));
    }
}
