"""The few git facts changed-code mode needs, read with plumbing commands. Never writes to
the repository, its index, its stash or its working tree."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field


class GitError(Exception):
    """One line for the user; the command exits 2."""


@dataclass(frozen=True)
class FileChange:
    """One file of a diff, by repository-relative posix paths (``old`` is None when added)."""

    old: str | None
    new: str | None  # None when deleted
    lines: frozenset[int] = frozenset()  # lines of ``new`` added or changed
    whole: bool = False  # every line counts as changed (an untracked file)


@dataclass(frozen=True)
class Changes:
    files: dict[str, FileChange] = field(default_factory=dict)  # by new path

    def renamed_from(self, old: str) -> str | None:
        """The new path of ``old`` when the diff renames (or moves) it."""
        for change in self.files.values():
            if change.old == old and change.new != old:
                return change.new
        return None

    def changed(self, path: str, line: int) -> bool:
        change = self.files.get(path)
        return change is not None and (change.whole or line in change.lines)


def run_git(args: list[str], cwd: str, *, check: bool = True, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=stdin,
            capture_output=True,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"},
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH (changed-code mode needs it)") from None
    if check and proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {message[-1] if message else f'exit code {proc.returncode}'}")
    return proc


def _text(data: bytes) -> str:
    return os.fsdecode(data.strip())


def repo_top(cwd: str) -> str:
    proc = run_git(["rev-parse", "--show-toplevel"], cwd, check=False)
    if proc.returncode != 0:
        raise GitError(f"not a git repository: {cwd} (--diff compares git revisions)")
    return _text(proc.stdout)


def resolve(revision: str, cwd: str) -> str:
    """The commit id ``revision`` names, or a GitError naming it."""
    if not revision or revision.startswith("-"):
        raise GitError(f"unknown revision {revision!r}")
    proc = run_git(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], cwd, check=False)
    if proc.returncode != 0:
        if revision == "HEAD":
            raise GitError("the repository has no commits yet (HEAD does not name a commit)")
        raise GitError(f"unknown revision {revision!r}: not a commit in this repository (fetch it first?)")
    return _text(proc.stdout)


def merge_base(base: str, head: str, cwd: str, base_name: str) -> str:
    proc = run_git(["merge-base", base, head], cwd, check=False)
    if proc.returncode == 0:
        return _text(proc.stdout).split()[0]
    shallow = run_git(["rev-parse", "--is-shallow-repository"], cwd, check=False)
    if _text(shallow.stdout) == "true":
        raise GitError(
            f"shallow clone: the fetched history holds no merge base of {base_name} and HEAD; "
            "fetch more (git fetch --unshallow, or fetch-depth: 0 in actions/checkout)"
        )
    raise GitError(f"{base_name} and HEAD have no common ancestor")


_QUOTED_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def unquote(raw: bytes) -> str:
    """A path as git prints it in diff headers: C-quoted when it holds special bytes."""
    if not raw.startswith(b'"'):
        return os.fsdecode(raw)
    body, out, i = raw[1:-1], bytearray(), 0
    while i < len(body):
        char = body[i]
        if char == 0x5C and i + 1 < len(body):  # backslash
            nxt = chr(body[i + 1])
            if nxt in "01234567":
                out.append(int(body[i + 1 : i + 4], 8))
                i += 4
                continue
            out.append(_QUOTED_ESCAPES.get(nxt, ord(nxt)))
            i += 2
            continue
        out.append(char)
        i += 1
    return os.fsdecode(bytes(out))


_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def diff(top: str, base: str, head: str | None) -> Changes:
    """Files changed from ``base`` to ``head`` (a commit, or None for the working tree and
    index), with git's rename detection, and the new-side lines each hunk adds or changes."""
    args = [
        "-c", "core.quotePath=true", "diff", "-U0", "-M", "--no-color", "--no-ext-diff", "--no-textconv",
        "--src-prefix=a/", "--dst-prefix=b/", base,
    ]  # fmt: skip
    if head is not None:
        args.append(head)
    out = run_git(args, top).stdout
    files: dict[str, FileChange] = {}
    old: str | None = None
    new: str | None = None
    lines: set[int] = set()

    def close() -> None:
        if new is not None or old is not None:
            key = new if new is not None else f"\0deleted:{old}"
            files[key] = FileChange(old, new, frozenset(lines))

    for line in out.split(b"\n"):
        if line.startswith(b"diff --git "):
            close()
            old, new, lines = None, None, set()
            header = line[len(b"diff --git ") :]
            # Fallback for headers without ---/+++ lines (pure renames, mode changes).
            parsed = _split_header(header)
            if parsed is not None:
                old, new = parsed
        elif line.startswith(b"rename from "):
            old = unquote(line[len(b"rename from ") :])
        elif line.startswith(b"rename to "):
            new = unquote(line[len(b"rename to ") :])
        elif line.startswith(b"new file mode"):
            old = None
        elif line.startswith(b"deleted file mode"):
            new = None
        elif line.startswith(b"--- "):
            side = line[4:]
            old = None if side == b"/dev/null" else unquote(side)[2:]
        elif line.startswith(b"+++ "):
            side = line[4:]
            new = None if side == b"/dev/null" else unquote(side)[2:]
        elif line.startswith(b"@@"):
            match = _HUNK.match(line)
            if match:
                start, count = int(match.group(1)), int(match.group(2) or 1)
                lines.update(range(start, start + count))
    close()
    return Changes({k: v for k, v in files.items() if not k.startswith("\0")})


def _split_header(header: bytes) -> tuple[str, str] | None:
    """``a/x.py b/x.py`` (unquoted, same length halves) or two quoted paths."""
    if header.startswith(b'"'):
        end = header.find(b'" ', 1)
        if end < 0:
            return None
        return unquote(header[: end + 1])[2:], unquote(header[end + 2 :])[2:]
    half = (len(header) - 1) // 2
    first, second = header[:half], header[half + 1 :]
    if first.startswith(b"a/") and second.startswith(b"b/") and first[2:] == second[2:]:
        return os.fsdecode(first[2:]), os.fsdecode(second[2:])
    return None


def untracked(top: str) -> list[str]:
    out = run_git(["ls-files", "-z", "--others", "--exclude-standard"], top).stdout
    return [os.fsdecode(p) for p in out.split(b"\0") if p]


def dirty(top: str) -> list[str]:
    """Paths whose working tree or index differs from HEAD, and untracked files."""
    out = run_git(["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames"], top).stdout
    return sorted({os.fsdecode(entry[3:]) for entry in out.split(b"\0") if len(entry) > 3})


def is_wanted(path: str) -> bool:
    name = path.rpartition("/")[2]
    return name.endswith(".py") or name == ".gitignore"


def extract(top: str, commit: str, dest: str, prefixes: list[str]) -> int:
    """Write the Python files (and .gitignore files) of ``commit`` under ``dest``, from git
    objects. ``prefixes``: repository-relative directories or files to keep ("" for all).
    Returns the number of files written."""
    listing = run_git(["ls-tree", "-r", "-z", "--full-tree", commit], top).stdout
    wanted: list[tuple[str, str]] = []
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, raw_path = entry.partition(b"\t")
        mode, kind, oid = meta.split(b" ")
        path = os.fsdecode(raw_path)
        if kind != b"blob" or mode not in (b"100644", b"100755") or not is_wanted(path):
            continue
        if ".." in path.split("/") or path.startswith("/"):
            continue
        if any(not p or path == p or path.startswith(p + "/") for p in prefixes) or path.endswith(".gitignore"):
            wanted.append((path, oid.decode()))
    if not wanted:
        return 0
    data = run_git(["cat-file", "--batch"], top, stdin=b"".join(oid.encode() + b"\n" for _, oid in wanted)).stdout
    offset = 0
    for path, _oid in wanted:
        end = data.index(b"\n", offset)
        header = data[offset:end].split(b" ")
        if len(header) != 3 or header[1] != b"blob":
            raise GitError(f"cannot read {path} at {commit[:12]} from git objects")
        size = int(header[2])
        body = data[end + 1 : end + 1 + size]
        offset = end + 1 + size + 1
        target = os.path.join(dest, *path.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as fh:
            fh.write(body)
    return len(wanted)
