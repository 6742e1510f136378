#!/usr/bin/env bash
# Hostile-but-valid inputs of issue 13 ("Linear and bounded", "Unbounded in
# total"), timed as whole processes: wall seconds and peak RSS (GNU time
# %e and %M). Prints one line per case; run it on two builds to compare.
#
#   benches/bounds.sh                      # target/release/kgen
#   KGEN=/path/to/kgen benches/bounds.sh   # another build
#
# Inputs are generated into $WORK (default /tmp/kgen-bounds), about 1.5 GB
# of disk at most (the 1 GiB sparse file takes no space).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KGEN="${KGEN:-$here/../target/release/kgen}"
WORK="${WORK:-/tmp/kgen-bounds}"
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1

measure() { # name, command…
    local name="$1"; shift
    /usr/bin/time -f "%e %M" -o time.txt "$@" >/dev/null 2>stderr.txt
    local rc=$?
    read -r secs kib < <(tail -1 time.txt)
    printf '%-44s exit %-3s %6ss %8s KiB  %s\n' "$name" "$rc" "$secs" "$kib" "$(head -c 100 stderr.txt | head -1)"
}

# kgen check with N environments (was: re-parsed per environment).
for n in 400 1000 2000; do
    { echo "name: shop"; echo "image: shop:1.0"; echo "environments:";
      for i in $(seq 1 "$n"); do echo "  e$i: {replicas: $((i % 5 + 1))}"; done; } > envs-$n.yaml
    measure "check, $n environments" "$KGEN" check envs-$n.yaml
done

# N patches on N extra-manifest objects (was quadratic).
for NP in 8000 16000; do
{ echo "name: shop"; echo "image: shop:1.0"; echo "extraManifests: [./many.yaml]"; echo "patches:";
  for i in $(seq 1 $NP); do echo "  - {target: {kind: ConfigMap, name: c$i}, merge: {data: {b: y}}}"; done; } > patches.yaml
for i in $(seq 1 $NP); do printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%s}\ndata: {a: x}\n' "$i"; done > many.yaml
measure "$NP patches x $NP extra objects" "$KGEN" render patches.yaml
done

# 40,000 --set arguments against the same settings in the profile.
printf 'name: shop\nimage: shop:1.0\n' > set-base.yaml
seq 1 40000 | awk '{print "--set"; print "settings.K" $1 "=v"}' > set-args.txt
mapfile -t set_args < set-args.txt
measure "40,000 --set arguments" "$KGEN" render set-base.yaml "${set_args[@]}"
{ cat set-base.yaml; echo "settings:"; seq 1 40000 | awk '{print "  K" $1 ": v"}'; } > set-profile.yaml
measure "the same 40,000 settings in the profile" "$KGEN" render set-profile.yaml

# diff --from: 100 hard links of one 4 MiB file, all listed.
mkdir -p links
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  a: "%s"\n' "$(head -c 4000000 /dev/zero | tr '\0' x)" > links/f0.yaml
hash=$(sha256sum links/f0.yaml | cut -d' ' -f1)
echo "$hash  f0.yaml" > links/.kgen-files
for i in $(seq 1 99); do ln links/f0.yaml links/f$i.yaml; echo "$hash  f$i.yaml" >> links/.kgen-files; done
measure "diff --from, 100 hard links of 4 MiB" "$KGEN" diff set-base.yaml --from links

# The same 4 MiB extra manifest named 150 times.
{ echo "name: shop"; echo "image: shop:1.0"; echo "extraManifests:"; for i in $(seq 1 150); do echo "  - ./big.yaml"; done; } > same-extra.yaml
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  a: "%s"\n' "$(head -c 4000000 /dev/zero | tr '\0' x)" > big.yaml
measure "one 4 MiB extra manifest named 150 times" "$KGEN" render same-extra.yaml

# --out-dir with a same-named foreign file of 1 GiB.
mkdir -p out && "$KGEN" render set-base.yaml -o yaml >/dev/null
first=$("$KGEN" render set-base.yaml --out-dir probe 2>/dev/null; ls probe | head -1)
head -c $((1 << 30)) /dev/zero | tr '\0' x > "out/$first"
measure "--out-dir over a 1 GiB foreign file" "$KGEN" render set-base.yaml --out-dir out
rm -f "out/$first"

# diff --from of a 40,000-line object that differs on every line.
mkdir -p wide-old
{ printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n  namespace: shop\ndata:\n'; seq 0 39999 | awk '{print "  k" $1 ": old" $1}'; } > wide-old/big.yaml
echo "$(sha256sum wide-old/big.yaml | cut -d' ' -f1)  big.yaml" > wide-old/.kgen-files
{ printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n'; seq 0 39999 | awk '{print "  k" $1 ": new" $1}'; } > wide-new.yaml
printf 'name: shop\nimage: shop:1.0\nextraManifests: [./wide-new.yaml]\n' > wide-diff.yaml
measure "diff --from, 40,000 lines changed" "$KGEN" diff wide-diff.yaml --from wide-old
