//! `newswire tag`: tags a file of articles offline, as the tagger would, and says why.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;

use anyhow::Context as _;
use tagger::{Field, Taxonomy};

/// Options of `newswire tag`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// The taxonomy file (its gazetteers are found relative to it).
    #[arg(long, default_value = "deploy/taxonomy.yaml")]
    pub taxonomy: PathBuf,
    /// Print on stderr, for each article, how every topic's query evaluated, node by node.
    #[arg(long)]
    pub explain: bool,
    /// JSON lines with `title`, `summary` and `text` (each optional); standard input if absent.
    pub file: Option<PathBuf>,
}

/// What a run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Records written back with their tags.
    pub tagged: u64,
    /// Lines that were not a JSON object (reported on stderr and skipped).
    pub invalid: u64,
}

/// Reads records, writes each back to `out` with `topics`, `entities` and `focus_countries`.
pub fn run(options: &Options, out: &mut impl Write) -> anyhow::Result<Summary> {
    let taxonomy = Taxonomy::load(&options.taxonomy)?;
    let input: Box<dyn BufRead> = match &options.file {
        Some(path) => Box::new(BufReader::new(
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
        )),
        None => Box::new(BufReader::new(std::io::stdin())),
    };
    let name = options
        .file
        .as_ref()
        .map_or_else(|| "<stdin>".to_string(), |p| p.display().to_string());
    let mut summary = Summary::default();
    for (index, line) in input.lines().enumerate() {
        let line = line.with_context(|| format!("reading {name}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let mut record = match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(serde_json::Value::Object(record)) => record,
            Ok(_) => {
                eprintln!("{name}:{}: skipped: not a JSON object", index + 1);
                summary.invalid += 1;
                continue;
            }
            Err(err) => {
                eprintln!("{name}:{}: skipped: invalid JSON: {err}", index + 1);
                summary.invalid += 1;
                continue;
            }
        };
        let field = |key: &str| record.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let (title, summary_text, text) = (field("title"), field("summary"), field("text"));
        // The record's language when it has one (records of news.unique do), else the one the
        // cleaner would detect, so that `lang:` scopes hold for hand-written lines too.
        let language = record
            .get("language")
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .or_else(|| cleaner::detect_language(&format!("{title}\n{summary_text}\n{text}")));
        let fields = [
            (Field::Title, title.as_str()),
            (Field::Summary, summary_text.as_str()),
            (Field::Text, text.as_str()),
        ];
        let tags = taxonomy.tag_in(language.as_deref(), &fields);
        if options.explain {
            eprintln!(
                "--- {name}:{}: {title} (language: {})",
                index + 1,
                language.as_deref().unwrap_or("unknown")
            );
            eprint!("{}", taxonomy.explain_in(language.as_deref(), &fields));
        }
        record.insert("topics".into(), serde_json::to_value(&tags.topics)?);
        record.insert("entities".into(), serde_json::to_value(&tags.entities)?);
        record.insert("focus_countries".into(), serde_json::to_value(&tags.focus_countries)?);
        serde_json::to_writer(&mut *out, &record)?;
        out.write_all(b"\n")?;
        summary.tagged += 1;
    }
    out.flush()?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_each_line_and_skips_bad_ones() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("in.jsonl");
        std::fs::write(
            &file,
            "{\"title\": \"Putin and Xi hail 'no limits' partnership\", \"summary\": \"Russia and China pledge closer ties.\", \"link\": \"x\"}\nnot json\n[1]\n\n{\"title\": \"Storm floods coast\"}\n",
        )
        .unwrap();
        let options = Options {
            taxonomy: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/taxonomy.yaml"),
            explain: false,
            file: Some(file),
        };
        let mut out = Vec::new();
        let summary = run(&options, &mut out).unwrap();
        assert_eq!(summary, Summary { tagged: 2, invalid: 2 });
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["link"], "x", "the input's fields are kept");
        assert_eq!(lines[0]["topics"][0]["slug"], "russia-china", "{}", lines[0]);
        assert!(
            lines[0]["topics"][0]["matches"][0]["offsets"].is_array(),
            "{}",
            lines[0]
        );
        // Russia and China weigh the same here (title and summary each): both are focus.
        let mut focus: Vec<&str> = lines[0]["focus_countries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        focus.sort_unstable();
        assert_eq!(focus, ["CN", "RU"], "{}", lines[0]);
        assert_eq!(lines[1]["topics"], serde_json::json!([]));
    }
}
