use super::*;
use chrono::TimeZone;

fn sample_article() -> Article {
    Article {
        id: article_id("https://example.com/a"),
        url: Some("https://example.com/a?utm_source=x".into()),
        canonical_url: Some("https://example.com/a".into()),
        feed: FeedRef {
            url: "https://example.com/feed.xml".into(),
            name: Some("Example".into()),
            tags: vec![],
            language: None,
        },
        source: Source {
            domain: "example.com".into(),
            name: Some("Example".into()),
        },
        title: "Headline".into(),
        authors: vec!["A. Writer".into()],
        published_at: Some(Utc.with_ymd_and_hms(2021, 12, 15, 15, 19, 0).unwrap()),
        updated_at: None,
        fetched_at: Utc.with_ymd_and_hms(2021, 12, 15, 16, 0, 0).unwrap(),
        language: Some("en".into()),
        summary: None,
        text: "Body.".into(),
        word_count: 1,
        lead_image: None,
        categories: vec![],
        fingerprints: Fingerprints {
            content_sha256: "00".into(),
        },
        timestamps: StageTimes::default(),
        extraction: Default::default(),
    }
}

#[test]
fn enriched_record_is_flat_json_with_rfc3339_utc_times() {
    let record = EnrichedRecord {
        schema_version: EnrichedRecord::SCHEMA_VERSION,
        article: sample_article(),
        story: Story {
            story_id: "s".into(),
            revision: 1,
            duplicate_of: None,
            similarity: None,
        },
        topics: vec![],
        entities: vec![],
        focus_countries: vec!["RU".into()],
    };
    let value = serde_json::to_value(&record).unwrap();
    assert_eq!(value["schema_version"], 1);
    assert_eq!(value["id"], record.article.id.as_str());
    assert_eq!(value["story_id"], "s");
    assert_eq!(value["published_at"], "2021-12-15T15:19:00Z");
    assert!(value.get("article").is_none(), "article fields are flattened");
    let back: EnrichedRecord = serde_json::from_value(value).unwrap();
    assert_eq!(back, record);
}

#[test]
fn records_tolerate_unknown_fields() {
    let mut value = serde_json::to_value(CleanedRecord {
        schema_version: 1,
        article: sample_article(),
    })
    .unwrap();
    value["added_by_a_newer_producer"] = serde_json::json!(true);
    let back: CleanedRecord = serde_json::from_value(value).unwrap();
    assert_eq!(back.article, sample_article());
}

#[test]
fn checked_in_schemas_match_the_code() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/schemas");
    for (name, generated) in schemas() {
        let path = dir.join(name);
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == generated,
            "{} is out of date with the record types; regenerate with \
             `cargo run -p newswire -- schemas --out deploy/schemas`",
            path.display()
        );
    }
}
