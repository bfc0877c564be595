use super::*;

/// The places of a term's occurrences `explain` lists, at most.
const EXPLAIN_PLACES: usize = 8;

impl Taxonomy {
    /// How each candidate topic's query evaluates on the fields, node by node, for `--explain`.
    pub fn explain(&self, fields: &[(Field, &str)]) -> String {
        self.explain_in(None, fields)
    }

    /// [`Taxonomy::explain`] for an article in `language` (a BCP 47 tag, for `lang:`).
    pub fn explain_in(&self, language: Option<&str>, fields: &[(Field, &str)]) -> String {
        let hits = self.scan(language, fields);
        let candidates = self.candidates(&hits);
        let mut out = String::new();
        for (t, topic) in self.topics.iter().enumerate() {
            let matched = topic.eval(&topic.root, &hits);
            let (score, _) = topic.evidence(&hits);
            let verdict = match (matched, score >= topic.def.min_score) {
                (true, true) => "MATCH",
                (true, false) => "below min_score",
                (false, _) => "no match",
            };
            let _ = writeln!(
                out,
                "{}: {verdict} (score {score:.1}, min_score {:.1})",
                topic.def.slug, topic.def.min_score
            );
            // Topics none of whose terms occur were never evaluated: no tree to show.
            if candidates.binary_search(&(t as u32)).is_ok() {
                topic.explain(&topic.root, &hits, 1, &mut out);
            }
        }
        out
    }
}

/// The first few terms of a side of `NEAR` or `WITH`, for `explain`: `country:*` has thousands.
fn names<'a>(leaves: impl IntoIterator<Item = &'a Leaf>) -> String {
    let mut names: Vec<&str> = leaves.into_iter().take(5).map(|l| l.display.as_str()).collect();
    if names.len() > 4 {
        names.truncate(4);
        names.push("...");
    }
    names.join(" | ")
}

impl Topic {
    pub(super) fn explain(&self, node: &Node, hits: &Hits, depth: usize, out: &mut String) {
        let mark = if self.eval(node, hits) { "+" } else { "-" };
        let indent = "  ".repeat(depth);
        match node {
            Node::Leaf(l) => {
                let leaf = &self.leaves[*l as usize];
                // The first few places: a word that occurs thousands of times (and a query
                // that names it thousands of times) would make the output quadratic.
                let mut found: Vec<String> = hits
                    .of(leaf)
                    .take(EXPLAIN_PLACES + 1)
                    .map(|h| format!("{}[{}..{}]", h.field.as_str(), h.start, h.end))
                    .collect();
                if found.len() > EXPLAIN_PLACES {
                    found.truncate(EXPLAIN_PLACES);
                    found.push("and more".into());
                }
                // A vocabulary's term says which language's entry it is from.
                let mut lang = leaf.lang.as_deref().map_or(String::new(), |l| format!(" [{l}]"));
                // `a WITH/n b`: the occurrences listed are those with `b` near, so say what
                // `b` is.
                for context in &leaf.with {
                    let _ = write!(lang, " WITH/{} ({})", context.distance, names(&context.leaves));
                }
                if found.is_empty() {
                    let _ = writeln!(out, "{indent}{mark} {}{lang}", leaf.display);
                } else {
                    let _ = writeln!(out, "{indent}{mark} {}{lang}  at {}", leaf.display, found.join(" "));
                }
            }
            Node::And(items) | Node::Or(items) => {
                let op = if matches!(node, Node::And(_)) { "AND" } else { "OR" };
                let _ = writeln!(out, "{indent}{mark} {op}");
                // A long OR (an entity's aliases) shows only the branches that matched.
                let matched = items.iter().filter(|n| self.eval(n, hits)).count();
                for item in items {
                    if op == "AND" || items.len() <= 6 || self.eval(item, hits) {
                        self.explain(item, hits, depth + 1, out);
                    }
                }
                if op == "OR" && items.len() > 6 && matched < items.len() {
                    let _ = writeln!(out, "{indent}  ({} more that did not match)", items.len() - matched);
                }
            }
            Node::Not(inner) => {
                let _ = writeln!(out, "{indent}{mark} NOT");
                self.explain(inner, hits, depth + 1, out);
            }
            Node::Lang(langs) => {
                let _ = writeln!(
                    out,
                    "{indent}{mark} lang:{}  (the article's language: {})",
                    langs.join(","),
                    hits.language.as_deref().unwrap_or("unknown")
                );
            }
            Node::Focus { code, .. } => {
                let _ = writeln!(
                    out,
                    "{indent}{mark} focus:{code}  (focus countries: {})",
                    if hits.focus.is_empty() {
                        "none".to_string()
                    } else {
                        hits.focus.join(", ")
                    }
                );
            }
            Node::Near { left, right, distance } => {
                let pair = self.near(left, right, *distance, hits);
                let names = |side: &[u32]| {
                    let leaves: Vec<&Leaf> = side.iter().map(|l| &self.leaves[*l as usize]).collect();
                    names(leaves.iter().copied())
                };
                match pair {
                    Some((a, b)) => {
                        let _ = writeln!(
                            out,
                            "{indent}{mark} ({}) NEAR/{distance} ({})  at {}[{}..{}] and [{}..{}]",
                            names(left),
                            names(right),
                            a.field.as_str(),
                            a.start,
                            a.end,
                            b.start,
                            b.end
                        );
                    }
                    None => {
                        let _ = writeln!(
                            out,
                            "{indent}{mark} ({}) NEAR/{distance} ({})",
                            names(left),
                            names(right)
                        );
                    }
                }
            }
        }
    }
}
