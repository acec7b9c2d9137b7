"""The categories of blocking calls, each documented beside its definition.

The rule reference in ``docs/rules.md`` is generated from these objects
(``python -m loopwarden.catalog.docgen``), so the docs cannot drift from the code.
"""

from __future__ import annotations

from dataclasses import dataclass

HEAVY = "heavy"  # cost grows with data or waits on something else: always HIGH on the loop
CHEAP = "cheap"  # one metadata syscall: MEDIUM on the loop
FREE = "free"  # near-free (no disk or network in practice): LOW
COSTS = (HEAVY, CHEAP, FREE)
COST_RANK = {cost: len(COSTS) - 1 - i for i, cost in enumerate(COSTS)}  # free 0 < cheap 1 < heavy 2


@dataclass(frozen=True)
class Category:
    name: str
    summary: str
    why: str
    example: str
    instead: str
    cost: str = HEAVY
    # The fix a finding of this category suggests when the call is written in async code
    # itself; "" for the generic one (offload the call with asyncio.to_thread).
    fix: str = ""
    # The call opens a handle (a file, a process, a connection): the later operations on that
    # handle belong to the finding of the call that opened it, not to findings of their own.
    handle: bool = False
    # The call reaches outside the machine or the process (a server, a resolver, a program): a
    # regression test anchoring the finding replaces it with a stand-in that still blocks.
    external: bool = False


def _cat(
    name: str,
    summary: str,
    why: str,
    example: str,
    instead: str,
    cost: str = HEAVY,
    *,
    fix: str = "",
    handle: bool = False,
    external: bool = False,
) -> Category:
    return Category(name, summary, why.strip(), example.strip("\n") + "\n", instead.strip("\n") + "\n", cost, fix, handle, external)


CATEGORIES: dict[str, Category] = {
    c.name: c
    for c in (
        _cat(
            "FILE_OPEN",
            "Opens a file on the event loop (open, os.open, Path.open, shelve.open, PIL.Image.open, ...).",
            """
`open()` performs a blocking `open(2)` syscall and returns a file object whose reads and
writes block too. On a network file system, a busy disk or a cold page cache the loop
stalls, and with it every other request that this worker serves. File objects returned by
`open()` are typed, so the reads and writes on them are not reported again: the open is the
finding, and the fix is to move the whole open-read-close sequence off the loop.""",
            """
async def read_note(name: str) -> str:
    with open(f"notes/{name}.txt", encoding="utf-8") as fh:
        return fh.read()
""",
            """
import asyncio
from pathlib import Path


async def read_note(name: str) -> str:
    path = Path("notes") / f"{name}.txt"
    return await asyncio.to_thread(path.read_text, encoding="utf-8")
""",
            handle=True,
        ),
        _cat(
            "FILE_IO",
            "Reads or writes file contents (file objects, Path.read_text, json/pickle/yaml/toml/csv on files, os.read).",
            """
The cost of a read or write grows with the size of the data and with disk latency, and the
serialisers that take a file (`json.dump(obj, fh)`, `pickle.load(fh)`, `yaml.safe_load(fh)`)
turn one logical operation into many small blocking reads or writes. `fsync` can wait for
the device for hundreds of milliseconds.""",
            """
import json
from pathlib import Path


async def load_state(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))
""",
            """
import asyncio
import json
from pathlib import Path


async def load_state(path: Path) -> dict:
    text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    return json.loads(text)
""",
        ),
        _cat(
            "FS_META",
            "Touches file-system metadata (stat, exists, mkdir, rename, unlink, listdir, scandir, walk, glob, ...).",
            """
Each call is at least one syscall that can wait on the disk or a network file system, and
directory listings, walks and globs grow with the tree they read. Single metadata calls
are `cheap` (MEDIUM on the loop); listings and walks are `heavy` (HIGH); `os.getcwd`,
`Path.absolute` and `expanduser` are `free` (LOW).""",
            """
from pathlib import Path


async def ensure_dir(path: Path) -> None:
    if not path.exists():
        path.mkdir(parents=True)
""",
            """
import asyncio
from pathlib import Path


async def ensure_dir(path: Path) -> None:
    await asyncio.to_thread(path.mkdir, parents=True, exist_ok=True)
""",
            cost=CHEAP,
        ),
        _cat(
            "FS_TREE",
            "Copies, moves or deletes files and whole trees (shutil.copy*, move, rmtree, make_archive).",
            """
`shutil.copytree`, `rmtree`, `move` and `make_archive` touch every file below a directory,
and `copyfile` copies every byte: their cost is unbounded and grows with the data.""",
            """
import shutil


async def reset(workdir: str) -> None:
    shutil.rmtree(workdir)
""",
            """
import asyncio
import shutil


async def reset(workdir: str) -> None:
    await asyncio.to_thread(shutil.rmtree, workdir)
""",
        ),
        _cat(
            "TEMPFILE",
            "Creates temporary files or directories (tempfile).",
            """
`tempfile` creates files on disk with blocking syscalls, retries on name collisions, and
`TemporaryDirectory` removes a whole tree when it is cleaned up. The first `gettempdir()`
even probes candidate directories by writing test files.""",
            """
import tempfile


async def render(doc: bytes) -> str:
    with tempfile.NamedTemporaryFile("wb", suffix=".pdf", delete=False) as tmp:
        tmp.write(doc)
    return tmp.name
""",
            """
import asyncio
import tempfile


def _write_temp(doc: bytes) -> str:
    with tempfile.NamedTemporaryFile("wb", suffix=".pdf", delete=False) as tmp:
        tmp.write(doc)
    return tmp.name


async def render(doc: bytes) -> str:
    return await asyncio.to_thread(_write_temp, doc)
""",
            handle=True,
        ),
        _cat(
            "ARCHIVE",
            "Reads or writes archives and compressed data (zipfile, tarfile, gzip, bz2, lzma, zlib).",
            """
Compression is CPU-bound and archive I/O reads and writes whole files: both hold the loop
for as long as the data takes. Opening an archive already reads its index from disk.""",
            """
import zipfile


async def unpack(upload: str, dest: str) -> None:
    with zipfile.ZipFile(upload) as zf:
        zf.extractall(dest)
""",
            """
import asyncio
import zipfile


def _extract(upload: str, dest: str) -> None:
    with zipfile.ZipFile(upload) as zf:
        zf.extractall(dest)


async def unpack(upload: str, dest: str) -> None:
    await asyncio.to_thread(_extract, upload, dest)
""",
            handle=True,
        ),
        _cat(
            "SUBPROCESS",
            "Starts or waits for a child process (subprocess, os.system, os.popen, os.spawn*, os.exec*, os.wait*).",
            """
`subprocess.run()` waits for the child to exit; even `Popen()` forks and execs, which can
take tens of milliseconds in a large process, and `Popen.wait()`/`communicate()` wait for
as long as the child runs. asyncio has its own non-blocking subprocess API.""",
            """
import subprocess


async def git_head() -> bytes:
    return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True).stdout
""",
            """
import asyncio


async def git_head() -> bytes:
    proc = await asyncio.create_subprocess_exec(
        "git", "rev-parse", "HEAD", stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    return out
""",
            fix="use asyncio.create_subprocess_exec(...) or offload with await asyncio.to_thread(...)",
            handle=True,
            external=True,
        ),
        _cat(
            "SLEEP",
            "Sleeps the thread (time.sleep, signal.pause, sched.scheduler.run).",
            """
`time.sleep()` suspends the whole thread: on the loop thread, nothing else runs until it
returns, so a one-second back-off becomes a one-second outage for every task.""",
            """
import time


async def retry(fn):
    time.sleep(1)
    return await fn()
""",
            """
import asyncio


async def retry(fn):
    await asyncio.sleep(1)
    return await fn()
""",
            fix="use await asyncio.sleep(...)",
        ),
        _cat(
            "NETWORK",
            "Talks to the network with a synchronous client (socket, ssl, urllib, http.client, requests, httpx.Client, urllib3, smtplib, ftplib, paramiko, ...).",
            """
A network round trip takes milliseconds at best and the full time-out at worst; a sync
client holds the loop for all of it, plus connection set-up, TLS handshakes and retries.
Some constructors connect immediately (`smtplib.SMTP(host)`, `ftplib.FTP(host)`).""",
            """
import requests


async def fetch(url: str) -> dict:
    return requests.get(url, timeout=10).json()
""",
            """
import httpx


async def fetch(url: str) -> dict:
    async with httpx.AsyncClient() as client:
        response = await client.get(url, timeout=10)
        return response.json()
""",
            fix="use an async client (httpx.AsyncClient, aiohttp) or offload with await asyncio.to_thread(...)",
            external=True,
        ),
        _cat(
            "DNS",
            "Resolves a host name synchronously (socket.getaddrinfo, gethostbyname, getfqdn, dnspython).",
            """
The system resolver may query a remote DNS server, with multi-second time-outs and retries
when the server is slow or unreachable. `loop.getaddrinfo()` runs the same lookup in the
default executor.""",
            """
import socket


async def resolve(host: str) -> str:
    return socket.gethostbyname(host)
""",
            """
import asyncio


async def resolve(host: str) -> str:
    infos = await asyncio.get_running_loop().getaddrinfo(host, None)
    return infos[0][4][0]
""",
            fix="use await loop.getaddrinfo(...)",
            external=True,
        ),
        _cat(
            "DB",
            "Uses a synchronous database or cache driver (sqlite3, psycopg2/psycopg, pymysql, pymongo, redis, SQLAlchemy sessions, ...).",
            """
Queries wait on the database server, the network or the disk; connecting adds a handshake
and often TLS. The loop is held for the whole query, and a slow query becomes an outage.
Use the async driver (aiosqlite, asyncpg, psycopg's AsyncConnection, redis.asyncio,
SQLAlchemy's AsyncSession, motor/pymongo's AsyncMongoClient) or offload.""",
            """
import sqlite3


async def get_user(uid: int):
    conn = sqlite3.connect("app.db")
    return conn.execute("select * from users where id = ?", (uid,)).fetchone()
""",
            """
import aiosqlite


async def get_user(uid: int):
    async with aiosqlite.connect("app.db") as conn:
        cursor = await conn.execute("select * from users where id = ?", (uid,))
        return await cursor.fetchone()
""",
            fix="use an async driver (aiosqlite, asyncpg, redis.asyncio) or offload with await asyncio.to_thread(...)",
            handle=True,
        ),
        _cat(
            "LOCK_WAIT",
            "Waits on a thread or process primitive (threading locks, events and joins, queue.Queue, futures, multiprocessing).",
            """
A thread primitive waits for another thread; while it waits, the loop thread is blocked,
and if the other side needs the loop to make progress (`run_coroutine_threadsafe(...).result()`),
the program deadlocks. Taking a mutex (`with lock:`) is usually free and blocks only while
another thread holds it, so it is reported as MEDIUM; waits on events, queues, futures,
semaphores and joins are HIGH.
Use the asyncio primitives, or `asyncio.wrap_future` for futures.""",
            """
import queue


async def next_job(jobs: queue.Queue):
    return jobs.get()
""",
            """
import asyncio


async def next_job(jobs: asyncio.Queue):
    return await jobs.get()
""",
            fix="use asyncio primitives (asyncio.Lock, asyncio.Queue) or offload the wait",
        ),
        _cat(
            "INPUT",
            "Reads from the terminal (input, getpass, sys.stdin, breakpoint).",
            """
`input()` waits for a human, and so does a debugger prompt: the loop stops for as long as
nobody types.""",
            """
async def confirm() -> bool:
    return input("continue? ") == "y"
""",
            """
import asyncio


async def confirm() -> bool:
    answer = await asyncio.to_thread(input, "continue? ")
    return answer == "y"
""",
        ),
        _cat(
            "SDK",
            "Calls a synchronous SDK client (boto3, kubernetes, elasticsearch, OpenAI, Anthropic, Google Cloud, LangChain invoke, ...).",
            """
SDK clients make HTTP requests under the hood, often with retries and exponential back-off:
seconds on the loop, and LLM calls routinely take tens of seconds. Most SDKs ship an async
client (`AsyncOpenAI`, `AsyncAnthropic`, `ainvoke`, `aioboto3`, `kubernetes_asyncio`).""",
            """
from openai import OpenAI

client = OpenAI()


async def answer(question: str) -> str:
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": question}]
    )
    return completion.choices[0].message.content
""",
            """
from openai import AsyncOpenAI

client = AsyncOpenAI()


async def answer(question: str) -> str:
    completion = await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": question}]
    )
    return completion.choices[0].message.content
""",
            fix="use the SDK's async client (AsyncOpenAI, ainvoke, aioboto3, ...) or offload with await asyncio.to_thread(...)",
            external=True,
        ),
    )
}


# Hazards an offload brings (loopwarden.hazards): not blocking calls, but what goes wrong when
# blocking code moves to a worker thread. Documented like the categories, reported MEDIUM.
HAZARDS: dict[str, Category] = {
    c.name: c
    for c in (
        _cat(
            "LOST_UPDATE",
            "An offloaded callable reads and writes the same file or module-level object, with no asyncio lock held across the await.",
            """
On the loop, a read-modify-write of a JSON file or a settings singleton was serialised by
accident: nothing else ran between the read and the write. Once it runs in a worker thread
(`asyncio.to_thread`, `run_in_executor`, `anyio.to_thread.run_sync`, ...), two concurrent
requests interleave: both read the old state, both write, and the first update is lost.
Reported when the code the callable reaches reads and writes the same resource (the same
path expression, a `self` or module attribute holding a path, or a module-level dict, list,
set or project-class instance that is read, then written or saved), and the offload is not
inside an `async with` of an `asyncio.Lock`, `anyio.Lock` or `asyncio.Semaphore(1)` (in the
offloading function, or in every async caller on the way to it). Accesses inside a
`with <...lock...>:` block, and functions that take `fcntl.flock`, are taken as serialised.""",
            """
import asyncio
import json
from pathlib import Path

SETTINGS = Path("settings.json")


def _set(key: str, value: str) -> None:
    data = json.loads(SETTINGS.read_text())
    data[key] = value
    SETTINGS.write_text(json.dumps(data))


async def set_setting(key: str, value: str) -> None:
    await asyncio.to_thread(_set, key, value)
""",
            """
import asyncio
import json
from pathlib import Path

SETTINGS = Path("settings.json")
_settings_lock = asyncio.Lock()


def _set(key: str, value: str) -> None:
    data = json.loads(SETTINGS.read_text())
    data[key] = value
    SETTINGS.write_text(json.dumps(data))


async def set_setting(key: str, value: str) -> None:
    async with _settings_lock:  # one read-modify-write at a time (per process)
        await asyncio.to_thread(_set, key, value)
""",
            cost=CHEAP,
        ),
        _cat(
            "CONTEXT_LOSS",
            "run_in_executor (or an executor's submit from async code) runs a callable that reads a ContextVar, without a copied context.",
            """
`loop.run_in_executor(None, fn)` and `executor.submit(fn)` do not carry `contextvars` into
the worker thread (unlike `asyncio.to_thread`, `anyio.to_thread.run_sync` and Starlette's
`run_in_threadpool`, which copy the context). Code there that calls `.get()` on a module-level
`ContextVar` (the current user, the request id, a tenant) sees the default value, or raises
`LookupError`: logs lose their request id, and permission checks run as nobody. Reported for
a function, method, `functools.partial`, lambda or nested def whose reachable code reads a
ContextVar, in this module or another; not when the callable is wrapped in `ctx.run`.""",
            """
import asyncio
import contextvars

request_id = contextvars.ContextVar("request_id", default="-")


def _render(report: str) -> str:
    return f"[{request_id.get()}] {report}"


async def render(report: str) -> str:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, _render, report)
""",
            """
import asyncio
import contextvars

request_id = contextvars.ContextVar("request_id", default="-")


def _render(report: str) -> str:
    return f"[{request_id.get()}] {report}"


async def render(report: str) -> str:
    loop = asyncio.get_running_loop()
    ctx = contextvars.copy_context()
    return await loop.run_in_executor(None, ctx.run, _render, report)
""",
            cost=CHEAP,
        ),
    )
}
