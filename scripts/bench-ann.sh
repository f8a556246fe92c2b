#!/usr/bin/env bash
# Cairn's HNSW against hnswlib, faiss and usearch on the very same data, in one run:
# ann_peers.py writes the seeded data set (100k x 128, clustered) and times the peers
# (1 thread, per-query and --batch), then cairn-bench times Cairn through the database's
# search path. Usage: bash scripts/bench-ann.sh [DATA_DIR] [extra ann_peers.py options]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
DATA="${1:-/tmp/cairn-ann}"; shift || true
PEERS="$(cd .. && pwd)/shared/bench/ann_peers.py"
python3 -c "import hnswlib, faiss, usearch, numpy" 2>/dev/null || pip install -q hnswlib faiss-cpu usearch numpy
"${RELEASE_BUILD[@]}" --product cairn-bench >/dev/null
python3 "$PEERS" --save-dir "$DATA" --batch "$@"
# The same filtered runs for Cairn when the peers were asked for them (--filter-frac F).
FILTER=()
while [ $# -gt 0 ]; do
  case "$1" in
    --filter-frac) FILTER=(--filter-frac "$2"); shift 2 ;;
    --filter-frac=*) FILTER=(--filter-frac "${1#*=}"); shift ;;
    *) shift ;;
  esac
done
.build/release/cairn-bench ann --base "$DATA/base.fvecs" --query "$DATA/query.fvecs" \
  --groundtruth "$DATA/groundtruth.ivecs" --M 16 --ef-construction 200 --ef 16,32,64,128,256 "${FILTER[@]}"
