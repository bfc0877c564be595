use super::entities::{cased_at, focus};
use super::*;

impl Hit {
    pub(super) fn weight(&self) -> f64 {
        match self.field {
            Field::Title => WEIGHT_TITLE,
            Field::Summary => WEIGHT_SUMMARY,
            Field::Text if self.tok < LEAD_WORDS => WEIGHT_LEAD,
            Field::Text => WEIGHT_BODY,
        }
    }
}

/// The folded `i`-th word of a field, if it has one.
fn word_at(tokens: &Tokens, i: usize) -> Option<&str> {
    let start = tokens.tokens.get(i)?.norm;
    let rest = &tokens.norm[start..];
    Some(&rest[..rest.find(' ').unwrap_or(rest.len())])
}

impl Hits {
    pub(super) fn of(&self, leaf: &Leaf) -> impl Iterator<Item = &Hit> {
        self.by_atom
            .get(&leaf.atom)
            .into_iter()
            .flatten()
            .filter(move |h| leaf.field.is_none_or(|f| f == h.field))
            .filter(move |h| !self.excluded(h, &leaf.except))
            .filter(move |h| leaf.with.iter().all(|c| self.in_context(h, c)))
    }

    /// Whether an occurrence has an occurrence of one of the context's terms at most its
    /// distance away (`WITH/n`), by the article's atoms or by the context's, whichever are
    /// fewer.
    fn in_context(&self, hit: &Hit, context: &Context) -> bool {
        let near = |leaf: &Leaf| {
            self.of(leaf)
                .any(|x| gap(hit, x).is_some_and(|g| g <= context.distance))
        };
        if self.by_atom.len() < context.leaves.len() {
            self.by_atom
                .keys()
                .filter_map(|atom| context.by_atom.get(atom))
                .flatten()
                .any(|&l| near(&context.leaves[l as usize]))
        } else {
            context
                .leaves
                .iter()
                .any(|l| self.by_atom.contains_key(&l.atom) && near(l))
        }
    }

    /// Whether an occurrence overlaps an occurrence of one of the `EXCEPT` atoms. An atom's
    /// occurrences are sorted by field and word and all have its length, so the only
    /// candidate is the first one that ends after the occurrence starts.
    pub(super) fn excluded(&self, hit: &Hit, except: &[(u32, Option<Field>)]) -> bool {
        except.iter().any(|(atom, field)| {
            if field.is_some_and(|f| f != hit.field) {
                return false;
            }
            let Some(list) = self.by_atom.get(atom).filter(|l| !l.is_empty()) else {
                return false;
            };
            let len = list[0].len;
            // The first occurrence in the field that ends after `hit` starts.
            let first = list.partition_point(|x| (x.field, x.tok + len) <= (hit.field, hit.tok));
            list.get(first)
                .is_some_and(|x| x.field == hit.field && x.tok < hit.tok + hit.len)
        })
    }
}

impl Taxonomy {
    /// Finds every atom in the fields of an article in `language`.
    pub(super) fn scan(&self, language: Option<&str>, fields: &[(Field, &str)]) -> Hits {
        let mut hits = Hits {
            language: language.and_then(analysis::primary_language),
            ..Hits::default()
        };
        for &(field, text) in fields {
            if text.is_empty() {
                continue;
            }
            let tokens = text::tokenize(text);
            for m in self.automaton.find_overlapping_iter(&tokens.norm) {
                let atom_id = m.pattern().as_u32();
                let atom = &self.atoms[atom_id as usize];
                let Some(first) = tokens.at_norm(m.start() + 1) else {
                    continue;
                };
                let last = first + atom.words as usize - 1;
                if last >= tokens.tokens.len() {
                    continue;
                }
                if let Some(cased) = &atom.cased {
                    if !cased_at(&tokens, text, first, cased) {
                        continue;
                    }
                }
                let adjective = self.atom_entities[atom_id as usize]
                    .iter()
                    .any(|(_, kind)| *kind == NameKind::Adjective);
                hits.by_atom.entry(atom_id).or_default().push(Hit {
                    field,
                    tok: first as u32,
                    len: atom.words,
                    start: tokens.tokens[first].start,
                    end: tokens.tokens[last].end,
                    before_head: adjective && word_at(&tokens, last + 1).is_some_and(crate::nationality::is_head),
                });
            }
        }
        // By field and word (the fields may come in any order): `Hits::excluded` searches them.
        for list in hits.by_atom.values_mut() {
            list.sort_by_key(|h| (h.field, h.tok));
        }
        self.drop_inner_names(&mut hits);
        self.drop_other_senses(&mut hits);
        if self.uses_focus {
            hits.focus = focus(self.country_weights(&self.entity_hits(&hits)));
        }
        hits
    }

    /// Drops the occurrences of an entity's name that lie inside a longer occurrence of a name
    /// of other entities only, or of a name the entity excepts (see the gazetteer's `except`):
    /// «俄» (Russia) in «白俄罗斯» (Belarus) or «埃塞俄比亚» (Ethiopia), «Korea» in «North Korea».
    fn drop_inner_names(&self, hits: &mut Hits) {
        let named = |atom: u32| !self.atom_entities[atom as usize].is_empty();
        let excepting = |atom: u32| !self.atom_excepts[atom as usize].is_empty();
        // Every occurrence of a name, or of an except name: (field, first word, end, atom).
        let mut spans: Vec<(Field, u32, u32, u32)> = hits
            .by_atom
            .iter()
            .filter(|(atom, _)| named(**atom) || excepting(**atom))
            .flat_map(|(&atom, list)| list.iter().map(move |h| (h.field, h.tok, h.tok + h.len, atom)))
            .collect();
        if spans.len() < 2 {
            return;
        }
        spans.sort_unstable();
        let entities = |atom: u32| self.atom_entities[atom as usize].iter().map(|(e, _)| *e);
        // Whether an occurrence of `outer` hides one of `inner` inside it.
        let hides = |outer: u32, inner: u32| {
            self.atom_excepts[outer as usize]
                .iter()
                .any(|e| entities(inner).any(|i| i == *e))
                || (named(outer) && !entities(outer).any(|o| entities(inner).any(|i| i == o)))
        };
        for (&atom, list) in hits.by_atom.iter_mut() {
            if !named(atom) {
                continue;
            }
            list.retain(|h| {
                let end = h.tok + h.len;
                // Spans that start at or before this one, nearest first; a name is a few
                // dozen words at most.
                let upto = spans.partition_point(|s| (s.0, s.1) <= (h.field, h.tok));
                !spans[..upto]
                    .iter()
                    .rev()
                    .take_while(|s| s.0 == h.field && s.1 + 64 >= h.tok)
                    .any(|s| s.2 >= end && s.2 - s.1 > h.len && hides(s.3, atom))
            });
        }
        hits.by_atom.retain(|_, list| !list.is_empty());
    }

    /// Drops every occurrence of an entity's names that an `other_sense` name found in the
    /// article holds (see the gazetteer's `other_sense`): one sense of a name per article.
    /// A name the entity shares with another entity is left to that one.
    fn drop_other_senses(&self, hits: &mut Hits) {
        let mut dropped: Vec<u32> = Vec::new();
        for atom in hits.by_atom.keys() {
            for (e, held) in &self.atom_senses[*atom as usize] {
                dropped.extend(
                    held.iter()
                        .copied()
                        .filter(|&a| self.atom_entities[a as usize].iter().all(|(other, _)| other == e)),
                );
            }
        }
        for atom in dropped {
            hits.by_atom.remove(&atom);
        }
    }

    /// The topics, entities and focus countries of an article's fields, its language unknown
    /// (`lang:` scopes do not hold).
    pub fn tag(&self, fields: &[(Field, &str)]) -> Tags {
        self.tag_in(None, fields)
    }

    /// The topics, entities and focus countries of the fields of an article in `language` (a
    /// BCP 47 tag such as `ru` or `zh-Hant`, as the record's `language`).
    pub fn tag_in(&self, language: Option<&str>, fields: &[(Field, &str)]) -> Tags {
        let hits = self.scan(language, fields);
        let (entities, focus_countries) = self.entities(&hits);
        Tags {
            topics: self.topics_of(&hits),
            entities,
            focus_countries,
        }
    }

    /// The topics the fields match, best score first (the language unknown).
    pub fn matches(&self, fields: &[(Field, &str)]) -> Vec<TopicMatch> {
        self.matches_in(None, fields)
    }

    /// The topics the fields of an article in `language` match, best score first.
    pub fn matches_in(&self, language: Option<&str>, fields: &[(Field, &str)]) -> Vec<TopicMatch> {
        self.topics_of(&self.scan(language, fields))
    }

    pub(super) fn candidates(&self, hits: &Hits) -> Vec<u32> {
        let mut candidates: Vec<u32> = hits
            .by_atom
            .keys()
            .flat_map(|&a| self.atom_topics[a as usize].iter().copied())
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        candidates
    }

    pub(super) fn topics_of(&self, hits: &Hits) -> Vec<TopicMatch> {
        // (topic index, its match): a topic's own, then those it inherits.
        let mut out: Vec<(u32, TopicMatch)> = Vec::new();
        for t in self.candidates(hits) {
            let topic = &self.topics[t as usize];
            if !topic.eval(&topic.root, hits) {
                continue;
            }
            let (score, matches) = topic.evidence(hits);
            if score >= topic.def.min_score {
                out.push((
                    t,
                    TopicMatch {
                        slug: topic.def.slug.clone(),
                        label: topic.def.label.clone(),
                        score,
                        matches,
                    },
                ));
            }
        }
        // A child topic also counts for its parent (and so on up): a broader topic catches
        // what its narrower ones catch. A parent that matched on its own keeps its own evidence.
        for i in 0..out.len() {
            let mut next = self.topics[out[i].0 as usize].parent;
            while let Some(parent) = next {
                if !out.iter().any(|(t, _)| *t == parent) {
                    let def = &self.topics[parent as usize].def;
                    let child = &out[i].1;
                    let inherited = TopicMatch {
                        slug: def.slug.clone(),
                        label: def.label.clone(),
                        score: child.score,
                        matches: child.matches.clone(),
                    };
                    out.push((parent, inherited));
                }
                next = self.topics[parent as usize].parent;
            }
        }
        let mut out: Vec<TopicMatch> = out.into_iter().map(|(_, m)| m).collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.slug.cmp(&b.slug)));
        out
    }
}

impl Topic {
    pub(super) fn eval(&self, node: &Node, hits: &Hits) -> bool {
        match node {
            Node::Leaf(l) => hits.of(&self.leaves[*l as usize]).next().is_some(),
            Node::And(items) => items.iter().all(|n| self.eval(n, hits)),
            Node::Or(items) => items.iter().any(|n| self.eval(n, hits)),
            Node::Not(inner) => !self.eval(inner, hits),
            Node::Focus { code, .. } => hits.focus.contains(code),
            Node::Lang(langs) => hits.language.as_ref().is_some_and(|l| langs.contains(l)),
            Node::Near { left, right, distance } => self.near(left, right, *distance, hits).is_some(),
        }
    }

    /// The first pair of occurrences within `distance` words of each other in one field (the
    /// first left occurrence that has a partner, with its first partner).
    pub(super) fn near(&self, left: &[u32], right: &[u32], distance: u32, hits: &Hits) -> Option<(Hit, Hit)> {
        let side = |leaves: &[u32]| -> Vec<Hit> {
            self.distinct(
                leaves
                    .iter()
                    .copied()
                    .filter(|&l| hits.by_atom.contains_key(&self.leaves[l as usize].atom)),
            )
            .flat_map(|l| hits.of(&self.leaves[l as usize]).copied())
            .collect()
        };
        near_pair(&side(left), &side(right), distance)
    }

    /// `leaves` without the repeats of a term (the same atom, field scope and exclusions): a
    /// repeat finds exactly the occurrences of the first, so it adds nothing but work (a query
    /// naming one word 4,000 times made 4,000 copies of its every occurrence; found by
    /// fuzzing).
    fn distinct<'a>(&'a self, leaves: impl Iterator<Item = u32> + 'a) -> impl Iterator<Item = u32> + 'a {
        let mut seen = HashSet::new();
        leaves.filter(move |&l| {
            let leaf = &self.leaves[l as usize];
            let with: Vec<*const Context> = leaf.with.iter().map(Arc::as_ptr).collect();
            seen.insert((leaf.atom, leaf.field, leaf.except.as_slice(), with))
        })
    }

    /// The score and the highlights: every occurrence of a positive term, once.
    pub(super) fn evidence(&self, hits: &Hits) -> (f64, Vec<TermMatch>) {
        let mut seen: HashSet<(u32, Field, u32)> = HashSet::new();
        let mut grouped: BTreeMap<(String, Field), Vec<Span>> = BTreeMap::new();
        let mut score = 0.0;
        let mut all: Vec<(u32, Hit)> = Vec::new();
        // The positive leaves whose atoms the article has, in leaf order.
        let mut present: Vec<u32> = hits
            .by_atom
            .keys()
            .filter_map(|atom| self.positive_by_atom.get(atom))
            .flatten()
            .copied()
            .collect();
        present.sort_unstable();
        for l in self.distinct(present.into_iter()) {
            let leaf = &self.leaves[l as usize];
            all.extend(hits.of(leaf).map(|h| (l, *h)));
        }
        // An occurrence inside a longer one of another term counts once, as the longer one:
        // "Jens Stoltenberg" is one mention, not also one of "Stoltenberg".
        let inside_longer = inside_longer(&all);
        for (&(l, hit), inside) in all.iter().zip(inside_longer) {
            let leaf = &self.leaves[l as usize];
            if inside || !seen.insert((leaf.atom, hit.field, hit.tok)) {
                continue;
            }
            score += hit.weight();
            grouped
                .entry((leaf.display.clone(), hit.field))
                .or_default()
                .push(Span {
                    start: hit.start,
                    end: hit.end,
                });
        }
        let mut matches: Vec<TermMatch> = grouped
            .into_iter()
            .map(|((term, field), offsets)| TermMatch {
                term,
                field: field.as_str().to_string(),
                count: offsets.len() as u32,
                offsets,
            })
            .collect();
        matches.sort_by_key(|m| {
            (
                Field::ALL.iter().position(|f| f.as_str() == m.field),
                m.offsets[0].start,
            )
        });
        (score, matches)
    }
}

/// For each occurrence, whether another one covers its words and is longer: one that starts
/// at an earlier word of the field and ends at or after its end, or starts at the same word
/// and ends later. One sort and one sweep, however many occurrences there are.
fn inside_longer(all: &[(u32, Hit)]) -> Vec<bool> {
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.sort_unstable_by_key(|&i| {
        let h = &all[i].1;
        (h.field, h.tok, std::cmp::Reverse(h.len))
    });
    let mut inside = vec![false; all.len()];
    // The furthest end among the field's occurrences that start before the current word, and
    // the furthest among those that start at it (the first of them, the longest).
    let mut field = None;
    let (mut before, mut at): (Option<u32>, Option<(u32, u32)>) = (None, None);
    for i in order {
        let h = &all[i].1;
        let end = h.tok + h.len;
        if field != Some(h.field) {
            (field, before, at) = (Some(h.field), None, None);
        }
        match at {
            Some((tok, _)) if tok == h.tok => {}
            _ => {
                before = before.max(at.map(|(_, e)| e));
                at = Some((h.tok, end));
            }
        }
        inside[i] = before.is_some_and(|e| e >= end) || at.is_some_and(|(_, e)| e > end);
    }
    inside
}

/// The first occurrence of `a` that has one of `b` within `distance` words in its field, with
/// the first such occurrence of `b` (see [`Topic::near`]).
/// Words from the end of one occurrence to the start of the other, in either order: adjacent
/// words are 1 apart. `None` for occurrences in different fields or overlapping ones.
fn gap(x: &Hit, y: &Hit) -> Option<u32> {
    if x.field != y.field {
        None
    } else if x.tok + x.len <= y.tok {
        Some(y.tok - (x.tok + x.len - 1))
    } else if y.tok + y.len <= x.tok {
        Some(x.tok - (y.tok + y.len - 1))
    } else {
        None
    }
}

fn near_pair(a: &[Hit], b: &[Hit], distance: u32) -> Option<(Hit, Hit)> {
    // Whether an x has a partner is found by binary search, so that thousands of occurrences
    // on each side cost no more than sorting them: the nearest occurrence of `b` starting
    // after x ends, and the nearest ending before x starts.
    let mut by_start: Vec<(Field, u32)> = b.iter().map(|y| (y.field, y.tok)).collect();
    let mut by_end: Vec<(Field, u32)> = b.iter().map(|y| (y.field, y.tok + y.len)).collect();
    by_start.sort_unstable();
    by_end.sort_unstable();
    let has_partner = |x: &Hit| {
        let end = x.tok + x.len;
        let after = by_start.partition_point(|k| *k < (x.field, end));
        let before = by_end.partition_point(|k| *k <= (x.field, x.tok));
        by_start
            .get(after)
            .is_some_and(|&(f, tok)| f == x.field && tok - (end - 1) <= distance)
            || before
                .checked_sub(1)
                .and_then(|i| by_end.get(i))
                .is_some_and(|&(f, y_end)| f == x.field && x.tok - (y_end - 1) <= distance)
    };
    let x = a.iter().find(|x| has_partner(x))?;
    let y = b.iter().find(|y| gap(x, y).is_some_and(|g| g <= distance))?;
    Some((*x, *y))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quadratic forms these replaced, as the reference.
    fn near_reference(a: &[Hit], b: &[Hit], distance: u32) -> Option<(Hit, Hit)> {
        for x in a {
            for y in b {
                if x.field != y.field {
                    continue;
                }
                let gap = if x.tok + x.len <= y.tok {
                    y.tok - (x.tok + x.len - 1)
                } else if y.tok + y.len <= x.tok {
                    x.tok - (y.tok + y.len - 1)
                } else {
                    continue;
                };
                if gap <= distance {
                    return Some((*x, *y));
                }
            }
        }
        None
    }

    fn inside_reference(all: &[(u32, Hit)]) -> Vec<bool> {
        all.iter()
            .map(|(_, h)| {
                all.iter().any(|(_, x)| {
                    x.field == h.field && x.len > h.len && x.tok <= h.tok && h.tok + h.len <= x.tok + x.len
                })
            })
            .collect()
    }

    fn excluded_reference(hits: &Hits, hit: &Hit, except: &[(u32, Option<Field>)]) -> bool {
        except.iter().any(|(atom, field)| {
            field.is_none_or(|f| f == hit.field)
                && hits
                    .by_atom
                    .get(atom)
                    .into_iter()
                    .flatten()
                    .any(|x| x.field == hit.field && x.tok < hit.tok + hit.len && hit.tok < x.tok + x.len)
        })
    }

    /// Random occurrences of `atoms` atoms (atom `i` is `1 + i % 3` words long), in fields in
    /// any order, sorted by field and word per atom as `scan` leaves them.
    fn random_hits(seed: u64, atoms: u32, count: usize) -> Hits {
        let mut state = seed;
        let mut next = move |n: u32| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) % u64::from(n)) as u32
        };
        let mut hits = Hits::default();
        for _ in 0..count {
            let atom = next(atoms);
            let field = Field::ALL[next(3) as usize];
            let tok = next(40);
            hits.by_atom.entry(atom).or_default().push(Hit {
                field,
                tok,
                len: 1 + atom % 3,
                start: tok,
                end: tok + 1,
                before_head: false,
            });
        }
        for list in hits.by_atom.values_mut() {
            list.sort_by_key(|h| (h.field, h.tok));
            list.dedup_by_key(|h| (h.field, h.tok));
        }
        hits
    }

    #[test]
    fn the_fast_forms_agree_with_the_quadratic_ones() {
        for seed in 0..400 {
            let hits = random_hits(seed, 5, 1 + (seed as usize % 60));
            let list = |atom: u32| hits.by_atom.get(&atom).cloned().unwrap_or_default();
            let all: Vec<(u32, Hit)> = (0..5).flat_map(|a| list(a).into_iter().map(move |h| (a, h))).collect();
            assert_eq!(inside_longer(&all), inside_reference(&all), "seed {seed}");
            for distance in [1, 2, 5, 30] {
                for (x, y) in [(0, 1), (1, 0), (2, 2), (3, 4)] {
                    assert_eq!(
                        near_pair(&list(x), &list(y), distance),
                        near_reference(&list(x), &list(y), distance),
                        "seed {seed}, atoms {x} {y}, distance {distance}"
                    );
                }
            }
            for except in [
                vec![(1, None)],
                vec![(2, Some(Field::Text)), (4, None)],
                vec![(0, Some(Field::Title))],
            ] {
                for (_, hit) in &all {
                    assert_eq!(
                        hits.excluded(hit, &except),
                        excluded_reference(&hits, hit, &except),
                        "seed {seed}, {hit:?}, {except:?}"
                    );
                }
            }
        }
    }
}
