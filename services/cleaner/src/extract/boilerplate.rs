//! The boilerplate rules: which paragraphs of an extracted text are page furniture (prompts,
//! share calls, related-story links), bylines and datelines, publication stamps and captions.

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::meta::month_of;

/// Normalises paragraphs and drops boilerplate, byline and date lines, the headline repeated
/// as the first paragraph, and an image caption shown twice, the second time with its credit.
/// Other repeated paragraphs are kept: an article may repeat a line (a recipe's or a menu's,
/// a refrain), and dropping exact repeats cost recall on both evaluation sets.
pub fn clean_paragraphs<'a>(
    paragraphs: impl Iterator<Item = &'a str>,
    title: Option<&str>,
    byline: &[String],
) -> String {
    let paragraphs: Vec<String> = paragraphs
        .map(crate::text::normalize_text)
        .filter(|p| !p.is_empty())
        .collect();
    let mut kept: Vec<&str> = Vec::with_capacity(paragraphs.len());
    // After a "related" label standing alone, the headlines it lists.
    let mut in_related = false;
    for (i, p) in paragraphs.iter().enumerate() {
        if is_related_label(p) {
            in_related = true;
            continue;
        }
        if in_related && is_link_title(p) {
            continue;
        }
        in_related = false;
        if is_boilerplate(p) || is_dateline(p) || is_captioned(p) || byline.iter().any(|b| p.eq_ignore_ascii_case(b)) {
            continue;
        }
        if kept.is_empty() && title.is_some_and(|t| t == p) {
            continue;
        }
        // A caption repeated with a credit appended: keep neither copy.
        let next = paragraphs.get(i + 1).map(String::as_str);
        if next.is_some_and(|n| n.len() > p.len() && n.starts_with(p.as_str()) && is_credit(&n[p.len()..])) {
            continue;
        }
        if let Some(prev) = i.checked_sub(1).and_then(|j| paragraphs.get(j))
            && p.len() > prev.len()
            && p.starts_with(prev.as_str())
            && is_credit(&p[prev.len()..])
        {
            continue;
        }
        kept.push(p);
    }
    // What follows the article's last sentence and is no sentence itself is the page's: the
    // labels of a share bar, an author box, a map or a list the extraction left out
    // ("Autoren:", "Über den Autor", "zurück zur Listenansicht", "Valora esta noticia").
    while kept.len() > 1 && kept.last().is_some_and(|p| is_trailing_label(p)) {
        kept.pop();
    }
    kept.join("\n\n")
}

/// A short line of words that is not a sentence: at most [`LABEL_WORDS`] words, no digit
/// (a figure, a phone number, a list's rank are content), no CJK (whose lines of a few
/// "words" are whole sentences), not ending as a sentence, a quotation or an aside does.
fn is_trailing_label(p: &str) -> bool {
    let p = p.trim();
    p.split_whitespace().count() <= LABEL_WORDS
        && !p.chars().any(|c| c.is_numeric() || record::is_cjk(c))
        && !p.ends_with([
            '.', '!', '?', '…', '"', '\'', '»', '«', '“', '”', '’', ')', ']', '。', '！', '？', '）',
        ])
}

/// The most words of a [`is_trailing_label`].
const LABEL_WORDS: usize = 6;

/// A photo credit: `(Sputnik/Mikhail Metzel/Pool via Reuters)`, `(Getty Images)`, `Photo: AFP`.
pub(super) fn is_credit(s: &str) -> bool {
    let s = s.trim();
    let inner = s.strip_prefix('(').and_then(|s| s.strip_suffix(')'));
    let body = inner.unwrap_or(s);
    let lower = body.to_lowercase();
    (inner.is_some() || lower.starts_with("photo") || lower.starts_with("image"))
        && body.split_whitespace().count() <= 12
        && [
            "getty",
            "reuters",
            "afp",
            "ap",
            "pa",
            "epa",
            "via",
            "photo",
            "image",
            "pool",
            "shutterstock",
            "alamy",
            "sputnik",
            "xinhua",
            "tass",
            "bloomberg",
            "file",
        ]
        .iter()
        .any(|k| lower.split(|c: char| !c.is_alphanumeric()).any(|w| w == *k))
}

/// Lines that are page furniture, not article text: comment and login prompts, newsletter and
/// share calls, "read more" links. Only short paragraphs are considered, so a sentence of the
/// article that mentions these words is kept.
pub fn is_boilerplate(p: &str) -> bool {
    const EXACT: &[&str] = &[
        "comments",
        "comment",
        "share",
        "share this article",
        "share this",
        "advertisement",
        "skip advert",
        "read more",
        "related",
        "related articles",
        "most read",
        "more on this story",
        "sign up",
        "subscribe",
        "log in",
        "register",
        "copy link",
        "listen to this article",
        "you may also like",
        "you might also like",
        "continue reading below",
        "continue reading",
        "story continues below",
        "article continues below",
        "don't miss",
        "see more",
        "caption",
        "recommended",
        "trending",
        "most popular",
        "top stories",
        "more stories",
        "related stories",
        "want more stories like this?",
        "want more stories like this",
    ];
    const PREFIXES: &[&str] = &[
        "join our commenting forum",
        "join thought-provoking conversations",
        "thank you for registering",
        "please refresh the page",
        "want to bookmark your favourite articles",
        "sign up to our",
        "sign up for our",
        "sign up to the",
        "subscribe to our newsletter",
        "click here to",
        "follow us on",
        "read more:",
        "read more about",
        "related:",
        "already have an account",
        "create a free account",
        "we use cookies",
        "by clicking",
        "this article is more than",
        "you can find our community guidelines",
        "view comments",
        "show comments",
        "see more:",
        "don't miss:",
        "want more stories like",
        "every day we send an email",
        "citation:",
        "this document is subject to copyright",
        "photo:",
        "image:",
        "credit:",
        "image 1 of",
    ];
    let short = p.split_whitespace().nth(40).is_none();
    if !short {
        // Every rule below is for a short line (no exact phrase has 40 words).
        return false;
    }
    let lower = p.to_lowercase();
    let lower = lower.trim_end_matches(['.', ':', '：', '…']).trim();
    if EXACT.contains(&lower) || LABELS.contains(&lower) || READ_ALSO.contains(&lower) {
        return true;
    }
    // A label with a word or two around it ("Weitere Beiträge zum Thema", "Audios et vidéos
    // sur le sujet"), or followed by nothing but a link ("Permalien https://p.dw.com/p/RPYx").
    if p.split_whitespace().nth(6).is_none() && contains_read_also(lower) {
        return true;
    }
    if let Some((label, rest)) = lower.split_once(' ')
        && (LABELS.contains(&label) || EXACT.contains(&label))
        && rest
            .split_whitespace()
            .all(|w| w.starts_with("http://") || w.starts_with("https://"))
    {
        return true;
    }
    // "Lesen Sie auch: <another story's headline>", "Lire aussi : …", "Читайте также: …".
    if READ_ALSO.iter().any(|label| {
        lower
            .strip_prefix(label)
            .is_some_and(|rest| rest.trim_start().starts_with([':', '：', '|', '»', '>']))
    }) {
        return true;
    }
    if p.split_whitespace().nth(25).is_none() && is_copyright(lower) {
        return true;
    }
    if is_paywall(lower) {
        return true;
    }
    short
        && (PREFIXES.iter().any(|pre| lower.starts_with(pre))
            || lower.ends_with("by clicking here")
            || is_link_label(p))
}

/// "Read also" and "related" labels in the languages of the press the pipeline reads (German,
/// French, Spanish, Italian, Portuguese, Russian, Ukrainian, Chinese): a paragraph that is one
/// of them, or one of them, a colon and another story's headline, is a link to other pages.
/// Lower-case, as [`is_boilerplate`] compares.
const READ_ALSO: &[&str] = &[
    // de
    "lesen sie auch",
    "lesen sie mehr",
    "lesen sie hier",
    "auch interessant",
    "das könnte sie auch interessieren",
    "das könnte dich auch interessieren",
    "mehr zum thema",
    "mehr dazu",
    "weitere artikel",
    "weitere beiträge",
    "verwandte artikel",
    "verwandte themen",
    "beiträge zum thema",
    "artikel zum thema",
    "zum weiterlesen",
    "weiterlesen",
    "passend dazu",
    // fr
    "lire aussi",
    "à lire aussi",
    "a lire aussi",
    "voir aussi",
    "à voir aussi",
    "sur le même sujet",
    "sur le sujet",
    "articles liés",
    "lire la suite",
    "en savoir plus",
    // es
    "lea también",
    "lee también",
    "lea más",
    "lee más",
    "puedes ver",
    "te puede interesar",
    "también te puede interesar",
    "noticias relacionadas",
    "ver más",
    "más información",
    "seguir leyendo",
    // it
    "leggi anche",
    "potrebbe interessarti",
    "articoli correlati",
    "leggi tutto",
    // pt
    "leia também",
    "veja também",
    "leia mais",
    "saiba mais",
    // ru
    "читайте также",
    "смотрите также",
    "по теме",
    "новости по теме",
    "читать далее",
    // uk
    "читайте також",
    "дивіться також",
    "за темою",
    "новини за темою",
    "читати далі",
    // zh
    "相关新闻",
    "相关阅读",
    "延伸阅读",
    "推荐阅读",
    "相關新聞",
    "延伸閱讀",
];

/// Page furniture standing alone, in the same languages as [`READ_ALSO`]: share, print,
/// comment, advertisement, subscription and correction labels.
const LABELS: &[&str] = &[
    // de
    "teilen",
    "artikel teilen",
    "drucken",
    "artikel drucken",
    "kommentare",
    "kommentieren",
    "anzeige",
    "- anzeige -",
    "-anzeige-",
    "- anzeige-",
    "werbung",
    "newsletter abonnieren",
    "jetzt abonnieren",
    "zur startseite",
    "nach oben",
    // fr
    "partager",
    "imprimer",
    "commentaires",
    "publicité",
    "abonnez-vous",
    "permalien",
    // es
    "compartir",
    "imprimir",
    "comentarios",
    "publicidad",
    "suscríbete",
    // it
    "condividi",
    "stampa",
    "commenti",
    "pubblicità",
    // pt
    "compartilhe",
    "compartilhar",
    "publicidade",
    // ru
    "поделиться",
    "комментарии",
    "реклама",
    "подписывайтесь",
    "версия для печати",
    // uk
    "поділитися",
    "коментарі",
    // zh
    "分享到",
    "纠错",
    "打印",
    "评论",
    "广告",
    "分享",
];

/// A "read also" or "related" label standing alone ([`READ_ALSO`], or the English ones).
fn is_related_label(p: &str) -> bool {
    if p.split_whitespace().nth(8).is_some() {
        return false;
    }
    let lower = p.to_lowercase();
    let lower = lower.trim_end_matches(['.', ':', '：', '…']).trim();
    contains_read_also(lower)
        || [
            "related",
            "related articles",
            "related stories",
            "more on this story",
            "more stories",
            "you may also like",
            "you might also like",
            "see also",
        ]
        .contains(&lower)
}

/// Whether a lower-case line holds one of [`READ_ALSO`]'s labels of more than one word, as
/// whole words, or is one of its labels. The labels of more than one word are found in one
/// pass of an automaton built once (a search per label was 1% of a page's time).
fn contains_read_also(lower: &str) -> bool {
    static MULTI_WORD: OnceLock<Option<aho_corasick::AhoCorasick>> = OnceLock::new();
    let automaton = MULTI_WORD.get_or_init(|| {
        // Built from a constant list: it cannot fail but for a broken build, and then the
        // labels of one word still count.
        aho_corasick::AhoCorasick::new(READ_ALSO.iter().filter(|l| l.contains(' '))).ok()
    });
    let whole_words = |at: usize, end: usize| {
        !lower[..at].chars().next_back().is_some_and(char::is_alphanumeric)
            && !lower[end..].chars().next().is_some_and(char::is_alphanumeric)
    };
    automaton
        .as_ref()
        .is_some_and(|a| a.find_overlapping_iter(lower).any(|m| whole_words(m.start(), m.end())))
        || READ_ALSO.contains(&lower)
}

/// What a list of other stories holds: a headline (at most 14 words, no sentence end).
fn is_link_title(p: &str) -> bool {
    p.split_whitespace().nth(14).is_none() && !p.trim_end().ends_with(['.', '!', '?', '。'])
}

/// A copyright line: `© 2020 CBS Interactive Inc. All Rights Reserved.`, in the languages of
/// [`READ_ALSO`].
fn is_copyright(lower: &str) -> bool {
    lower.starts_with('©')
        || lower.starts_with("(c) ")
        || lower.starts_with("copyright")
        || [
            "all rights reserved",
            "alle rechte vorbehalten",
            "tous droits réservés",
            "todos los derechos reservados",
            "tutti i diritti riservati",
            "todos os direitos reservados",
            "все права защищены",
            "всі права захищені",
            "版权所有",
            "版權所有",
        ]
        .iter()
        .any(|k| lower.contains(k))
}

/// A related-story link labelled the way tabloids do it: `Headline of another story [VIDEO]`.
pub(super) fn is_link_label(p: &str) -> bool {
    let p = p.trim_end_matches(['|', ' ']);
    let Some(tag) = p.strip_suffix(']').and_then(|s| s.rsplit_once('[')).map(|(_, t)| t) else {
        return false;
    };
    !tag.is_empty() && tag.len() <= 12 && tag.chars().all(|c| c.is_uppercase() || c == ' ')
}

/// An image caption: a short paragraph ending with a photo credit — `… (Image: GETTY)`,
/// `… (AP Photo/Alan Diaz, File)`, `… Credit: ESA`.
pub(super) fn is_captioned(p: &str) -> bool {
    if p.split_whitespace().nth(60).is_some() {
        return false;
    }
    if let Some(open) = p.trim_end().strip_suffix(')').and_then(|s| s.rfind('('))
        && is_credit(&p[open..])
    {
        return true;
    }
    let lower = p.to_lowercase();
    ["credit:", "photo:", "image:", "photograph:"].iter().any(|k| {
        lower
            .rfind(k)
            .is_some_and(|i| i > 0 && lower[i + k.len()..].split_whitespace().count() <= 6)
    })
}

/// A subscription wall's prompt (a short paragraph, lower-case): it speaks to the reader
/// (`you`, `please`, `Sie`, `vous`…), names a subscription and what it gives (the full story,
/// access, logging in): "To view the full story, please subscribe", "If you're already a
/// subscriber, you can log in", "Um weiterzulesen, melden Sie sich an oder abonnieren Sie".
/// An article's sentence about subscribers losing access speaks to nobody and stays.
fn is_paywall(lower: &str) -> bool {
    const SUBSCRIBE: &[&str] = &[
        "subscrib",
        "abonn",
        "abo ",
        "abo-",
        "suscri",
        "assinant",
        "assinatura",
        "abbonat",
        "abbonament",
        "подпис",
        "передплат",
    ];
    const WALL: &[&str] = &[
        "log in",
        "login",
        "sign in",
        "full story",
        "full article",
        "access",
        "continue reading",
        "keep reading",
        "anmelden",
        "melden sie sich",
        "einloggen",
        "weiterlesen",
        "weiter lesen",
        "zugang",
        "zugriff",
        "vollständig",
        "connecter",
        "connectez",
        "identifiez",
        "accès",
        "lire la suite",
        "iniciar sesión",
        "inicia sesión",
        "acceso",
        "seguir leyendo",
        "accedi",
        "accesso",
        "continuare a leggere",
        "acesso",
        "continuar lendo",
        "войдите",
        "войти",
        "доступ",
        "увійдіть",
        "увійти",
    ];
    const READER: &[&str] = &[
        "you", "your", "you're", "please", "sie", "ihr", "ihre", "du", "vous", "votre", "usted", "tu", "su", "lei",
        "você", "вы", "вас", "вам", "ви",
    ];
    let words = || {
        lower
            .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
            .filter(|w| !w.is_empty())
    };
    lower.split_whitespace().nth(40).is_none()
        && SUBSCRIBE.iter().any(|k| lower.contains(k))
        && WALL.iter().any(|k| lower.contains(k))
        && words().any(|w| READER.contains(&w.replace('’', "'").as_str()))
}

/// Month names and their abbreviations, lower-case.
pub(crate) const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
];

/// Weekday names, lower-case.
pub(crate) const WEEKDAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// A line that is only a date and time, as printed under a byline
/// (`Wednesday 15 December 2021 15:19 GMT`, `Updated: 15 Dec 2021`).
pub(super) fn is_dateline(p: &str) -> bool {
    const OTHER: &[&str] = &[
        "updated",
        "published",
        "gmt",
        "bst",
        "utc",
        "est",
        "edt",
        "pst",
        "am",
        "pm",
        "on",
        "at",
        "last",
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
    ];
    // Neither a stamp nor a date line has more than 20 words: a paragraph of prose is
    // passed over without lower-casing it (each word of it gives at least one token).
    if p.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .nth(20)
        .is_some()
    {
        return false;
    }
    let lower = p.to_lowercase();
    let tokens: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .collect();
    if tokens.is_empty() {
        return false;
    }
    let names = calendar_names();
    let has_month = tokens.iter().any(|t| MONTHS.contains(t) || month_of(t).is_some());
    if is_stamp_line(p, &tokens, has_month) {
        return true;
    }
    if tokens.len() > 10 {
        return false;
    }
    let has_year = tokens
        .iter()
        .any(|t| t.len() == 4 && t.parse::<u32>().is_ok_and(|y| (1990..2100).contains(&y)));
    has_month
        && has_year
        && tokens.iter().all(|t| {
            MONTHS.contains(t)
                || WEEKDAYS.contains(t)
                || OTHER.contains(t)
                || month_of(t).is_some()
                || names.weekdays.contains(t)
                || names.literals.contains(t)
                || t.chars().all(|c| c.is_ascii_digit())
        })
}

/// The weekday names of the other languages newswire reads dates in (CLDR's, as the fetcher
/// reads feed dates with: `analysis::calendar`; their months are [`month_of`]'s), and the
/// words CLDR's date patterns quote («de», «г»): `7. Oktober 2020`, `12 juin 2021`,
/// `15 марта 2023 г.` are datelines as `15 December 2021` is.
struct CalendarNames {
    weekdays: HashSet<&'static str>,
    /// Weekday names of five letters or more (`mittwoch`, `lundi`, `среда`): a stamp may
    /// start with one; shorter ones (`so`, `do`, `mar`) are ordinary words too.
    long_weekdays: HashSet<&'static str>,
    literals: HashSet<&'static str>,
}

fn calendar_names() -> &'static CalendarNames {
    static NAMES: OnceLock<CalendarNames> = OnceLock::new();
    NAMES.get_or_init(|| {
        use analysis::calendar;
        CalendarNames {
            weekdays: calendar::WEEKDAYS.iter().map(|n| n.name).collect(),
            long_weekdays: calendar::WEEKDAYS
                .iter()
                .map(|n| n.name)
                .filter(|n| n.chars().count() >= 5)
                .collect(),
            literals: calendar::LITERALS.iter().map(|(_, w)| *w).collect(),
        }
    })
}

/// A publication stamp with more than a date in it, as sites print under a headline:
/// `Updated Nov 19, 6:55 AM;Posted Nov 19, 6:51 AM`, `Published 1 day ago`,
/// `By HNN Staff | November 18, 2019 at 2:26 PM HST - Updated November 18 at 4:46 PM`.
/// It starts with a stamp word, a month or a weekday (or has a `|` or `·` separator), has a
/// month or "ago", has a clock time or "ago", and is not a sentence. (A line of only a date,
/// without a time, is left to the stricter rule of [`is_dateline`].)
pub(super) fn is_stamp_line(p: &str, tokens: &[&str], has_month: bool) -> bool {
    const STAMP: &[&str] = &["updated", "posted", "published", "modified"];
    let trimmed = p.trim_end();
    let sentence = trimmed.ends_with('.') && !trimmed.to_lowercase().ends_with("m.");
    if tokens.len() > 20 || sentence {
        return false;
    }
    let first = tokens[0];
    let starts = STAMP.contains(&first)
        || first == "by"
        || first == "last"
        || WEEKDAYS.contains(&first)
        || MONTHS.contains(&first)
        || calendar_names().long_weekdays.contains(first)
        || p.contains(" | ")
        || p.contains('·');
    let ago = tokens.contains(&"ago");
    let clock = p
        .as_bytes()
        .windows(4)
        .any(|w| w[0].is_ascii_digit() && w[1] == b':' && w[2].is_ascii_digit() && w[3].is_ascii_digit());
    starts && (has_month || ago) && (clock || ago)
}
