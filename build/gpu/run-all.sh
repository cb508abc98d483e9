#!/usr/bin/env bash
# Every GPU check of docs/GPU.md in one call on the lent GPU machine, from the repository root:
#   bash build/gpu/run-all.sh
# It needs .gpu/ (made here by build/gpu/make-payload.sh, carried with the call) and the tracked fixtures. It prints a
# table and leaves at most 8 files in $OUT: summary.md, gpu-run.log, parity.csv, steps.csv, fashion-mnist.csv,
# cifar-runs.csv, cifar-summary.md. Stages that fail or run out of time are reported, and the others still run.
# Environment: CCT_GPU_DEVICE (cuda; cpu for a dry run without a GPU), CCT_GPU_BUDGET_S (seconds for all stages,
# default 450), CCT_GPU_STAGES (the stages to run, e.g. "info steps-ours cifar-study"; default all), CIFAR_CAP_S (the
# CIFAR study's own cap, default 400), CCT_GPU_QUICK=1 (a few steps and epochs, to try the script), CCT_TORCH_LIB (libtorch's folder;
# default: the one of python3's torch), CIFAR_EPOCHS / CIFAR_SEEDS / FM_SEEDS.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
payload=$root/.gpu
out=${OUT:-$root/.gpu/out}
device=${CCT_GPU_DEVICE:-cuda}
budget=${CCT_GPU_BUDGET_S:-450}
quick=${CCT_GPU_QUICK:-0}
base=/tmp/cct-gpu
work=$base/work
start=$(date +%s)
mkdir -p "$out" && rm -rf "$base" && mkdir -p "$base/app" "$base/data" "$work"
log=$out/gpu-run.log
exec > >(tee -a "$log") 2>&1

echo "== $(date -u +%FT%TZ) run-all on $(hostname); device $device; budget ${budget}s; quick $quick"
for f in app.tar.xz data.tar.xz torch_peer.py; do
  [ -f "$payload/$f" ] || { echo "missing $payload/$f: run build/gpu/make-payload.sh first and carry .gpu"; exit 2; }
done
cat "$payload/MANIFEST" 2>/dev/null
tar -xJf "$payload/app.tar.xz" -C "$base/app" && tar -xJf "$payload/data.tar.xz" -C "$base/data" || { echo "cannot unpack the payload"; exit 2; }
torch_lib=${CCT_TORCH_LIB:-$(python3 -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))' 2>/dev/null)}
export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export NUGET_PACKAGES=/nonexistent-nuget-cache   # stops TorchSharp copying natives out of a package cache
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "(no nvidia-smi)"
python3 -c 'import torch; print("python torch", torch.__version__, "cuda", torch.version.cuda)' 2>/dev/null || echo "(no python torch)"
echo "libtorch folder: $torch_lib"
app=$base/app
echo "stage,seconds,exit" > "$work/stages.csv"

# stage NAME MAX_SECONDS COMMAND...: runs COMMAND with a timeout of MAX_SECONDS, cut to what the budget has left.
stage() {
  local name=$1 cap=$2; shift 2
  if [ -n "${CCT_GPU_STAGES:-}" ] && [[ " $CCT_GPU_STAGES " != *" ${name%%-seed*} "* ]]; then
    echo "== $name: not asked for (CCT_GPU_STAGES)"; return
  fi
  local left=$(( budget - ($(date +%s) - start) ))
  local limit=$(( cap < left ? cap : left ))
  if [ "$limit" -lt 10 ]; then
    echo "== $name: skipped, budget spent"; echo "$name,0,skipped" >> "$work/stages.csv"; return
  fi
  echo "== $name (at most ${limit}s)"
  local t0=$(date +%s)
  timeout -k 10 "$limit" "$@"
  local rc=$?
  echo "== $name: exit $rc after $(( $(date +%s) - t0 ))s"
  echo "$name,$(( $(date +%s) - t0 )),$rc" >> "$work/stages.csv"
}

steps_flag=(); peer_steps=(); cifar_epochs=${CIFAR_EPOCHS:-12}; cifar_seeds=${CIFAR_SEEDS:-3}; fm_seeds=${FM_SEEDS:-0 1 2 3}; fm_epochs=${FM_EPOCHS:-5}
if [ "$quick" = 1 ]; then
  steps_flag=(--steps 3 --batch 16 --models cct_2_3x2_32); peer_steps=(--steps 3); cifar_epochs=1; cifar_seeds=2; fm_epochs=1
fi
cpu_flag=(); [ "$device" = cpu ] && cpu_flag=(--cpu)

stage info 60 bash -c "set -o pipefail; '$app/GpuCheck' info --device $device | tee '$work/info.log'"
stage parity 150 "$app/GpuCheck" parity --device "$device" --fixtures "$root/test/Fixtures/cct-reference" --csv "$work/parity.csv"
stage steps-ours 150 "$app/GpuCheck" step-time --device "$device" "${steps_flag[@]}" --csv "$work/steps-ours.csv"
stage torch-peer 120 bash -c "set -o pipefail; cd '$payload' && python3 torch_peer.py ${peer_steps[*]} ${cpu_flag[*]} | tee '$work/torch_peer.log'"
stage torch-peer-amp 120 python3 "$root/tools/pytorch-reference/torch_peer_amp.py" --peer "$payload/torch_peer.py" "${peer_steps[@]}" "${cpu_flag[@]}" --csv "$work/steps-amp.csv"
read -r -a fm_flags < "$root/build/gpu/fashion-mnist.flags"
for seed in $fm_seeds; do
  stage "fashion-mnist-seed$seed" 120 "$app/cct" train --idx "$base/data/fashion-mnist" "${fm_flags[@]}" --epochs "$fm_epochs" \
    --seed "$seed" --device "$device" --output "$work/fm/seed$seed"
done
read -r -a cifar_flags < "$root/build/gpu/cifar-study.flags"
stage cifar-study "${CIFAR_CAP_S:-400}" "$app/cct" compare --data "$base/data/cifar-10" "${cifar_flags[@]}" --epochs "$cifar_epochs" \
  --seeds "$cifar_seeds" --seed 0 --device "$device" --output "$work/cifar"

python3 "$root/build/gpu/summarize.py" report "$work" "$out" "$root/docs/results/gpu-check/fashion-mnist-cpu.csv"
echo "== done in $(( $(date +%s) - start ))s; files in $out: $(ls "$out" | tr '\n' ' ')"
