package dev.singleflight;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's (and examples/BRIDGE.md's) code blocks marked {@code <!-- snippet: Example#tag -->} quote the compiled examples. */
class ReadmeSnippetsTest {

  static final Pattern SNIPPET = Pattern.compile("<!-- snippet: (\\w+)#(\\w+) -->\\n```java\\n(.*?)```", Pattern.DOTALL);
  /** Anything that looks like a marker, well-formed or not: each must be a checked snippet. */
  static final Pattern MARKER = Pattern.compile("<!--\\s*snippet");
  static final Path EXAMPLES = Path.of("examples/src/main/java/dev/singleflight/examples");

  @Test
  void everySnippetMarkerOfTheDocumentationQuotesItsExampleExactly() throws IOException {
    for (Path document : documents()) {
      long markers = MARKER.matcher(Files.readString(document)).results().count();
      assertEquals(markers, checkSnippets(document),
        document + ": a marker is malformed or not followed by a ```java block");
    }
    for (String quoting : List.of("README.md", "examples/BRIDGE.md")) {
      assertTrue(MARKER.matcher(Files.readString(Path.of(quoting))).find(), quoting + " lost its snippet markers");
    }
  }

  /** @return the project's Markdown files, outside build output and version control */
  private static List<Path> documents() throws IOException {
    try (Stream<Path> files = Files.walk(Path.of("."))) {
      return files.filter(file -> file.toString().endsWith(".md"))
        .filter(file -> !file.startsWith("./target") && !file.startsWith("./.git"))
        .toList();
    }
  }

  /** @return the snippets of {@code document} checked against their examples */
  private static int checkSnippets(Path document) throws IOException {
    Matcher snippets = SNIPPET.matcher(Files.readString(document));
    int quoted = 0;
    while (snippets.find()) {
      String example = snippets.group(1);
      String tag = snippets.group(2);
      assertEquals(region(find(example + ".java"), tag), snippets.group(3).stripTrailing(),
        document + " snippet " + example + "#" + tag);
      quoted++;
    }
    return quoted;
  }

  /** @return the example source named {@code fileName}, in any package under examples/ */
  static Path find(String fileName) throws IOException {
    try (Stream<Path> files = Files.walk(EXAMPLES)) {
      return files.filter(file -> file.getFileName().toString().equals(fileName)).findFirst()
        .orElseThrow(() -> new AssertionError("no example " + fileName));
    }
  }

  /** @return the lines between {@code // tag::tag[]} and {@code // end::tag[]}, without their common indent */
  static String region(Path file, String tag) throws IOException {
    List<String> lines = Files.readAllLines(file);
    int start = indexOf(lines, "// tag::" + tag + "[]", file);
    int end = indexOf(lines, "// end::" + tag + "[]", file);
    List<String> region = lines.subList(start + 1, end);
    int indent = region.stream().filter(l -> !l.isBlank())
      .mapToInt(l -> l.length() - l.stripLeading().length()).min().orElse(0);
    return region.stream().map(l -> l.isBlank() ? "" : l.substring(indent)).collect(Collectors.joining("\n"));
  }

  private static int indexOf(List<String> lines, String marker, Path file) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).strip().equals(marker)) {
        return i;
      }
    }
    throw new AssertionError(marker + " not found in " + file);
  }
}
