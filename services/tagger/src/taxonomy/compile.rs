use super::*;

impl Taxonomy {
    /// Compiles topics that use no vocabularies against a gazetteer.
    pub fn compile(defs: Vec<TopicDef>, gazetteer: Gazetteer) -> Result<Taxonomy, TaxonomyError> {
        Self::compile_with(defs, &query::Vocabularies::new(), gazetteer)
    }

    /// Compiles topics, whose queries may use `vocabularies`, against a gazetteer.
    pub fn compile_with(
        defs: Vec<TopicDef>,
        vocabularies: &query::Vocabularies,
        gazetteer: Gazetteer,
    ) -> Result<Taxonomy, TaxonomyError> {
        let mut builder = Builder::default();
        // Entity aliases first, so that entity extraction shares the automaton.
        let mut atom_entities: Vec<Vec<(u32, NameKind)>> = Vec::new();
        let mut entity_atoms: Vec<Vec<(u32, String)>> = Vec::new();
        for (e, entity) in gazetteer.entities.iter().enumerate() {
            let mut atoms = Vec::new();
            for (name, cased, kind) in entity.names_and_kinds() {
                let words = text::words(name);
                let id = builder.atom(&words, false, cased.then(|| text::cased_words(name)));
                if atom_entities.len() <= id as usize {
                    atom_entities.resize(id as usize + 1, Vec::new());
                }
                let of = &mut atom_entities[id as usize];
                match of.iter_mut().find(|(other, _)| *other == e as u32) {
                    // A name of several kinds for one entity is of the greatest (an alias
                    // over an adjective over a metonym).
                    Some(known) => known.1 = known.1.max(kind),
                    None => of.push((e as u32, kind)),
                }
                atoms.push((id, name.to_string()));
            }
            entity_atoms.push(atoms);
        }
        let mut atom_excepts: Vec<Vec<u32>> = Vec::new();
        let mut atom_senses: Vec<Vec<(u32, Vec<u32>)>> = Vec::new();
        for (e, entity) in gazetteer.entities.iter().enumerate() {
            for (name, other_sense) in entity
                .def
                .except
                .iter()
                .map(|n| (n, false))
                .chain(entity.def.other_sense.iter().map(|n| (n, true)))
            {
                let words = text::words(name);
                let id = builder.atom(&words, false, None);
                if atom_excepts.len() <= id as usize {
                    atom_excepts.resize(id as usize + 1, Vec::new());
                }
                atom_excepts[id as usize].push(e as u32);
                if other_sense {
                    // The entity's names this one holds, word for word.
                    let mut held: Vec<u32> = entity_atoms[e]
                        .iter()
                        .filter(|(_, n)| {
                            let n = text::words(n);
                            !n.is_empty() && words.windows(n.len()).any(|w| w == n.as_slice())
                        })
                        .map(|(atom, _)| *atom)
                        .collect();
                    held.sort_unstable();
                    held.dedup();
                    if atom_senses.len() <= id as usize {
                        atom_senses.resize(id as usize + 1, Vec::new());
                    }
                    atom_senses[id as usize].push((e as u32, held));
                }
            }
        }

        let mut topics = Vec::new();
        let mut slugs = HashSet::new();
        for (index, def) in defs.into_iter().enumerate() {
            let fail = |message: String| TaxonomyError::Topic {
                index,
                slug: def.slug.clone(),
                message,
            };
            let slug_ok = !def.slug.is_empty()
                && def
                    .slug
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !slug_ok {
                return Err(fail("a slug is lower-case letters, digits and dashes".into()));
            }
            if !slugs.insert(def.slug.clone()) {
                return Err(fail("the slug is used twice".into()));
            }
            if !def.min_score.is_finite() || def.min_score < 0.0 {
                return Err(fail("min_score is a number of at least 0".into()));
            }
            let query_error = |column: usize, message: String| TaxonomyError::Query {
                slug: def.slug.clone(),
                column,
                message,
            };
            let expr = query::parse_with(&def.query, vocabularies).map_err(|e| query_error(e.column, e.message))?;
            let mut leaves = Vec::new();
            let root = lower(&expr, &mut builder, &gazetteer, &entity_atoms, &mut leaves)
                .map_err(|(column, message)| query_error(column, message))?;
            let mut positive = Vec::new();
            positive_leaves(&root, false, &mut positive);
            positive.sort_unstable();
            positive.dedup();
            let unanchored_error =
                fail("the query would match an article that contains none of its terms (a NOT on its own?)".into());
            let mut positive_by_atom: AtomMap<Vec<u32>> = AtomMap::default();
            for &l in &positive {
                positive_by_atom.entry(leaves[l as usize].atom).or_default().push(l);
            }
            let topic = Topic {
                def,
                leaves,
                root,
                positive,
                positive_by_atom,
                parent: None,
            };
            if topic.positive.is_empty() || topic.eval(&topic.root, &Hits::default()) {
                return Err(unanchored_error);
            }
            topics.push(topic);
        }
        let index_of = |slug: &str| topics.iter().position(|t| t.def.slug == slug).map(|i| i as u32);
        let parents: Vec<Option<u32>> = topics
            .iter()
            .enumerate()
            .map(|(index, topic)| match &topic.def.parent {
                None => Ok(None),
                Some(parent) => index_of(parent).map(Some).ok_or_else(|| TaxonomyError::Topic {
                    index,
                    slug: topic.def.slug.clone(),
                    message: format!("the parent {parent:?} is not a topic"),
                }),
            })
            .collect::<Result<_, _>>()?;
        // Parents form a tree: following them from any topic ends.
        for (index, topic) in topics.iter().enumerate() {
            let mut seen = vec![index as u32];
            let mut next = parents[index];
            while let Some(parent) = next {
                if seen.contains(&parent) {
                    let chain: Vec<&str> = seen.iter().map(|&t| topics[t as usize].def.slug.as_str()).collect();
                    return Err(TaxonomyError::Topic {
                        index,
                        slug: topic.def.slug.clone(),
                        message: format!(
                            "its parents loop back: {} -> {}",
                            chain.join(" -> "),
                            topics[parent as usize].def.slug
                        ),
                    });
                }
                seen.push(parent);
                next = parents[parent as usize];
            }
        }
        for (topic, parent) in topics.iter_mut().zip(parents) {
            topic.parent = parent;
        }

        // Index each topic under the atoms of which a match needs at least one (for an AND,
        // only its most selective operand's), as Lucene Monitor's presearcher does: an article
        // then wakes up far fewer topics than it has words in common with them.
        let mut atom_topics = vec![Vec::new(); builder.atoms.len()];
        for (t, topic) in topics.iter().enumerate() {
            // Without anchors (`NOT NOT a`), every atom of the query: it cannot match an article
            // that has none of them, since it does not match an empty one.
            let mut anchors = match topic.anchors(&topic.root, &builder) {
                Some((_, anchors)) => anchors,
                None => topic.leaves.iter().map(|l| l.atom).collect(),
            };
            anchors.sort_unstable();
            anchors.dedup();
            for atom in anchors {
                atom_topics[atom as usize].push(t as u32);
            }
        }
        atom_entities.resize(builder.atoms.len(), Vec::new());
        atom_excepts.resize(builder.atoms.len(), Vec::new());
        atom_senses.resize(builder.atoms.len(), Vec::new());
        // Always the contiguous NFA, which the crate picks anyway past 100 patterns (the
        // shipped taxonomy has over a thousand). For fewer it would build a DFA, whose construction
        // is quadratic in a long pattern of repeated words: one query term of 20,000 words
        // took 9 s to compile (found by fuzzing).
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(&builder.patterns)
            .map_err(|e| TaxonomyError::Automaton(e.to_string()))?;
        let uses_focus = topics.iter().any(|t| t.root.uses_focus());
        Ok(Taxonomy {
            uses_focus,
            topics,
            atoms: builder.atoms,
            automaton,
            atom_topics,
            atom_entities,
            atom_excepts,
            atom_senses,
            gazetteer,
            files: Vec::new(),
        })
    }
}

impl Builder {
    pub(super) fn atom(&mut self, words: &[String], prefix: bool, cased: Option<Vec<String>>) -> u32 {
        let mut pattern = format!(" {}", words.join(" "));
        if !prefix {
            pattern.push(' ');
        }
        let key = (pattern, cased);
        if let Some(&id) = self.interned.get(&key) {
            return id;
        }
        let id = self.atoms.len() as u32;
        self.patterns.push(key.0.clone());
        self.atoms.push(Atom {
            words: words.len() as u32,
            cased: key.1.clone(),
        });
        self.interned.insert(key, id);
        id
    }
}

type LowerError = (usize, String);

/// The entity `kind:key` names, and for `actors:` every entity of its country too; an error
/// when the key names none or more than one.
fn one_entity(
    gazetteer: &Gazetteer,
    kind: EntityRef,
    want: Option<EntityKind>,
    key: &str,
    position: usize,
) -> Result<Vec<usize>, LowerError> {
    let found = gazetteer.resolve(want, key);
    let entity = match found.as_slice() {
        [one] => *one,
        [] => {
            return Err((
                position + 1,
                format!("{}:{key:?} is not in the gazetteer", kind.as_str()),
            ));
        }
        many => {
            let ids: Vec<&str> = many.iter().map(|&e| gazetteer.entities[e].def.id.as_str()).collect();
            return Err((
                position + 1,
                format!(
                    "{}:{key:?} is ambiguous ({}); use its id, e.g. entity:{}",
                    kind.as_str(),
                    ids.join(", "),
                    ids[0]
                ),
            ));
        }
    };
    let mut members = vec![entity];
    if kind == EntityRef::Actors {
        let code = gazetteer.entities[entity].country();
        members
            .extend((0..gazetteer.entities.len()).filter(|&e| e != entity && gazetteer.entities[e].country() == code));
    }
    Ok(members)
}

pub(super) fn lower(
    expr: &Expr,
    builder: &mut Builder,
    gazetteer: &Gazetteer,
    entity_atoms: &[Vec<(u32, String)>],
    leaves: &mut Vec<Leaf>,
) -> Result<Node, LowerError> {
    let leaf = |atom: u32, field: Option<Field>, display: String, leaves: &mut Vec<Leaf>| {
        let display = match field {
            Some(f) => format!("{}:{display}", f.as_str()),
            None => display,
        };
        leaves.push(Leaf {
            atom,
            field,
            display,
            except: Vec::new(),
            with: Vec::new(),
            lang: None,
        });
        (leaves.len() - 1) as u32
    };
    Ok(match expr {
        Expr::Term {
            text,
            words,
            prefix,
            field,
            lang,
        } => {
            let atom = builder.atom(words, *prefix, None);
            let id = leaf(atom, *field, text.clone(), leaves);
            leaves[id as usize].lang = lang.clone();
            Node::Leaf(id)
        }
        Expr::Lang(langs) => Node::Lang(langs.clone()),
        Expr::Entity {
            kind,
            key,
            field,
            position,
        } => {
            let want = match kind {
                EntityRef::Country | EntityRef::Actors => Some(EntityKind::Country),
                EntityRef::Person => Some(EntityKind::Person),
                EntityRef::Organisation => Some(EntityKind::Organisation),
                EntityRef::Any => None,
            };
            // `country:*`: every entity of the kind (`actors:*`, every entity with a country).
            let members: Vec<usize> = if key == "*" {
                (0..gazetteer.entities.len())
                    .filter(|&e| {
                        let entity = &gazetteer.entities[e];
                        want.is_none_or(|k| entity.kind == k || *kind == EntityRef::Actors)
                            && (*kind != EntityRef::Actors || entity.country().is_some())
                    })
                    .collect()
            } else {
                one_entity(gazetteer, *kind, want, key, *position)?
            };
            let items = members
                .iter()
                .flat_map(|&e| &entity_atoms[e])
                .map(|(atom, name)| Node::Leaf(leaf(*atom, *field, format!("{}:{key}={name}", kind.as_str()), leaves)))
                .collect();
            Node::Or(items)
        }
        Expr::Focus { key, position } => {
            let found = gazetteer.resolve(Some(EntityKind::Country), key);
            let [country] = found.as_slice() else {
                return Err((position + 1, format!("focus:{key:?} is not a country of the gazetteer")));
            };
            let code = gazetteer.entities[*country].country().unwrap_or_default().to_string();
            // The names that count towards focus: the country's and its people's.
            let members = (0..gazetteer.entities.len()).filter(|&e| {
                let entity = &gazetteer.entities[e];
                entity.kind != EntityKind::Organisation && entity.country() == Some(code.as_str())
            });
            let leaves = members
                .flat_map(|e| &entity_atoms[e])
                .map(|(atom, name)| leaf(*atom, None, format!("focus:{key}={name}"), leaves))
                .collect();
            Node::Focus { code, leaves }
        }
        Expr::And(items) => Node::And(
            items
                .iter()
                .map(|e| lower(e, builder, gazetteer, entity_atoms, leaves))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Or(items) => Node::Or(
            items
                .iter()
                .map(|e| lower(e, builder, gazetteer, entity_atoms, leaves))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Not(inner) => Node::Not(Box::new(lower(inner, builder, gazetteer, entity_atoms, leaves)?)),
        Expr::Except { inner, excluded } => {
            let node = lower(inner, builder, gazetteer, entity_atoms, leaves)?;
            // The excluded terms are atoms to look for, not leaves of the query: they neither
            // score nor make the query true.
            let mut scratch = Vec::new();
            lower(excluded, builder, gazetteer, entity_atoms, &mut scratch)?;
            let except: Vec<(u32, Option<Field>)> = scratch.iter().map(|l| (l.atom, l.field)).collect();
            let mut own = Vec::new();
            positive_leaves(&node, false, &mut own);
            for l in own {
                leaves[l as usize].except.extend(except.iter().copied());
            }
            node
        }
        Expr::With {
            inner,
            context,
            distance,
        } => {
            let node = lower(inner, builder, gazetteer, entity_atoms, leaves)?;
            // Like EXCEPT's terms, the context's are looked for, not leaves of the query.
            let mut scratch = Vec::new();
            lower(context, builder, gazetteer, entity_atoms, &mut scratch)?;
            let mut by_atom: AtomMap<Vec<u32>> = AtomMap::default();
            for (i, l) in scratch.iter().enumerate() {
                by_atom.entry(l.atom).or_default().push(i as u32);
            }
            let context = Arc::new(Context {
                leaves: scratch,
                by_atom,
                distance: *distance,
            });
            let mut own = Vec::new();
            positive_leaves(&node, false, &mut own);
            for l in own {
                leaves[l as usize].with.push(Arc::clone(&context));
            }
            node
        }
        Expr::Near { left, right, distance } => {
            let mut side = |e: &Expr| -> Result<Vec<u32>, LowerError> {
                let node = lower(e, builder, gazetteer, entity_atoms, leaves)?;
                let mut out = Vec::new();
                positive_leaves(&node, false, &mut out);
                Ok(out)
            };
            Node::Near {
                left: side(left)?,
                right: side(right)?,
                distance: *distance,
            }
        }
    })
}

pub(super) fn positive_leaves(node: &Node, negated: bool, out: &mut Vec<u32>) {
    match node {
        Node::Leaf(l) if !negated => out.push(*l),
        Node::Leaf(_) => {}
        Node::And(items) | Node::Or(items) => items.iter().for_each(|n| positive_leaves(n, negated, out)),
        Node::Not(inner) => positive_leaves(inner, !negated, out),
        Node::Focus { leaves, .. } if !negated => out.extend(leaves),
        Node::Focus { .. } => {}
        Node::Near { left, right, .. } if !negated => out.extend(left.iter().chain(right)),
        Node::Near { .. } | Node::Lang(_) => {}
    }
}

impl Node {
    pub(super) fn uses_focus(&self) -> bool {
        match self {
            Node::Focus { .. } => true,
            Node::And(items) | Node::Or(items) => items.iter().any(Node::uses_focus),
            Node::Not(inner) => inner.uses_focus(),
            Node::Leaf(_) | Node::Near { .. } | Node::Lang(_) => false,
        }
    }
}

impl Topic {
    /// Atoms of which every match of `node` contains at least one, and how costly they are
    /// as a filter (common short words cost most); `None` when no such set exists (a NOT).
    pub(super) fn anchors(&self, node: &Node, builder: &Builder) -> Option<(f64, Vec<u32>)> {
        let atom_cost = |atom: u32| -> f64 {
            let pattern = &builder.patterns[atom as usize];
            let words = builder.atoms[atom as usize].words;
            let chars = pattern.trim().chars().count().max(1) as f64;
            let prefix = !pattern.ends_with(' ');
            match (words, prefix) {
                (1, true) => 30.0 / chars,
                (1, false) => 10.0 / chars,
                _ => 2.0 / chars,
            }
        };
        let leaves = |ids: &[u32]| -> (f64, Vec<u32>) {
            let atoms: Vec<u32> = ids.iter().map(|l| self.leaves[*l as usize].atom).collect();
            (atoms.iter().map(|a| atom_cost(*a)).sum(), atoms)
        };
        match node {
            Node::Leaf(l) => Some(leaves(&[*l])),
            Node::Or(items) => {
                let mut cost = 0.0;
                let mut atoms = Vec::new();
                for item in items {
                    let (c, a) = self.anchors(item, builder)?;
                    cost += c;
                    atoms.extend(a);
                }
                Some((cost, atoms))
            }
            Node::And(items) => items
                .iter()
                .filter_map(|item| self.anchors(item, builder))
                .min_by(|a, b| a.0.total_cmp(&b.0)),
            // Neither says which words an article must have.
            Node::Not(_) | Node::Lang(_) => None,
            // A focus country has at least one mention.
            Node::Focus { leaves: ids, .. } => Some(leaves(ids)),
            Node::Near { left, right, .. } => {
                let (l, r) = (leaves(left), leaves(right));
                Some(if l.0 <= r.0 { l } else { r })
            }
        }
    }
}
