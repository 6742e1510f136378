"""A stand-in for kubectl in the bootstrap tests: records every call, keeps
the cluster's state in $KGEN_STUB_STATE (CRDs installed, objects applied,
Secrets created), and fails the way kubectl does when something is missing:
applying a custom resource whose CRD is not installed ("no matches for
kind"), reading a missing Secret (NotFound), and a rollout whose pods read a
Secret or key that does not exist (CreateContainerConfigError: the rollout
times out). Own code; runs with a Python that has PyYAML."""

import json
import os
import sys

import yaml

STATE = os.environ["KGEN_STUB_STATE"]
BUILT_IN = {"", "apps", "batch", "autoscaling", "policy", "networking.k8s.io", "rbac.authorization.k8s.io",
            "storage.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "discovery.k8s.io"}
# Which install URL brings which API group.
INSTALLS = {
    "prometheus-operator": ["monitoring.coreos.com"],
    "cloudnative-pg": ["postgresql.cnpg.io"],
    "external-secrets": ["external-secrets.io"],
    "gateway-api": ["gateway.networking.k8s.io"],
    "envoyproxy/gateway": ["gateway.networking.k8s.io", "gateway.envoyproxy.io"],
    "cert-manager": ["cert-manager.io"],
    "keda": ["keda.sh"],
    "sealed-secrets": ["bitnami.com"],
}


def load(name, default):
    try:
        with open(os.path.join(STATE, name)) as f:
            return json.load(f)
    except FileNotFoundError:
        return default


def save(name, value):
    with open(os.path.join(STATE, name), "w") as f:
        json.dump(value, f)


def fail(message, code=1):
    print(message, file=sys.stderr)
    sys.exit(code)


def option(args, *names):
    for i, a in enumerate(args):
        for n in names:
            if a == n and i + 1 < len(args):
                return args[i + 1]
            if a.startswith(n + "="):
                return a.split("=", 1)[1]
    return None


def group_of(api_version):
    return api_version.split("/")[0] if "/" in api_version else ""


def pod_spec(obj):
    spec = obj.get("spec") or {}
    if obj.get("kind") == "CronJob":
        return (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec")
    return (spec.get("template") or {}).get("spec")


def missing_secrets(obj, namespace, secrets):
    spec = pod_spec(obj) or {}
    problems = []
    for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        for e in c.get("env") or []:
            ref = (e.get("valueFrom") or {}).get("secretKeyRef")
            if ref and not ref.get("optional"):
                keys = secrets.get(f"{namespace}/{ref['name']}")
                if keys is None:
                    problems.append(f'secret "{ref["name"]}" not found')
                elif ref["key"] not in keys:
                    problems.append(f"couldn't find key {ref['key']} in Secret {namespace}/{ref['name']}")
        for e in c.get("envFrom") or []:
            ref = e.get("secretRef")
            if ref and not ref.get("optional") and f"{namespace}/{ref['name']}" not in secrets:
                problems.append(f'secret "{ref["name"]}" not found')
    for v in spec.get("volumes") or []:
        sources = [v.get("secret")] + [s.get("secret") for s in (v.get("projected") or {}).get("sources") or []]
        for s in sources:
            if not s or s.get("optional"):
                continue
            name = s.get("secretName") or s.get("name")
            keys = secrets.get(f"{namespace}/{name}")
            if keys is None:
                problems.append(f'secret "{name}" not found')
                continue
            for item in s.get("items") or []:
                if item["key"] not in keys:
                    problems.append(f"couldn't find key {item['key']} in Secret {namespace}/{name}")
    return problems


def main():
    args = sys.argv[1:]
    with open(os.path.join(STATE, "calls.log"), "a") as log:
        log.write("kubectl " + " ".join(args) + "\n")
    namespace = option(args, "-n", "--namespace") or "default"
    words = [a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] not in ("-n", "--namespace", "-f", "--timeout", "--field-manager", "-o"))]
    verb = words[0] if words else ""
    if verb == "config":
        return
    if verb == "apply":
        source = option(args, "-f")
        if source and source != "-":
            installed = set(load("groups.json", []))
            for marker, groups in INSTALLS.items():
                if marker in source:
                    installed.update(groups)
            save("groups.json", sorted(installed))
            save("installs.json", load("installs.json", []) + [source])
            return
        installed = set(load("groups.json", []))
        objects = load("objects.json", {})
        for doc in yaml.safe_load_all(sys.stdin):
            if not doc:
                continue
            group = group_of(doc.get("apiVersion", ""))
            if group not in BUILT_IN and group not in installed:
                fail(f'error: resource mapping not found for name: "{doc["metadata"]["name"]}" namespace: "" from "STDIN": '
                     f'no matches for kind "{doc["kind"]}" in version "{doc["apiVersion"]}"\n'
                     f'ensure CRDs are installed first')
            ns = (doc.get("metadata") or {}).get("namespace") or namespace
            objects[f"{doc['kind'].lower()}/{ns}/{doc['metadata']['name']}"] = doc
        save("objects.json", objects)
        return
    if verb == "create" and len(words) > 1 and words[1] == "namespace":
        if "--dry-run=client" in args:
            print(yaml.safe_dump({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": words[2]}}))
        return
    if verb == "create" and len(words) > 2 and words[1] == "secret":
        secrets = load("secrets.json", {})
        key = f"{namespace}/{words[3]}"
        if key in secrets:
            fail(f'error: failed to create secret secrets "{words[3]}" already exists')
        keys = [a.split("=", 1)[1].split("=", 1)[0] for a in args if a.startswith("--from-file=") or a.startswith("--from-literal=")]
        secrets[key] = keys
        save("secrets.json", secrets)
        return
    if verb == "get" and len(words) > 2 and words[1] == "secret":
        if f"{namespace}/{words[2]}" not in load("secrets.json", {}):
            fail(f'Error from server (NotFound): secrets "{words[2]}" not found')
        return
    if verb == "rollout" and len(words) > 2 and words[1] == "status":
        kind, name = words[2].split("/", 1)
        obj = load("objects.json", {}).get(f"{kind}/{namespace}/{name}")
        if obj is None and not load("installs.json", []):
            fail(f'Error from server (NotFound): {kind}s.apps "{name}" not found')
        if obj is None:  # an installed controller's
            print(f'{kind} "{name}" successfully rolled out')
            return
        problems = missing_secrets(obj, namespace, load("secrets.json", {}))
        if problems:
            fail(f"error: timed out waiting for the condition (pods: CreateContainerConfigError: {problems[0]})")
        print(f'{kind} "{name}" successfully rolled out')
        return
    # get ingressclass, port-forward, wait, …: nothing to check here.


main()
