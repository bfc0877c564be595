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
    assert_eq!(cleaned.article.text, "Headline\n\nPage body.");
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
