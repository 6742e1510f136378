#!/usr/bin/env bash
# kgen against Helm and Kustomize on the same apps, as whole processes, side
# by side: the peer fixtures in ../shared/peers/ and their kgen equivalents
# in benches/profiles/peer-*.yaml (benches/equivalence.py shows how they differ).
#
#   ../shared/peers/install.sh      # helm 4.1.4 and kubectl 1.33 into /tmp/peers/bin
#   benches/compare.sh                # about 3 minutes on a 2-core machine
#
# Settings (environment):
#   PAIRS=21          samples per command in each group, after one warm-up round
#   SCALE="1 10 100 1000"   apps in one kgen process
#   HELM_SCALE="1 10 100"   apps in one helm process (add 1000 if you have ~5 minutes)
#   SCALE_PAIRS=11    samples per command for N >= 1000
#   PEERS=/tmp/peers  where install.sh put bin/helm and bin/kubectl
#   PEERS_DIR=../shared/peers   the fixtures
#   KGEN=path         a kgen binary to measure (default: `cargo dist` on x86-64
#                     Linux, else cargo build --release)
#   KGEN_B=path       a second kgen binary (another build or commit): its full-stack
#                     render and start-up join the first group, alternating with KGEN's
#
# Method (public tools only: bash, GNU time, awk, sort): the commands of a
# group run alternately (A B C A B C …), so that drift of the shared machine
# hits all of them alike. Each sample is two runs of the command: one bare,
# timed with bash's EPOCHREALTIME (wall) and the `times` builtin (user+sys
# CPU of the child, 1 ms resolution), and one under GNU time for the peak
# RSS (`/usr/bin/time -f %M`, the issue's definition). Standard input is
# empty; output goes to /dev/null. The table gives the median [min-max] of
# each, the mean CPU (sub-millisecond, from the summed CPU), and per-pair
# ratios: sample i of kgen against sample i of the other command, the
# median [min-max] of those ratios.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
cd "$repo"

PAIRS="${PAIRS:-21}"
SCALE="${SCALE:-1 10 100 1000}"
HELM_SCALE="${HELM_SCALE:-1 10 100}"
SCALE_PAIRS="${SCALE_PAIRS:-11}"
PEERS="${PEERS:-/tmp/peers}"
PEERS_DIR="${PEERS_DIR:-$repo/../shared/peers}"
HELM="$PEERS/bin/helm"
KUBECTL="$PEERS/bin/kubectl"
TIME=/usr/bin/time

die() {
  echo "compare.sh: $*" >&2
  exit 1
}

# --- preconditions -----------------------------------------------------------
[[ "$PAIRS" =~ ^[0-9]+$ && "$PAIRS" -ge 1 ]] || die "PAIRS must be a positive number (got '$PAIRS')"
"$TIME" -f %M true >/dev/null 2>&1 || die "needs GNU time at $TIME (apt-get install time)"
[[ -d "$PEERS_DIR/chart-fullstack" ]] || die "no peer fixtures at $PEERS_DIR (set PEERS_DIR)"
[[ -x "$HELM" ]] || die "no helm at $HELM: run $PEERS_DIR/install.sh first (or set PEERS)"
[[ -x "$KUBECTL" ]] || die "no kubectl at $KUBECTL: run $PEERS_DIR/install.sh first (or set PEERS)"
PYTHON=""
for py in python3 /tmp/validators/venv/bin/python3; do
  if command -v "$py" >/dev/null && "$py" -c 'import yaml' 2>/dev/null; then
    PYTHON="$py"
    break
  fi
done
[[ -n "$PYTHON" ]] || die "gen-fleet.py needs python3 with PyYAML (python3 -m pip install pyyaml)"

if [[ -z "${KGEN:-}" ]]; then
  # The shipped binary: `cargo dist` (static C runtime) on x86-64 Linux.
  if [[ "$(uname -sm)" == "Linux x86_64" ]]; then
    build=(cargo dist) KGEN="$repo/target/x86_64-unknown-linux-gnu/dist/kgen"
  else
    build=(cargo build --release) KGEN="$repo/target/release/kgen"
  fi
  if command -v cargo >/dev/null; then
    echo "# ${build[*]}" >&2
    "${build[@]}" --quiet || die "${build[*]} failed"
  fi
fi
[[ -x "$KGEN" ]] || die "no kgen binary at $KGEN (cargo dist, or cargo build --release)"
[[ -z "${KGEN_B:-}" || -x "$KGEN_B" ]] || die "no kgen binary at KGEN_B=$KGEN_B"

work="$(mktemp -d "${TMPDIR:-/tmp}/kgen-compare.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# --- measuring ---------------------------------------------------------------
# cpu_ms FILE: children's user+sys CPU in ms from a saved `times` output
# (second line: "0m0.012s 0m0.004s").
cpu_ms() {
  awk 'NR == 2 {
    t = 0
    for (i = 1; i <= NF; i++) { split($i, p, "m"); sub("s", "", p[2]); t += p[1] * 60 + p[2] }
    printf "%.3f", t * 1000 }' "$1"
}

# sample FILE CMD...: append "wall_ms cpu_ms peak_kib" for one sample. The
# `times` builtin runs in this shell (a subshell would not see its
# children), right before and after the command and nothing else.
sample() {
  local file="$1" t0 t1
  shift
  times >"$work/times0"
  t0="$EPOCHREALTIME"
  "$@" </dev/null >/dev/null 2>"$work/stderr" || die "failed: $* ($(head -c 500 "$work/stderr"))"
  t1="$EPOCHREALTIME"
  times >"$work/times1"
  "$TIME" -f %M -o "$work/rss" "$@" </dev/null >/dev/null 2>/dev/null || die "failed under GNU time: $*"
  echo "$(awk -v a="$t0" -v b="$t1" -v c="$(cpu_ms "$work/times0")" -v d="$(cpu_ms "$work/times1")" \
    'BEGIN { printf "%.3f %.3f", (b - a) * 1000, d - c }') $(tail -n1 "$work/rss")" >>"$file"
}

# stats FILE COLUMN -> "median min max mean" of a column
stats() {
  awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '
    { a[NR] = $1; s += $1 }
    END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; print m, a[1], a[NR], s / NR }'
}

# ratio FILE_A FILE_B -> "median min max" of wall(A_i) / wall(B_i)
ratio() {
  paste -d' ' "$1" "$2" | awk '{ print $1 / $4 }' | sort -g | awk '
    { a[NR] = $1 }
    END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.2f [%.2f-%.2f]", m, a[1], a[NR] }'
}

declare -a G_NAMES=() G_CMDS=()
# add NAME CMD...: a command of the current group (CMD is kept as one quoted string)
add() {
  local name="$1"
  shift
  G_NAMES+=("$name")
  G_CMDS+=("$(printf '%q ' "$@")")
}

# run_group ROUNDS: alternate the group's commands, one warm-up round first.
run_group() {
  local rounds="$1" i j
  for j in "${!G_NAMES[@]}"; do : >"$work/g$j"; done
  for ((i = 0; i <= rounds; i++)); do
    for j in "${!G_NAMES[@]}"; do
      if ((i == 0)); then
        eval "${G_CMDS[$j]}" </dev/null >/dev/null 2>&1 || die "failed: ${G_CMDS[$j]}"
      else
        eval "sample \"$work/g$j\" ${G_CMDS[$j]}"
      fi
    done
  done
}

# row J [REF_J...]: the table row of command J, with wall ratios to the REF_Js
row() {
  local j="$1" w c m r ref
  shift
  read -r -a w <<<"$(stats "$work/g$j" 1)"
  read -r -a c <<<"$(stats "$work/g$j" 2)"
  read -r -a m <<<"$(stats "$work/g$j" 3)"
  r=""
  for ref in "$@"; do
    r+="$(printf ' %s/%s %s' "${G_SHORT[$j]}" "${G_SHORT[$ref]}" "$(ratio "$work/g$j" "$work/g$ref")")"
  done
  printf "%-34s %3d  %8.1f [%6.1f-%7.1f]  %7.1f %7.2f  %6.1f [%5.1f-%5.1f]%s\n" \
    "${G_NAMES[$j]}" "$(wc -l <"$work/g$j")" "${w[0]}" "${w[1]}" "${w[2]}" "${c[0]}" "${c[3]}" \
    "$(awk -v k="${m[0]}" 'BEGIN { print k / 1024 }')" \
    "$(awk -v k="${m[1]}" 'BEGIN { print k / 1024 }')" "$(awk -v k="${m[2]}" 'BEGIN { print k / 1024 }')" "$r"
}

median_of() { stats "$work/g$1" 1 | cut -d' ' -f1; }
peak_of() { stats "$work/g$1" 3 | awk '{ print $1 / 1024 }'; }
ratio_median() { paste -d' ' "$work/g$1" "$work/g$2" | awk '{ print $1 / $4 }' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

header() {
  echo
  echo "## $1"
  printf "%-34s %3s  %-26s %-15s %-22s %s\n" "command" "n" "wall ms median [min-max]" "cpu ms med mean" "peak MiB med [min-max]" "wall ratio per pair: median [min-max]"
}

count() { printf "%d objects, %d bytes" "$(grep -c '^kind:' "$1")" "$(wc -c <"$1")"; }

# --- inputs ------------------------------------------------------------------
P="$PEERS_DIR"
"$HELM" template clockwork "$P/chart-clockwork" -n clockwork -f "$P/chart-clockwork/values-prod.yaml" >"$work/helm-clockwork.yaml"
"$HELM" template clockwork-stack "$P/chart-fullstack" -n clockwork -f "$P/chart-fullstack/values-prod.yaml" >"$work/helm-fullstack.yaml"
"$KUBECTL" kustomize "$P/kustomize-clockwork/overlays/prod" >"$work/kustomize-prod.yaml"
"$KGEN" render benches/profiles/peer-clockwork.yaml --env prod >"$work/kgen-clockwork.yaml"
"$KGEN" render benches/profiles/peer-fullstack.yaml --env prod >"$work/kgen-fullstack.yaml"

# N apps for kgen: copies of the clockwork prod profile, each with its own
# name, namespace and host (as gen-fleet.py does for Helm).
max_n=1
for n in $SCALE $HELM_SCALE; do ((n > max_n)) && max_n=$n; done
mkdir -p "$work/apps"
for ((i = 1; i <= max_n; i++)); do
  t="$(printf 'tenant-%03d' "$i")"
  sed -e "s/^name: clockwork\$/name: $t/" -e "s/^namespace: clockwork\$/namespace: $t/" \
    -e "s/name: clockwork}/name: $t}/" -e "s/clockwork\\.example\\.com/$t.clockwork.example.com/g" \
    benches/profiles/peer-clockwork.yaml >"$work/apps/$t.yaml"
done
for n in $SCALE; do
  mkdir -p "$work/fleet-kgen-$n"
  for ((i = 1; i <= n; i++)); do
    t="$(printf 'tenant-%03d' "$i")"
    ln -s "$work/apps/$t.yaml" "$work/fleet-kgen-$n/$t.yaml"
  done
  "$KGEN" render "$work/fleet-kgen-$n"/*.yaml --env prod >"$work/fleet-kgen-$n.out"
done
for n in $HELM_SCALE; do
  "$PYTHON" "$P/gen-fleet.py" "$n" "$work/fleet-helm-$n" >/dev/null
  "$HELM" template fleet "$work/fleet-helm-$n" -n fleet >"$work/fleet-helm-$n.out"
done

# --- report ------------------------------------------------------------------
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "# kgen compare: $(date -u +%Y-%m-%dT%H:%MZ)  $(nproc) cpus  $(uname -sr)  load $load_before"
echo "# kgen $("$KGEN" --version | awk '{print $2}') ($(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?'), $(stat -c %s "$KGEN") bytes)  helm $("$HELM" version --short)  kubectl $("$KUBECTL" version --client | awk 'NR==1 {print $3}') (kustomize $("$KUBECTL" version --client | awk 'NR==2 {print $3}'))"
echo "# $PAIRS samples per command after 1 warm-up round, commands alternating; wall: bare run (bash EPOCHREALTIME);"
echo "# cpu: user+sys of the bare run (bash times, 1 ms resolution; mean is sub-ms); peak: GNU time %M of a second run"
echo "# outputs: helm clockwork $(count "$work/helm-clockwork.yaml"); kustomize $(count "$work/kustomize-prod.yaml"); kgen peer-clockwork $(count "$work/kgen-clockwork.yaml")"
echo "#          helm fullstack $(count "$work/helm-fullstack.yaml"); kgen peer-fullstack $(count "$work/kgen-fullstack.yaml")"

# Full stack: the main target (>= 30x helm, <= 2x cat of the same bytes).
header "full stack (prod): helm template chart-fullstack vs kgen render benches/profiles/peer-fullstack.yaml"
G_NAMES=() G_CMDS=()
add "kgen render peer-fullstack" "$KGEN" render benches/profiles/peer-fullstack.yaml --env prod
add "helm template chart-fullstack" "$HELM" template clockwork-stack "$P/chart-fullstack" -n clockwork -f "$P/chart-fullstack/values-prod.yaml"
add "cat (kgen's output bytes)" cat "$work/kgen-fullstack.yaml"
add "kgen --version (start-up only)" "$KGEN" --version
add "true (a process that does nothing)" "$(type -P true)"
G_SHORT=(kgen helm cat version true)
if [[ -n "${KGEN_B:-}" ]]; then
  add "KGEN_B render peer-fullstack" "$KGEN_B" render benches/profiles/peer-fullstack.yaml --env prod
  add "KGEN_B --version" "$KGEN_B" --version
  G_SHORT+=(kgen_b version_b)
fi
run_group "$PAIRS"
row 0 1 2 3
row 1
row 2
row 3
row 4
if [[ -n "${KGEN_B:-}" ]]; then
  row 5 0 2
  row 6 3
  echo "# KGEN_B = $KGEN_B ($(stat -c %s "$KGEN_B") bytes)"
fi
fs_helm_ratio="$(ratio_median 1 0)"
fs_cat_ratio="$(ratio_median 0 2)"
fs_kgen_wall="$(median_of 0)"
fs_kgen_peak="$(peak_of 0)"

header "clockwork (prod): helm template chart-clockwork, kubectl kustomize overlays/prod vs kgen render benches/profiles/peer-clockwork.yaml"
G_NAMES=() G_CMDS=()
add "kgen render peer-clockwork" "$KGEN" render benches/profiles/peer-clockwork.yaml --env prod
add "helm template chart-clockwork" "$HELM" template clockwork "$P/chart-clockwork" -n clockwork -f "$P/chart-clockwork/values-prod.yaml"
add "kubectl kustomize overlays/prod" "$KUBECTL" kustomize "$P/kustomize-clockwork/overlays/prod"
add "cat (kgen's output bytes)" cat "$work/kgen-clockwork.yaml"
G_SHORT=(kgen helm kustomize cat)
run_group "$PAIRS"
row 0 1 2 3
row 1
row 2
row 3
cw_helm_ratio="$(ratio_median 1 0)"
cw_kz_ratio="$(ratio_median 2 0)"
cw_kgen_peak="$(peak_of 0)"

header "N apps in ONE process: kgen render DIR/*.yaml --env prod vs helm template of gen-fleet.py's umbrella chart"
declare -A scale_wall=()
for n in $SCALE; do
  G_NAMES=() G_CMDS=()
  add "kgen N=$n ($(grep -c '^kind:' "$work/fleet-kgen-$n.out") objects)" "$KGEN" render "$work/fleet-kgen-$n"/*.yaml --env prod
  G_SHORT=(kgen helm)
  helm_too=0
  for h in $HELM_SCALE; do ((h == n)) && helm_too=1; done
  if ((helm_too)); then
    add "helm N=$n ($(grep -c '^kind:' "$work/fleet-helm-$n.out") objects)" "$HELM" template fleet "$work/fleet-helm-$n" -n fleet
  fi
  rounds="$PAIRS"
  ((n >= 1000)) && rounds="$SCALE_PAIRS"
  run_group "$rounds"
  if ((helm_too)); then
    row 0 1
    row 1
  else
    row 0
  fi
  scale_wall[$n]="$(median_of 0)"
done
# Helm sizes that kgen does not run (none by default).
for h in $HELM_SCALE; do
  [[ -n "${scale_wall[$h]:-}" ]] && continue
  G_NAMES=() G_CMDS=()
  add "helm N=$h ($(grep -c '^kind:' "$work/fleet-helm-$h.out") objects)" "$HELM" template fleet "$work/fleet-helm-$h" -n fleet
  G_SHORT=(helm)
  run_group "$SCALE_PAIRS"
  row 0
done

echo
echo "## growth (kgen, median wall per app between sizes)"
prev=""
for n in $SCALE; do
  if [[ -n "$prev" ]]; then
    awk -v a="$prev" -v b="$n" -v ta="${scale_wall[$prev]}" -v tb="${scale_wall[$n]}" \
      'BEGIN { printf "N=%d -> %d: %.3f ms per extra app\n", a, b, (tb - ta) / (b - a) }'
  fi
  prev="$n"
done

bin_size="$(stat -c %s "$KGEN")"
echo
echo "## targets (issue 7)"
check() { if awk "BEGIN { exit !($2) }"; then echo "met     $1"; else echo "MISSED  $1"; fi; }
check "full stack: helm/kgen wall per pair median $(printf %.1f "$fs_helm_ratio")x (target >= 30x)" "$fs_helm_ratio >= 30"
check "full stack: kgen/cat wall per pair median $(printf %.2f "$fs_cat_ratio")x (target <= 2x)" "$fs_cat_ratio <= 2"
check "peak RSS: full stack $(printf %.1f "$fs_kgen_peak") MiB, clockwork $(printf %.1f "$cw_kgen_peak") MiB (target <= 10 MiB)" "$fs_kgen_peak <= 10 && $cw_kgen_peak <= 10"
if [[ -n "${scale_wall[1000]:-}" ]]; then
  check "1,000 apps in one process: $(printf %.0f "${scale_wall[1000]}") ms (target < 500 ms)" "${scale_wall[1000]} < 500"
fi
check "release binary: $bin_size bytes (target <= 10 MB = 10,000,000 bytes)" "$bin_size <= 10000000"
echo "        (clockwork: helm/kgen $(printf %.1f "$cw_helm_ratio")x, kustomize/kgen $(printf %.1f "$cw_kz_ratio")x; full stack kgen median $(printf %.2f "$fs_kgen_wall") ms)"
echo "# load at the end: $(cut -d' ' -f1-3 /proc/loadavg) (at the start: $load_before)"
