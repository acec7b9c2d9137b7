"""Report writers: text (default), summary, json, sarif, github, gitlab. Each takes a ScanResult."""

FORMATS = ("text", "summary", "json", "sarif", "github", "gitlab")


def render(result, fmt: str, *, color: bool = False) -> str:
    if fmt == "json":
        from loopwarden.report.json import render_json

        return render_json(result)
    if fmt == "sarif":
        from loopwarden.report.sarif import render_sarif

        return render_sarif(result)
    if fmt in ("github", "gitlab"):  # CI formats (docs/ci.md)
        from importlib import import_module

        return getattr(import_module(f"loopwarden.report.{fmt}"), f"render_{fmt}")(result)
    if fmt == "summary":
        from loopwarden.report.summary import render_summary

        return render_summary(result)
    from loopwarden.report.text import render_text

    return render_text(result, color=color)
