import json
from pathlib import Path

CONFIG_PATH = Path(__file__).parent / "config.json"


def load_config() -> dict:
    if not CONFIG_PATH.exists():
        return {}
    with open(CONFIG_PATH, encoding="utf-8") as fh:
        return json.load(fh)


def data_dir() -> Path:
    return Path(load_config().get("data_dir", "/var/lib/notes"))
