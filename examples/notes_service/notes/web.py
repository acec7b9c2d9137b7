import asyncio
import functools
import subprocess
import time

from fastapi import FastAPI

from . import notify
from .settings import load_config
from .storage import NoteStore, store

app = FastAPI()


@app.get("/settings")
async def get_settings():
    return load_config()


@app.get("/notes/{name}")
async def read_note(name: str):
    return store.load(name)


@app.put("/notes/{name}")
async def write_note(name: str, note: dict):
    await asyncio.to_thread(store.save, name, note)  # offloaded: fine
    return {"ok": True}


@app.post("/archive")
async def archive(dest: str):
    archive_store = NoteStore(dest)  # the constructor creates the directory on the loop
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, functools.partial(archive_store.save, "index", {}))
    return {"ok": True}


@app.post("/announce")
async def announce(text: str):
    return {"sent": notify.announce("mail.example.org", text)}


@app.get("/version")
async def version():
    out = subprocess.run(["git", "describe"], capture_output=True, text=True)
    return {"version": out.stdout.strip()}


@app.get("/slow")
async def slow():
    time.sleep(0.5)
    return {}


@app.get("/export")
def export():
    # A sync route: FastAPI runs it in its threadpool, so blocking here is fine.
    return load_config()


@app.get("/config-offloaded")
async def config_offloaded():
    return await asyncio.to_thread(load_config)
