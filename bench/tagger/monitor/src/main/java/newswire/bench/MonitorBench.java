package newswire.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.custom.CustomAnalyzer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.Term;
import org.apache.lucene.monitor.MatchingQueries;
import org.apache.lucene.monitor.Monitor;
import org.apache.lucene.monitor.MonitorQuery;
import org.apache.lucene.monitor.QueryMatch;
import org.apache.lucene.queries.spans.SpanMultiTermQueryWrapper;
import org.apache.lucene.queries.spans.SpanNearQuery;
import org.apache.lucene.queries.spans.SpanOrQuery;
import org.apache.lucene.queries.spans.SpanQuery;
import org.apache.lucene.queries.spans.SpanTermQuery;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.PhraseQuery;
import org.apache.lucene.search.PrefixQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.TermQuery;

/**
 * Runs the benchmark's queries (a JSON syntax tree per topic, written by the generator) in
 * Lucene Monitor over the benchmark's documents, one document at a time as a stream would, and
 * prints one JSON line: documents per second for each run, and the number of matches (to check
 * that both engines agree).
 *
 * <p>Usage: MonitorBench QUERIES.json DOCS.jsonl RUNS
 */
public final class MonitorBench {
  private static final String FIELD = "body";

  public static void main(String[] args) throws Exception {
    ObjectMapper json = new ObjectMapper();
    JsonNode queries = json.readTree(Path.of(args[0]).toFile());
    List<String> docs = new ArrayList<>();
    try (BufferedReader in = Files.newBufferedReader(Path.of(args[1]), StandardCharsets.UTF_8)) {
      String line;
      while ((line = in.readLine()) != null) {
        if (!line.isBlank()) {
          docs.add(json.readTree(line).get("body").asText());
        }
      }
    }
    int runs = Integer.parseInt(args[2]);

    // Lower-case words on Unicode word boundaries, CJK ideographs one by one, English
    // possessives dropped: the same words the newswire tokeniser makes.
    Analyzer analyzer =
        CustomAnalyzer.builder()
            .withTokenizer("standard")
            .addTokenFilter("englishPossessive")
            .addTokenFilter("lowercase")
            .build();
    long compileStart = System.nanoTime();
    Monitor monitor = new Monitor(analyzer);
    List<MonitorQuery> batch = new ArrayList<>();
    for (JsonNode q : queries) {
      batch.add(new MonitorQuery(q.get("id").asText(), toQuery(q.get("q"))));
      if (batch.size() == 1000) {
        monitor.register(batch);
        batch.clear();
      }
    }
    monitor.register(batch);
    double compileSeconds = (System.nanoTime() - compileStart) / 1e9;

    Document[] documents = new Document[docs.size()];
    for (int i = 0; i < documents.length; i++) {
      Document doc = new Document();
      doc.add(new TextField(FIELD, docs.get(i), Field.Store.NO));
      documents[i] = doc;
    }
    // One warm-up pass for the JIT, then the timed runs.
    long matches = 0;
    for (Document doc : documents) {
      matches += monitor.match(doc, QueryMatch.SIMPLE_MATCHER).getMatchCount();
    }
    double[] rates = new double[runs];
    for (int r = 0; r < runs; r++) {
      long start = System.nanoTime();
      long count = 0;
      for (Document doc : documents) {
        MatchingQueries<QueryMatch> m = monitor.match(doc, QueryMatch.SIMPLE_MATCHER);
        count += m.getMatchCount();
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      rates[r] = documents.length / seconds;
      matches = count;
    }
    monitor.close();
    double[] sorted = rates.clone();
    Arrays.sort(sorted);
    System.out.printf(
        "{\"engine\":\"lucene-monitor\",\"topics\":%d,\"docs\":%d,\"compile_seconds\":%.3f,"
            + "\"median_docs_per_sec\":%.1f,\"runs\":%s,\"matches\":%d}%n",
        queries.size(), documents.length, compileSeconds, sorted[runs / 2], Arrays.toString(rates), matches);
  }

  private static Query toQuery(JsonNode node) {
    switch (node.get("t").asText()) {
      case "term":
        return termQuery(node);
      case "and":
        {
          BooleanQuery.Builder b = new BooleanQuery.Builder();
          for (JsonNode c : node.get("c")) {
            if (c.get("t").asText().equals("not")) {
              b.add(toQuery(c.get("c").get(0)), BooleanClause.Occur.MUST_NOT);
            } else {
              b.add(toQuery(c), BooleanClause.Occur.MUST);
            }
          }
          return b.build();
        }
      case "or":
        {
          BooleanQuery.Builder b = new BooleanQuery.Builder();
          for (JsonNode c : node.get("c")) {
            b.add(toQuery(c), BooleanClause.Occur.SHOULD);
          }
          return b.build();
        }
      case "near":
        {
          int n = node.get("n").asInt();
          SpanQuery left = spanOr(node.get("l"));
          SpanQuery right = spanOr(node.get("r"));
          // NEAR/n allows n - 1 words between the two sides, in either order.
          return new SpanNearQuery(new SpanQuery[] {left, right}, n - 1, false);
        }
      default:
        throw new IllegalArgumentException("unknown node " + node);
    }
  }

  private static String[] words(JsonNode term) {
    String[] w = new String[term.get("w").size()];
    for (int i = 0; i < w.length; i++) {
      w[i] = term.get("w").get(i).asText();
    }
    return w;
  }

  private static Query termQuery(JsonNode term) {
    String[] w = words(term);
    boolean prefix = term.get("p").asBoolean();
    if (w.length == 1) {
      return prefix ? new PrefixQuery(new Term(FIELD, w[0])) : new TermQuery(new Term(FIELD, w[0]));
    }
    return new PhraseQuery(FIELD, w);
  }

  private static SpanQuery spanTerm(JsonNode term) {
    String[] w = words(term);
    boolean prefix = term.get("p").asBoolean();
    if (w.length == 1) {
      return prefix
          ? new SpanMultiTermQueryWrapper<>(new PrefixQuery(new Term(FIELD, w[0])))
          : new SpanTermQuery(new Term(FIELD, w[0]));
    }
    SpanQuery[] parts = new SpanQuery[w.length];
    for (int i = 0; i < w.length; i++) {
      parts[i] = new SpanTermQuery(new Term(FIELD, w[i]));
    }
    return new SpanNearQuery(parts, 0, true);
  }

  private static SpanQuery spanOr(JsonNode terms) {
    SpanQuery[] parts = new SpanQuery[terms.size()];
    for (int i = 0; i < parts.length; i++) {
      parts[i] = spanTerm(terms.get(i));
    }
    return parts.length == 1 ? parts[0] : new SpanOrQuery(parts);
  }
}
