use super::*;
use chrono::TimeZone;
use record::{FeedRef, Page};

fn check(html: &str, expected: &str) {
    assert_eq!(html_to_text(html), expected, "cleaning {html:?}");
}

#[test]
fn html_to_text_cases() {
    check("<p>One</p><p>Two</p>", "One\n\nTwo");
    check(
        "Plain text &amp; entities &#8217; &lt;ok&gt;",
        "Plain text & entities \u{2019} <ok>",
    );
    check("<p>Split   across\n lines</p>", "Split across lines");
    check("<div>A<script>var x = 1;</script><style>p{}</style> B</div>", "A B");
    check(
        "<p>soft\u{00AD}hyphen and zero\u{200B}width</p>",
        "softhyphen and zerowidth",
    );
    check("<p>“Smart quotes” — kept</p>", "“Smart quotes” — kept");
    check("<p>e\u{0301}</p>", "\u{00e9}");
    check(
        "<figure><img src=x><figcaption>Caption</figcaption></figure><p>Body</p>",
        "Body",
    );
    check("line<br>break", "line\nbreak");
    check("", "");
    check("<p>  </p>", "");
    check("<ul><li>a</li><li>b</li></ul>", "a\n\nb");
    check("unclosed <b>bold <i>tags", "unclosed bold tags");
}

fn raw() -> RawRecord {
    RawRecord {
        schema_version: 1,
        id: "raw-id".into(),
        feed: FeedRef {
            url: "https://www.example.com/feed.xml".into(),
            name: Some("Example".into()),
            tags: vec![],
            language: None,
        },
        guid: None,
        url: Some("https://www.example.com/world/story?utm_source=rss".into()),
        title: Some("Putin &amp; Xi <b>meet</b>".into()),
        summary: Some("<p>Short summary.</p>".into()),
        content: None,
        authors: vec![" Sravasti  Dasgupta ".into()],
        categories: vec!["World".into()],
        published_at: Some(Utc.with_ymd_and_hms(2021, 12, 15, 15, 19, 0).unwrap()),
        updated_at: None,
        language: Some("en".into()),
        lead_image: None,
        page: None,
        article_fetch: None,
        fetched_at: Utc.with_ymd_and_hms(2021, 12, 15, 16, 0, 0).unwrap(),
    }
}

#[test]
fn cleans_a_feed_item() {
    let now = Utc.with_ymd_and_hms(2021, 12, 15, 16, 0, 1).unwrap();
    let cleaned = clean(&raw(), now).unwrap();
    let a = &cleaned.article;
    assert_eq!(a.title, "Putin & Xi meet");
    assert_eq!(a.text, "Short summary.");
    assert_eq!(a.word_count, 2);
    assert_eq!(a.canonical_url.as_deref(), Some("https://www.example.com/world/story"));
    assert_eq!(a.id, record::article_id("https://example.com/world/story"));
    assert_eq!(a.source.domain, "example.com");
    assert_eq!(a.authors, vec!["Sravasti Dasgupta"]);
    assert_eq!(a.timestamps.cleaned_at, Some(now));
    assert_eq!(a.fingerprints.content_sha256.len(), 64);
}

#[test]
fn full_content_beats_summary_and_page_beats_both() {
    let mut item = raw();
    item.content = Some("<p>Full body one.</p><p>Two.</p>".into());
    assert_eq!(clean(&item, Utc::now()).unwrap().article.text, "Full body one.\n\nTwo.");
    item.page = Some(Page {
        url: "https://www.example.com/world/story".into(),
        html: r#"<html><head><link rel="canonical" href="/canonical/story"></head>
            <body><nav>Home | World</nav><article><h1>Headline</h1><p>Page body.</p>
            <aside>Related stories</aside></article><footer>© Example</footer></body></html>"#
            .into(),
        fetched_at: Utc::now(),
    });
    let cleaned = clean(&item, Utc::now()).unwrap();
    // The page's headline is the page's title, not a paragraph of its text.
    assert_eq!(cleaned.article.text, "Page body.");
    // Too short for Readability's output to be trusted (it keeps the navigation on a page this
    // small), so rs-trafilatura's is taken.
    assert_eq!(cleaned.article.extraction.method, "trafilatura");
    // The feed's title beats the page's bare <h1>.
    assert_eq!(cleaned.article.title, "Putin & Xi meet");
    assert_eq!(cleaned.article.extraction.provenance["title"], "feed");
    assert_eq!(cleaned.article.extraction.provenance["canonical_url"], "meta");
    assert_eq!(
        cleaned.article.canonical_url.as_deref(),
        Some("https://www.example.com/canonical/story")
    );
}

#[test]
fn an_empty_item_is_a_content_error() {
    let mut item = raw();
    item.title = Some("<b> </b>".into());
    item.summary = None;
    let err = clean(&item, Utc::now()).unwrap_err();
    assert_eq!(err.kind, runtime::ErrorKind::Content);
    assert!(err.message.contains("raw-id"));
}

fn seed_page() -> String {
    let seed = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/corpus/seed/independent-putin-xi-2021-12-15.txt"),
    )
    .unwrap();
    // The page as the publisher served it, one element per line of the scraped text, with
    // the byline and time as the page's metadata.
    let mut lines = seed.lines().filter(|l| !l.trim().is_empty());
    let headline = lines.next().unwrap();
    let mut body = format!("<h1>{headline}</h1>");
    for line in lines {
        body.push_str(&format!("<p>{line}</p>\n"));
    }
    format!(
        r#"<html lang="en-GB"><head><title>{headline} | The Independent</title>
        <meta name="author" content="Sravasti Dasgupta">
        <meta property="article:published_time" content="2021-12-15T15:19:00+00:00">
        <link rel="canonical" href="https://www.independent.co.uk/asia/china/putin-xi-jinping-meeting-b1976462.html?utm_source=x">
        </head><body><nav><a href="/">News</a> <a href="/world">World</a></nav><article>{body}</article>
        <footer>© The Independent</footer></body></html>"#
    )
}

#[test]
fn the_seed_byline_is_one_person_without_the_date() {
    // The byline as the publisher's page prints it: the author's link, then the date, in one
    // block; no author in the page's metadata.
    let page = seed_page()
        .replace(r#"<meta name="author" content="Sravasti Dasgupta">"#, "")
        .replace(
            "<p>Sravasti Dasgupta</p>\n<p>Wednesday 15 December 2021 15:19 GMT</p>",
            r#"<div class="article-byline"><a rel="author" href="/author/sravasti-dasgupta">Sravasti Dasgupta</a> <time>Wednesday 15 December 2021 15:19 GMT</time></div>"#,
        );
    assert!(page.contains("article-byline"), "the seed page has its byline block");
    let mut item = raw();
    item.page = Some(Page {
        url: "https://www.independent.co.uk/asia/china/putin-xi-jinping-meeting-b1976462.html".into(),
        html: page,
        fetched_at: Utc.with_ymd_and_hms(2021, 12, 15, 16, 0, 0).unwrap(),
    });
    item.authors = vec![];
    let a = clean(&item, Utc::now()).unwrap().article;
    assert_eq!(a.authors, ["Sravasti Dasgupta"]);
    assert_eq!(a.extraction.provenance["authors"], "html");
    // The feed's own forms of the same byline.
    let mut item = raw();
    item.authors = vec![
        "sdasgupta@independent.co.uk (Sravasti Dasgupta)".into(),
        "By SRAVASTI DASGUPTA".into(),
    ];
    assert_eq!(clean(&item, Utc::now()).unwrap().article.authors, ["Sravasti Dasgupta"]);
}

#[test]
fn the_seed_article_loses_its_boilerplate_and_keeps_its_text() {
    let mut item = raw();
    item.page = Some(Page {
        url: "https://www.independent.co.uk/asia/china/putin-xi-jinping-meeting-b1976462.html".into(),
        html: seed_page(),
        fetched_at: Utc.with_ymd_and_hms(2021, 12, 15, 16, 0, 0).unwrap(),
    });
    item.authors = vec![];
    item.published_at = None;
    item.title = None;
    let a = clean(&item, Utc::now()).unwrap().article;
    assert_eq!(a.extraction.method, "readability", "{a:#?}");
    assert!(a.title.starts_with("Putin and Xi exchange warm words"), "{}", a.title);
    assert_eq!(a.authors, vec!["Sravasti Dasgupta"]);
    assert_eq!(
        a.published_at,
        Some(Utc.with_ymd_and_hms(2021, 12, 15, 15, 19, 0).unwrap())
    );
    assert_eq!(a.extraction.provenance["published_at"], "opengraph");
    assert_eq!(a.extraction.provenance["authors"], "meta");
    assert_eq!(a.language.as_deref(), Some("en-GB"));
    assert_eq!(
        a.canonical_url.as_deref(),
        Some("https://www.independent.co.uk/asia/china/putin-xi-jinping-meeting-b1976462.html")
    );
    let text = &a.text;
    assert!(
        text.starts_with("The leaders’ virtual meeting comes just days after"),
        "{text}"
    );
    assert!(text.contains("Vladimir Putin held talks with Xi Jinping at a virtual meeting"));
    assert!(text.contains("China too faces international sanctions"));
    for gone in [
        "Comments",
        "Join our commenting forum",
        "Join thought-provoking conversations",
        "Thank you for registering",
        "Please refresh the page",
        "Sravasti Dasgupta",
        "15:19 GMT",
        "Sputnik/Mikhail Metzel",
        "Russian president Vladimir Putin met Chinese president Xi Jinping in a virtual call on Wednesday",
    ] {
        assert!(!text.contains(gone), "{gone:?} left in the text:\n{text}");
    }
}

/// An item whose feed has the body "Feed body." and whose fetched page is `html`.
fn feed_body_and_page(html: String) -> RawRecord {
    let mut item = raw();
    item.content = Some("<p>Feed body.</p>".into());
    item.page = Some(Page {
        url: "https://www.example.com/world/story".into(),
        html,
        fetched_at: Utc::now(),
    });
    item
}

#[test]
fn a_page_over_budget_is_counted_and_the_feed_is_used() {
    let item = feed_body_and_page(format!("<html><body>{}</body></html>", "<div>".repeat(10_000)));
    let before = metrics::FAILURES.with_label_values(&["too_deep"]).get();
    let a = clean(&item, Utc::now()).unwrap().article;
    assert_eq!(metrics::FAILURES.with_label_values(&["too_deep"]).get(), before + 1);
    assert_eq!(a.text, "Feed body.");
    assert_eq!(a.extraction.method, "feed_content");
    assert_eq!(a.extraction.page_failure.as_deref(), Some("too_deep"));
    let rendered = telemetry::render_metrics().unwrap();
    assert!(
        rendered.contains("newswire_cleaner_failures_total{reason=\"too_deep\"}"),
        "{rendered}"
    );
    assert!(rendered.contains("newswire_cleaner_extractions_total{method=\"feed_content\"}"));
}

#[test]
fn language_is_detected_when_nobody_says() {
    let mut item = raw();
    item.language = None;
    item.summary = Some(
        "<p>Die Bundesregierung hat am Mittwoch beschlossen, die Hilfen für die Ukraine deutlich \
         aufzustocken, wie ein Sprecher in Berlin mitteilte.</p>"
            .into(),
    );
    let a = clean(&item, Utc::now()).unwrap().article;
    assert_eq!(a.language.as_deref(), Some("de"));
    assert_eq!(a.extraction.provenance["language"], "detected");
}

#[test]
fn the_language_the_feeds_file_gives_wins() {
    let mut item = raw();
    // The feed declares a template's language; the text is Russian; the operator says `ru`.
    item.language = Some("en-us".into());
    item.feed.language = Some("ru".into());
    item.summary = Some("<p>Россия и Китай подписали соглашение о поставках газа.</p>".into());
    let a = clean(&item, Utc::now()).unwrap().article;
    assert_eq!(a.language.as_deref(), Some("ru"));
    assert_eq!(a.extraction.provenance["language"], "feed");
    // Without it, the feed's declaration stands.
    item.feed.language = None;
    let a = clean(&item, Utc::now()).unwrap().article;
    assert!(
        a.language.as_deref().is_some_and(|l| l.starts_with("en")),
        "{:?}",
        a.language
    );
}

#[test]
fn a_long_text_in_another_script_than_declared_says_its_own_language() {
    // A Chinese government notice under an English template (`<html lang="en">`).
    let notice = "<p>为做好嫩江干流补充治理工程建设，确保工程前期建设征地实物调查工作顺利进行，维护相关单位和人民群众合法权益，\
                  根据《大中型水利水电工程建设征地补偿和移民安置条例》等相关规定，现就有关事项通告如下：\
                  自本通告发布之日起，在工程建设征占地范围内禁止任何单位和个人新建、扩建和改建项目，禁止擅自开发土地、\
                  修建房屋及新建其他设施，禁止新栽多年生经济作物和林木。相关部门要立即停止审批。</p>";
    let mut item = raw();
    item.language = Some("en".into());
    item.summary = Some(notice.into());
    let a = clean(&item, Utc::now()).unwrap().article;
    assert_eq!(a.language.as_deref(), Some("zh"));
    assert_eq!(a.extraction.provenance["language"], "detected");
    // Declared in a language of its script, the declaration stands, region and all.
    item.language = Some("zh-CN".into());
    let a = clean(&item, Utc::now()).unwrap().article;
    assert_eq!(a.language.as_deref(), Some("zh-CN"));
    // A German text under `en` is in the declared language's script: left as declared (the
    // check that would tell costs too much on every page).
    item.language = Some("en".into());
    item.summary = Some(
        "<p>Jede Menge Spaß bereitet es den ehrenamtlichen Experten im Reparaturcafé, wenn sie \
         defekte Hausgeräte wieder flott bekommen. Die regelmäßigen Besucherinnen und Besucher \
         wissen das schon lange. Gelegenheit zu einem Besuch im Reparaturcafé bietet sich am \
         Freitag in der Zeit von drei bis sechs Uhr im Familienzentrum an der Hauptstraße. \
         Mitgebracht werden können kleine Elektrogeräte, Fahrräder, Kleidung und Spielzeug, \
         die dann gemeinsam mit den Helfern untersucht und nach Möglichkeit repariert werden.</p>"
            .into(),
    );
    let a = clean(&item, Utc::now()).unwrap().article;
    assert_eq!(a.language.as_deref(), Some("en"));
}

#[test]
fn a_page_without_a_url_is_named_by_its_canonical_link_or_else_by_its_content() {
    let body = "<p>The council approved the budget after a long debate on Tuesday evening, and the \
                mayor said the new library would open in the spring as planned.</p>";
    let plain = format!("<html><head><title>Budget approved</title></head><body>{body}</body></html>");
    let a = crate::extract_document(&plain, None, Utc::now()).unwrap().article;
    assert_eq!(a.id, record::article_id(&plain));
    assert_eq!(a.canonical_url, None);
    let named = format!(
        "<html><head><title>Budget approved</title>\
         <link rel=\"canonical\" href=\"https://news.example/budget\"></head><body>{body}</body></html>"
    );
    let a = crate::extract_document(&named, None, Utc::now()).unwrap().article;
    assert_eq!(a.id, record::article_id("https://news.example/budget"));
}

#[test]
fn mojibake_is_repaired_and_accented_text_is_left_alone() {
    use crate::text::repair_mojibake;
    for (broken, fixed) in [
        (
            "Itâ€™s the â€œbestâ€\u{9d} cafÃ© in town",
            "It’s the “best” café in town",
        ),
        ("Ð¡Ð¾Ð±Ñ‹Ñ‚Ð¸Ñ\u{8f}", "События"),
        ("Price: 5 â‚¬, naÃ¯ve", "Price: 5 €, naïve"),
        ("Smile ðŸ˜€", "Smile 😀"),
    ] {
        assert_eq!(repair_mojibake(broken), fixed);
    }
    for fine in [
        "café, Straße, ¿Qué?",
        "CAFÉ’S MENU",
        "Ångström — «quoted»",
        "naïve façade",
    ] {
        assert!(matches!(repair_mojibake(fine), std::borrow::Cow::Borrowed(_)), "{fine}");
    }
    // Through the whole page path too.
    assert_eq!(crate::html_to_text("<p>donâ€™t</p>"), "don’t");
}

#[test]
fn the_extraction_section_sets_the_stages_page_budget() {
    let config: CleanerConfig =
        serde_json::from_str(r#"{"extraction": {"timeout_secs": 2, "max_page_bytes": 1000, "worker_memory_mb": 512}}"#)
            .unwrap();
    let budget = config.extraction.budget();
    assert_eq!(budget.timeout, std::time::Duration::from_secs(2));
    assert_eq!(budget.max_bytes, 1000);
    assert!(config.extraction.isolate, "isolation is on unless turned off");
    let err = serde_json::from_str::<CleanerConfig>(r#"{"extraction": {"timeout": 2}}"#).unwrap_err();
    assert!(err.to_string().contains("unknown field"), "{err}");

    // The stage extracts within that budget: a page over 1,000 bytes is not parsed.
    let item = feed_body_and_page(format!(
        "<html><body><p>{}</p></body></html>",
        "Words of the page. ".repeat(100)
    ));
    let mut stage = Cleaner::new(budget);
    let out = stage.process(item.clone()).unwrap();
    assert_eq!(out[0].article.extraction.page_failure.as_deref(), Some("too_large"));
    assert_eq!(out[0].article.text, "Feed body.");
    let out = Cleaner::default().process(item).unwrap();
    assert_eq!(
        out[0].article.extraction.page_failure, None,
        "the default budget takes the page"
    );
}
