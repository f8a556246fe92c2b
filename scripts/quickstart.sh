#!/usr/bin/env bash
# Cairn in two minutes: builds the CLI, creates a collection in an embedded data directory,
# imports 10,000 generated articles, searches with and without filters, flushes them into a
# segment with an HNSW graph, searches through it, takes a snapshot, makes a mistake, rolls it
# back, clones the snapshot, checks what it stored after a restart, then backs it up into an
# encrypted repository, deletes the data directory (a simulated loss) and restores it, proving
# the restore against the backup, and restores one tenant under a new name beside it. Every
# command it runs is printed first, so you can run them yourself.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "Building cairn (release)"
"${RELEASE_BUILD[@]}" --product cairn >/dev/null
"${RELEASE_BUILD[@]}" --product cairn-bench >/dev/null
BIN="$PWD/.build/release"
cairn() { "$BIN/cairn" "$@"; }

WORK="$PWD/quickstart-work"
rm -rf "$WORK" && mkdir -p "$WORK"
export CAIRN_DATA="$WORK/cairn-data"   # the embedded database lives in this directory
echo "data directory: $CAIRN_DATA"

step "Generating 10,000 sample articles (128-dimensional vectors)"
run "$BIN/cairn-bench" generate --count 10000 --dimensions 128 --out "$WORK/articles.jsonl" --query "$WORK/query.json"

step "Creating a multi-tenant collection with a tenant"
run cairn collection create articles --dimensions 128 --metric cosine \
  --property title:text --property year:int --property lang:keyword --multi-tenant \
  --ingestion '{"model":"example-embedder","fields":["title"]}'
run cairn tenant add articles acme

step "Importing (every batch is durable before the next one starts)"
run cairn import articles "$WORK/articles.jsonl" --tenant acme --batch-size 1000

step "Searching: the 5 nearest articles"
run cairn search articles --vector-file "$WORK/query.json" --limit 5 --tenant acme

step "Searching with a filter"
run cairn search articles --vector-file "$WORK/query.json" --limit 5 --tenant acme --filter 'year >= 2015 and lang in ["en", "de"]'

step "An alias, and what the database holds"
run cairn alias set latest-articles articles
run cairn collection list
run cairn flush
run cairn stats

step "Searching again: the flushed segment answers through its HNSW graph"
run cairn search articles --vector-file "$WORK/query.json" --limit 3 --tenant acme --ef 64

step "A snapshot, a mistake, and a rollback"
printf '$ cairn snapshot create --label before-cleanup\n'
snapshot=$(cairn --json snapshot create --label before-cleanup | sed -nE 's/.*"id" : "([^"]+)".*/\1/p')
echo "snapshot $snapshot (local, same disk: a snapshot, not a backup)"
run cairn tenant remove articles acme          # the mistake (Cairn takes a safety snapshot first)
run cairn snapshot list
run cairn snapshot rollback "$snapshot"
run cairn snapshot clone "$snapshot" "$WORK/staging-data"
run cairn --data "$WORK/staging-data" count articles --tenant acme

step "Verifying after a restart (every cairn command reopens the database)"
first=$(head -1 "$WORK/articles.jsonl" | sed -E 's/.*"id":"([^"]+)".*/\1/')
# Checks that the database holds all 10,000 articles and that the first one reads back.
verify() {
  local count
  count=$(cairn count latest-articles --tenant acme)
  cairn get articles "$first" --tenant acme >/dev/null
  if [ "$count" = "10000" ]; then
    echo "verified $1: 10000 objects present, object $first readable"
  else
    echo "verification $1 FAILED: expected 10000 objects, found $count" >&2
    exit 1
  fi
}
verify "after a restart"

step "A backup: an encrypted copy in a repository outside the data directory"
export CAIRN_PASSWORD="quickstart-only-password"   # use a real secret (or --key-file) for real data
run cairn repo init --repo "$WORK/backups"
run cairn backup create --repo "$WORK/backups" --tag quickstart
run cairn backup list --repo "$WORK/backups"

step "Losing the data directory, and restoring it from the backup"
run rm -rf "$CAIRN_DATA" "$WORK/staging-data"
run cairn restore latest --repo "$WORK/backups" --target "$CAIRN_DATA"
verify "after the restore"

step "One tenant of the backup, under a new name, beside the restored database"
run cairn restore latest --repo "$WORK/backups" --target "$WORK/one-tenant" --collection articles --tenant acme --rename-tenant acme=acme_before
run cairn --data "$WORK/one-tenant" count articles --tenant acme_before

step "One tenant of the backup restored into the running database, beside the live one (appears in one atomic step)"
run cairn restore latest --repo "$WORK/backups" --into "$CAIRN_DATA" --collection articles --tenant acme --as acme_yesterday
run cairn tenant list articles

printf '\nDone. Try: CAIRN_DATA=%s %s/cairn --help\n' "$CAIRN_DATA" "$BIN"
