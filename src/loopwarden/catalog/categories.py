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


@dataclass(frozen=True)
class Category:
    name: str
    summary: str
    why: str
    example: str
    instead: str
    cost: str = HEAVY


def _cat(name: str, summary: str, why: str, example: str, instead: str, cost: str = HEAVY) -> Category:
    return Category(name, summary, why.strip(), example.strip("\n"), instead.strip("\n"), cost)


CATEGORIES: dict[str, Category] = {
    c.name: c
    for c in (
        _cat(
            "FILE_OPEN",
            "Opens a file on the event loop.",
            """
`open()` performs a blocking `open(2)` syscall and returns a file object whose reads and
writes block too. On a network file system or a busy disk the loop stalls for every other
request on the worker.""",
            """
async def read_note(name):
    with open(f"notes/{name}.txt") as fh:
        return fh.read()""",
            """
async def read_note(name):
    return await asyncio.to_thread(Path(f"notes/{name}.txt").read_text)""",
        ),
        _cat(
            "FILE_IO",
            "Reads or writes file contents (file objects, json/pickle/csv/yaml/toml on files).",
            """
The cost of a read or write grows with the size of the data and with disk latency, and
`json.dump(obj, fh)` is a series of small blocking writes.""",
            """
async def save(state, fh):
    json.dump(state, fh)""",
            """
async def save(state, path):
    text = json.dumps(state)
    await asyncio.to_thread(path.write_text, text)""",
        ),
        _cat(
            "FS_META",
            "Touches file-system metadata (stat, exists, listdir, mkdir, rename, ...).",
            """
Each call is a syscall that can wait on the disk, and directory listings grow with the
directory. Cheap single calls are reported as MEDIUM; listings and walks as HIGH.""",
            """
async def ensure_dir(path: Path):
    if not path.exists():
        path.mkdir(parents=True)""",
            """
async def ensure_dir(path: Path):
    await asyncio.to_thread(path.mkdir, parents=True, exist_ok=True)""",
            cost=CHEAP,
        ),
        _cat(
            "FS_TREE",
            "Copies, moves or deletes whole file trees (shutil).",
            """
`shutil.copytree`, `rmtree`, `move` and `make_archive` touch every file below a directory:
their cost is unbounded.""",
            """
async def reset(workdir):
    shutil.rmtree(workdir)""",
            """
async def reset(workdir):
    await asyncio.to_thread(shutil.rmtree, workdir)""",
        ),
        _cat(
            "TEMPFILE",
            "Creates temporary files or directories.",
            """
`tempfile` creates files on disk (and for `TemporaryDirectory`, removes whole trees on
exit), all with blocking syscalls.""",
            """
async def render(doc):
    with tempfile.NamedTemporaryFile("w", suffix=".pdf") as tmp:
        ...""",
            """
async def render(doc):
    return await asyncio.to_thread(render_sync, doc)""",
        ),
        _cat(
            "ARCHIVE",
            "Reads or writes archives and compressed files (zipfile, tarfile, gzip, bz2, lzma).",
            """
Compression is CPU-bound and archive I/O reads and writes whole files: both hold the loop
for as long as the data takes.""",
            """
async def unpack(upload, dest):
    with zipfile.ZipFile(upload) as zf:
        zf.extractall(dest)""",
            """
async def unpack(upload, dest):
    await asyncio.to_thread(shutil.unpack_archive, upload, dest)""",
        ),
        _cat(
            "SUBPROCESS",
            "Starts or waits for a child process (subprocess, os.system, os.popen, os.spawn*, os.wait*).",
            """
`subprocess.run()` waits for the child to exit; even `Popen()` forks and execs, which can
take tens of milliseconds in a large process.""",
            """
async def git_head():
    return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True).stdout""",
            """
async def git_head():
    proc = await asyncio.create_subprocess_exec(
        "git", "rev-parse", "HEAD", stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    return out""",
        ),
        _cat(
            "SLEEP",
            "Sleeps the thread (time.sleep).",
            """
`time.sleep()` suspends the whole thread: on the loop thread, nothing else runs until it
returns.""",
            """
async def retry(fn):
    time.sleep(1)
    return await fn()""",
            """
async def retry(fn):
    await asyncio.sleep(1)
    return await fn()""",
        ),
        _cat(
            "NETWORK",
            "Talks to the network with a synchronous client (socket, urllib, requests, httpx.Client, smtplib, ...).",
            """
A network round trip takes milliseconds at best and the full timeout at worst; a sync
client holds the loop for all of it.""",
            """
async def fetch(url):
    return requests.get(url, timeout=10).json()""",
            """
async def fetch(url):
    async with httpx.AsyncClient() as client:
        return (await client.get(url, timeout=10)).json()""",
        ),
        _cat(
            "DNS",
            "Resolves a host name synchronously (socket.getaddrinfo, gethostbyname, ...).",
            """
The resolver may query a remote DNS server, with multi-second time-outs when it is slow.""",
            """
async def resolve(host):
    return socket.gethostbyname(host)""",
            """
async def resolve(host):
    infos = await asyncio.get_running_loop().getaddrinfo(host, None)
    return infos[0][4][0]""",
        ),
        _cat(
            "DB",
            "Uses a synchronous database driver (sqlite3, psycopg2, pymysql, pymongo, redis, SQLAlchemy sessions).",
            """
Queries wait on the database server or the disk; the loop is held for the whole query.""",
            """
async def get_user(uid):
    conn = sqlite3.connect("app.db")
    return conn.execute("select * from users where id = ?", (uid,)).fetchone()""",
            """
async def get_user(uid):
    async with aiosqlite.connect("app.db") as conn:
        cur = await conn.execute("select * from users where id = ?", (uid,))
        return await cur.fetchone()""",
        ),
        _cat(
            "LOCK_WAIT",
            "Waits on a thread primitive (threading locks and events, queue.Queue, futures, Thread.join).",
            """
A thread primitive waits for another thread; while it waits, the loop thread is blocked.""",
            """
async def next_job(q: queue.Queue):
    return q.get()""",
            """
async def next_job(q: asyncio.Queue):
    return await q.get()""",
        ),
        _cat(
            "INPUT",
            "Reads from the terminal (input, getpass).",
            """
`input()` waits for a human.""",
            """
async def confirm():
    return input("continue? ") == "y\"""",
            """
async def confirm():
    return await asyncio.to_thread(input, "continue? ") == "y\"""",
        ),
        _cat(
            "SDK",
            "Calls a synchronous SDK client (boto3, kubernetes, elasticsearch, OpenAI, Anthropic, LangChain invoke).",
            """
SDK clients make HTTP requests under the hood, often with retries and back-off: seconds on
the loop.""",
            """
async def answer(question):
    return client.chat.completions.create(model="gpt-4o", messages=[...])""",
            """
async def answer(question):
    return await async_client.chat.completions.create(model="gpt-4o", messages=[...])""",
        ),
    )
}
