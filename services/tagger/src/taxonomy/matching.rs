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

impl Hits {
    pub(super) fn of(&self, leaf: &Leaf) -> impl Iterator<Item = &Hit> {
        self.by_atom
            .get(&leaf.atom)
            .into_iter()
            .flatten()
            .filter(move |h| leaf.field.is_none_or(|f| f == h.field))
            .filter(move |h| !self.excluded(h, &leaf.except))
    }

    /// Whether an occurrence overlaps an occurrence of one of the `EXCEPT` atoms.
    pub(super) fn excluded(&self, hit: &Hit, except: &[(u32, Option<Field>)]) -> bool {
        except.iter().any(|(atom, field)| {
            field.is_none_or(|f| f == hit.field)
                && self
                    .by_atom
                    .get(atom)
                    .into_iter()
                    .flatten()
                    .any(|x| x.field == hit.field && x.tok < hit.tok + hit.len && hit.tok < x.tok + x.len)
        })
    }
}

impl Taxonomy {
    /// Finds every atom in the fields.
    pub(super) fn scan(&self, fields: &[(Field, &str)]) -> Hits {
        let mut hits = Hits::default();
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
                hits.by_atom.entry(atom_id).or_default().push(Hit {
                    field,
                    tok: first as u32,
                    len: atom.words,
                    start: tokens.tokens[first].start,
                    end: tokens.tokens[last].end,
                });
            }
        }
        if self.uses_focus {
            hits.focus = focus(self.country_weights(&self.entity_hits(&hits)));
        }
        hits
    }

    /// The topics, entities and focus countries of an article's fields.
    pub fn tag(&self, fields: &[(Field, &str)]) -> Tags {
        let hits = self.scan(fields);
        let (entities, focus_countries) = self.entities(&hits);
        Tags {
            topics: self.topics_of(&hits),
            entities,
            focus_countries,
        }
    }

    /// The topics the fields match, best score first.
    pub fn matches(&self, fields: &[(Field, &str)]) -> Vec<TopicMatch> {
        self.topics_of(&self.scan(fields))
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
            Node::Near { left, right, distance } => self.near(left, right, *distance, hits).is_some(),
        }
    }

    /// The first pair of occurrences within `distance` words of each other in one field.
    pub(super) fn near(&self, left: &[u32], right: &[u32], distance: u32, hits: &Hits) -> Option<(Hit, Hit)> {
        let side = |leaves: &[u32]| -> Vec<Hit> {
            leaves
                .iter()
                .flat_map(|l| hits.of(&self.leaves[*l as usize]).copied())
                .collect()
        };
        let (a, b) = (side(left), side(right));
        for x in &a {
            for y in &b {
                if x.field != y.field {
                    continue;
                }
                // Words from the end of the first occurrence to the start of the second:
                // adjacent words are 1 apart. Overlapping occurrences do not count.
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

    /// The score and the highlights: every occurrence of a positive term, once.
    pub(super) fn evidence(&self, hits: &Hits) -> (f64, Vec<TermMatch>) {
        let mut seen: HashSet<(u32, Field, u32)> = HashSet::new();
        let mut grouped: BTreeMap<(String, Field), Vec<Span>> = BTreeMap::new();
        let mut score = 0.0;
        let mut all: Vec<(u32, Hit)> = Vec::new();
        for &l in &self.positive {
            let leaf = &self.leaves[l as usize];
            all.extend(hits.of(leaf).map(|h| (l, *h)));
        }
        // An occurrence inside a longer one of another term counts once, as the longer one:
        // "Jens Stoltenberg" is one mention, not also one of "Stoltenberg".
        let inside_longer = |h: &Hit| {
            all.iter()
                .any(|(_, x)| x.field == h.field && x.len > h.len && x.tok <= h.tok && h.tok + h.len <= x.tok + x.len)
        };
        for &(l, hit) in &all {
            let leaf = &self.leaves[l as usize];
            if inside_longer(&hit) || !seen.insert((leaf.atom, hit.field, hit.tok)) {
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
