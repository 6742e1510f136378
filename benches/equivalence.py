#!/usr/bin/env python3
"""Compare kgen's renders of the peer profiles with Helm's and Kustomize's
renders of the peer fixtures, object by object.

    benches/equivalence.py [--peers ../shared/peers] [--kgen target/release/kgen]
                         [--helm /tmp/peers/bin/helm] [--kubectl /tmp/peers/bin/kubectl]
                         [--case NAME] [--all]

Cases (see CASES below):
    clockwork   helm template chart-clockwork (prod)     vs  kgen render benches/profiles/peer-clockwork.yaml --env prod
    kustomize   kubectl kustomize overlays/prod          vs  kgen render benches/profiles/peer-clockwork.yaml --env prod
    fullstack   helm template chart-fullstack (prod)     vs  kgen render benches/profiles/peer-fullstack.yaml --env prod

Both renders are parsed (every document) and normalised:
  - dropped on the peer side: Helm's `helm.sh/chart` label, `managed-by`,
    `helm.sh/*` hook annotations, and the value of `checksum/*` pod
    annotations (both sides roll pods on a config change);
  - dropped on kgen's side: `managed-by`, Argo CD and Flux annotations
    (sync waves, hooks, prune protection), and kgen's hardening fields the
    charts lack (see HARDENING);
  - object names: Kustomize's ConfigMap hash suffix and the hash in kgen's
    migration Job name are removed; a few objects that differ in name only
    are paired by ALIASES;
  - lists of named items (containers, env, ports, volumes, …) are compared
    by name, not position.

It prints, per case, the objects on each side and how they were paired,
then every field that differs (only on the peer side, only in kgen, or a
different value). `--all` also prints the hardening fields it dropped.
Exit status: 0 when every object of the peer has a kgen counterpart of the
same kind (differences in fields are reported, not fatal), 1 otherwise,
2 when a tool is missing.

Needs Python 3 with PyYAML (e.g. /tmp/validators/venv/bin/python3).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.exit("benches/equivalence.py needs PyYAML (python3 -m pip install pyyaml, or /tmp/validators/venv/bin/python3)")

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# Peer-side (kind, name) -> kgen-side name, for objects that serve the same
# purpose under another name.
ALIASES = {
    ("ConfigMap", "clockwork-stack-timescaledb-init"): "clockwork-stack-timescaledb-init-scripts",
    # The chart's web policy is kgen's per-component policy.
    ("NetworkPolicy", "clockwork-stack-web"): "clockwork-stack",
}

# Fields kgen adds for hardening or operability that the charts lack
# (path patterns, `*` is any key or list item). They are dropped before the
# comparison and listed with --all.
HARDENING = [
    r"metadata\.labels\.pod-security\.kubernetes\.io/(audit|warn)(-version)?",
    r".*\.securityContext\.runAsNonRoot",
    r"spec\.template\.spec\.serviceAccountName",
    r"spec\.template\.spec\.enableServiceLinks",
    r".*\.containers\.\*\.terminationMessagePolicy",
    r"spec\.behavior\.scaleDown\.stabilizationWindowSeconds",
]

# The charts label components by role (`web`, `database`, `cache`); kgen
# labels them by component name. Peer-side label value -> kgen's, per case.
COMPONENT_LABELS = {
    "clockwork": {"web": "clockwork"},
    "kustomize": {"web": "clockwork"},
    "fullstack": {"web": "clockwork-stack", "database": "timescaledb", "cache": "redis"},
}
COMPONENT_LABEL = "app.kubernetes.io/component"

KGEN_ANNOTATION_PREFIXES = ("argocd.argoproj.io/", "kustomize.toolkit.fluxcd.io/")
HELM_ANNOTATION_PREFIXES = ("helm.sh/",)
NAMED_LISTS = {
    "containers",
    "initContainers",
    "env",
    "ports",
    "volumes",
    "volumeMounts",
    "volumeClaimTemplates",
}


def run(cmd, cwd=None):
    try:
        out = subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        sys.stderr.write(f"equivalence: {cmd[0]} not found\n")
        sys.exit(2)
    except subprocess.CalledProcessError as e:
        sys.stderr.write(f"equivalence: {' '.join(cmd)} failed:\n{e.stderr}")
        sys.exit(2)
    return out.stdout


def docs(text):
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]


def object_name(obj, side):
    kind, name = obj["kind"], obj["metadata"]["name"]
    if side == "peer" and kind == "ConfigMap":
        name = re.sub(r"-[a-z0-9]{10}$", "", name)  # Kustomize's hash suffix
    if side == "kgen" and kind == "Job":
        name = re.sub(r"-[0-9a-f]{8}$", "", name)  # kgen's migration Job hash
    if side == "peer":
        name = ALIASES.get((kind, name), name)
    return kind, name


def clean_metadata(meta, side):
    labels = meta.get("labels") or {}
    for key in list(labels):
        if key in ("helm.sh/chart", "app.kubernetes.io/managed-by"):
            del labels[key]
    annotations = meta.get("annotations") or {}
    prefixes = KGEN_ANNOTATION_PREFIXES if side == "kgen" else HELM_ANNOTATION_PREFIXES
    for key in list(annotations):
        if key.startswith(prefixes):
            del annotations[key]
        elif key.startswith("checksum/"):
            annotations[key] = "<checksum>"
    for field in ("labels", "annotations"):
        if field in meta and not meta[field]:
            del meta[field]


def walk_metadata(node, side, labels):
    """Clean every `metadata` block (objects, pod templates, claim
    templates) and map the peer's component label values to kgen's."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "metadata" and isinstance(v, dict):
                clean_metadata(v, side)
            if k == COMPONENT_LABEL and side == "peer" and isinstance(v, str):
                node[k] = labels.get(v, v)
            walk_metadata(v, side, labels)
    elif isinstance(node, list):
        for item in node:
            walk_metadata(item, side, labels)


def align(peer, ours, key=None):
    """Pair items of named lists that differ only in name (a container
    `timescaledb` here, `postgres` there) so their fields are compared;
    the name difference is kept as a `(name)` field."""
    if isinstance(peer, dict) and isinstance(ours, dict):
        for k in set(peer) & set(ours):
            align(peer[k], ours[k], k)
    elif isinstance(peer, list) and isinstance(ours, list):
        named = key in NAMED_LISTS and all(isinstance(i, dict) and "name" in i for i in peer + ours)
        if not named:
            for a, b in zip(peer, ours):
                align(a, b)
            return
        names_peer = [i["name"] for i in peer]
        names_ours = [i["name"] for i in ours]
        lone_peer = [i for i in peer if i["name"] not in names_ours]
        lone_ours = [i for i in ours if i["name"] not in names_peer]
        if len(lone_peer) == 1 and len(lone_ours) == 1:
            a, b = lone_peer[0], lone_ours[0]
            a["(name)"], b["(name)"] = a["name"], b["name"]
            a["name"] = b["name"]
        by_name = {i["name"]: i for i in ours}
        for a in peer:
            if a["name"] in by_name:
                align(a, by_name[a["name"]])


def canonical(node):
    """A stable one-line text for a value (lists of maps in sorted order)."""
    if isinstance(node, dict):
        return "{" + ", ".join(f"{k}: {canonical(v)}" for k, v in sorted(node.items())) + "}"
    if isinstance(node, list):
        items = [canonical(i) for i in node]
        if all(isinstance(i, dict) for i in node):
            items.sort()
        return "[" + ", ".join(items) + "]"
    return yaml.safe_dump(node, default_flow_style=True, width=10_000).strip().removesuffix("\n...")


def server_args(node):
    """`[-c, a=1, -c, b=2]` (PostgreSQL server settings) as `{a: 1, b: 2}`:
    the order of the settings does not matter."""
    if len(node) % 2 or not node or not all(isinstance(i, str) for i in node):
        return None
    if any(flag != "-c" for flag in node[::2]) or not all("=" in kv for kv in node[1::2]):
        return None
    return dict(kv.split("=", 1) for kv in node[1::2])


def flatten(node, path=""):
    """Leaf paths. Lists of named items (containers, env, …) become maps
    keyed by name, alerting rules maps keyed by alert, PostgreSQL `-c`
    arguments maps of settings, and other lists of maps (network policy
    rules) sets of one-line items; lists of scalars stay lists."""
    out = {}
    key = path.rsplit(".", 1)[-1]
    if isinstance(node, dict):
        if not node:
            out[path] = {}
        if key == "spec" and "groups" in node:  # a PrometheusRule: every group's rules, by alert
            node = dict(node)
            groups = node.pop("groups")
            node["groups"] = [g.get("name") for g in groups]
            for g in groups:
                for rule in g.get("rules", []):
                    name = rule.get("alert") or rule.get("record")
                    out.update(flatten({k: v for k, v in rule.items() if k not in ("alert", "record")},
                                       f"{path}.rules[{name}]"))
        for k, v in node.items():
            out.update(flatten(v, f"{path}.{k}" if path else str(k)))
    elif isinstance(node, list):
        named = key in NAMED_LISTS and all(isinstance(i, dict) and "name" in i for i in node)
        settings = server_args(node) if key == "args" else None
        if not node:
            out[path] = []
        elif settings is not None:
            for k, v in settings.items():
                out[f"{path}{{-c}}.{k}"] = v
        elif named:
            for item in node:
                item = dict(item)
                label = item.pop("name")
                if key == "volumeMounts":  # one volume may be mounted at several paths
                    label = f"{label}:{item.pop('mountPath', '')}"
                if key == "volumeClaimTemplates":
                    label = item.get("metadata", {}).get("name", label)
                if item:
                    out.update(flatten(item, f"{path}[{label}]"))
                else:
                    out[f"{path}[{label}]"] = "<present>"
        elif all(isinstance(i, dict) for i in node):
            for item in node:
                out[f"{path}[{canonical(item)}]"] = "<item>"
        else:
            out[path] = node
    else:
        out[path] = node
    return out


def hardening(path):
    generic = re.sub(r"\[[^]]*\]", ".*", path)
    return any(re.fullmatch(p, generic) or re.fullmatch(p, path) for p in HARDENING)


def render_case(case, args):
    peers = args.peers
    if case == "clockwork":
        peer = run([args.helm, "template", "clockwork", os.path.join(peers, "chart-clockwork"), "-n", "clockwork",
                    "-f", os.path.join(peers, "chart-clockwork", "values-prod.yaml")])
        profile = "benches/profiles/peer-clockwork.yaml"
    elif case == "kustomize":
        peer = run([args.kubectl, "kustomize", os.path.join(peers, "kustomize-clockwork", "overlays", "prod")])
        profile = "benches/profiles/peer-clockwork.yaml"
    elif case == "fullstack":
        peer = run([args.helm, "template", "clockwork-stack", os.path.join(peers, "chart-fullstack"), "-n",
                    "clockwork", "-f", os.path.join(peers, "chart-fullstack", "values-prod.yaml")])
        profile = "benches/profiles/peer-fullstack.yaml"
    else:
        raise ValueError(case)
    ours = run([args.kgen, "render", profile, "--env", "prod"], cwd=REPO)
    return peer, ours, profile


def fmt(v, width=110):
    s = canonical(v).replace("\n", "\\n")
    return s if len(s) <= width else s[: width - 3] + "..."


def compare(case, args):
    peer_text, kgen_text, profile = render_case(case, args)
    sides = {}
    for side, text in (("peer", peer_text), ("kgen", kgen_text)):
        objs = {}
        for obj in docs(text):
            key = object_name(obj, side)
            walk_metadata(obj, side, COMPONENT_LABELS[case])
            objs[key] = obj
        sides[side] = objs
    peer, ours = sides["peer"], sides["kgen"]
    for key in set(peer) & set(ours):
        align(peer[key], ours[key])
    tool = "kustomize" if case == "kustomize" else "helm"
    print(f"## {case}: {tool} ({len(peer)} objects) vs kgen {profile} --env prod ({len(ours)} objects)")
    labels = ", ".join(f"{a} -> {b}" for a, b in COMPONENT_LABELS[case].items())
    print(f"(component label values mapped: {labels})")
    print()
    print(f"{'kind':<24} {'peer name':<42} {'kgen name':<42}")
    raw_names = {}
    for side, text in (("peer", peer_text), ("kgen", kgen_text)):
        for obj in docs(text):
            raw_names[(side, object_name(obj, side))] = obj["metadata"]["name"]
    missing = 0
    for key in sorted(set(peer) | set(ours)):
        p = raw_names.get(("peer", key), "-")
        k = raw_names.get(("kgen", key), "-")
        if key not in ours:
            missing += 1
        print(f"{key[0]:<24} {p:<42} {k:<42}")
    print()
    totals = {"only-peer": 0, "only-kgen": 0, "differs": 0, "hardening": 0}
    for key in sorted(set(peer) & set(ours)):
        a, b = flatten(peer[key]), flatten(ours[key])
        lines = []
        for path in sorted(set(a) | set(b)):
            if path == "metadata.name":
                continue
            item = "<item>" in (a.get(path), b.get(path))
            if path not in a:
                if hardening(path):
                    totals["hardening"] += 1
                    if args.all:
                        lines.append(f"  hardening  {path}: {fmt(b[path])}")
                    continue
                totals["only-kgen"] += 1
                lines.append(f"  + kgen     {path}" if item else f"  + kgen     {path}: {fmt(b[path])}")
            elif path not in b:
                totals["only-peer"] += 1
                lines.append(f"  - peer     {path}" if item else f"  - peer     {path}: {fmt(a[path])}")
            elif a[path] != b[path] and str(a[path]) != str(b[path]):
                totals["differs"] += 1
                lines.append(f"  ~ differs  {path}: {fmt(a[path])} -> {fmt(b[path])}")
        status = "same" if not lines else f"{len(lines)} difference(s)"
        print(f"### {key[0]} {raw_names[('peer', key)]} / {raw_names[('kgen', key)]}: {status}")
        for line in lines:
            print(line)
    only_kgen = sorted(set(ours) - set(peer))
    only_peer = sorted(set(peer) - set(ours))
    print()
    peer_only_names = ", ".join(f"{k}/{raw_names[('peer', (k, n))]}" for k, n in only_peer) or "none"
    kgen_only_names = ", ".join(f"{k}/{raw_names[('kgen', (k, n))]}" for k, n in only_kgen) or "none"
    print(f"summary {case}: {len(set(peer) & set(ours))} paired; only in {tool}: {peer_only_names};"
          f" only in kgen: {kgen_only_names};"
          f" fields: {totals['only-peer']} only in {tool}, {totals['only-kgen']} only in kgen,"
          f" {totals['differs']} differ, {totals['hardening']} hardening fields dropped")
    print()
    # A peer object kgen has no object of the same kind for is a real gap.
    kinds_ours = {k for k, _ in ours}
    return sum(1 for k, _ in only_peer if k not in kinds_ours)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_peers = os.path.normpath(os.path.join(REPO, "..", "shared", "peers"))
    peers_bin = os.path.join(os.environ.get("PEERS", "/tmp/peers"), "bin")
    ap.add_argument("--peers", default=default_peers, help="the peers directory (default ../shared/peers)")
    ap.add_argument("--kgen", default=os.path.join(REPO, "target", "release", "kgen"))
    ap.add_argument("--helm", default=os.path.join(peers_bin, "helm"))
    ap.add_argument("--kubectl", default=os.path.join(peers_bin, "kubectl"))
    ap.add_argument("--case", action="append", choices=["clockwork", "kustomize", "fullstack"])
    ap.add_argument("--all", action="store_true", help="also list the hardening fields that were dropped")
    args = ap.parse_args()
    for tool in ("kgen", "helm", "kubectl"):
        path = getattr(args, tool)
        if not (os.path.isfile(path) and os.access(path, os.X_OK)) and not shutil.which(path):
            hint = "cargo build --release" if tool == "kgen" else "../shared/peers/install.sh"
            sys.exit(f"equivalence: {tool} not found at {path} (run {hint})")
    if not os.path.isdir(args.peers):
        sys.exit(f"equivalence: no peers directory at {args.peers}")
    gaps = 0
    for case in args.case or ["clockwork", "kustomize", "fullstack"]:
        gaps += compare(case, args)
    sys.exit(1 if gaps else 0)


if __name__ == "__main__":
    main()
