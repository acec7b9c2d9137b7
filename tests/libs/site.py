"""A fake site-packages tree and a project that uses it, built in a temporary directory."""

from __future__ import annotations

from pathlib import Path

VENDOR_INIT = "from .client import Client, fetch_config, library_helper\n"

VENDOR_CLIENT = '''\
import socket
import time

import requests
import slowlib


class Client:
    def __init__(self, base="http://localhost"):
        self.base = base
        self.session = requests.Session()

    def get_status(self):
        return self.session.get(self.base + "/status").json()

    def sync_all(self):
        self.get_status()
        time.sleep(0.1)

    def host(self):
        return socket.gethostbyname("example.com")

    async def aping(self):
        return socket.gethostbyname("example.com")


def fetch_config(path):
    with open(path) as fh:
        return fh.read()


def library_helper():
    return slowlib.load()


def _only_library_code():
    return slowlib.load()


async def library_task():
    return _only_library_code()
'''

SLOWLIB = '''\
def load():
    with open("/etc/hosts") as fh:
        return fh.read()
'''

OFFLOADED = '''\
import time


def heavy():
    time.sleep(1)
'''

APP = '''\
import asyncio

import offloaded_sdk
from vendor_sdk import Client, fetch_config, library_helper

import broken_sdk
import latin_sdk

client = Client()


async def status():
    return client.get_status()


async def config():
    return fetch_config("settings.ini")


async def offloaded():
    return await asyncio.to_thread(offloaded_sdk.heavy)


async def helper_offloaded():
    return await asyncio.to_thread(library_helper)


async def sync_all():
    client.sync_all()


async def resolve():
    return client.host()  # loopwarden: ignore[DNS]


async def broken():
    return broken_sdk.run(), latin_sdk.run()
'''


def dist(site: Path, package: str, name: str, version: str, files: dict[str, str | bytes], entry_points: str | None = None) -> None:
    """One installed distribution: its files and a .dist-info with METADATA and RECORD."""
    record = []
    for relative, text in files.items():
        path = site / package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        record.append(f"{package}/{relative},,")
    info = site / f"{package}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n", encoding="utf-8")
    (info / "RECORD").write_text("\n".join([*record, f"{info.name}/METADATA,,", f"{info.name}/RECORD,,"]) + "\n", encoding="utf-8")
    if entry_points is not None:
        (info / "entry_points.txt").write_text(entry_points, encoding="utf-8")


def build(root: Path, vendor_version: str = "1.2") -> tuple[Path, Path]:
    """(site-packages, project) under ``root``."""
    site = root / "site-packages"
    extras = "import time\n\n\ndef never_imported():\n    time.sleep(1)\n"
    dist(site, "vendor_sdk", "vendor-sdk", vendor_version, {"__init__.py": VENDOR_INIT, "client.py": VENDOR_CLIENT, "extras.py": extras})
    dist(site, "slowlib", "slowlib", "3.0", {"__init__.py": SLOWLIB})
    dist(site, "offloaded_sdk", "offloaded-sdk", "0.1", {"__init__.py": OFFLOADED})
    dist(site, "broken_sdk", "broken-sdk", "0.1", {"__init__.py": "def run(:\n    open('x')\n"})
    dist(site, "latin_sdk", "latin-sdk", "0.1", {"__init__.py": b"def run():\n    return open('caf\xe9')\n"})
    project = root / "project"
    project.mkdir()
    (project / "routes.py").write_text(APP, encoding="utf-8")
    return site, project


CATALOGUE = '''\
[[group]]
category = "NETWORK"
symbols = ["catsdk.Client.fetch"]

[[offload]]
name = "catsdk.run_blocking"
callable_arg = 0
'''

CATSDK = '''\
import threading


class Client:
    def fetch(self):
        return b""


async def run_blocking(fn, *args):
    return fn(*args)
'''

CAT_APP = '''\
import time

import catsdk


async def fetch():
    return catsdk.Client().fetch()


async def offloaded():
    await catsdk.run_blocking(lambda: time.sleep(1))


async def direct():
    time.sleep(1)
'''


def build_catalogue_libs(root: Path) -> tuple[Path, Path]:
    """A library that ships catalogue entries, and two whose entries are broken."""
    site = root / "site-packages"
    entry = "[loopwarden.catalog]\ncatsdk = catsdk:loopwarden.toml\n"
    dist(site, "catsdk", "catsdk", "2.0", {"__init__.py": CATSDK, "loopwarden.toml": CATALOGUE}, entry_points=entry)
    dist(site, "badtoml", "badtoml", "1.0", {"__init__.py": "", "lw.toml": "[[group]\n"}, entry_points="[loopwarden.catalog]\nx = badtoml:lw.toml\n")
    dist(site, "badkey", "badkey", "1.0", {"__init__.py": "", "lw.toml": "[[sinks]]\nname = 'x'\n"}, entry_points="[loopwarden.catalog]\nx = badkey:lw.toml\n")
    project = root / "project"
    project.mkdir()
    (project / "app.py").write_text(CAT_APP, encoding="utf-8")
    return site, project


ASYNC_SDK = '''\
import asyncio
import time

import requests


def _read_token(path):
    with open(path) as fh:
        return fh.read()


class Client:
    async def fetch_status(self):
        return requests.get("http://localhost/status").json()

    async def refresh(self):
        return await self._load()

    async def _load(self):
        await asyncio.sleep(0)
        return await self._token()

    async def _token(self):
        return _read_token("/etc/token")

    async def fetch_offloaded(self):
        return await asyncio.to_thread(requests.get, "http://localhost/status")

    async def token_in_executor(self):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, _read_token, "/etc/token")

    async def never_awaited(self):
        time.sleep(1)

    async def awaits_never_awaited(self):
        await self.never_awaited()

    def run_sync(self):
        return asyncio.run(self.fetch_status())

    def poll(self):
        return self._poll()

    async def _poll(self):
        time.sleep(0.5)


class BaseStore:
    def load(self, key):
        return self.read(key)

    def read(self, key):
        raise KeyError(key)


class FileStore(BaseStore):
    def read(self, key):
        with open(key) as fh:
            return fh.read()


class MemoryStore(BaseStore):
    def read(self, key):
        return {}[key]
'''

ASYNC_APP = '''\
import asyncio

from async_sdk import Client
from async_sdk.client import FileStore

client = Client()
store = FileStore()


async def status():
    return await client.fetch_status()


async def deep():
    return await client.refresh()


async def offloaded():
    return await client.fetch_offloaded()


async def executor():
    return await client.token_in_executor()


async def in_thread():
    return await asyncio.to_thread(client.run_sync)


async def coroutine_from_a_sync_method():
    return await client.poll()


async def background():
    asyncio.get_running_loop().create_task(client.fetch_status())


async def own_code():
    return await deep()


async def stored(key):
    return store.load(key)
'''


def build_async_sdk(root: Path) -> tuple[Path, Path]:
    """A library whose async methods block (directly, two awaits deep, through a sync method
    returning a coroutine), offload, or are awaited by nothing in the project."""
    site = root / "site-packages"
    dist(site, "async_sdk", "async-sdk", "1.0", {"__init__.py": "from .client import Client\n", "client.py": ASYNC_SDK})
    project = root / "project"
    project.mkdir()
    (project / "routes.py").write_text(ASYNC_APP, encoding="utf-8")
    return site, project
