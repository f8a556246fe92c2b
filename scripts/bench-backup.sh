#!/usr/bin/env bash
# Cairn's backups against restic and borg on the same data directory, in one run:
#   full backup, incremental after a 1% change, restore (+ open + verified against the summary
#   for Cairn), peak memory and repository bytes, and the disk's sequential write speed.
# Usage: scripts/bench-backup.sh [OBJECTS] [WORK_DIR]     (defaults: 1000000, /tmp/cairn-bench-backup)
#   KEEP_DATA=1 reuses WORK_DIR/db from an earlier run (building 1M objects takes about 6 minutes).
#   CHANGE=0.1 changes 10% before the incremental backup (default 0.01; 0.1 of 100k = 0.01 of 1M).
# Needs: restic and borg (installed by ../shared/bench/backup_peers.sh), GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-1000000}
work=${2:-/tmp/cairn-bench-backup}
peers=${PEERS_SCRIPT:-../shared/bench/backup_peers.sh}
if [ "${KEEP_DATA:-0}" = 1 ] && [ -d "$work/db" ]; then rm -rf "$work/repos" "$work/out"; else rm -rf "$work"; fi
mkdir -p "$work"
swift build -c release -j 2 -Xswiftc -target-cpu -Xswiftc native --product cairn-bench >/dev/null
swift build -c release -j 2 -Xswiftc -target-cpu -Xswiftc native --product cairn >/dev/null
bin=.build/release
export CAIRN_PASSWORD=bench
command -v /usr/bin/time >/dev/null || { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }

# Every timed step starts with the page cache dropped (where allowed), so no tool reads what
# another one left in memory, nor pays for the pages another one dirtied.
cold() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
peers() { for tool in restic borg; do cold; TOOLS=$tool bash "$peers" "$@"; done; }
cairn_timed() { # step cmd... → "cairn STEP seconds peak_rss_kib repo_bytes"
  local step=$1; shift
  cold
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/cairn-$step.out" 2>&1 || { echo "cairn $step FAILED"; cat "$work/cairn-$step.out"; exit 1; }
  echo "cairn $step $(tail -1 "$work/time") $(du -sb "$work/repos/cairn" | cut -f1)"
}

echo "# data: $count objects × 128-d with properties, flushed and compacted"
[ -d "$work/db" ] || $bin/cairn-bench backup-data --data "$work/db" --count "$count"
du -sh "$work/db"

echo "# tool step seconds peak_rss_kib repo_bytes"
peers full "$work/db" "$work/repos"
$bin/cairn repo init --repo "$work/repos/cairn" >/dev/null
cairn_timed full $bin/cairn backup create --data "$work/db" --repo "$work/repos/cairn"

$bin/cairn-bench backup-data --data "$work/db" --change "${CHANGE:-0.01}"
peers incr "$work/db" "$work/repos"
cairn_timed incr $bin/cairn backup create --data "$work/db" --repo "$work/repos/cairn"

peers restore "$work/repos" "$work/out"
cairn_timed restore $bin/cairn restore latest --repo "$work/repos/cairn" --target "$work/out/cairn"
grep -h "verified" "$work/cairn-restore.out"

echo "# disk: sequential write of 2 GiB with fsync"
cold
dd if=/dev/zero of="$work/dd" bs=8M count=256 conv=fsync 2>&1 | tail -1
rm -f "$work/dd"
