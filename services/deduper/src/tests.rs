use chrono::TimeZone as _;
use record::{Article, FeedRef, Fingerprints, Source, StageTimes};

use super::*;

/// A wire story of ~120 words, four paragraphs.
const STORY: &str = "Russian President Vladimir Putin and Chinese leader Xi Jinping held talks by video link on Wednesday, \
pledging closer cooperation as both countries face growing pressure from Western governments over security and trade.\n\n\
The two leaders discussed energy supplies, a planned gas pipeline through Mongolia and joint military exercises in the \
Pacific, according to statements released by both governments after the meeting ended in the afternoon.\n\n\
Analysts said the call was meant to show unity before a summit of Western allies next week, where sanctions on Moscow \
and export controls on Beijing are expected to dominate the agenda of the foreign ministers.\n\n\
Officials in Washington declined to comment on the talks but said they were monitoring the relationship closely and \
would consult partners in Europe and Asia about a common response in the coming days.";

const OTHER: &str = "Heavy rain caused widespread flooding across the north of the country on Tuesday, forcing thousands \
of residents to leave their homes as rivers burst their banks and roads were closed by police and rescue teams.\n\n\
Emergency services said they had rescued dozens of people from cars and rooftops overnight, and warned that more rain \
was expected over the weekend in the hills where the ground is already saturated after weeks of storms.\n\n\
The government promised emergency funding for the worst-hit towns and said engineers would inspect bridges and dams \
before any roads were reopened to traffic later in the week.";

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
}

fn cleaned(url: &str, title: &str, text: &str) -> CleanedRecord {
    let canonical = record::normalize_url(url).unwrap();
    CleanedRecord {
        schema_version: 1,
        article: Article {
            id: record::article_id(&canonical),
            url: Some(url.into()),
            canonical_url: Some(canonical),
            feed: FeedRef {
                url: "https://example.com/feed".into(),
                name: None,
                tags: vec![],
                language: None,
            },
            source: Source {
                domain: "example.com".into(),
                name: None,
            },
            title: title.into(),
            authors: vec![],
            published_at: None,
            updated_at: None,
            fetched_at: at(0),
            language: None,
            summary: None,
            text: text.into(),
            word_count: 1,
            lead_image: None,
            categories: vec![],
            fingerprints: Fingerprints::default(),
            timestamps: StageTimes::default(),
            extraction: Default::default(),
        },
    }
}

fn duplicates(kind: &str) -> u64 {
    Metrics::get().duplicates.with_label_values(&[kind]).get()
}

#[test]
fn exact_repeats_of_a_url_are_dropped_even_with_tracking_parameters() {
    let mut deduper = Deduper::default();
    let first = deduper
        .dedupe(cleaned("https://example.com/a?utm_source=x", "Talks", STORY), at(0))
        .unwrap();
    assert_eq!(first.story.story_id, first.article.id);
    assert_eq!((first.story.revision, first.story.duplicate_of.clone()), (1, None));
    assert!(first.article.timestamps.deduplicated_at.is_some());
    let before = duplicates("exact_url");
    assert!(
        deduper
            .dedupe(cleaned("http://www.example.com/a", "Talks", STORY), at(1))
            .is_none()
    );
    assert!(duplicates("exact_url") > before, "counted");
    assert!(
        deduper
            .dedupe(cleaned("https://example.com/b", "Floods", OTHER), at(2))
            .is_some()
    );
    assert_eq!(deduper.remembered(), 2);
}

#[test]
fn the_same_content_under_another_url_is_dropped() {
    let mut deduper = Deduper::default();
    deduper
        .dedupe(cleaned("https://one.example/a", "Talks", STORY), at(0))
        .unwrap();
    let before = duplicates("exact_content");
    // Another outlet, another headline, the body reflowed: still the same content.
    let reflowed = STORY.replace("\n\n", "\n").replace(", ", " , ");
    assert!(
        deduper
            .dedupe(cleaned("https://two.example/b", "Putin, Xi talk", &reflowed), at(1))
            .is_none()
    );
    assert!(duplicates("exact_content") > before);
}

#[test]
fn a_near_duplicate_joins_the_story_and_says_of_what() {
    let mut deduper = Deduper::default();
    let first = deduper
        .dedupe(
            cleaned("https://one.example/a", "Putin and Xi hold talks", STORY),
            at(0),
        )
        .unwrap();
    let before = duplicates("near");
    // Syndicated: another headline, a paragraph dropped, boilerplate added.
    let paras: Vec<&str> = STORY.split("\n\n").collect();
    let copy = format!(
        "{}\n\n{}\n\n{}\n\nSign up for our newsletter for more world news.",
        paras[0], paras[1], paras[2]
    );
    let near = deduper
        .dedupe(
            cleaned("https://two.example/b", "Xi, Putin talk by video", &copy),
            at(5),
        )
        .unwrap();
    assert_eq!(near.story.story_id, first.story.story_id);
    assert_eq!(near.story.duplicate_of.as_deref(), Some(first.article.id.as_str()));
    assert_eq!(near.story.revision, 1);
    let similarity = near.story.similarity.unwrap();
    assert!((0.5..1.0).contains(&similarity), "{similarity}");
    assert!(duplicates("near") > before);
    // A different story on another subject starts its own cluster.
    let other = deduper
        .dedupe(cleaned("https://three.example/c", "Floods", OTHER), at(6))
        .unwrap();
    assert_eq!(other.story.story_id, other.article.id);
    assert_eq!(other.story.duplicate_of, None);
}

/// A video channel's description, repeated under each of its items.
const CHANNEL: &str = "To watch the latest updates, click the link below: \
https://www.youtube.com/playlist?list=PLgyY1WylJUmgfPR6cfM34CVfv_xeWMu01 To watch our newscasts, click the \
links below: https://www.youtube.com/playlist?list=PLgyY1WylJUmjhG4rVrq9CXF7oVrogq2wX Subscribe to the \
news channel! - http://bit.ly/TheNews Watch full episodes here: http://example.tv Visit our website at \
http://news.example.com Facebook: https://www.facebook.com/example Twitter: https://twitter.com/example \
Instagram: https://www.instagram.com/example For more news and updates from the region and the world, \
follow us on social media and turn on notifications so you never miss a story from our newsroom.";

#[test]
fn a_channel_boilerplate_does_not_make_its_items_one_story() {
    let mut deduper = Deduper::default();
    let items = [
        (
            "Former minister dies at 67 | TeleRadyo",
            "The former welfare minister died on Sunday.",
        ),
        (
            "Transport groups seek fare increase | TV Patrol",
            "Jeepney operators asked for a higher minimum fare.",
        ),
        (
            "Balloon festival returns after two years | TV Patrol",
            "Thousands attended the fiesta in the province.",
        ),
    ];
    let (mut stories, mut ids) = (std::collections::BTreeSet::new(), Vec::new());
    for (n, (title, lead)) in items.iter().enumerate() {
        let out = deduper
            .dedupe(
                cleaned(
                    &format!("https://video.example/{n}"),
                    title,
                    &format!("{lead} {CHANNEL}"),
                ),
                at(n as i64),
            )
            .unwrap();
        assert_eq!(out.story.duplicate_of, None, "{title}");
        stories.insert(out.story.story_id);
        ids.push(out.article.id);
    }
    assert_eq!(stories.len(), items.len());
    // The same item re-posted elsewhere with its own outlet suffix is still one story.
    let repost = deduper
        .dedupe(
            cleaned(
                "https://mirror.example/x",
                "Transport groups seek fare increase - Mirror",
                &format!("Jeepney operators asked for a higher minimum fare. {CHANNEL} Read more on our site."),
            ),
            at(10),
        )
        .unwrap();
    assert_eq!(repost.story.duplicate_of.as_deref(), Some(ids[1].as_str()));
}

#[test]
fn material_changes_are_revisions_and_trivial_ones_are_not() {
    let mut deduper = Deduper::default();
    let url = "https://one.example/live";
    let text = format!("Updated 10:32 GMT. {STORY}\n\n1,204 shares");
    let first = deduper.dedupe(cleaned(url, "Talks", &text), at(0)).unwrap();
    // Whitespace, the time stamp and the share count change: not a revision.
    let trivial = format!("Updated  11:05 GMT.\n{STORY}\n\n1,377 shares");
    assert!(deduper.dedupe(cleaned(url, "Talks", &trivial), at(60)).is_none());
    // A new paragraph is.
    let before = Metrics::get().revisions.get();
    let developed =
        format!("{trivial}\n\nThe Kremlin later said a visit by Mr Xi to Moscow was planned for the spring.");
    let second = deduper.dedupe(cleaned(url, "Talks", &developed), at(120)).unwrap();
    assert_eq!(second.article.id, first.article.id);
    assert_eq!(second.story.story_id, first.story.story_id);
    assert_eq!(second.story.revision, 2);
    assert_eq!(second.story.duplicate_of, None);
    assert!(Metrics::get().revisions.get() > before);
    // So is a corrected figure.
    let corrected = developed.replace("Wednesday", "Thursday");
    assert_eq!(
        deduper
            .dedupe(cleaned(url, "Talks", &corrected), at(180))
            .unwrap()
            .story
            .revision,
        3
    );
    // And the same revision again is a repeat.
    assert!(deduper.dedupe(cleaned(url, "Talks", &corrected), at(240)).is_none());
}

#[test]
fn the_window_evicts_old_articles_and_bounds_memory() {
    let settings = Settings {
        window_secs: 3600,
        ..Settings::default()
    };
    let mut deduper = Deduper::new(settings);
    for i in 0..50 {
        let text = format!("{OTHER} Report number {i} from the valley.");
        deduper
            .dedupe(
                cleaned(&format!("https://e.example/{i}"), &format!("Floods {i}"), &text),
                at(i * 60),
            )
            .unwrap();
    }
    assert_eq!(deduper.remembered(), 50);
    deduper.take_state_changes();
    let bytes = deduper.index().memory_bytes();
    assert!(bytes > 50 * index::PERMUTATIONS * 4, "{bytes} bytes");
    // An hour later the first ones are forgotten: a repeat of article 0 is new again.
    let again = deduper
        .dedupe(cleaned("https://e.example/0", "Floods 0", "x y z"), at(3600 + 90))
        .unwrap();
    assert_eq!(again.story.revision, 1);
    assert!(deduper.remembered() < 50, "{}", deduper.remembered());
    let changes = deduper.take_state_changes();
    assert!(
        changes.iter().any(|c| c.value.is_none()),
        "evictions are persisted as deletions"
    );
    // Memory follows the window, not the uptime.
    for i in 0..200 {
        let text = format!("{STORY} Item {i}.");
        let _ = deduper.dedupe(
            cleaned(&format!("https://f.example/{i}"), "Talks", &text),
            at(100_000 + i * 60),
        );
    }
    assert!(deduper.remembered() <= 61, "{} remembered", deduper.remembered());
}

#[test]
fn state_survives_through_its_changes() {
    let mut deduper = Deduper::default();
    let first = deduper
        .dedupe(
            cleaned("https://one.example/a", "Putin and Xi hold talks", STORY),
            at(0),
        )
        .unwrap();
    deduper
        .dedupe(cleaned("https://one.example/b", "Floods", OTHER), at(1))
        .unwrap();
    let changes = deduper.take_state_changes();
    assert_eq!(changes.len(), 2);
    assert!(deduper.take_state_changes().is_empty(), "changes are taken once");

    let mut restarted = Deduper::default();
    for change in &changes {
        restarted.restore(&change.key, change.value.as_deref());
    }
    assert_eq!(restarted.remembered(), 2);
    // Exact, near and revision decisions all see the restored state.
    assert!(
        restarted
            .dedupe(
                cleaned("https://one.example/a", "Putin and Xi hold talks", STORY),
                at(2)
            )
            .is_none()
    );
    let copy = STORY.replace("Wednesday", "Wednesday evening");
    let near = restarted
        .dedupe(cleaned("https://two.example/x", "Talks", &copy), at(3))
        .unwrap();
    assert_eq!(near.story.story_id, first.article.id);
    restarted.reset();
    assert_eq!(restarted.remembered(), 0);
    assert!(
        restarted
            .dedupe(cleaned("https://one.example/a", "Talks", STORY), at(4))
            .is_some()
    );
}

#[test]
fn entries_of_the_first_format_still_catch_repeats() {
    let mut deduper = Deduper::default();
    let record = cleaned("https://one.example/a", "Talks", STORY);
    deduper.restore(record.article.id.as_bytes(), Some(at(0).to_rfc3339().as_bytes()));
    assert!(deduper.dedupe(record, at(1)).is_none());
}

#[test]
fn entries_round_trip() {
    let entry = index::Entry {
        seen: 12,
        story: 7,
        duplicate_of: Some(9),
        similarity: 0.75,
        revision: 3,
        content: 11,
        material: 13,
        title: 17,
        numbers: 19,
        signature: vec![1, 2, 3].into_boxed_slice(),
        words: 23,
        samples: vec![4, 8, 15].into_boxed_slice(),
        text_numbers: vec![16, 42].into_boxed_slice(),
        headline: "习近平会见韩国总理".into(),
    };
    let encoded = entry.encode();
    assert_eq!(index::Entry::decode(1, &encoded), Some(entry.clone()));
    assert_eq!(
        index::Entry::decode(1, b"\x04\x00"),
        None,
        "a truncated entry is refused"
    );
    let headline = entry.headline.len();
    assert_eq!(
        index::Entry::decode(1, &encoded[..encoded.len() - headline - 2]),
        None,
        "numbers cut short are refused"
    );
    // The fixed fields and the signature, as every format since the second has them.
    let fixed = 1 + 8 + 16 + 16 + 1 + 4 + 4 + 8 + 8 + 8 + 8;
    let signature = &encoded[fixed..fixed + 4 + 3 * 4];
    // The format before numbers: words, then the samples to the end.
    let mut v3 = vec![3u8];
    v3.extend(&encoded[1..fixed]);
    v3.extend(signature);
    v3.extend(23u32.to_le_bytes());
    for v in [15u32, 4, 8] {
        v3.extend(v.to_le_bytes());
    }
    assert_eq!(
        index::Entry::decode(1, &v3),
        Some(index::Entry {
            text_numbers: Box::new([]),
            headline: Box::default(),
            ..entry.clone()
        }),
        "samples are sorted, and there are no numbers and no headline"
    );
    // The format before containment: the signature's values run to the end.
    let mut v2 = vec![2u8];
    v2.extend(&encoded[1..fixed]);
    for v in [1u32, 2, 3] {
        v2.extend(v.to_le_bytes());
    }
    assert_eq!(
        index::Entry::decode(1, &v2),
        Some(index::Entry {
            words: 0,
            samples: Box::new([]),
            text_numbers: Box::new([]),
            headline: Box::default(),
            ..entry
        })
    );
}

/// The first paragraph of [`STORY`], as a feed carries it.
fn lead_of(story: &str) -> &str {
    story.split("\n\n").next().unwrap()
}

/// Records emitted as new stories (what downstream counts).
fn counted(records: &[&UniqueRecord]) -> usize {
    records
        .iter()
        .filter(|r| r.story.duplicate_of.is_none() && r.story.revision == 1)
        .count()
}

#[test]
fn a_feed_summary_and_its_article_are_one_story_whichever_comes_first() {
    let summary_text = format!("{} Read more", lead_of(STORY));
    // Jaccard cannot see it: the summary is a quarter of the article.
    let jaccard = fingerprint::jaccard(
        &fingerprint::shingles("Putin and Xi hold talks", &summary_text, 3),
        &fingerprint::shingles("Putin and Xi hold talks", STORY, 3),
    );
    assert!(jaccard < 0.4, "{jaccard}");
    for summary_first in [true, false] {
        let mut deduper = Deduper::default();
        let summary = cleaned(
            "https://aggregator.example/item/1",
            "Putin and Xi hold talks - Aggregator",
            &summary_text,
        );
        let article = cleaned("https://one.example/a", "Putin and Xi hold talks", STORY);
        let (first, second) = if summary_first {
            (summary, article)
        } else {
            (article, summary)
        };
        let before = duplicates("contained");
        let first = deduper.dedupe(first, at(0)).unwrap();
        let second = deduper.dedupe(second, at(30)).unwrap();
        assert_eq!(first.story.duplicate_of, None);
        assert_eq!(
            second.story.story_id, first.story.story_id,
            "summary first: {summary_first}"
        );
        assert_eq!(second.story.duplicate_of.as_deref(), Some(first.article.id.as_str()));
        assert!(second.story.similarity.unwrap() >= 0.8, "{:?}", second.story.similarity);
        assert!(duplicates("contained") > before, "counted as contained");
        assert_eq!(counted(&[&first, &second]), 1, "downstream counts one story");
        // A rewrite of the article by another outlet later still joins the same story.
        let paras: Vec<&str> = STORY.split("\n\n").collect();
        let rewrite = format!(
            "{}\n\n{}\n\n{}\n\nOur correspondent contributed.",
            paras[0], paras[1], paras[2]
        );
        let third = deduper
            .dedupe(
                cleaned("https://two.example/b", "Xi and Putin hold talks", &rewrite),
                at(60),
            )
            .unwrap();
        assert_eq!(third.story.story_id, first.story.story_id);
    }
}

#[test]
fn a_shared_background_paragraph_does_not_merge_two_stories() {
    // The floods story quotes the talks story's lead as background.
    let paras: Vec<&str> = OTHER.split("\n\n").collect();
    let with_background = format!("{}\n\n{}\n\n{}\n\n{}", paras[0], paras[1], lead_of(STORY), paras[2]);
    let summary = format!("{} Continue reading...", lead_of(STORY));
    for background_first in [true, false] {
        let mut deduper = Deduper::default();
        let floods = cleaned(
            "https://one.example/floods",
            "Floods force thousands from homes",
            &with_background,
        );
        let talks = cleaned("https://two.example/talks", "Putin and Xi hold talks", &summary);
        let (a, b) = if background_first {
            (floods, talks)
        } else {
            (talks, floods)
        };
        let a = deduper.dedupe(a, at(0)).unwrap();
        let b = deduper.dedupe(b, at(10)).unwrap();
        assert_eq!(b.story.duplicate_of, None, "background first: {background_first}");
        assert_ne!(a.story.story_id, b.story.story_id);
    }
}

#[test]
fn a_series_summary_is_not_contained_in_another_days_page() {
    let template = "Here are the key events on the war in Ukraine as our live coverage continues through the \
                    day, with reports from our correspondents in Kyiv, Kharkiv and Moscow.";
    let mut deduper = Deduper::default();
    let day_366 = deduper
        .dedupe(
            cleaned(
                "https://live.example/366",
                "Russia-Ukraine war live: day 366",
                &format!("{template}\n\n{STORY}"),
            ),
            at(0),
        )
        .unwrap();
    let day_392 = deduper
        .dedupe(
            cleaned(
                "https://live.example/392",
                "Russia-Ukraine war live: day 392",
                &format!("{template} Read more"),
            ),
            at(10),
        )
        .unwrap();
    assert_eq!(day_392.story.duplicate_of, None);
    assert_ne!(day_392.story.story_id, day_366.story.story_id);
}

/// One month's trade figures in a bulletin's template: `month`, then its figures.
fn figures(month: &str, total: &str, growth: &str, belt: &str, belt_growth: &str) -> String {
    format!(
        "Figures released by the commerce ministry on Thursday show that in the {month}, outbound \
         non-financial direct investment reached {total} billion yuan, up {growth} percent year on year. \
         Of that, investment by Chinese companies in Belt and Road countries came to {belt} billion yuan, \
         up {belt_growth} percent, the ministry said in its regular monthly briefing to reporters. \
         A spokesman told the briefing that the country will keep opening up, improve services for \
         companies investing abroad and guide them to operate in line with local laws and regulations, \
         while strengthening the protection of their overseas interests and the management of risks."
    )
}

#[test]
fn a_templates_next_instance_is_not_contained_in_the_last_one() {
    let bulletin = "Domestic news roundup";
    let october = figures("first ten months", "7,362", "17.3", "1,816.9", "27");
    let later_items = "In other news, the national sports games closed in Nanning after ten days, with more \
                       than twenty thousand athletes taking part and several youth records broken on the track. \
                       Farmers in the north began the winter wheat sowing early this year after steady autumn rain, \
                       and agronomists expect the crop to benefit from the moist soil and the mild temperatures. \
                       A new high-speed railway line linking two provincial capitals opened to passengers, cutting \
                       the journey between them from five hours to under two, the railway operator announced. \
                       Museums across the country reported record visitor numbers during the holiday week, with \
                       exhibitions of bronze ware, porcelain and calligraphy drawing long queues every morning.";
    for october_first in [true, false] {
        let mut deduper = Deduper::default();
        let long = cleaned(
            "https://tv.example/1116",
            bulletin,
            &format!("{october}\n\n{later_items}"),
        );
        // The September bulletin's summary: the same template, other figures.
        let september = cleaned(
            "https://wire.example/1026",
            &format!("{bulletin} - Wire"),
            &figures("first three quarters", "6,731.4", "18.7", "1,647.1", "27.7"),
        );
        let (a, b) = if october_first {
            (long, september)
        } else {
            (september, long)
        };
        let a = deduper.dedupe(a, at(0)).unwrap();
        let b = deduper.dedupe(b, at(10)).unwrap();
        assert_eq!(b.story.duplicate_of, None, "October first: {october_first}");
        assert_ne!(a.story.story_id, b.story.story_id);
    }
    // Its own summary, figures and all, is its story.
    let mut deduper = Deduper::default();
    let long = cleaned(
        "https://tv.example/1116",
        bulletin,
        &format!("{october}\n\n{later_items}"),
    );
    let long = deduper.dedupe(long, at(0)).unwrap();
    let summary = cleaned("https://wire.example/1116", &format!("{bulletin} - Wire"), &october);
    let summary = deduper.dedupe(summary, at(10)).unwrap();
    assert_eq!(summary.story.story_id, long.story.story_id);
}

#[test]
fn one_chinese_headline_template_with_another_name_is_another_story() {
    assert!(index::template_instances(
        &index::template_headline("李强举行仪式欢迎匈牙利总理访华"),
        &index::template_headline("李强举行仪式欢迎埃塞俄比亚总理访华 - 新华网"),
    ));
    assert!(index::template_instances(
        &index::template_headline("习近平会见尼泊尔总理"),
        &index::template_headline("习近平会见韩国总理"),
    ));
    // A long slot shares a few characters by chance: a series of commentaries.
    assert!(index::template_instances(
        &index::template_headline(
            "人民日报评论员文章：继续推进生态文明建设要正确处理几个重大关系——论学习贯彻习近平总书记在全国生态环境保护大会上重要讲话"
        ),
        &index::template_headline(
            "人民日报评论员文章：全面推进美丽中国建设，加快推进人与自然和谐共生的现代化——论学习贯彻习近平总书记在全国生态环境保护大会上重要讲话"
        ),
    ));
    // Two documents announced under one template: the slots share 医疗卫生体系, but the
    // titles between 《》 are not one another's.
    assert!(index::template_instances(
        &index::template_headline("中办 国办印发《关于进一步完善医疗卫生服务体系的意见》"),
        &index::template_headline("中办 国办印发《关于进一步深化改革促进乡村医疗卫生体系健康发展的意见》 - 新华网"),
    ));
    for (a, b) in [
        ("习近平会见韩国总理", "习近平会见韩国总理 - 新华网"),
        // One document, named in full and in short, or in traditional characters.
        (
            "中办 国办印发《关于进一步完善医疗卫生服务体系的意见》",
            "中共中央办公厅 国务院办公厅印发《关于进一步完善医疗卫生服务体系的意见》（全文）",
        ),
        (
            "中办 国办印发《关于进一步完善医疗卫生服务体系的意见》",
            "两办印发《意见》 进一步完善医疗卫生服务体系",
        ),
        (
            "中办 国办印发《关于进一步完善医疗卫生服务体系的意见》",
            "中辦 國辦印發《關於進一步完善醫療衛生服務體系的意見》",
        ),
        // One programme named by both, different stories told apart by the rest.
        (
            "《新闻联播》报道习近平会见韩国总理",
            "《新闻联播》报道习近平会见韩国总理韩德洙",
        ),
        // A rewrite names the same people in other words.
        (
            "国家主席习近平同俄罗斯总统普京举行会谈",
            "国家主席习近平同普京总统举行会谈",
        ),
        ("习近平会见韩国总理", "习近平会见韩国总理韩德洙"),
        ("习近平会见韩国总理", "习近平会晤韩国总理"),
        (
            "Xi meets Nepal's prime minister",
            "Xi meets South Korea's prime minister",
        ),
    ] {
        assert!(
            !index::template_instances(&index::template_headline(a), &index::template_headline(b)),
            "{a} / {b}"
        );
    }
    // Two visits under one template, texts alike but for the name and the date.
    let text = |who: &str, day: &str| {
        format!(
            "新华社北京电 国务院总理李强{day}日上午在人民大会堂北大厅举行仪式，欢迎{who}总理对中国进行正式访问。\
             李强和{who}总理登上检阅台，军乐团奏中国和{who}两国国歌，天安门广场鸣放礼炮。\
             {who}总理在李强陪同下检阅中国人民解放军三军仪仗队，并观看分列式。\
             欢迎仪式结束后，两国总理举行会谈，双方一致同意推动两国关系不断向前发展，深化各领域务实合作。"
        )
    };
    let mut deduper = Deduper::default();
    let a = deduper
        .dedupe(
            cleaned(
                "https://x.example/a",
                "李强举行仪式欢迎匈牙利总理访华",
                &text("匈牙利", "12"),
            ),
            at(0),
        )
        .unwrap();
    let b = deduper
        .dedupe(
            cleaned(
                "https://x.example/b",
                "李强举行仪式欢迎埃塞俄比亚总理访华",
                &text("埃塞俄比亚", "13"),
            ),
            at(10),
        )
        .unwrap();
    assert_eq!(b.story.duplicate_of, None);
    assert_ne!(a.story.story_id, b.story.story_id);
    // A copy under the same headline, with a credit line, joins.
    let c = deduper
        .dedupe(
            cleaned(
                "https://y.example/a",
                "李强举行仪式欢迎匈牙利总理访华 - 新华网",
                &format!("{}（记者王强）", text("匈牙利", "12")),
            ),
            at(20),
        )
        .unwrap();
    assert_eq!(c.story.story_id, a.story.story_id);
}

#[test]
fn a_chinese_daily_report_with_other_figures_is_another_days_story() {
    // One headline every day, one text but for the figures.
    let report = |day: u32, cases: u32, local: u32, deaths: u32| {
        format!(
            "{day}日0—24时，31个省（自治区、直辖市）和新疆生产建设兵团报告新增确诊病例{cases}例。\
             其中境外输入病例{local}例，本土病例{}例；新增死亡病例{deaths}例，均为本土病例。\
             当日新增治愈出院病例若干例，解除医学观察的密切接触者若干人，重症病例较前一日有所减少。\
             境外输入现有确诊病例若干例，累计确诊病例若干例，累计治愈出院病例若干例，无死亡病例。\
             截至目前，据各地报告，现有确诊病例若干例，累计报告确诊病例若干例，累计死亡病例若干例。\
             尚在医学观察的密切接触者若干人，累计追踪到密切接触者若干人，各地继续做好疫情防控工作。",
            cases - local
        )
    };
    let title = "国家卫生健康委通报最新疫情";
    let mut deduper = Deduper::default();
    let monday = deduper
        .dedupe(cleaned("https://x.example/12", title, &report(12, 2815, 37, 13)), at(0))
        .unwrap();
    let tuesday = deduper
        .dedupe(
            cleaned("https://x.example/13", title, &report(13, 3101, 52, 9)),
            at(86_400),
        )
        .unwrap();
    assert_eq!(tuesday.story.duplicate_of, None);
    assert_ne!(tuesday.story.story_id, monday.story.story_id);
    // Monday's report again, from another outlet and with a credit line, is Monday's story.
    let copy = deduper
        .dedupe(
            cleaned(
                "https://y.example/12",
                &format!("{title} - 新华网"),
                &format!("{}（记者王强）", report(12, 2815, 37, 13)),
            ),
            at(86_500),
        )
        .unwrap();
    assert_eq!(copy.story.story_id, monday.story.story_id);
}

/// A daily newsletter's items: the same headline, a teaser of their own, the same sign-up text.
const SIGN_UP: &str = "Sign up for our daily newsletter to get the most important stories delivered to your inbox \
                       every morning. You can unsubscribe at any time. By signing up you agree to our terms of use and \
                       privacy policy.";

fn teaser(n: usize) -> String {
    format!(
        "In edition {n}: council {n} approved budget {n} after a long debate, while league {n} fined club {n} \
         and museum {n} reopened its wing {n} to visitors from region {n}."
    )
}

#[test]
fn boilerplate_many_articles_carry_makes_no_text_contained_or_alike() {
    let mut deduper = Deduper::default();
    for n in 0..30 {
        let out = deduper
            .dedupe(
                cleaned(
                    &format!("https://daily.example/{n}"),
                    "Morning briefing",
                    &format!("{}\n\n{SIGN_UP}", teaser(n)),
                ),
                at(n as i64),
            )
            .unwrap();
        if n >= 25 {
            // The sign-up text is common by now: it is no evidence, by Jaccard or containment.
            assert_eq!(out.story.duplicate_of, None, "edition {n}");
        }
    }
    // The sign-up text alone, under the same headline: contained in every edition, and the
    // same story as none of them.
    let sign_up = deduper
        .dedupe(
            cleaned("https://daily.example/sign-up", "Morning briefing", SIGN_UP),
            at(40),
        )
        .unwrap();
    assert_eq!(sign_up.story.duplicate_of, None);
    // An edition's own teaser, re-posted elsewhere with the sign-up text, is still its story.
    let repost = deduper
        .dedupe(
            cleaned(
                "https://mirror.example/27",
                "Morning briefing",
                &format!("{}\n\n{SIGN_UP}\n\nRead more on our site.", teaser(27)),
            ),
            at(41),
        )
        .unwrap();
    let edition = record::article_id(&record::normalize_url("https://daily.example/27").unwrap());
    assert_eq!(repost.story.story_id, edition);
}

#[test]
fn containment_survives_a_restart() {
    let mut deduper = Deduper::default();
    let summary = deduper
        .dedupe(
            cleaned(
                "https://aggregator.example/item/1",
                "Putin and Xi hold talks",
                lead_of(STORY),
            ),
            at(0),
        )
        .unwrap();
    let changes = deduper.take_state_changes();
    let mut restarted = Deduper::default();
    for change in &changes {
        restarted.restore(&change.key, change.value.as_deref());
    }
    let article = restarted
        .dedupe(
            cleaned("https://one.example/a", "Putin and Xi hold talks", STORY),
            at(30),
        )
        .unwrap();
    assert_eq!(article.story.story_id, summary.story.story_id);
    assert_eq!(article.story.duplicate_of.as_deref(), Some(summary.article.id.as_str()));
}
