"""A stand-in Hugging Face Hub for tests: stdlib `ThreadingHTTPServer` on 127.0.0.1, in memory.

It serves the routes `huggingface_hub` 2.x uses to create a repository, commit files (every file
"regular", content inline as base64, no LFS/xet) and download them (`hf_hub_download`,
`snapshot_download`). Like the real Hub, `*.safetensors` files are treated as LFS files: the
download's `ETag` and the tree's `lfs.oid` are their sha256; other files get their git blob sha1.

`tamper(repo, path, data)` makes the server send `data` (same length) for a file while its metadata
(ETag, size, tree) still describes the committed content, i.e. a corrupted or malicious copy.

Bounded: loopback only, request bodies up to `max_body` bytes, at most `max_requests` requests,
socket timeouts, and a watchdog that stops the server after `lifetime` seconds even if a test never
calls `stop()`. Use it as a context manager or call `start()`/`stop()`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

_API = re.compile(
    r"^/api/models/(?P<repo>[^/]+/[^/]+)(?:/(?P<action>revision|tree|preupload|commit)/(?P<rev>[^/]+)(?P<rest>/.*)?)?$"
)
_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def is_lfs(path: str) -> bool:
    return path.endswith((".safetensors", ".bin", ".pt", ".pth"))


@dataclass
class Repo:
    private: bool = False
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)  # commit -> {path: content}
    refs: dict[str, str] = field(default_factory=dict)  # branch -> commit

    def files(self, revision: str) -> tuple[str, dict[str, bytes]] | None:
        commit = self.refs.get(revision, revision)
        return (commit, self.commits[commit]) if commit in self.commits else None


class HubServer:
    """In-memory Hub on http://127.0.0.1:<port>; `url` is what HF_ENDPOINT should be set to."""

    def __init__(self, *, lifetime: float = 60.0, max_requests: int = 500, max_body: int = 64 << 20) -> None:
        self.repos: dict[str, Repo] = {}
        self.log: list[tuple[str, str]] = []
        self.tampered: dict[tuple[str, str], bytes] = {}
        self.lifetime = lifetime
        self.max_requests = max_requests
        self.max_body = max_body
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._watchdog: threading.Timer | None = None
        self._stopped = threading.Event()

    # -- lifecycle ----------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> HubServer:
        handler = type("Handler", (_Handler,), {"hub": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        self._watchdog = threading.Timer(self.lifetime, self.stop)
        self._watchdog.daemon = True
        self._watchdog.start()
        return self

    def stop(self) -> None:
        if self._stopped.is_set() or self._httpd is None:
            return
        self._stopped.set()
        if self._watchdog is not None and self._watchdog is not threading.current_thread():
            self._watchdog.cancel()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def __enter__(self) -> HubServer:  # noqa: PYI034
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test helpers -------------------------------------------------------------------------------

    def tamper(self, repo_id: str, path: str, data: bytes) -> None:
        """Serve `data` for `path` from now on, keeping the committed file's metadata."""
        self.tampered[(repo_id, path)] = data

    def file(self, repo_id: str, path: str, revision: str = "main") -> bytes:
        found = self.repos[repo_id].files(revision)
        assert found is not None
        return found[1][path]

    # -- state changes (called by the handler) ------------------------------------------------------

    def create(self, repo_id: str, private: bool) -> bool:
        with self._lock:
            if repo_id in self.repos:
                return False
            self.repos[repo_id] = Repo(private=private)
            return True

    def commit(self, repo_id: str, branch: str, added: dict[str, bytes], deleted: list[str]) -> str:
        with self._lock:
            repo = self.repos[repo_id]
            parent = repo.refs.get(branch)
            files = dict(repo.commits.get(parent, {})) if parent else {}
            files.update(added)
            for path in deleted:
                files.pop(path, None)
            digest = hashlib.sha1(f"{parent}|{time.time_ns()}".encode())
            for path in sorted(files):
                digest.update(path.encode() + b"\0" + hashlib.sha256(files[path]).digest())
            oid = digest.hexdigest()
            repo.commits[oid] = files
            repo.refs[branch] = oid
            return oid


class _Handler(BaseHTTPRequestHandler):
    hub: HubServer
    timeout = 10  # seconds per socket operation: a stuck client cannot hold a thread forever
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    # -- plumbing -----------------------------------------------------------------------------------

    def _count(self) -> bool:
        self.hub.log.append((self.command, self.path))
        if len(self.hub.log) > self.hub.max_requests:
            self._send(429, {"error": "stand-in hub: request limit reached"})
            threading.Thread(target=self.hub.stop, daemon=True).start()
            return False
        return True

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > self.hub.max_body:
            raise ValueError("body too large")
        return self.rfile.read(length) if length else b""

    def _send(
        self, status: int, payload: Any = None, headers: dict[str, str] | None = None, raw: bytes | None = None
    ) -> None:
        body = raw if raw is not None else (b"" if payload is None else json.dumps(payload).encode())
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if raw is None:
            self.send_header("Content-Type", "application/json")
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, code: str, message: str, commit: str | None = None) -> None:
        headers = {"X-Error-Code": code, "X-Error-Message": message}
        if commit:
            headers["X-Repo-Commit"] = commit
        self._send(status, {"error": message}, headers)

    def _repo(self, repo_id: str) -> Repo | None:
        repo = self.hub.repos.get(repo_id)
        if repo is None:
            self._error(404, "RepoNotFound", f"Repository {repo_id} not found")
        return repo

    # -- verbs --------------------------------------------------------------------------------------

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        if not self._count():
            return
        url = urlsplit(self.path)
        path = url.path
        if match := _RESOLVE.match(path):
            return self._resolve(unquote(match["repo"]), unquote(match["rev"]), unquote(match["path"]))
        if (match := _API.match(path)) and match["action"] in (None, "revision", "tree"):
            repo_id = unquote(match["repo"])
            repo = self._repo(repo_id)
            if repo is None:
                return
            revision = unquote(match["rev"] or "main")
            found = repo.files(revision)
            if found is None:
                return self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
            commit, files = found
            if match["action"] == "tree":
                query = parse_qs(url.query)
                prefix = (match["rest"] or "").strip("/")
                recursive = query.get("recursive", ["false"])[0] == "true"
                return self._send(200, self._tree(files, prefix, recursive))
            return self._send(
                200,
                {
                    "id": repo_id,
                    "modelId": repo_id,
                    "sha": commit,
                    "private": repo.private,
                    "siblings": [{"rfilename": p} for p in sorted(files)],
                    "tags": [],
                },
            )
        self._error(404, "NotFound", f"stand-in hub: no route GET {path}")

    def do_POST(self) -> None:
        if not self._count():
            return
        try:
            body = self._body()
        except ValueError:
            return self._error(413, "TooLarge", "request body too large")
        path = urlsplit(self.path).path
        if path == "/api/repos/create":
            payload = json.loads(body or b"{}")
            name = payload["name"]
            repo_id = f"{payload['organization']}/{name}" if payload.get("organization") else name
            private = payload.get("visibility") == "private" or bool(payload.get("private"))
            created = self.hub.create(repo_id, private)
            if not created:
                message = "You already created this model repo"
                return self._send(
                    409, {"error": message, "url": f"{self.hub.url}/{repo_id}"}, {"X-Error-Message": message}
                )
            return self._send(200, {"url": f"{self.hub.url}/{repo_id}", "name": repo_id})
        if path == "/api/validate-yaml":
            return self._send(200, {"errors": [], "warnings": []})
        if (match := _API.match(path)) and match["action"] in ("preupload", "commit"):
            repo_id = unquote(match["repo"])
            if self._repo(repo_id) is None:
                return
            if match["action"] == "preupload":
                files = json.loads(body or b"{}").get("files", [])
                return self._send(
                    200,
                    {"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]},
                )
            return self._commit(repo_id, unquote(match["rev"]), body)
        self._error(404, "NotFound", f"stand-in hub: no route POST {path}")

    # -- routes -------------------------------------------------------------------------------------

    def _commit(self, repo_id: str, branch: str, body: bytes) -> None:
        added: dict[str, bytes] = {}
        deleted: list[str] = []
        for line in body.decode().splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            value = item.get("value", {})
            if item.get("key") == "file":
                content = value.get("content", "")
                added[value["path"]] = (
                    base64.b64decode(content) if value.get("encoding") == "base64" else content.encode()
                )
            elif item.get("key") in ("deletedFile", "deletedFolder"):
                deleted.append(value["path"])
            elif item.get("key") == "lfsFile":
                return self._error(400, "BadRequest", "stand-in hub: LFS uploads are not supported")
        oid = self.hub.commit(repo_id, branch, added, deleted)
        self._send(200, {"commitUrl": f"{self.hub.url}/{repo_id}/commit/{oid}", "commitOid": oid, "success": True})

    def _tree(self, files: dict[str, bytes], prefix: str, recursive: bool) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        for path in sorted(files):
            if prefix and not path.startswith(prefix + "/"):
                continue
            rest = path[len(prefix) + 1 :] if prefix else path
            if "/" in rest and not recursive:
                continue
            data = files[path]
            entry: dict[str, Any] = {"type": "file", "oid": git_blob_sha1(data), "size": len(data), "path": path}
            if is_lfs(path):
                entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
            entries.append(entry)
        return entries

    def _resolve(self, repo_id: str, revision: str, path: str) -> None:
        repo = self._repo(repo_id)
        if repo is None:
            return
        found = repo.files(revision)
        if found is None:
            return self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        commit, files = found
        if path not in files:
            return self._error(404, "EntryNotFound", f"{path} does not exist on {revision}", commit=commit)
        data = files[path]
        etag = hashlib.sha256(data).hexdigest() if is_lfs(path) else git_blob_sha1(data)
        served = self.hub.tampered.get((repo_id, path), data)
        headers = {
            "X-Repo-Commit": commit,
            "ETag": f'"{etag}"',
            "Content-Length": str(len(data)),
            "Content-Type": "application/octet-stream",
        }
        if is_lfs(path):
            headers.update({"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(len(data))})
        self._send(200, headers=headers, raw=served)


@contextlib.contextmanager
def silent_endpoint() -> Iterator[str]:
    """http://127.0.0.1:PORT of a socket that accepts connections (its backlog) and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()
