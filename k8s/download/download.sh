#!/bin/sh
# Downloads https://dumps.wikimedia.org/other/cirrus_search_index/$DUMP_DATE/index_name=${WIKI}_content/
# into /dumps/cirrus_search_index/$DUMP_DATE/index_name=${WIKI}_content/.
# - refuses a dump without _SUCCESS (Wikimedia publishes it last);
# - resumes partial downloads (kept as NAME.part, which wikitok ignores);
# - verifies every shard's size against the server's Content-Length;
# - a stalled transfer (< 10 kB/s for 2 minutes) is aborted and retried.
set -eu
BASE="${DUMPS_URL:-https://dumps.wikimedia.org/other/cirrus_search_index}/${DUMP_DATE}/index_name=${WIKI}_content/"
DEST="/dumps/cirrus_search_index/${DUMP_DATE}/index_name=${WIKI}_content"
CURL="curl -fsSL --retry 10 --retry-delay 15 --retry-all-errors --speed-limit 10000 --speed-time 120"

if ! $CURL -I "${BASE}_SUCCESS" >/dev/null; then
  echo "incomplete dump: ${BASE} has no _SUCCESS yet; try an earlier date" >&2
  exit 3
fi
mkdir -p "$DEST"
$CURL "$BASE" -o /tmp/index.html
SHARDS=$(grep -o 'href="[^"]*\.json\.bz2"' /tmp/index.html | sed -e 's/^href="//' -e 's/"$//' | sort -u)
[ -n "$SHARDS" ] || { echo "no .json.bz2 shards listed at $BASE" >&2; exit 3; }
for shard in $SHARDS; do
  size=$($CURL -I "$BASE$shard" | tr -d '\r' | awk 'tolower($1) == "content-length:" { print $2 }' | tail -n 1)
  if [ -f "$DEST/$shard" ] && [ "$(stat -c %s "$DEST/$shard")" = "$size" ]; then
    echo "have $shard ($size bytes)"
    continue
  fi
  echo "downloading $shard ($size bytes)"
  $CURL -C - -o "$DEST/$shard.part" "$BASE$shard"
  got=$(stat -c %s "$DEST/$shard.part")
  if [ "$got" != "$size" ]; then
    echo "$shard: got $got bytes, expected $size; rerun to resume" >&2
    exit 1
  fi
  mv "$DEST/$shard.part" "$DEST/$shard"
done
touch "$DEST/_SUCCESS"
echo "complete: $(echo "$SHARDS" | wc -l) shards in $DEST"
