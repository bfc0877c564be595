use std::path::Path;

use super::*;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn shipped() -> Taxonomy {
    Taxonomy::load(&repo().join("deploy/taxonomy.yaml")).unwrap()
}

const GAZETTEER: &[(&str, &str)] = &[
    (
        "countries",
        "kind: country\nentities:\n\
         \x20 - {id: Q159, name: Russia, code: RU, aliases: [Russian, Moscow, Kremlin, Россия, России, 俄罗斯]}\n\
         \x20 - {id: Q148, name: China, code: CN, aliases: [Chinese, Beijing, 中国, 北京]}\n\
         \x20 - {id: Q30, name: United States, code: US, aliases: [U.S., Washington], cased: [US]}\n",
    ),
    (
        "people",
        "kind: person\nentities:\n\
         \x20 - {id: Q7747, name: Vladimir Putin, country: RU, aliases: [Putin, Путин, 普京]}\n\
         \x20 - {id: Q15031, name: Xi Jinping, country: CN, aliases: [习近平], cased: [Xi]}\n",
    ),
    (
        "organisations",
        "kind: organisation\nentities:\n  - {id: Q7184, name: NATO, aliases: [НАТО, 北约]}\n",
    ),
];

fn gazetteer() -> Gazetteer {
    let mut g = Gazetteer::default();
    for (name, yaml) in GAZETTEER {
        g.add(name, yaml).unwrap();
    }
    g
}

fn one_topic(query: &str) -> Result<Taxonomy, TaxonomyError> {
    one_topic_over(gazetteer(), query)
}

/// A taxonomy of one topic, slug `t`, over the gazetteer `g`.
fn one_topic_over(g: Gazetteer, query: &str) -> Result<Taxonomy, TaxonomyError> {
    Taxonomy::compile(
        vec![TopicDef {
            slug: "t".into(),
            label: "T".into(),
            description: String::new(),
            parent: None,
            query: query.into(),
            min_score: 0.0,
        }],
        g,
    )
}

/// Whether `query` matches an article with this title and text.
#[track_caller]
fn check(query: &str, title: &str, text: &str, expected: bool) {
    let taxonomy = one_topic(query).unwrap_or_else(|e| panic!("{query}: {e}"));
    let got = !taxonomy
        .matches(&[(Field::Title, title), (Field::Text, text)])
        .is_empty();
    assert_eq!(got, expected, "query {query:?} on title {title:?}, text {text:?}");
}

#[test]
fn operators() {
    check("putin", "Putin speaks", "", true);
    check("putin", "Putins", "", false);
    check("putin*", "Putinism", "", true);
    check("putin AND xi", "Putin meets Xi", "", true);
    check("putin AND xi", "Putin meets Biden", "", false);
    check("putin OR xi", "Xi speaks", "", true);
    check("putin NOT xi", "Putin meets Xi", "", false);
    check("putin AND NOT biden", "Putin meets Xi", "", true);
    check("(putin OR xi) AND (trade OR gas)", "Xi and Putin", "A gas deal.", true);
    check("(putin OR xi) AND (trade OR gas)", "Xi and Putin", "A summit.", false);
    check(
        "putin AND (xi OR (biden AND NOT trump))",
        "Putin",
        "Biden, not the other",
        true,
    );
    check(
        "putin AND (xi OR (biden AND NOT trump))",
        "Putin",
        "Biden and Trump",
        false,
    );
    check("\"power of siberia\"", "", "The Power of Siberia pipeline", true);
    check("\"power of siberia\"", "", "power in Siberia", false);
    check("\"nord stre*\"", "", "Nord Streams", true);
    check("u.s.", "", "U.S. and allies", true);
    check("russia", "", "Russia's war", true);
    check("xi", "", "Xinjiang and Xi'an", false);
}

#[test]
fn near_is_either_order_within_n_words() {
    check("putin NEAR/2 xi", "Putin and Xi", "", true);
    check("putin NEAR/2 xi", "Xi and Putin", "", true);
    check("putin NEAR/1 xi", "Putin and Xi", "", false);
    check("putin NEAR/1 xi", "Putin Xi", "", true);
    check("putin NEAR/3 xi", "Putin said that he and Xi", "", false);
    check("putin NEAR/5 xi", "Putin said that he and Xi", "", true);
    check("putin NEAR/5 xi", "Putin", "Xi", false);
    check(
        "\"vladimir putin\" NEAR/2 \"xi jinping\"",
        "Vladimir Putin met Xi Jinping",
        "",
        true,
    );
    check(
        "\"vladimir putin\" NEAR/1 \"xi jinping\"",
        "Vladimir Putin met Xi Jinping",
        "",
        false,
    );
    check(
        "(putin OR kremlin) NEAR/3 (beijing OR xi)",
        "",
        "the Kremlin said Beijing",
        true,
    );
    check("putin NEAR/3 putin*", "Putin", "", false);
    check("putin NEAR/3 putin*", "Putin, Putinism", "", true);
    check("title:putin NEAR/3 xi", "Putin and Xi", "", true);
    check("title:putin NEAR/3 xi", "", "Putin and Xi", false);
}

#[test]
fn except_drops_occurrences_inside_the_excluded_phrases() {
    let nato = "org:NATO EXCEPT (\"nato chief\" OR \"nato ally\")";
    check(nato, "NATO chief warns Russia", "", false);
    check(nato, "France, a NATO ally, recalls envoy", "", false);
    // Another occurrence of the term still counts, in the same field or another one.
    check(nato, "NATO chief says NATO will meet", "", true);
    check(nato, "NATO chief warns Russia", "NATO summit", true);
    // Only an overlap cancels: the words side by side elsewhere do not.
    check(nato, "Ally warns NATO", "", true);
    check(nato, "НАТО", "", true);
    // An excluded phrase neither makes the query true nor scores.
    check("putin EXCEPT \"putin regime\"", "The Putin regime", "", false);
    check("putin EXCEPT \"putin regime\" OR regime", "The Putin regime", "", true);
    // A scope on the excluded side limits where it cancels.
    check("putin EXCEPT title:\"putin regime\"", "", "The Putin regime", true);
    check("putin EXCEPT title:\"putin regime\"", "The Putin regime", "", false);
    // EXCEPT inside NEAR: the pair must use an occurrence that is left.
    check(
        "(putin EXCEPT \"putin regime\") NEAR/3 xi",
        "Xi and the Putin regime",
        "",
        false,
    );
    check("(putin EXCEPT \"putin regime\") NEAR/3 xi", "Xi and Putin", "", true);
    let t = one_topic(nato).unwrap();
    let m = &t.matches(&[
        (Field::Title, "NATO chief: NATO to meet"),
        (Field::Summary, "A NATO ally"),
    ])[0];
    assert_eq!(m.score, 3.0, "only the second title occurrence counts");
}

#[test]
fn with_keeps_the_occurrences_that_have_the_context_near() {
    let q = "sanction* WITH/3 (country:* OR oil)";
    check(q, "Sanctions on Russian oil", "", true);
    check(q, "China hit by sanctions", "", true);
    check(q, "Disciplinary sanctions for the club", "", false);
    // The distance is counted as NEAR's, in the same field, in either order.
    check(q, "Sanctions are now being felt in Moscow", "", false);
    check(q, "Sanctions felt in Moscow", "", true);
    check(q, "Sanctions are felt in Moscow", "", false);
    check(q, "Sanctions", "Moscow", false);
    // The context alone does not make the query true.
    check(q, "Russian oil", "", false);
    // With EXCEPT: the occurrences left must have the context.
    let sense = "(sanction* EXCEPT \"benefit sanctions\") WITH/5 country:*";
    check(sense, "UK benefit sanctions rise", "", false);
    check(sense, "UK sanctions on Russia", "", true);
    // Only the inner occurrences score; the context's do not.
    let t = one_topic(q).unwrap();
    let m = &t.matches(&[(Field::Title, "Russia, China and sanctions")])[0];
    assert_eq!(m.score, 3.0, "{m:?}");
    assert_eq!(m.matches.len(), 1, "{m:?}");
    // An occurrence without context does not score (the title's), one with it does (the
    // text's, in its lead: 2).
    let m = &t.matches(&[(Field::Title, "Sanctions"), (Field::Text, "Oil sanctions")])[0];
    assert_eq!(m.score, 2.0, "{m:?}");
    // Two contexts, nested: both must be there.
    let both = "(sanction* WITH/2 oil) WITH/4 country:*";
    check(both, "Oil sanctions on Russia", "", true);
    check(both, "Oil sanctions", "", false);
    check(both, "Russia: sanctions", "", false);
    // A WITH can be a NEAR operand; it is not chained, and its sides are terms.
    check("(sanction* WITH/2 oil) NEAR/3 putin", "Putin: oil sanctions", "", true);
    check("(sanction* WITH/2 oil) NEAR/3 putin", "Putin: sanctions", "", false);
    for (query, message) in [
        ("a WITH/2 b WITH/2 c", "column 12: WITH/n cannot be chained"),
        ("a WITH/2 (b AND c)", "column 10: WITH/n joins terms"),
        ("a WITH b", "column 3: WITH needs a distance"),
        ("a WITH/0 b", "column 3: WITH/n needs a whole number"),
    ] {
        let err = one_topic(query).unwrap_err().to_string();
        assert!(err.contains(message), "{query}: {err}");
    }
}

#[test]
fn a_star_reference_is_every_entity_of_its_kind() {
    check("country:*", "Beijing", "", true);
    check("country:*", "Putin", "", false);
    check("person:*", "Putin", "", true);
    check("org:*", "НАТО", "", true);
    check("entity:*", "习近平", "", true);
    check("actors:*", "Putin", "", true);
    check("actors:*", "NATO", "", false);
    check("country:*", "Nothing of the gazetteer", "", false);
}

/// The lines a new user tries first (issue 16): a Russian and a Chinese headline of a
/// Russia–China deal are russia-china; in Chinese the relationship words must stand beside
/// both countries, so a bundle of unrelated items naming each is not.
#[test]
fn russian_and_chinese_headlines_of_a_russia_china_deal_are_russia_china() {
    let t = shipped();
    let topics = |language: &str, title: &str, text: &str| -> Vec<String> {
        t.tag_in(Some(language), &[(Field::Title, title), (Field::Text, text)])
            .topics
            .into_iter()
            .map(|m| m.slug)
            .collect()
    };
    assert!(
        topics("ru", "Россия и Китай подписали соглашение о поставках газа", "").contains(&"russia-china".to_string())
    );
    assert!(topics("zh", "中俄签署天然气贸易协议", "").contains(&"russia-china".to_string()));
    let bundle = "俄罗斯国防部23日称，俄军在多个方向打击了目标。俄罗斯国防部表示，俄方将继续推进行动。\n\n".to_string()
        + &"某地举行了一场文化节活动，吸引大批游客参观。".repeat(4)
        + "\n\n中国国家主席习近平出席中国与东盟国家贸易合作会谈，中方表示愿同东盟加强合作，中国商务部签署多项协议。";
    assert!(
        !topics("zh", "国际联播快讯", &bundle).contains(&"russia-china".to_string()),
        "{bundle}"
    );
}

/// What the shipped topics' descriptions promise, in each language a user tries: a power grid
/// under attack is energy security (a plant shelled in the fighting, or the grid being built, is
/// not); the US–Taiwan pair (美台, 台美) names both and the Taiwan Affairs Office is Taiwan's
/// («舞台美术», stage design, names neither); 美俄关系 is a US–Russia headline; the «gas OPEC»
/// is not OPEC, and a Xinjiang autonomous region's formal name is a place.
#[test]
fn descriptions_hold_in_four_languages() {
    let t = shipped();
    let tag = |language: &str, title: &str| t.tag_in(Some(language), &[(Field::Title, title)]);
    let has = |language: &str, title: &str, slug: &str| tag(language, title).topics.iter().any(|m| m.slug == slug);
    for (language, title) in [
        ("en", "Russia pounds Ukraine's power grid with drones and missiles"),
        ("en", "Substations shot at in North Carolina, thousands without power"),
        ("ru", "Удары по энергосистеме Украины: в Киеве отключения света"),
        ("ru", "Беспилотники атаковали объекты энергетики в трех областях"),
        (
            "uk",
            "Росія завдала масованого удару по енергетичній інфраструктурі України",
        ),
        ("zh", "俄军对乌克兰能源设施发动大规模导弹袭击"),
        ("zh", "美国北卡州变电站遭枪击破坏 数万户断电"),
    ] {
        assert!(has(language, title, "energy-security"), "{title}");
    }
    for (language, title) in [
        ("en", "Shelling near the Zaporizhzhia nuclear power plant, Ukraine says"),
        ("en", "National grid plans new lines to carry offshore wind"),
        ("zh", "国家电网投资建设特高压输电线路"),
    ] {
        assert!(!has(language, title, "energy-security"), "{title}");
    }
    for title in ["国台办：坚决反对美台军事勾连", "臺美關係的新變化"] {
        assert!(has("zh", title, "taiwan"), "{title}");
        let countries: Vec<String> = tag("zh", title).entities.into_iter().map(|e| e.name).collect();
        assert!(
            countries.contains(&"Taiwan".to_string()) && countries.contains(&"United States".to_string()),
            "{title}: {countries:?}"
        );
    }
    let stage = tag("zh", "舞台美术设计获奖");
    assert!(stage.entities.is_empty() && stage.topics.is_empty(), "{stage:?}");
    // The «gas OPEC» (the Gas Exporting Countries Forum) is not OPEC; a Xinjiang autonomous
    // region's formal name is a place, a topic only beside the topic's words.
    assert!(has("ru", "ОПЕК сократит добычу нефти с января", "energy-security"));
    assert!(!has(
        "ru",
        "Генсеком «газовой ОПЕК» избран представитель Ирана",
        "energy-security"
    ));
    assert!(!has(
        "ru",
        "В Синьцзян-Уйгурском автономном районе прошёл чемпионат по шахматам",
        "xinjiang-hong-kong"
    ));
    assert!(has(
        "ru",
        "Уйгуров отправляют в лагеря перевоспитания",
        "xinjiang-hong-kong"
    ));
    assert!(has(
        "ru",
        "Правозащитники: в Синьцзян-Уйгурском автономном районе продолжаются аресты",
        "xinjiang-hong-kong"
    ));
    assert!(has("zh", "美俄关系", "us-russia"));
    assert!(has("zh", "俄美关系", "us-russia"));
}

/// Topic words with a second sense count in the topic's sense: the shipped `sanctions` reads
/// the economic sense of its words in every language (beside a state, a bloc or the economy;
/// not a penalty or an approval), `ukraine` the Odesa of the war.
#[test]
fn topic_words_with_a_second_sense_count_in_the_topics_sense() {
    let t = shipped();
    let sanctions = |language: &str, title: &str, text: &str| {
        t.tag_in(Some(language), &[(Field::Title, title), (Field::Text, text)])
            .topics
            .iter()
            .any(|m| m.slug == "sanctions")
    };
    for (language, title) in [
        ("en", "EU agrees new sanctions on Russian oil"),
        ("en", "Treasury sanctions Iranian drone makers"),
        ("en", "Sanctions evasion: how chips reach Moscow"),
        ("ru", "Евросоюз ввел новые санкции против России"),
        ("uk", "ЄС запровадив нові санкції проти Росії"),
        ("zh", "美国宣布对俄罗斯实施新一轮制裁"),
        ("en", "Oil price cap takes effect"),
    ] {
        assert!(sanctions(language, title, ""), "{title}");
    }
    for (language, title) in [
        ("en", "Disciplinary sanctions for the goalkeeper after the brawl"),
        ("en", "Benefit sanctions pushed claimants into debt, charity says"),
        ("en", "Club sanctioned by the league for fielding an ineligible player"),
        ("en", "A state-sanctioned festival returns to the capital"),
        ("en", "Lawyer faces sanctions motion over fake citations"),
        ("ru", "Санкция статьи предусматривает до десяти лет лишения свободы"),
        ("ru", "Суд дал санкцию на арест бизнесмена"),
        ("uk", "Санкція статті передбачає до п'яти років позбавлення волі"),
        ("zh", "违法者将受到法律制裁"),
    ] {
        assert!(!sanctions(language, title, ""), "{title}");
    }
    // The places of the war with a namesake elsewhere: Odessa, Texas is not Odesa.
    let ukraine = |title: &str| t.matches(&[(Field::Title, title)]).iter().any(|m| m.slug == "ukraine");
    assert!(ukraine("Missile strike on Odessa port"));
    assert!(!ukraine("Shooting in Odessa, Texas leaves five dead"));
    // One sentence on a new round counts in a long report; a passing mention does not.
    let report = "Shelling went on in the east overnight, officials said. ";
    assert!(sanctions(
        "en",
        "Fighting goes on",
        &format!("{report}The European Union announced a new round of sanctions against Russia.")
    ));
    assert!(!sanctions(
        "en",
        "Fighting goes on",
        &format!("{}The economy shrank amid Western sanctions.", report.repeat(12))
    ));
}

#[test]
fn fields() {
    check("title:putin", "Putin speaks", "", true);
    check("title:putin", "A speech", "Putin speaks", false);
    check("text:putin", "A speech", "Putin speaks", true);
    check("title:(putin OR xi) AND text:gas", "Xi visits", "gas deal", true);
    check("summary:putin", "Putin", "Putin", false);
}

#[test]
fn cyrillic_and_cjk() {
    check("путин*", "Путина встретили в Пекине", "", true);
    check("путин", "Путина встретили", "", false);
    check("санкци*", "", "Новые санкции против России", true);
    check("习近平", "习近平会见普京", "", true);
    check("习近平 AND 普京", "习近平会见普京", "", true);
    check("\"中俄\"", "中俄关系", "", true);
    check("普京 NEAR/3 习近平", "习近平会见普京", "", true);
    check("普京 NEAR/1 习近平", "习近平会见普京", "", false);
    check("北约", "NATO峰会与北约", "", true);
}

#[test]
fn entity_references() {
    check("country:RU", "Moscow warns", "", true);
    check("country:RU", "", "Россия и Китай", true);
    check("country:RU", "", "俄罗斯和中国", true);
    check("country:RU", "Putin", "", false);
    check("actors:RU", "Putin", "", true);
    check("actors:RU", "普京", "", true);
    check("person:\"Vladimir Putin\"", "Путин", "", true);
    check("person:putin AND country:CN", "Putin in Beijing", "", true);
    check("org:NATO", "НАТО", "", true);
    check("entity:Q148", "", "Chinese exports", true);
    check("country:US", "", "the US said", true);
    check("country:US", "", "told us", false);
    check("person:Xi", "XI", "", false);
    check("title:country:RU", "", "Moscow", false);
    // focus: the country is one the article is about (weighted mentions of it and its people).
    check("focus:RU", "Putin hosts Xi in Moscow", "", true);
    check("focus:RU AND focus:CN", "Putin hosts Xi in Moscow", "", true);
    check("focus:\"China\"", "Xi speaks", "", true);
    check("focus:RU", "", "Putin", false);
    check("focus:RU", "China, Beijing and Xi", "A call with Moscow.", false);
    check(
        "focus:CN AND NOT focus:RU",
        "China, Beijing and Xi",
        "A call with Moscow.",
        true,
    );
    for (query, message) in [
        ("country:XX", "country:\"XX\" is not in the gazetteer"),
        ("person:Russia", "person:\"Russia\" is not in the gazetteer"),
        ("a OR org:Nowhere", "column 6: org:\"Nowhere\" is not in the gazetteer"),
        ("focus:Putin", "focus:\"Putin\" is not a country of the gazetteer"),
    ] {
        let err = one_topic(query).unwrap_err().to_string();
        assert!(err.contains(message), "{query}: {err}");
    }
}

#[test]
fn query_errors_name_the_topic_and_column() {
    let err = one_topic("putin AND (xi OR").unwrap_err().to_string();
    assert_eq!(
        err,
        "invalid taxonomy: topic \"t\": query error at column 17: the query ends where a term was expected"
    );
    let err = one_topic("NOT putin").unwrap_err().to_string();
    assert!(err.contains("none of its terms"), "{err}");
    let err = one_topic("putin OR NOT xi").unwrap_err().to_string();
    assert!(err.contains("none of its terms"), "{err}");
}

#[test]
fn scores_weigh_title_and_lead_and_highlight_offsets() {
    let t = one_topic("putin OR xi").unwrap();
    let filler = "word ".repeat(70);
    let text = format!("Xi spoke. {filler} Putin answered.");
    let m = &t.matches(&[
        (Field::Title, "Putin and Xi"),
        (Field::Summary, "Putin"),
        (Field::Text, &text),
    ])[0];
    // Title 3 + 3, summary 2, lead 2 (Xi, first word), body tail 1 (Putin after 70 words).
    assert_eq!(m.score, 3.0 + 3.0 + 2.0 + 2.0 + 1.0);
    let putin_text = m
        .matches
        .iter()
        .find(|x| x.term == "putin" && x.field == "text")
        .unwrap();
    let at = putin_text.offsets[0];
    assert_eq!(
        text.chars()
            .skip(at.start as usize)
            .take((at.end - at.start) as usize)
            .collect::<String>(),
        "Putin"
    );
    let title = m.matches.iter().find(|x| x.term == "xi" && x.field == "title").unwrap();
    assert_eq!((title.offsets[0].start, title.offsets[0].end), (10, 12));
    // A name inside a longer one counts once: "Vladimir Putin" is one mention, not also "Putin".
    let t = one_topic("person:putin").unwrap();
    let m = &t.matches(&[(Field::Title, "Vladimir Putin"), (Field::Summary, "Putin")])[0];
    assert_eq!(m.score, 3.0 + 2.0);
    assert!(
        m.matches
            .iter()
            .all(|x| x.field != "title" || x.term.ends_with("=Vladimir Putin"))
    );
    // Terms under NOT neither score nor show.
    let t = one_topic("putin NOT biden").unwrap();
    assert!(
        t.matches(&[(Field::Title, "Putin")])[0]
            .matches
            .iter()
            .all(|m| m.term == "putin")
    );
}

#[test]
fn min_score_filters_weak_matches() {
    let mut t = Taxonomy::parse(
        "topics:\n  - {slug: a, label: A, query: putin, min_score: 3}\n",
        gazetteer(),
    )
    .unwrap();
    assert!(t.matches(&[(Field::Text, "Putin")]).is_empty());
    assert_eq!(t.matches(&[(Field::Title, "Putin")]).len(), 1);
    t = Taxonomy::parse(
        "topics:\n  - {slug: a, label: A, query: putin, min_score: -1}\n",
        gazetteer(),
    )
    .map(|_| panic!("a negative min_score is refused"))
    .unwrap_or_else(|e| {
        assert!(e.to_string().contains("min_score"), "{e}");
        t
    });
    assert_eq!(t.len(), 1);
}

#[test]
fn entities_with_offsets_longest_alias_first() {
    let t = one_topic("putin").unwrap();
    let tags = t.tag(&[
        (Field::Title, "Vladimir Putin hosts Xi in Moscow"),
        (
            Field::Text,
            "Путин и 习近平. Russia and China; the US and NATO. Tell us.",
        ),
    ]);
    let by_id = |id: &str| {
        tags.entities
            .iter()
            .find(|e| e.id == id)
            .unwrap_or_else(|| panic!("{id}: {tags:?}"))
    };
    let putin = by_id("Q7747");
    assert_eq!(putin.count, 2, "'Vladimir Putin' is one mention, not two");
    assert_eq!(putin.kind, record::EntityKind::Person);
    assert_eq!(putin.country.as_deref(), Some("RU"));
    assert_eq!(
        (
            putin.mentions[0].field.as_str(),
            putin.mentions[0].start,
            putin.mentions[0].end
        ),
        ("title", 0, 14)
    );
    assert_eq!(
        (
            putin.mentions[1].field.as_str(),
            putin.mentions[1].start,
            putin.mentions[1].end
        ),
        ("text", 0, 5)
    );
    assert_eq!(by_id("Q15031").count, 2);
    assert_eq!(by_id("Q159").count, 2, "Moscow and Russia");
    assert_eq!(by_id("Q30").count, 1, "US but not 'us'");
    assert_eq!(by_id("Q7184").kind, record::EntityKind::Organisation);
    assert_eq!(tags.focus_countries, vec!["RU", "CN"]);
}

#[test]
fn focus_countries_are_the_ones_the_article_is_about() {
    let t = one_topic("putin").unwrap();
    let tags = t.tag(&[
        (Field::Title, "Putin hosts Xi in Moscow"),
        (Field::Summary, "The Kremlin said Russia and China agreed."),
        (Field::Text, &format!("{} The US was not told.", "word ".repeat(80))),
    ]);
    assert_eq!(tags.focus_countries, vec!["RU", "CN"], "{:?}", tags.entities);
    let tags = t.tag(&[(Field::Text, "The US was not told.")]);
    assert!(tags.focus_countries.is_empty(), "one passing body mention is not focus");
}

/// The article the project started from: Putin and Xi's December 2021 call.
#[test]
fn the_seed_article_is_russia_china() {
    let seed = repo().join("../shared/corpus/seed/independent-putin-xi-2021-12-15.txt");
    let text = std::fs::read_to_string(&seed).unwrap();
    let (title, body) = text.split_once('\n').unwrap();
    let tags = shipped().tag(&[(Field::Title, title), (Field::Text, body)]);
    let slugs: Vec<&str> = tags.topics.iter().map(|t| t.slug.as_str()).collect();
    assert_eq!(slugs.first(), Some(&"russia-china"), "{slugs:?}");
    assert!(slugs.contains(&"ukraine") && slugs.contains(&"sanctions"), "{slugs:?}");
    assert!(!slugs.contains(&"taiwan"), "{slugs:?}");
    assert_eq!(&tags.focus_countries[..2], ["RU", "CN"], "{:?}", tags.focus_countries);
    let ids: Vec<&str> = tags.entities.iter().map(|e| e.id.as_str()).collect();
    assert!(ids.contains(&"Q7747") && ids.contains(&"Q15031"), "{ids:?}");
}

#[test]
fn unrelated_news_gets_no_topic() {
    let topics = shipped().matches(&[
        (Field::Title, "Storm brings floods to the east coast"),
        (
            Field::Text,
            "Heavy rain closed roads and schools on Tuesday, officials said.",
        ),
    ]);
    assert!(topics.is_empty(), "{topics:?}");
}

#[test]
fn the_shipped_taxonomy_has_every_default_topic_with_a_definition() {
    let t = shipped();
    for slug in [
        "russia-china",
        "ukraine",
        "us-china",
        "us-russia",
        "sanctions",
        "taiwan",
        "nato",
        "xinjiang-hong-kong",
        "energy-security",
    ] {
        let def = t
            .topics()
            .find(|d| d.slug == slug)
            .unwrap_or_else(|| panic!("{slug} missing"));
        assert!(def.description.len() > 80, "{slug} needs a written definition");
    }
    assert!(t.gazetteer().entities.len() > 150, "{}", t.gazetteer().entities.len());
}

#[test]
fn explain_shows_each_node() {
    let t = one_topic("(putin OR kremlin) AND NOT biden").unwrap();
    let out = t.explain(&[(Field::Title, "Putin speaks")]);
    assert!(out.contains("t: MATCH"), "{out}");
    assert!(out.contains("+ putin  at title[0..5]"), "{out}");
    assert!(out.contains("- kremlin"), "{out}");
    assert!(out.contains("+ NOT"), "{out}");
}

#[test]
fn explain_shows_a_with_terms_context() {
    let t = one_topic("sanction* WITH/3 (oil OR gas)").unwrap();
    let out = t.explain(&[(
        Field::Text,
        "New sanctions on oil exports, announced by the ministry. Sanctions were lifted.",
    )]);
    assert!(out.contains("t: MATCH"), "{out}");
    // Only the occurrence with «oil» within three words is listed: the second has none.
    assert!(
        out.contains("+ sanction* WITH/3 (oil | gas)  at text[4..13]\n"),
        "{out}"
    );
}

/// Found by fuzzing (`newswire-fuzz run query`): a 64 KB query of 8,000 phrases "or", explained
/// on its own text (16,000 words "or"), listed every place of every phrase: 5 GB of output
/// after 90 s. Each term now lists its first eight places.
#[test]
fn explain_lists_a_few_places_per_term() {
    let t = one_topic("putin OR \"or\"").unwrap();
    let text = "Putin or ".repeat(20);
    let out = t.explain(&[(Field::Text, &text)]);
    assert!(out.contains("+ putin  at text[0..5] text[9..14]"), "{out}");
    assert!(out.contains("text[63..68] and more"), "{out}");
    let input = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fuzz/seeds/query/hang-explain-many-phrases.txt"
    ))
    .unwrap();
    let query = String::from_utf8_lossy(&input);
    let t = one_topic(&query).unwrap();
    let out = t.explain(&[(Field::Title, &query), (Field::Text, &query)]);
    assert!(out.len() < 4 << 20, "{} bytes", out.len());
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

/// A changed taxonomy file is picked up; an invalid one is rejected and the old one stays.
#[test]
fn hot_reload_keeps_the_old_taxonomy_when_the_new_one_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("taxonomy.yaml");
    let gazetteer = dir.path().join("people.yaml");
    write(&gazetteer, GAZETTEER[1].1);
    write(
        &file,
        "gazetteers: [people.yaml]\ntopics:\n  - {slug: a, label: A, query: putin}\n",
    );
    let shared = SharedTaxonomy::new(Taxonomy::load(&file).unwrap());
    let mut tagger = Tagger::shared(shared.clone()).with_topic_routing("news.topic.");
    let mut reloader = Reloader::new(&file, shared.clone());
    let metrics = TaggerMetrics::get();
    let (ok0, invalid0) = (
        metrics.reloads.with_label_values(&["ok"]).get(),
        metrics.reloads.with_label_values(&["invalid"]).get(),
    );
    let slugs = |tagger: &mut Tagger, title: &str| -> Vec<String> {
        let out = tagger.process(unique(title)).unwrap().remove(0);
        assert_eq!(
            tagger.routes(&out),
            out.topics
                .iter()
                .map(|t| format!("news.topic.{}", t.slug))
                .collect::<Vec<_>>()
        );
        out.topics.into_iter().map(|t| t.slug).collect()
    };
    assert!(matches!(reloader.check(), ReloadOutcome::Unchanged));
    assert_eq!(slugs(&mut tagger, "Xi and Putin"), vec!["a"]);

    write(
        &file,
        "gazetteers: [people.yaml]\ntopics:\n  - {slug: a, label: A, query: putin}\n  - {slug: b, label: B, query: 'person:\"Xi Jinping\"'}\n",
    );
    assert!(matches!(reloader.check(), ReloadOutcome::Reloaded(2)));
    assert_eq!(slugs(&mut tagger, "Xi and Putin"), vec!["a", "b"]);

    write(
        &file,
        "gazetteers: [people.yaml]\ntopics:\n  - {slug: c, label: C, query: 'putin AND ('}\n",
    );
    match reloader.check() {
        ReloadOutcome::Invalid(err) => assert!(err.to_string().contains("topic \"c\""), "{err}"),
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(reloader.check(), ReloadOutcome::Unchanged),
        "a rejected version is reported once"
    );
    assert_eq!(
        slugs(&mut tagger, "Xi and Putin"),
        vec!["a", "b"],
        "the old taxonomy stays"
    );

    // A change to a gazetteer counts as a change of the taxonomy.
    write(
        &file,
        "gazetteers: [people.yaml]\ntopics:\n  - {slug: b, label: B, query: 'person:\"Xi Jinping\"'}\n",
    );
    assert!(matches!(reloader.check(), ReloadOutcome::Reloaded(1)));
    assert!(slugs(&mut tagger, "Си speaks").is_empty());
    write(
        &gazetteer,
        &GAZETTEER[1].1.replace("aliases: [习近平]", "aliases: [习近平, Си]"),
    );
    assert!(matches!(reloader.check(), ReloadOutcome::Reloaded(1)));
    assert_eq!(slugs(&mut tagger, "Си speaks"), vec!["b"]);
    assert_eq!(metrics.topics.get(), 1);
    assert!(metrics.reloads.with_label_values(&["ok"]).get() >= ok0 + 3);
    assert!(metrics.reloads.with_label_values(&["invalid"]).get() > invalid0);
}

fn unique(title: &str) -> UniqueRecord {
    serde_json::from_value(serde_json::json!({
        "schema_version": 1,
        "id": "a1",
        "feed": {"url": "http://feed.test/rss"},
        "source": {"domain": "feed.test"},
        "title": title,
        "fetched_at": "2023-03-21T10:00:00Z",
        "text": "",
        "word_count": 0,
        "fingerprints": {"content_sha256": "00"},
        "story_id": "a1",
        "revision": 1,
    }))
    .unwrap()
}

/// Topic counts count a story once: not its near-duplicates nor its later revisions.
#[test]
fn topic_counts_count_each_story_once() {
    let t = Taxonomy::parse(
        "topics:\n  - {slug: count-once, label: A, query: zanzibar}\n",
        gazetteer(),
    )
    .unwrap();
    let mut tagger = Tagger::new(t);
    let counter = TaggerMetrics::get().topic_articles.with_label_values(&["count-once"]);
    let before = counter.get();
    let mut first = unique("Zanzibar");
    let mut outputs = tagger.process(first.clone()).unwrap();
    // A batch that is processed and then aborted counts nothing: only committed work counts.
    assert_eq!(counter.get(), before, "processing alone counts nothing");
    first.story.revision = 2;
    outputs.extend(tagger.process(first.clone()).unwrap());
    first.story.revision = 1;
    first.story.duplicate_of = Some("other".into());
    outputs.extend(tagger.process(first).unwrap());
    tagger.committed(&outputs);
    assert_eq!(counter.get(), before + 1);
}

#[test]
fn a_child_topic_also_counts_for_its_parent_and_parents_may_not_loop() {
    let t = Taxonomy::parse(
        "topics:\n  - {slug: europe, label: Europe, query: brussels}\n  \
         - {slug: eu-energy, label: EU energy, parent: europe, query: pipeline}\n  \
         - {slug: eu-gas, label: EU gas, parent: eu-energy, query: lng}\n",
        gazetteer(),
    )
    .unwrap();
    let slugs = |text: &str| {
        let mut slugs: Vec<String> = t.matches(&[(Field::Text, text)]).into_iter().map(|m| m.slug).collect();
        slugs.sort();
        slugs
    };
    assert_eq!(
        slugs("An LNG cargo arrived."),
        ["eu-energy", "eu-gas", "europe"],
        "up the whole chain"
    );
    assert_eq!(slugs("The pipeline reopened."), ["eu-energy", "europe"]);
    assert_eq!(slugs("Brussels met."), ["europe"], "never down");
    let inherited = t.matches(&[(Field::Text, "An LNG cargo arrived.")]);
    let europe = inherited.iter().find(|m| m.slug == "europe").unwrap();
    assert_eq!(
        europe.matches[0].term, "lng",
        "the parent says which child's terms matched"
    );
    let err = Taxonomy::parse(
        "topics:\n  - {slug: a, label: A, parent: b, query: x}\n  - {slug: b, label: B, parent: a, query: y}\n",
        gazetteer(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("loop"), "{err}");
}

/// The deepest query the parser accepts compiles, matches and explains on the 2 MiB stack
/// the services run stages on (see `query::MAX_DEPTH`, found by fuzzing).
#[test]
fn the_deepest_query_compiles_and_matches_on_a_small_stack() {
    let depth = crate::query::MAX_DEPTH;
    let query = format!("{}putin AND NOT xi{}", "(".repeat(depth - 1), ")".repeat(depth - 1));
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            check(&query, "Putin speaks", "", true);
            let taxonomy = one_topic(&query).unwrap();
            assert!(!taxonomy.explain(&[(Field::Title, "Putin speaks")]).is_empty());
            let nots = format!("putin AND {}xi", "NOT ".repeat(depth - 1));
            check(&nots, "Putin speaks", "", true);
        })
        .unwrap()
        .join()
        .unwrap();
}

/// Found by fuzzing (`newswire-fuzz run query`): a query of one term of 21,845 words took 9 s
/// to compile in a small taxonomy, where the automaton was a DFA (quadratic to build for such
/// a pattern); it is the contiguous NFA now, as in any taxonomy past 100 patterns.
#[test]
fn a_very_long_term_compiles_quickly() {
    let input = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fuzz/seeds/query/hang-compile-long-term.txt"
    ))
    .unwrap();
    let query = String::from_utf8_lossy(&input);
    let started = std::time::Instant::now();
    let t = one_topic(&query).unwrap();
    assert!(!t.matches(&[(Field::Text, &query)]).is_empty());
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(3), "{took:?}");
}

/// Found by fuzzing (`newswire-fuzz run query`): matching cost the square of a term's
/// occurrences (the longest-occurrence check of the score, NEAR's pairs, EXCEPT's overlaps),
/// so one article repeating a word 20,000 times took over a second per topic, and a 1 MB page
/// of it minutes. Each is a sort and a search now.
#[test]
fn matching_a_word_repeated_many_times_is_not_quadratic() {
    let text = format!("{} {}", "putin xi nato ".repeat(30_000), "biden ".repeat(10_000));
    let started = std::time::Instant::now();
    for (query, expected) in [
        ("putin OR \"putin xi\"", true),
        ("putin NEAR/2 biden", false),
        ("(putin OR xi) NEAR/2 biden", true),
        ("biden NEAR/3 putin", true),
        ("putin EXCEPT \"putin xi\"", false),
        ("nato EXCEPT \"putin xi\"", true),
    ] {
        let matched = !one_topic(query).unwrap().matches(&[(Field::Text, &text)]).is_empty();
        assert_eq!(matched, expected, "{query}");
    }
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(20), "{took:?}");
    let t = one_topic("putin OR \"putin xi\" OR xi").unwrap();
    let found = t.matches(&[(Field::Text, &text)]);
    let counts: Vec<(String, u32)> = found[0].matches.iter().map(|m| (m.term.clone(), m.count)).collect();
    assert_eq!(
        counts,
        [("\"putin xi\"".to_string(), 30_000)],
        "each occurrence once, as the longer term"
    );
    // The fuzzer's input: a query of 21,839 words "f", matched on its own text.
    let input = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fuzz/seeds/query/hang-match-repeated-word.txt"
    ))
    .unwrap();
    let query = String::from_utf8_lossy(&input);
    let started = std::time::Instant::now();
    let t = one_topic(&query).unwrap();
    assert!(!t.matches(&[(Field::Title, &query), (Field::Text, &query)]).is_empty());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

/// Found by fuzzing (`newswire-fuzz run query`): a query naming one phrase 4,000 times made
/// 4,000 copies of its every occurrence (5.8 s on its own text); a repeated term counts once.
#[test]
fn a_term_repeated_in_the_query_is_matched_once() {
    let t = one_topic("putin OR putin OR Putin OR title:putin").unwrap();
    let found = t.matches(&[(Field::Title, "Putin"), (Field::Text, "Putin and putin")]);
    let counts: Vec<(String, String, u32)> = found[0]
        .matches
        .iter()
        .map(|m| (m.term.clone(), m.field.clone(), m.count))
        .collect();
    assert_eq!(
        counts,
        [("putin".into(), "title".into(), 1), ("putin".into(), "text".into(), 2)]
    );
    let input = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fuzz/seeds/query/hang-repeated-phrase.txt"
    ))
    .unwrap();
    let query = String::from_utf8_lossy(&input);
    let t = one_topic(&query).unwrap();
    let started = std::time::Instant::now();
    assert!(!t.matches(&[(Field::Title, &query), (Field::Text, &query)]).is_empty());
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(20), "{took:?}");
}

#[test]
fn metonyms_count_for_queries_and_focus_but_are_not_mentions() {
    let mut g = Gazetteer::default();
    g.add(
        "countries",
        "kind: country\nentities:\n\
         \x20 - {id: Q159, name: Russia, code: RU, aliases: [Россия, России], metonyms: [Москва, Москве, Кремль]}\n",
    )
    .unwrap();
    let taxonomy = one_topic_over(g, "country:RU").unwrap();
    let tags = taxonomy.tag(&[
        (Field::Title, "В Москве прошёл фестиваль"),
        (Field::Text, "Кремль молчит."),
    ]);
    assert_eq!(tags.topics.len(), 1, "the metonym matches country:RU");
    assert_eq!(tags.focus_countries, vec!["RU"], "and counts towards focus");
    assert!(
        tags.entities.is_empty(),
        "but Russia is not mentioned: {:?}",
        tags.entities
    );
    // With a name of its own, the mentions are the name's only.
    let tags = taxonomy.tag(&[(Field::Title, "Россия и Москва")]);
    assert_eq!(tags.entities.len(), 1);
    assert_eq!((tags.entities[0].count, tags.entities[0].mentions[0].start), (1, 0));
}

#[test]
fn an_adjective_before_a_person_is_a_nationality_not_a_mention() {
    let mut g = Gazetteer::default();
    g.add(
        "countries",
        "kind: country\nentities:\n\
         \x20 - {id: Q159, name: Russia, code: RU, aliases: [Россия], adjectives: [российский, российские, российско, российском]}\n\
         \x20 - {id: Q29, name: Spain, code: ES, adjectives: [испанском]}\n",
    )
    .unwrap();
    let taxonomy = one_topic_over(g, "country:RU").unwrap();
    let mentioned = |text: &str| -> Vec<String> {
        let tags = taxonomy.tag(&[(Field::Text, text)]);
        tags.entities.iter().map(|e| e.name.clone()).collect()
    };
    for nationality in [
        "Российский магнат купил клуб.",
        "Российские сенаторы и российские журналисты приехали.",
        "Он говорит на испанском языке.",
    ] {
        assert!(
            mentioned(nationality).is_empty(),
            "{nationality}: {:?}",
            mentioned(nationality)
        );
    }
    let tags = taxonomy.tag(&[(Field::Title, "Российский магнат купил клуб")]);
    assert_eq!(tags.topics.len(), 1, "the adjective still matches country:RU");
    assert_eq!(tags.focus_countries, vec!["RU"], "and counts towards focus");
    for state in [
        "Российские власти ответили.",
        "Начались российско-китайские переговоры.",
        "Об этом сообщили в российском МИДе.",
        "Магнат сказал: «российский».",
    ] {
        assert_eq!(mentioned(state), vec!["Russia"], "{state}");
    }
    // One mention as the state is enough, and the count is of those mentions.
    let tags = taxonomy.tag(&[(Field::Text, "Российский магнат и российские власти")]);
    assert_eq!((tags.entities.len(), tags.entities[0].count), (1, 1));
    assert_eq!(
        tags.entities[0].mentions[0].start, 20,
        "«российские» of «российские власти»"
    );
}
#[test]
fn vocabularies_and_lang_in_a_taxonomy_file() {
    let yaml = "vocabularies:\n  talks:\n    en: talks OR negotiations\n    ru: переговоры\n    zh: 会谈\n\
                topics:\n  - slug: t\n    label: T\n    query: (@talks AND country:RU) OR lang:zh 会晤\n";
    let taxonomy = Taxonomy::parse(yaml, gazetteer()).unwrap();
    let hit = |lang: Option<&str>, title: &str| !taxonomy.matches_in(lang, &[(Field::Title, title)]).is_empty();
    assert!(hit(None, "Россия: переговоры"));
    assert!(hit(Some("zh"), "习近平会晤"));
    assert!(
        !hit(Some("ru"), "习近平会晤"),
        "lang:zh holds for Chinese articles only"
    );
    assert!(!hit(None, "习近平会晤"), "nor for an article of unknown language");
    assert!(
        hit(Some("zh-Hant"), "習近平會晤"),
        "a subtag and traditional characters"
    );
    let explained = taxonomy.explain_in(Some("ru"), &[(Field::Title, "Россия: переговоры")]);
    assert!(explained.contains("переговоры [ru]"), "{explained}");
    let bad = "vocabularies:\n  talks:\n    russian: переговоры\ntopics: []\n";
    let err = Taxonomy::parse(bad, gazetteer()).unwrap_err().to_string();
    assert!(
        err.contains("vocabulary \"talks\": \"russian\" is not a language code"),
        "{err}"
    );
    let bad = "vocabularies:\n  talks: a AND\ntopics: []\n";
    let err = Taxonomy::parse(bad, gazetteer()).unwrap_err().to_string();
    assert!(err.contains("vocabulary \"talks\": query error at column 6"), "{err}");
}

#[test]
fn a_name_inside_a_longer_name_of_another_entity_is_not_a_mention() {
    let mut g = Gazetteer::default();
    g.add(
        "countries",
        "kind: country\nentities:\n\
         \x20 - {id: Q159, name: Russia, code: RU, aliases: [俄罗斯, 俄], except: [埃塞俄比亚]}\n\
         \x20 - {id: Q184, name: Belarus, code: BY, aliases: [白俄罗斯]}\n\
         \x20 - {id: Q884, name: South Korea, code: KR, aliases: [Korea]}\n\
         \x20 - {id: Q423, name: North Korea, code: KP, aliases: [North Korea]}\n",
    )
    .unwrap();
    let taxonomy = one_topic_over(g, "country:RU").unwrap();
    let ids = |title: &str| -> Vec<String> {
        let tags = taxonomy.tag(&[(Field::Title, title)]);
        assert_eq!(
            tags.topics.is_empty(),
            !tags.entities.iter().any(|e| e.id == "Q159"),
            "{title}"
        );
        tags.entities.into_iter().map(|e| e.id).collect()
    };
    assert_eq!(ids("白俄罗斯总统访华"), vec!["Q184"]);
    assert_eq!(ids("埃塞俄比亚总理访华"), Vec::<String>::new());
    assert_eq!(ids("俄方与白俄罗斯"), vec!["Q184", "Q159"], "one mention each, by name");
    assert_eq!(ids("North Korea fires a missile"), vec!["Q423"]);
    assert_eq!(ids("Korea and North Korea"), vec!["Q423", "Q884"]);
}

#[test]
fn a_name_in_another_sense_in_the_article_is_no_mention_anywhere_in_it() {
    let mut g = Gazetteer::default();
    g.add(
        "countries",
        "kind: country\nentities:\n\
         \x20 - {id: Q230, name: Georgia, code: GE, aliases: [Грузия], metonyms: [Tbilisi],\n\
         \x20    other_sense: [Atlanta Georgia, Georgia governor]}\n\
         \x20 - {id: Q159, name: Russia, code: RU}\n",
    )
    .unwrap();
    let taxonomy = one_topic_over(g, "country:GE").unwrap();
    let tag = |title: &str, text: &str| {
        let tags = taxonomy.tag(&[(Field::Title, title), (Field::Text, text)]);
        let ids: Vec<String> = tags.entities.into_iter().map(|e| e.id).collect();
        (ids, !tags.topics.is_empty())
    };
    // Without the other sense, the country.
    assert_eq!(
        tag("Russia and Georgia", ""),
        (vec!["Q230".into(), "Q159".into()], true)
    );
    // With it, neither the phrase nor a bare «Georgia» elsewhere in the article counts, in
    // the same field or another.
    assert_eq!(tag("The Georgia governor signs the bill", ""), (vec![], false));
    assert_eq!(
        tag(
            "Voters in Atlanta, Georgia, lined up",
            "Polls closed in Georgia at 7 pm."
        ),
        (vec![], false)
    );
    // The country's other names still count.
    assert_eq!(
        tag("The Georgia governor visits", "Грузия и Russia"),
        (vec!["Q230".into(), "Q159".into()], true)
    );
    // Another entity's mentions are untouched.
    assert_eq!(tag("Russia and the Georgia governor", ""), (vec!["Q159".into()], false));
}
