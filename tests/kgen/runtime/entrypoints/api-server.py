"""The scenario's Kubernetes API server, as far as kgen's Jobs use it.

Serves HTTPS on the `kubernetes` Service address with a certificate signed
by the scenario's CA (the `kube-root-ca.crt` pods get). It authenticates the
bearer token a pod's projected volume holds (the harness's JWT-shaped token:
its payload names the ServiceAccount), authorizes with the RBAC grants the
bundle's Roles and RoleBindings give on `secrets`, and keeps Secrets as one
JSON file per Secret in the store directory, where the harness reads them.

Only Secrets are served: create (201, or 409 when the name exists: never
replaced), get and list (when granted). Every request is logged as
`METHOD PATH -> STATUS (service account)`, never with a body.

Usage: api-server.py CONFIG.json
"""

import base64
import binascii
import http.server
import json
import os
import re
import ssl
import sys
import threading

SECRETS = re.compile(r"^/api/v1/namespaces/([a-z0-9-]+)/secrets(?:/([a-z0-9.-]+))?$")
MAX_BODY = 1 << 20


def status(code, reason, message):
    return code, {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "reason": reason,
        "message": message,
        "code": code,
    }


class Api:
    def __init__(self, config):
        self.store = config["store"]
        # "namespace/serviceaccount" -> namespace -> verbs on secrets there
        self.grants = config["grants"]
        self.lock = threading.Lock()

    def account(self, header):
        """The service account a bearer token names, or None."""
        if not header or not header.startswith("Bearer "):
            return None
        parts = header[len("Bearer "):].strip().split(".")
        if len(parts) != 3:
            return None
        try:
            padded = parts[1] + "=" * (-len(parts[1]) % 4)
            claims = json.loads(base64.urlsafe_b64decode(padded))
        except (ValueError, binascii.Error):
            return None
        sub = claims.get("sub", "") if isinstance(claims, dict) else ""
        prefix = "system:serviceaccount:"
        if not sub.startswith(prefix) or sub.count(":") != 3:
            return None
        return sub[len(prefix):].replace(":", "/", 1)

    def allowed(self, account, namespace, verb):
        verbs = self.grants.get(account, {}).get(namespace, [])
        return verb in verbs or "*" in verbs

    def path(self, name):
        return os.path.join(self.store, name + ".json")

    def handle(self, method, path, auth, body):
        match = SECRETS.match(path.split("?", 1)[0])
        account = self.account(auth)
        if account is None:
            return status(401, "Unauthorized", "Unauthorized")
        if not match:
            return status(404, "NotFound", "the server could not find the requested resource")
        namespace, name = match.groups()
        verb = {("POST", False): "create", ("GET", True): "get", ("GET", False): "list"}.get(
            (method, name is not None)
        )
        if verb is None:
            return status(405, "MethodNotAllowed", "the server does not allow this method")
        if not self.allowed(account, namespace, verb):
            who = "system:serviceaccount:" + account.replace("/", ":")
            return status(
                403,
                "Forbidden",
                f'secrets is forbidden: User "{who}" cannot {verb} resource "secrets" '
                f'in API group "" in the namespace "{namespace}"',
            )
        with self.lock:
            if verb == "create":
                return self.create(namespace, body)
            if verb == "get":
                return self.get(name)
            return self.list()

    def create(self, namespace, body):
        try:
            secret = json.loads(body)
        except ValueError as e:
            return status(400, "BadRequest", f"invalid JSON: {e}")
        if not isinstance(secret, dict) or secret.get("kind") != "Secret" or secret.get("apiVersion") != "v1":
            return status(400, "BadRequest", "the body is not a v1 Secret")
        meta = secret.get("metadata") or {}
        name = meta.get("name", "")
        if not re.fullmatch(r"[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?", name or ""):
            return status(422, "Invalid", f"Secret name {name!r} is invalid")
        if meta.get("namespace", namespace) != namespace:
            return status(400, "BadRequest", "the namespace of the object does not match the request")
        data = {}
        for key, value in (secret.get("data") or {}).items():
            try:
                base64.b64decode(value, validate=True)
            except (ValueError, binascii.Error):
                return status(422, "Invalid", f"data[{key}]: not base64")
            data[key] = value
        for key, value in (secret.get("stringData") or {}).items():
            data[key] = base64.b64encode(value.encode()).decode()
        if os.path.exists(self.path(name)):
            return status(409, "AlreadyExists", f'secrets "{name}" already exists')
        stored = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace, "labels": meta.get("labels") or {}},
            "type": secret.get("type", "Opaque"),
            "data": data,
        }
        temporary = self.path(name) + ".tmp"
        with open(temporary, "w") as f:
            json.dump(stored, f)
        os.rename(temporary, self.path(name))
        return 201, stored

    def get(self, name):
        try:
            with open(self.path(name)) as f:
                return 200, json.load(f)
        except FileNotFoundError:
            return status(404, "NotFound", f'secrets "{name}" not found')

    def list(self):
        items = []
        for entry in sorted(os.listdir(self.store)):
            if entry.endswith(".json"):
                with open(os.path.join(self.store, entry)) as f:
                    items.append(json.load(f))
        return 200, {"apiVersion": "v1", "kind": "SecretList", "items": items}


def handler_for(api):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def respond(self, method):
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                code, reply = status(413, "RequestEntityTooLarge", "request body too large")
            else:
                body = self.rfile.read(length) if length else b""
                code, reply = api.handle(method, self.path, self.headers.get("Authorization"), body)
            payload = json.dumps(reply).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            account = api.account(self.headers.get("Authorization")) or "anonymous"
            print(f"{method} {self.path} -> {code} ({account})", flush=True)

        def do_GET(self):
            self.respond("GET")

        def do_POST(self):
            self.respond("POST")

        def do_PUT(self):
            self.respond("PUT")

        def do_DELETE(self):
            self.respond("DELETE")

        def log_message(self, format, *args):
            pass

    return Handler


def main():
    with open(sys.argv[1]) as f:
        config = json.load(f)
    server = http.server.ThreadingHTTPServer((config["listen"], config["port"]), handler_for(Api(config)))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(config["cert"], config["key"])
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(f"serving on {config['listen']}:{config['port']}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
