//! Sources beyond a plain feed, against local servers: news sitemaps (an index with a gzip
//! child, robots.txt), `fetch_article: auto`, per-feed request options (a proxy that wants
//! credentials, headers, cookies, the guard through the proxy), and WebSub push (a hub that
//! verifies and pushes, forged and unsigned content, a lease that runs out).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::Path as UrlPath;
use axum::http::Uri;

use super::*;
use crate::feeds::{FeedHttp, MaybeSecret, Secret, SourceKind};

fn temp_secret(name: &str, value: &str) -> Secret {
    let dir = std::env::temp_dir().join(format!("newswire-sources-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, format!("{value}\n")).unwrap();
    Secret::File(path)
}

fn news_url(base: &str, path: &str, title: &str, date: &str) -> String {
    format!(
        "<url><loc>{base}{path}</loc><news:news><news:publication><news:name>Daily Planet</news:name>\
         <news:language>en</news:language></news:publication><news:publication_date>{date}</news:publication_date>\
         <news:title>{title}</news:title><news:keywords>world, trade</news:keywords></news:news></url>"
    )
}

fn urlset(urls: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" \
         xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\">{}</urlset>",
        urls.concat()
    )
}

/// A publisher with a sitemap index naming a gzip-compressed news sitemap, a plain one and a
/// broken one, its robots.txt naming the index, and article pages.
async fn serve_publisher() -> (String, Arc<AtomicUsize>) {
    let pages = counter();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let now = Utc::now();
    let recent = |minutes: i64| (now - chrono::Duration::minutes(minutes)).to_rfc3339();
    let gz = gzip(
        urlset(&[
            news_url(&base, "/world/1", "Ports reopen &amp; trade resumes", &recent(5)),
            news_url(&base, "/world/2", "<![CDATA[Talks <continue>]]>", &recent(30)),
        ])
        .as_bytes(),
    );
    let plain = urlset(&[
        news_url(&base, "/world/3", "Third story", &recent(60)),
        // Listed twice (in two sitemaps): one record.
        news_url(&base, "/world/1", "Ports reopen &amp; trade resumes", &recent(5)),
        // Old: left out.
        news_url(
            &base,
            "/world/old",
            "Last month",
            &(now - chrono::Duration::days(30)).to_rfc3339(),
        ),
    ]);
    let index = format!(
        "<?xml version=\"1.0\"?><sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
         <sitemap><loc>{base}/news-1.xml.gz</loc><lastmod>{}</lastmod></sitemap>\
         <sitemap><loc>/news-2.xml</loc></sitemap><sitemap><loc>/broken.xml</loc></sitemap></sitemapindex>",
        recent(1)
    );
    let robots = format!("User-agent: *\nAllow: /\n\nSitemap: {base}/sitemap_index.xml\n");
    let p = pages.clone();
    let app = axum::Router::new()
        .route("/robots.txt", axum::routing::get(move || async move { robots }))
        .route("/sitemap_index.xml", axum::routing::get(move || async move { index }))
        .route(
            "/news-1.xml.gz",
            axum::routing::get(move || async move { ([(header::CONTENT_TYPE, "application/gzip")], gz) }),
        )
        .route("/news-2.xml", axum::routing::get(move || async move { plain }))
        .route(
            "/broken.xml",
            axum::routing::get(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
        )
        .route(
            "/world/{id}",
            axum::routing::get(move |UrlPath(id): UrlPath<String>| {
                p.fetch_add(1, Ordering::SeqCst);
                async move {
                    (
                        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                        format!("<html><body><article><p>Story {id} in full.</p></article></body></html>"),
                    )
                }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, pages)
}

#[tokio::test]
async fn a_sitemap_index_with_a_gzip_child_becomes_records_with_their_pages() {
    let (base, pages) = serve_publisher().await;
    let fetcher = fetcher();
    let entry = FeedEntry {
        kind: SourceKind::Sitemap,
        ..FeedEntry::new(format!("{base}/sitemap_index.xml"))
    };
    let polled = fetcher.poll(&entry).await;
    assert_eq!(polled.outcome, "ok", "{:?}", polled.error);
    let urls: Vec<&str> = polled.records.iter().filter_map(|r| r.url.as_deref()).collect();
    assert_eq!(
        urls,
        [
            format!("{base}/world/1"),
            format!("{base}/world/2"),
            format!("{base}/world/3")
        ],
        "newest first, once each, the old one left out"
    );
    let first = &polled.records[0];
    assert_eq!(first.id, record::article_id(&record::normalize_url(urls[0]).unwrap()));
    assert_eq!(first.title.as_deref(), Some("Ports reopen & trade resumes"));
    assert_eq!(polled.records[1].title.as_deref(), Some("Talks <continue>"));
    assert_eq!(first.language.as_deref(), Some("en"));
    assert_eq!(first.feed.name.as_deref(), Some("Daily Planet"));
    assert_eq!(first.categories, ["world", "trade"]);
    assert!(first.published_at.unwrap() > Utc::now() - chrono::Duration::minutes(10));
    // A sitemap carries no text: `auto` fetches every page, and the record says why.
    for record in &polled.records {
        let decision = record.article_fetch.as_ref().unwrap();
        assert_eq!((decision.requested, decision.reason.as_str()), (true, "no_text"));
        assert_eq!(decision.outcome.as_deref(), Some("ok"));
        assert!(record.page.as_ref().unwrap().html.contains("in full"));
    }
    assert_eq!(pages.load(Ordering::SeqCst), 3);
    // The next poll finds nothing new.
    let mut fetcher = fetcher;
    fetcher.commit(&entry, polled.next_state);
    let again = fetcher.poll(&entry).await;
    assert_eq!((again.outcome, again.records.len()), ("ok", 0));
    assert_eq!(pages.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn robots_txt_leads_to_the_sitemaps() {
    let (base, _) = serve_publisher().await;
    let entry = FeedEntry {
        kind: SourceKind::Sitemap,
        fetch_article: FetchArticle::Never,
        ..FeedEntry::new(format!("{base}/robots.txt"))
    };
    let polled = fetcher().poll(&entry).await;
    assert_eq!(polled.outcome, "ok", "{:?}", polled.error);
    assert_eq!(polled.records.len(), 3);
    assert!(polled.records.iter().all(|r| {
        r.page.is_none()
            && r.article_fetch
                .as_ref()
                .is_some_and(|d| !d.requested && d.reason == "never")
    }));
    // A feed where a sitemap was promised is a parse error, named.
    let feed_url = serve_feed(b"<rss version=\"2.0\"><channel><title>x</title></channel></rss>".to_vec()).await;
    let polled = fetcher()
        .poll(&FeedEntry {
            kind: SourceKind::Sitemap,
            ..FeedEntry::new(feed_url)
        })
        .await;
    assert_eq!(polled.outcome, "parse_error");
    assert!(polled.error.as_deref().unwrap().contains("rss"), "{:?}", polled.error);
}

#[tokio::test]
async fn fetch_article_auto_fetches_pages_for_summaries_only() {
    let requested: Arc<Mutex<Vec<String>>> = Arc::default();
    let r = requested.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let long: String = (0..200).map(|i| format!("word{i} ")).collect();
    let item = |path: &str, title: &str, text: &str| {
        format!("<item><title>{title}</title><link>{base}/{path}</link><description>{text}</description></item>")
    };
    let feed_xml = format!(
        "<rss version=\"2.0\"><channel><title>Desk</title>{}{}{}{}{}</channel></rss>",
        item("short", "Short", "Ministers met on Tuesday."),
        item("cut", "Cut", &format!("{} and then…", &long[..400])),
        item("title", "The same words", "The  same words"),
        item("full", "Full", &long),
        item("none", "Nothing", ""),
    );
    let app = axum::Router::new()
        .route("/feed", axum::routing::get(move || async move { feed_xml }))
        .route(
            "/{page}",
            axum::routing::get(move |UrlPath(page): UrlPath<String>| {
                r.lock().unwrap().push(page);
                async {
                    (
                        [(header::CONTENT_TYPE, "text/html")],
                        "<html><body><p>Page</p></body></html>",
                    )
                }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let polled = fetcher().poll(&FeedEntry::new(format!("{base}/feed"))).await;
    assert_eq!(polled.outcome, "ok");
    let reasons: HashMap<String, (bool, String)> = polled
        .records
        .iter()
        .map(|r| {
            let d = r.article_fetch.clone().unwrap();
            (r.title.clone().unwrap(), (d.requested, d.reason))
        })
        .collect();
    let expect = |title: &str, requested: bool, reason: &str| {
        assert_eq!(reasons[title], (requested, reason.to_string()), "{title}");
    };
    expect("Short", true, "short");
    expect("Cut", true, "ellipsis");
    expect("The same words", true, "title_only");
    expect("Full", false, "full_text");
    expect("Nothing", true, "no_text");
    let mut pages = requested.lock().unwrap().clone();
    pages.sort();
    assert_eq!(pages, ["cut", "none", "robots.txt", "short", "title"]);
    let full = polled
        .records
        .iter()
        .find(|r| r.title.as_deref() == Some("Full"))
        .unwrap();
    assert!(full.page.is_none());
}

#[test]
fn word_counts_treat_chinese_as_words() {
    let mut record = parse_file("rust-syndication-rss/rss2sample.xml").unwrap().remove(0);
    record.content = None;
    record.summary = Some("中国和俄罗斯签署了天然气贸易协议。".repeat(3));
    let decision = crate::poll::article_decision(FetchArticle::Auto, &record);
    assert_eq!(decision.reason, "short");
    record.summary = Some("中国和俄罗斯签署了天然气贸易协议。".repeat(30));
    let decision = crate::poll::article_decision(FetchArticle::Auto, &record);
    assert_eq!(decision.reason, "full_text");
}

/// What a forward proxy saw: (method, absolute URI, headers).
type Seen = Arc<Mutex<Vec<(String, String, HeaderMap)>>>;

/// A forward proxy that wants `Proxy-Authorization: Basic user:pw`, standing in for the
/// origin `publisher.test` (which does not resolve here): it serves the feed only with the
/// feed's API key, and the article page only with its session cookie.
async fn serve_proxy() -> (SocketAddr, Seen) {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let app = axum::Router::new().fallback(move |method: axum::http::Method, uri: Uri, headers: HeaderMap| {
        s.lock()
            .unwrap()
            .push((method.to_string(), uri.to_string(), headers.clone()));
        async move {
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string()
            };
            if header("proxy-authorization") != "Basic dXNlcjpwdw==" {
                return (StatusCode::PROXY_AUTHENTICATION_REQUIRED, String::new()).into_response();
            }
            match uri.path() {
                "/feed.xml" if header("x-api-key") == "k3y" => (
                    [(header::CONTENT_TYPE, "application/rss+xml")],
                    "<rss version=\"2.0\"><channel><title>Gated</title><item><title>Behind the wall</title>\
                     <link>http://publisher.test/story</link><description>Teaser.</description></item></channel></rss>",
                )
                    .into_response(),
                "/story" if header("cookie") == "session=abc123" => (
                    [(header::CONTENT_TYPE, "text/html")],
                    "<html><body><article><p>The whole story.</p></article></body></html>",
                )
                    .into_response(),
                "/story" => (StatusCode::FORBIDDEN, "<html><body>Please accept cookies</body></html>").into_response(),
                "/robots.txt" => StatusCode::NOT_FOUND.into_response(),
                _ => StatusCode::UNAUTHORIZED.into_response(),
            }
        }
    });
    (serve(app).await, seen)
}

fn gated(proxy: SocketAddr, credentials: Option<Secret>) -> FeedEntry {
    FeedEntry {
        http: FeedHttp {
            user_agent: Some("Mozilla/5.0 (compatible; newswire-test)".into()),
            headers: [(
                "X-Api-Key".to_string(),
                MaybeSecret::Secret(temp_secret("api-key", "k3y")),
            )]
            .into(),
            cookies: [("session".to_string(), temp_secret("session", "abc123"))].into(),
            proxy: Some(format!("http://{proxy}")),
            proxy_credentials: credentials,
            ..FeedHttp::default()
        },
        ..FeedEntry::new("http://publisher.test/feed.xml")
    }
}

/// Only the proxy may be reached.
fn proxy_only(proxy: SocketAddr) -> Fetcher {
    Fetcher::new(
        &settings(),
        &NetworkSettings {
            allow: vec![proxy.to_string()],
        },
    )
    .unwrap()
}

#[tokio::test]
async fn a_feed_and_its_cookie_gated_page_behind_a_proxy_that_wants_credentials() {
    let (proxy, seen) = serve_proxy().await;
    let entry = gated(proxy, Some(temp_secret("proxy", "user:pw")));
    let polled = proxy_only(proxy).poll(&entry).await;
    assert_eq!(polled.outcome, "ok", "{:?}", polled.error);
    let record = &polled.records[0];
    assert_eq!(record.title.as_deref(), Some("Behind the wall"));
    assert!(
        record.page.as_ref().unwrap().html.contains("The whole story"),
        "{:?}",
        record.page
    );
    assert_eq!(record.article_fetch.as_ref().unwrap().outcome.as_deref(), Some("ok"));
    let seen = seen.lock().unwrap().clone();
    let uris: Vec<&str> = seen.iter().map(|(_, uri, _)| uri.as_str()).collect();
    assert_eq!(
        uris,
        [
            "http://publisher.test/feed.xml",
            "http://publisher.test/robots.txt",
            "http://publisher.test/story"
        ]
    );
    for (_, _, headers) in &seen {
        assert_eq!(headers["user-agent"], "Mozilla/5.0 (compatible; newswire-test)");
    }
    // Without the proxy's credentials: the proxy's refusal is the feed's failure.
    let polled = proxy_only(proxy).poll(&gated(proxy, None)).await;
    assert_eq!(polled.outcome, "http_4xx", "{:?}", polled.error);
    // A secret that cannot be read fails the poll with its name, never a value.
    let polled = proxy_only(proxy)
        .poll(&gated(
            proxy,
            Some(Secret::Env("NEWSWIRE_TEST_NO_SUCH_VARIABLE".into())),
        ))
        .await;
    assert_eq!(polled.outcome, "options_error");
    assert!(
        polled
            .error
            .as_deref()
            .unwrap()
            .contains("NEWSWIRE_TEST_NO_SUCH_VARIABLE"),
        "{:?}",
        polled.error
    );
}

#[tokio::test]
async fn headers_and_cookies_go_to_the_feeds_domains_only() {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let elsewhere = serve_on(
        "127.0.0.2",
        axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
            s.lock().unwrap().push(("GET".into(), uri.to_string(), headers));
            async {
                (
                    [(header::CONTENT_TYPE, "text/html")],
                    "<html><body><p>Elsewhere</p></body></html>",
                )
            }
        }),
    )
    .await;
    let feed_xml = format!(
        "<rss version=\"2.0\"><channel><title>A</title><item><title>Away</title><link>http://{elsewhere}/story</link></item></channel></rss>"
    );
    let home = serve(axum::Router::new().route("/feed", axum::routing::get(move || async move { feed_xml }))).await;
    let entry = FeedEntry {
        http: FeedHttp {
            headers: [("X-Api-Key".to_string(), MaybeSecret::Plain("k3y".into()))].into(),
            cookies: [("session".to_string(), temp_secret("session2", "abc123"))].into(),
            ..FeedHttp::default()
        },
        ..FeedEntry::new(format!("http://{home}/feed"))
    };
    let fetcher = Fetcher::new(
        &settings(),
        &NetworkSettings {
            allow: vec!["127.0.0.0/8".into()],
        },
    )
    .unwrap();
    let polled = fetcher.poll(&entry).await;
    assert_eq!(polled.outcome, "ok", "{:?}", polled.error);
    assert!(polled.records[0].page.is_some());
    let seen = seen.lock().unwrap().clone();
    assert!(!seen.is_empty());
    for (_, uri, headers) in &seen {
        assert!(
            !headers.contains_key("cookie") && !headers.contains_key("x-api-key"),
            "{uri}: {headers:?}"
        );
    }
}

#[tokio::test]
async fn the_guard_applies_to_every_address_through_a_proxy() {
    let (proxy, seen) = serve_proxy().await;
    let fetcher = proxy_only(proxy);
    let through = |url: String| FeedEntry {
        http: FeedHttp {
            proxy: Some(format!("http://{proxy}")),
            ..FeedHttp::default()
        },
        ..FeedEntry::new(url)
    };
    // A private address literal, a name that resolves to one, and the cloud metadata service.
    for url in [
        "http://127.0.0.1:9/secret".to_string(),
        format!("http://localhost:{}/secret", proxy.port()),
        "http://169.254.169.254/latest/meta-data/".to_string(),
    ] {
        let polled = fetcher.poll(&through(url.clone())).await;
        assert_eq!(polled.outcome, "blocked", "{url}: {:?}", polled.error);
    }
    assert!(seen.lock().unwrap().is_empty(), "the proxy was never asked");
    // The proxy itself must be allowed.
    let polled = Fetcher::new(&settings(), &NetworkSettings::default())
        .unwrap()
        .poll(&through("http://publisher.test/feed.xml".into()))
        .await;
    assert_eq!(polled.outcome, "blocked", "{:?}", polled.error);
    assert!(seen.lock().unwrap().is_empty());
}

/// A port nothing listens on now, for the push endpoint's callback URL.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A hub: takes subscription requests, verifies each by a GET on its callback (with the
/// lease it grants), and reports what it saw.
#[derive(Clone, Default)]
struct Hub {
    requests: Arc<Mutex<Vec<HashMap<String, String>>>>,
    verified: Arc<Mutex<Vec<String>>>,
    /// The lease granted; `None`: requests are accepted but never verified.
    lease: Arc<Mutex<Option<u64>>>,
}

impl Hub {
    async fn serve(&self) -> SocketAddr {
        let hub = self.clone();
        let app = axum::Router::new().route(
            "/hub",
            axum::routing::post(move |body: axum::body::Bytes| {
                let hub = hub.clone();
                async move {
                    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
                    hub.requests.lock().unwrap().push(form.clone());
                    let lease = *hub.lease.lock().unwrap();
                    if let Some(lease) = lease {
                        tokio::spawn(async move {
                            let challenge = format!("challenge-{}", rand::random::<u32>());
                            let url = format!(
                                "{}?hub.mode=subscribe&hub.topic={}&hub.challenge={challenge}&hub.lease_seconds={lease}",
                                form["hub.callback"],
                                url::form_urlencoded::byte_serialize(form["hub.topic"].as_bytes()).collect::<String>()
                            );
                            let answer = reqwest::get(&url).await.unwrap();
                            let ok = answer.status() == 200;
                            if ok && answer.text().await.unwrap() == challenge {
                                hub.verified.lock().unwrap().push(form["hub.callback"].clone());
                            }
                        });
                    }
                    StatusCode::ACCEPTED
                }
            }),
        );
        serve(app).await
    }

    fn request(&self, n: usize) -> HashMap<String, String> {
        self.requests.lock().unwrap()[n].clone()
    }
}

fn atom(hub: &str, this: &str, entries: &[u32]) -> String {
    let entries: String = entries
        .iter()
        .map(|n| {
            format!(
                "<entry><id>urn:story:{n}</id><title>Story {n}</title><link href=\"https://news.example/story/{n}\"/>\
                 <updated>2026-11-30T12:00:00Z</updated><content type=\"html\">{}</content></entry>",
                "Long text. ".repeat(150)
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>Pushed</title><id>urn:feed</id>\
         <updated>2026-11-30T12:00:00Z</updated><link rel=\"hub\" href=\"{hub}\"/><link rel=\"self\" href=\"{this}\"/>{entries}</feed>"
    )
}

fn signed(secret: &str, method: &str, body: &str) -> String {
    use hmac::Mac;
    let hex = match method {
        "sha1" => {
            let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).unwrap();
            mac.update(body.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        _ => {
            let mut mac = hmac::Hmac::<sha2::Sha512>::new_from_slice(secret.as_bytes()).unwrap();
            mac.update(body.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
    };
    format!("{method}={hex}")
}

/// Runs `loop_` for up to `limit`, committing every batch, until `done` says so of the
/// records delivered so far; returns them with each batch's outcomes.
async fn run_until(
    fetcher: &mut Fetcher,
    polls: &mut PollLoop,
    feeds: &[FeedEntry],
    limit: Duration,
    delivered: &mut Vec<(&'static str, Vec<RawRecord>)>,
    mut done: impl FnMut(&[(&'static str, Vec<RawRecord>)]) -> bool,
) {
    let deadline = tokio::time::Instant::now() + limit;
    while !done(delivered) && tokio::time::Instant::now() < deadline {
        if polls.scan_due() {
            polls.start_due(fetcher, feeds);
        }
        let batch = tokio::select! {
            batch = polls.next_batch() => batch,
            () = tokio::time::sleep_until(deadline) => None,
        };
        for (feed, polled) in batch.into_iter().flatten() {
            delivered.push((polled.outcome, polled.records.clone()));
            fetcher.commit(&feed, polled.next_state);
        }
    }
}

fn titles(delivered: &[(&'static str, Vec<RawRecord>)], outcome: &str) -> Vec<String> {
    delivered
        .iter()
        .filter(|(o, _)| *o == outcome)
        .flat_map(|(_, records)| records.iter().filter_map(|r| r.title.clone()))
        .collect()
}

fn websub_fetcher(port: u16, lease_secs: u64) -> Fetcher {
    Fetcher::new(
        &FetchSettings {
            websub: WebSubSettings {
                callback_url: Some(format!("http://127.0.0.1:{port}/websub/")),
                listen_addr: format!("127.0.0.1:{port}"),
                secret: Some(temp_secret("websub", "shared-key")),
                lease_secs,
                ..WebSubSettings::default()
            },
            ..settings()
        },
        &loopback_allowed(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_hub_verifies_and_pushes_and_forged_content_is_ignored() {
    let hub = Hub::default();
    *hub.lease.lock().unwrap() = Some(3600);
    let hub_addr = hub.serve().await;
    let feed_hits = counter();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let feed_url = format!("http://{}/feed.xml", listener.local_addr().unwrap());
    let (hub_url, topic) = (format!("http://{hub_addr}/hub"), format!("{feed_url}?self"));
    let document = atom(&hub_url, &topic, &[1]);
    let h = feed_hits.clone();
    let app = axum::Router::new().route(
        "/feed.xml",
        axum::routing::get(move || {
            h.fetch_add(1, Ordering::SeqCst);
            let document = document.clone();
            async move { ([(header::CONTENT_TYPE, "application/atom+xml")], document) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let port = free_port();
    let mut fetcher = websub_fetcher(port, 3600);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let _stop = shutdown.clone().drop_guard();
    fetcher.serve_push(shutdown.clone()).await.unwrap().unwrap();
    let feeds = vec![FeedEntry {
        max_interval_secs: Some(7200),
        ..FeedEntry::new(feed_url.clone())
    }];
    let mut polls = PollLoop::scheduled();
    let mut delivered = Vec::new();
    let verified = || !hub.verified.lock().unwrap().is_empty();
    run_until(
        &mut fetcher,
        &mut polls,
        &feeds,
        Duration::from_secs(10),
        &mut delivered,
        |_| verified(),
    )
    .await;
    assert!(verified(), "the hub verified the subscription");
    assert_eq!(titles(&delivered, "ok"), ["Story 1"]);
    let request = hub.request(0);
    assert_eq!(request["hub.mode"], "subscribe");
    assert_eq!(request["hub.topic"], topic, "the feed's self link is the topic");
    assert_eq!(request["hub.lease_seconds"], "3600");
    let (callback, secret) = (request["hub.callback"].clone(), request["hub.secret"].clone());
    assert!(
        callback.starts_with(&format!("http://127.0.0.1:{port}/websub/")),
        "{callback}"
    );
    assert!(secret.len() >= 32);

    // A verification the fetcher did not ask for, and an unsubscription, are refused.
    let client = reqwest::Client::new();
    let forged = format!("{callback}?hub.mode=subscribe&hub.topic=https://evil.example/&hub.challenge=x");
    assert_eq!(client.get(&forged).send().await.unwrap().status(), 404);
    let unsubscribe = format!(
        "{callback}?hub.mode=unsubscribe&hub.topic={}&hub.challenge=x",
        url::form_urlencoded::byte_serialize(topic.as_bytes()).collect::<String>()
    );
    assert_eq!(client.get(&unsubscribe).send().await.unwrap().status(), 404);

    // Pushes: one signed right (sha1), one with another secret, one unsigned. Only the
    // first one's new item comes out, once.
    let pushes = &metrics::get().websub_pushes;
    let (bad_before, unsigned_before) = (
        pushes.with_label_values(&["bad_signature"]).get(),
        pushes.with_label_values(&["unsigned"]).get(),
    );
    let good = atom(&hub_url, &topic, &[2, 1]);
    let post = |body: String, signature: Option<String>| {
        let mut request = client
            .post(&callback)
            .header("content-type", "application/atom+xml")
            .body(body);
        if let Some(signature) = signature {
            request = request.header("x-hub-signature", signature);
        }
        request.send()
    };
    let forged_body = atom(&hub_url, &topic, &[3]);
    assert_eq!(
        post(
            forged_body.clone(),
            Some(signed("not-the-secret", "sha512", &forged_body))
        )
        .await
        .unwrap()
        .status(),
        202
    );
    assert_eq!(post(atom(&hub_url, &topic, &[4]), None).await.unwrap().status(), 202);
    assert_eq!(
        post(good.clone(), Some(signed(&secret, "sha1", &good)))
            .await
            .unwrap()
            .status(),
        202
    );
    assert_eq!(pushes.with_label_values(&["bad_signature"]).get(), bad_before + 1);
    assert_eq!(pushes.with_label_values(&["unsigned"]).get(), unsigned_before + 1);
    let pushed = |d: &[(&'static str, Vec<RawRecord>)]| !titles(d, "pushed").is_empty();
    run_until(
        &mut fetcher,
        &mut polls,
        &feeds,
        Duration::from_secs(10),
        &mut delivered,
        pushed,
    )
    .await;
    assert_eq!(
        titles(&delivered, "pushed"),
        ["Story 2"],
        "only the new item of the signed push"
    );
    // The same push again adds nothing; the forged items never come.
    assert_eq!(
        post(good.clone(), Some(signed(&secret, "sha512", &good)))
            .await
            .unwrap()
            .status(),
        202
    );
    let before = delivered.len();
    run_until(
        &mut fetcher,
        &mut polls,
        &feeds,
        Duration::from_secs(3),
        &mut delivered,
        |d| d.len() > before,
    )
    .await;
    let all: Vec<String> = delivered
        .iter()
        .flat_map(|(_, r)| r.iter().filter_map(|r| r.title.clone()))
        .collect();
    assert_eq!(all, ["Story 1", "Story 2"]);
    let pushed_id = &delivered.iter().find(|(o, _)| *o == "pushed").unwrap().1[0].id;
    assert_eq!(
        *pushed_id,
        record::article_id("https://news.example/story/2"),
        "the id a poll would give"
    );

    // While push works, the feed is polled at its slowest interval.
    let polled = fetcher.poll(&feeds[0]).await;
    assert!(polled.is_success(), "{:?}", polled.error);
    let wait = polled.next_state.next_poll.unwrap() - Utc::now().timestamp();
    assert!((7190..=7200).contains(&wait), "next poll in {wait} s");
    assert_eq!(
        hub.requests.lock().unwrap().len(),
        1,
        "an active subscription is not asked for again"
    );
}

#[tokio::test]
async fn leases_are_renewed_and_a_lapsed_one_brings_polling_back() {
    let hub = Hub::default();
    // The hub grants 4-second leases, verifies the first request, then stops answering.
    *hub.lease.lock().unwrap() = Some(4);
    let hub_addr = hub.serve().await;
    let feed_hits = counter();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let feed_url = format!("http://{}/feed.xml", listener.local_addr().unwrap());
    let document = atom(&format!("http://{hub_addr}/hub"), &feed_url, &[1]);
    let h = feed_hits.clone();
    let app = axum::Router::new().route(
        "/feed.xml",
        axum::routing::get(move || {
            h.fetch_add(1, Ordering::SeqCst);
            let document = document.clone();
            async move { document }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let port = free_port();
    let mut fetcher = websub_fetcher(port, 4);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let _stop = shutdown.clone().drop_guard();
    fetcher.serve_push(shutdown.clone()).await.unwrap();
    let feeds = vec![FeedEntry::new(feed_url.clone())];
    let mut polls = PollLoop::scheduled();
    let mut delivered = Vec::new();
    let verified = || !hub.verified.lock().unwrap().is_empty();
    run_until(
        &mut fetcher,
        &mut polls,
        &feeds,
        Duration::from_secs(10),
        &mut delivered,
        |_| verified(),
    )
    .await;
    assert!(verified());
    *hub.lease.lock().unwrap() = None;
    let polls_before = feed_hits.load(Ordering::SeqCst);
    // Renewal comes before the lease runs out (at most half the lease before); when the
    // renewal is never verified, the lease lapses and the feed is polled again at once.
    let lapsed = || feed_hits.load(Ordering::SeqCst) > polls_before;
    run_until(
        &mut fetcher,
        &mut polls,
        &feeds,
        Duration::from_secs(12),
        &mut delivered,
        |_| lapsed(),
    )
    .await;
    assert!(lapsed(), "the feed was polled again after the lease ran out");
    let requests = hub.requests.lock().unwrap().len();
    assert!(
        requests >= 3,
        "the first request, a renewal and a new request after the lapse: {requests}"
    );
    assert_eq!(hub.verified.lock().unwrap().len(), 1);
}
