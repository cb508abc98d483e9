#!/usr/bin/env bash
# Builds .gpu/ for build/gpu/run-all.sh (docs/GPU.md), here, where dotnet and ../shared are:
#   build/gpu/make-payload.sh
# .gpu/app.tar.xz   one trimmed, self-contained linux-x64 publish of tools/GpuCheck and the cct tool (one runtime), no libtorch
# .gpu/data.tar.xz  the data subsets of build/gpu/make_data.py (CCT_GPU_DATA_ARGS passes it other sizes)
# .gpu/torch_peer.py PyTorch's side of the step-time comparison (../shared/gpu), which does not travel by itself
# Then it adds up what a device call would send (tracked files, untracked files git does not ignore, .gpu) and fails
# above the 64 MiB limit. Environment: CCT_SHARED (default ../shared next to the repository), CCT_GPU_DATA_ARGS.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=${CCT_SHARED:-$root/../shared}
gpu=$root/.gpu
tmp=$(mktemp -d /tmp/cct-payload.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$root"
git check-ignore -q .gpu/ || { echo ".gpu/ is not ignored by git here; add it to .gitignore"; exit 1; }
for f in "$shared/datasets/fashion-mnist/train-images-idx3-ubyte.gz" "$shared/datasets/cifar-10/cifar-10-jpeg.tar.gz" "$shared/gpu/torch_peer.py"; do
  [ -f "$f" ] || { echo "missing $f (set CCT_SHARED)"; exit 1; }
done
rm -rf "$gpu" && mkdir -p "$gpu"

echo "== publish (trimmed, self-contained, no libtorch)"
dotnet publish tools/GpuCheck -c Release -p:CctGpuPayload=true -o "$tmp/app" -nologo -v quiet
[ -x "$tmp/app/cct" ] && [ -f "$tmp/app/cct.deps.json" ] && [ ! -e "$tmp/app/libtorch_cpu.so" ] || { echo "unexpected publish output"; ls "$tmp/app"; exit 1; }
echo "   $(du -sh "$tmp/app" | cut -f1), $(ls "$tmp/app" | wc -l) files; packing"
tar -C "$tmp/app" -cf - . | xz -9 -T0 > "$gpu/app.tar.xz"

echo "== data"
# shellcheck disable=SC2086
python3 build/gpu/make_data.py "$shared/datasets" "$tmp/data" ${CCT_GPU_DATA_ARGS:-}
tar -C "$tmp/data" -cf - . | xz -9 -T0 > "$gpu/data.tar.xz"
cp "$shared/gpu/torch_peer.py" "$gpu/"

{
  echo "commit $(git rev-parse HEAD)$(git diff --quiet HEAD -- src tools build || echo ' (with uncommitted changes)')"
  echo "made $(date -u +%FT%TZ); data args: ${CCT_GPU_DATA_ARGS:-defaults}"
  ls -l "$gpu" | awk 'NR > 1 { print $9, $5 }'
} > "$gpu/MANIFEST"
cat "$gpu/MANIFEST"

# What a device call sends: tracked files, untracked files that are not ignored, and the carried .gpu.
tracked=$(git ls-files -z | xargs -0 -r stat -c %s 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
untracked=$(git ls-files -z --others --exclude-standard | xargs -0 -r stat -c %s 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
payload=$(du -sb "$gpu" | cut -f1)
total=$(( tracked + untracked + payload ))
limit=$(( 64 * 1024 * 1024 ))
printf "== travels: tracked %.1f MB + untracked %.1f MB + .gpu %.1f MB = %.1f MB of %.1f MB\n" \
  "$(echo "$tracked / 1000000" | bc -l)" "$(echo "$untracked / 1000000" | bc -l)" "$(echo "$payload / 1000000" | bc -l)" \
  "$(echo "$total / 1000000" | bc -l)" "$(echo "$limit / 1000000" | bc -l)"
if [ "$total" -gt "$limit" ]; then
  echo "over the limit: commit or remove untracked files, or shrink the data (CCT_GPU_DATA_ARGS)"; exit 1
fi
echo "== ready. On the GPU machine (device tool): run(command=\"bash build/gpu/run-all.sh\", carry=[\".gpu\"], timeout_s=600)"
