use super::*;

impl Taxonomy {
    /// Each entity's mentions, and what kind of name each is by: the longest name wins where
    /// names overlap.
    pub(super) fn entity_hits(&self, hits: &Hits) -> BTreeMap<u32, Vec<(Hit, NameKind)>> {
        let mut mentions: Vec<(Hit, u32)> = Vec::new();
        for (&atom, list) in &hits.by_atom {
            if self.atom_entities[atom as usize].is_empty() {
                continue;
            }
            mentions.extend(list.iter().map(|h| (*h, atom)));
        }
        mentions.sort_by_key(|(h, _)| (h.field, h.tok, std::cmp::Reverse(h.len)));
        let mut by_entity: BTreeMap<u32, Vec<(Hit, NameKind)>> = BTreeMap::new();
        let mut taken_until: Option<(Field, u32)> = None;
        for (hit, atom) in mentions {
            if taken_until.is_some_and(|(f, end)| f == hit.field && hit.tok < end) {
                continue;
            }
            taken_until = Some((hit.field, hit.tok + hit.len));
            for &(e, kind) in &self.atom_entities[atom as usize] {
                by_entity.entry(e).or_default().push((hit, kind));
            }
        }
        by_entity
    }

    /// The weighted mentions of each country: the country itself and its people (not its
    /// organisations).
    pub(super) fn country_weights(&self, by_entity: &BTreeMap<u32, Vec<(Hit, NameKind)>>) -> HashMap<&str, f64> {
        let mut country_weight: HashMap<&str, f64> = HashMap::new();
        for (&e, hits) in by_entity {
            let entity = &self.gazetteer.entities[e as usize];
            if entity.kind != EntityKind::Organisation {
                if let Some(code) = entity.country() {
                    *country_weight.entry(code).or_default() += hits.iter().map(|(h, _)| h.weight()).sum::<f64>();
                }
            }
        }
        country_weight
    }

    /// Entity mentions (longest name wins where names overlap) and focus countries. Metonyms,
    /// and adjectives before a person noun, count towards focus but are not mentions of the
    /// entity (see the gazetteer's docs).
    pub(super) fn entities(&self, hits: &Hits) -> (Vec<Entity>, Vec<String>) {
        let by_entity = self.entity_hits(hits);
        let focus_countries = focus(self.country_weights(&by_entity));
        let mut entities: Vec<Entity> = by_entity
            .into_iter()
            .filter_map(|(e, hits)| {
                let hits: Vec<Hit> = hits
                    .into_iter()
                    .filter(|(hit, kind)| match kind {
                        NameKind::Alias => true,
                        NameKind::Adjective => !hit.before_head,
                        NameKind::Metonym => false,
                    })
                    .map(|(h, _)| h)
                    .collect();
                (!hits.is_empty()).then_some((e, hits))
            })
            .map(|(e, hits)| {
                let entity = &self.gazetteer.entities[e as usize];
                Entity {
                    id: entity.def.id.clone(),
                    name: entity.def.name.clone(),
                    kind: entity.kind,
                    count: hits.len() as u32,
                    country: entity.country().map(str::to_string),
                    mentions: hits
                        .iter()
                        .map(|h| Mention {
                            field: h.field.as_str().to_string(),
                            start: h.start,
                            end: h.end,
                        })
                        .collect(),
                }
            })
            .collect();
        entities.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
        (entities, focus_countries)
    }
}

/// The countries an article is about: those whose weighted mentions (the country, its
/// capital and demonyms, and its people; title 3, summary and lead 2, body 1) reach at least
/// 3 (a headline mention, or two mentions) and at least 40% of the top country's weight; four
/// at most.
pub(super) fn focus(weights: HashMap<&str, f64>) -> Vec<String> {
    let top = weights.values().copied().fold(0.0, f64::max);
    let mut focus: Vec<(&str, f64)> = weights
        .into_iter()
        .filter(|(_, w)| *w >= 3.0 && *w >= 0.4 * top)
        .collect();
    focus.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    focus.into_iter().take(4).map(|(c, _)| c.to_string()).collect()
}

pub(super) fn cased_at(tokens: &Tokens, text: &str, first: usize, cased: &[String]) -> bool {
    cased.iter().enumerate().all(|(i, want)| {
        tokens
            .tokens
            .get(first + i)
            .is_some_and(|t| &text[t.bytes.0..t.bytes.1] == want)
    })
}
