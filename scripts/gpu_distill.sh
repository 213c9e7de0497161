#!/usr/bin/env bash
# A distillation study in one lease: the teacher trains and is evaluated alone on GPU 0 while the
# side recipes (the baseline of the same code) run on the other GPUs; then the students, whose
# recipes say TEACHER where the teacher's logged model URI goes, run on every GPU. Each phase is
# scripts/gpu_train_evaluate.sh, all in one MLflow file store (/tmp/mlruns). Longer than one call:
# start it with setsid, then poll OUT_DIR/phase (teacher, students, done) from later calls on the
# same warm machine.
# Usage: scripts/gpu_distill.sh OUT_DIR "TEACHER_SPEC" "SIDE_SPEC"... -- "STUDENT_SPEC"...
set -uo pipefail
out="$1" teacher="$2"; shift 2
side=(); while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do side+=("$1"); shift; done
shift || true
students=("$@")
mkdir -p "$out/teacher" "$out/side" "$out/students"
phase() { echo "$1" > "$out/phase"; echo "$(date -u +%H:%M:%S) $1" >> "$out/timeline"; }
source scripts/gpu_env.sh
python3 -c "import mlflow; mlflow.set_experiment('study')"
gpus=$(nvidia-smi -L | wc -l)
host=$(( 1 + ${#side[@]} ))
phase teacher
HOST_RECIPES=$host RUNS_PER_GPU=1 bash scripts/gpu_train_evaluate.sh "$out/teacher" "$teacher" &
teacher_pid=$!
side_pid=
if [ "${#side[@]}" -gt 0 ]; then
  per=$(( (${#side[@]} + gpus - 2) / (gpus - 1) ))
  HOST_RECIPES=$host FIRST_GPU=1 RUNS_PER_GPU=$per bash scripts/gpu_train_evaluate.sh "$out/side" "${side[@]}" &
  side_pid=$!
fi
wait "$teacher_pid"
name=${teacher%% *}
uri=$(grep -o "logged model models:/m-[0-9a-f]*" "$out/teacher/$name.log" | tail -1 | cut -d' ' -f3)
echo "teacher $name: ${uri:-no model logged}" | tee "$out/teacher_uri"
[ -z "$side_pid" ] || wait "$side_pid"
if [ -n "$uri" ] && [ "${#students[@]}" -gt 0 ]; then
  phase students
  specs=(); for spec in "${students[@]}"; do specs+=("${spec//TEACHER/$uri}"); done
  per=$(( (${#specs[@]} + gpus - 1) / gpus ))
  RUNS_PER_GPU=$per bash scripts/gpu_train_evaluate.sh "$out/students" "${specs[@]}"
fi
python3 scripts/run_summary.py --experiment study --history valid_ > "$out/runs.json"
tar --exclude='*/models/*/artifacts' -czf "$out/mlruns.tgz" -C /tmp mlruns
phase done
