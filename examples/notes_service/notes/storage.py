import json
import os
import tempfile
from pathlib import Path


class NoteStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def path_for(self, name: str) -> Path:
        return self.root / f"{name}.json"  # pure path arithmetic: never reported

    def load(self, name: str) -> dict:
        return json.loads(self.path_for(name).read_text(encoding="utf-8"))

    def save(self, name: str, note: dict) -> None:
        self._atomic_write_json(self.path_for(name), note)

    def _atomic_write_json(self, target: Path, data: dict) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.root)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
        os.replace(tmp, target)


store = NoteStore(Path("/tmp/notes"))
