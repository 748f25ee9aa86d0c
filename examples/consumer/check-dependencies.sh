#!/usr/bin/env bash
# Checks what a user of the library resolves (run from anywhere, after mvn install at the root): the
# library, vertx-core and what vertx-core itself brings (its logging, Netty, Jackson core), nothing else: none of the
# library's test, example or benchmark dependencies (H2, Hazelcast, vertx-web, Prometheus, JMH, ...), and
# none of its optional ones (Micrometer, OpenTelemetry, vertx-health-check).
set -euo pipefail
cd "$(dirname "$0")"
list=$(mktemp)
trap 'rm -f "$list"' EXIT
mvn -B -q dependency:list -DoutputFile="$list" -DexcludeTransitive=false -Dsort=true
# Lines such as "   io.vertx:vertx-core:jar:5.0.7:compile -- module io.vertx.core"
resolved=$(grep -E '^\s+[^ ]+:[^ ]+:' "$list" | sed -E 's/^\s+//; s/ .*//')
echo "resolved by a user of the library:"
echo "$resolved" | sed 's/^/  /'
grep -q '^io\.vertx:vertx-core:' <<<"$resolved" || { echo "vertx-core is missing" >&2; exit 1; }
grep -q '^dev\.singleflight:vertx-singleflight:' <<<"$resolved" || { echo "the library is missing" >&2; exit 1; }
unexpected=$(grep -v -E '^(dev\.singleflight:vertx-singleflight|io\.vertx:vertx-core|io\.vertx:vertx-core-logging|io\.netty:[^:]+|com\.fasterxml\.jackson\.core:jackson-core):' <<<"$resolved" || true)
if [ -n "$unexpected" ]; then
  echo "a user of the library would also get:" >&2
  echo "$unexpected" >&2
  exit 1
fi
echo "only the library, vertx-core and vertx-core's own dependencies"
