#!/usr/bin/env bash
# Everything this project checks on a GPU, in one command that finishes in under 8 minutes:
#
#   OUT=results bash scripts/gpu_check.sh             # on a machine with CUDA
#   OUT=results bash scripts/gpu_check.sh --dry-run   # every step on the CPU at a tiny size (CI runs this)
#   PYTHON=.venv/bin/python bash scripts/gpu_check.sh --dry-run   # another interpreter (default: python3)
#
# Without CUDA the script makes a dry run by itself and says so. Without OUT it writes into a temporary folder
# and prints where. The steps, each with its own time limit (GPU run / dry run), each logged to logs/<step>.log:
#
#   tests             python -m pytest tests/optimizers, the CUDA cases included (dry run: test_adam.py only,
#                     since CI runs the whole suite on the CPU anyway); needs neither litdoc nor a browser
#   bench_optimizers  one Adam step per optimizer, the STREAM-like copy and triad bandwidth, and FusedAdam's step
#                     against the time that bandwidth allows (dry run: --tiny)
#   bench_training    whole training iterations, FusedAdam against torch.optim.Adam(fused=True) (dry run: --tiny)
#   train_example     labml_nn/optimizers/train_example.py (dry run: 50 steps)
#   experiment        labml_nn/optimizers/experiment.py --quick (dry run: Adam only); the digits task needs
#                     scikit-learn and the figures need matplotlib: without them the task or the step is left out
#
# A step that fails or runs out of time does not stop the others; the script exits 1 at the end if any step that
# ran failed, and 0 otherwise. OUT ends up holding a few files (a folder copied back from a remote machine may be
# limited to a handful, so the details travel as one archive):
#
#   summary.md                  the tables (scripts/gpu_tables.py render OUT draws them again)
#   gpu_check.json              the environment, each step's status and time, test counts, the examples' last lines
#   bench_optimizers.json       bench_optimizers.py --json
#   bench_training.json         bench_training.py --json
#   fused_adam_bench_<dev>.svg  the step benchmark's figure (<dev>: cuda, or cpu in a dry run)
#   experiment_loss_curves.svg  the experiment's loss curves
#   logs.tar.gz                 logs/<step>.log, logs/tests.xml (JUnit), the step benchmark's report, experiment/
#
# --keep leaves logs/ unpacked beside the archive.
set -u
cd "$(dirname "$0")/.."

usage() { sed -n '2,/^set -u/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
dry_run=0
keep=0
for arg in "$@"; do
    case "$arg" in
        --dry-run) dry_run=1 ;;
        --keep) keep=1 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "gpu_check.sh: unknown argument $arg (try --help)" >&2; exit 2 ;;
    esac
done

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import torch' >/dev/null 2>&1; then
    echo "gpu_check.sh: $PYTHON cannot import torch; set PYTHON to an interpreter that has it" >&2
    exit 2
fi
if [ -z "${OUT:-}" ]; then
    OUT=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")
    echo "OUT is not set: writing into $OUT"
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
LOGS="$OUT/logs"
rm -rf "$LOGS"
mkdir -p "$LOGS"
STEPS="$LOGS/steps.tsv"
: >"$STEPS"
export PYTHONUNBUFFERED=1

reason=""
if [ "$dry_run" = 1 ]; then
    reason="--dry-run was given"
elif [ "$("$PYTHON" -c 'import torch; print(int(torch.cuda.is_available()))' 2>/dev/null)" != 1 ]; then
    dry_run=1
    reason="torch.cuda.is_available() is False on this machine"
fi
if [ "$dry_run" = 1 ]; then
    device=cpu
    mode=dry-run
    echo "DRY RUN: every step on the CPU at a tiny size ($reason); NOT A GPU RESULT"
else
    device=cuda
    mode=gpu
    command -v nvidia-smi >/dev/null && nvidia-smi >"$LOGS/nvidia-smi.log" 2>&1
fi

# Optional packages, looked up without importing them: find_spec is cheap, an import of scikit-learn is not.
missing=$("$PYTHON" - <<'EOF'
import importlib.util
print(" ".join(m for m in ("pytest", "sklearn", "matplotlib") if importlib.util.find_spec(m) is None))
EOF
)
has() { case " $missing " in *" $1 "*) return 1 ;; *) return 0 ;; esac; }
[ -n "$missing" ] && echo "not installed, so left out where needed: $missing"

failed=0
# run_step NAME LIMIT COMMAND...: runs COMMAND with a time limit, its output into logs/NAME.log; one line of status.
run_step() {
    local name=$1 limit=$2
    shift 2
    local log="$LOGS/$name.log" start=$SECONDS rc
    echo "\$ $*" >"$log"
    # At the limit, timeout interrupts the command's whole process group (pytest's and torch.compile's workers too)
    # with SIGINT, so that pytest still writes its report and the benchmarks end as on Ctrl-C, keeping the JSON
    # they wrote after each case; what still runs 10 s later is killed.
    timeout --signal=INT --kill-after=10 "$limit" "$@" >>"$log" 2>&1
    rc=$?
    local took=$((SECONDS - start))
    printf '%s\t%s\t%s\t%s\t\n' "$name" "$rc" "$took" "$limit" >>"$STEPS"
    if [ "$rc" = 0 ]; then
        echo "[$name] ok in ${took}s"
        return
    fi
    failed=1
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        echo "[$name] TIMED OUT after ${limit}s; the end of logs/$name.log:"
    else
        echo "[$name] FAILED (exit $rc) in ${took}s; the end of logs/$name.log:"
    fi
    tail -n 8 "$log" | sed 's/^/    /'
}
skip_step() {
    printf '%s\tskipped\t0\t0\t%s\n' "$1" "$2" >>"$STEPS"
    echo "[$1] skipped: $2"
}

# ## The steps. The GPU limits sum to 455 s, which leaves some 20 s for start-up, the tables and a step that has to
# be killed, within 8 minutes. The times in the comments below are estimates for an H100 with a cold compilation
# cache, not yet measured there. The dry run takes about a minute on 2 CPU cores.
if [ "$dry_run" = 1 ]; then
    tests=(tests/optimizers/test_adam.py)
    t_tests=120 t_opt=120 t_train=120 t_example=60 t_experiment=120
    opt_args=(--tiny)
    training_args=(--tiny)
    example_args=(--steps 50)
    experiment_args=(--optimizers adam)
else
    tests=(tests/optimizers)
    t_tests=130 t_opt=140 t_train=60 t_example=25 t_experiment=100
    # 20 steps of every case and the sweep: about 70 s of it compiles FusedAdam's kernel once per model (18)
    opt_args=(--steps 20)
    # 24 timed iterations of each model instead of 36: the per-tensor contenders on 1,024 tensors launch ~3,000
    # kernels an iteration
    training_args=(--iters 24)
    example_args=()
    experiment_args=()
    # Four workers, one test file each, when pytest-xdist is there: the distributed tests' start-up alone is 40 s.
    if "$PYTHON" -c 'import xdist' >/dev/null 2>&1; then
        tests+=(-n 4 --dist loadfile)
    fi
fi

if has pytest; then
    run_step tests "$t_tests" "$PYTHON" -m pytest "${tests[@]}" -q -p no:cacheprovider --junitxml="$LOGS/tests.xml"
else
    skip_step tests "pytest is not installed"
fi

svg="$OUT/fused_adam_bench_$device.svg"
run_step bench_optimizers "$t_opt" "$PYTHON" scripts/bench_optimizers.py --device "$device" "${opt_args[@]}" \
    --json "$OUT/bench_optimizers.json" --svg "$svg" --out "$LOGS/bench_optimizers"

run_step bench_training "$t_train" "$PYTHON" scripts/bench_training.py --device "$device" \
    ${training_args[@]+"${training_args[@]}"} \
    --json "$OUT/bench_training.json"

run_step train_example "$t_example" "$PYTHON" -m labml_nn.optimizers.train_example --device "$device" \
    ${example_args[@]+"${example_args[@]}"}

if has matplotlib; then
    has sklearn || experiment_args+=(--tasks text)
    run_step experiment "$t_experiment" "$PYTHON" -m labml_nn.optimizers.experiment --quick --device "$device" \
        --no-labml --out "$LOGS/experiment" ${experiment_args[@]+"${experiment_args[@]}"}
    [ -f "$LOGS/experiment/loss_curves.svg" ] && cp "$LOGS/experiment/loss_curves.svg" "$OUT/experiment_loss_curves.svg"
    has sklearn || echo "[experiment] text task only: scikit-learn (the digits) is not installed"
else
    skip_step experiment "matplotlib is not installed, and the experiment draws its figures at the end"
fi

# ## Results
if ! "$PYTHON" scripts/gpu_tables.py collect "$OUT" --mode "$mode" --reason "$reason" --missing "$missing" \
    >"$LOGS/collect.log" 2>&1; then
    failed=1
    echo "[collect] FAILED; the end of logs/collect.log:"
    tail -n 8 "$LOGS/collect.log" | sed 's/^/    /'
fi
"$PYTHON" scripts/gpu_tables.py render "$OUT" >"$OUT/summary.md" 2>>"$LOGS/collect.log" || failed=1
tar -czf "$OUT/logs.tar.gz" -C "$OUT" logs
[ "$keep" = 1 ] || rm -rf "$LOGS"

echo
echo "== summary (tables: $OUT/summary.md) =="
"$PYTHON" scripts/gpu_tables.py render "$OUT" --brief || failed=1
[ "$dry_run" = 1 ] && echo "DRY RUN on the CPU ($reason): NOT A GPU RESULT"
if [ "$failed" = 1 ]; then
    echo "gpu_check: some steps FAILED (see above)"
    exit 1
fi
echo "gpu_check: every step that ran passed"
