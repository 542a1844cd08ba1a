"""`interviewer doctor`: what mode we are in and whether each part works, keys masked."""

from __future__ import annotations

import os
import time

from interviewer.errors import UserError


def _size(path) -> int | None:
    if not path.exists():
        return None
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run_doctor(svc) -> dict:
    from interviewer.settings import config_path, home_dir, journal_path, store_dir

    report: dict = {"problems": [], "warnings": []}
    try:
        ep = svc.endpoint
    except UserError as exc:
        report["problems"].append(exc.line())
        ep = None
    report["home"] = str(home_dir())
    report["config"] = {"path": str(config_path()), "exists": config_path().exists()}
    if ep is None or ep.offline:
        report["mode"] = "offline"
        report["endpoint"] = {"reason": ep.reason if ep else "configuration error"}
    else:
        report["mode"] = "llm"
        e = {
            "base_url": ep.base_url or "https://api.openai.com/v1",
            "model": ep.model,
            "profile": ep.profile,
            "api_key": ep.masked_key,
            "api_key_source": ep.api_key_source,
        }
        from interviewer.llm import LLMError, list_models

        try:
            models, seconds = list_models(ep, timeout=min(ep.timeout, 10.0))
            e["reachable"] = True
            e["models_seconds"] = round(seconds, 3)
            e["model_available"] = ep.model in models
            e["models"] = models[:50]
            if not e["model_available"]:
                report["problems"].append(f"model {ep.model!r} is not served at {e['base_url']} (it has: {', '.join(models[:8]) or 'none'})")
        except LLMError as exc:
            e["reachable"] = False
            e["error"] = exc.message
            report["problems"].append(exc.line())
        report["endpoint"] = e
    # embedding model
    t0 = time.monotonic()
    try:
        from interviewer.embedding import get_embedder, onnx_path

        emb = get_embedder()
        emb.encode(["doctor check"])
        report["embedding"] = {"ok": True, "backend": emb.backend, "seconds": round(time.monotonic() - t0, 3), "onnx": str(onnx_path()), "offline": True}
    except Exception as exc:  # noqa: BLE001
        report["embedding"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        report["problems"].append(f"the embedding model does not load: {exc}")
    report["store"] = {"path": str(store_dir()), "bytes": _size(store_dir())}
    try:
        host = svc.config.store.host
    except UserError:
        host = None
    if host:
        report["store"]["server"] = f"{host}:{svc.config.store.port}"
    report["journal"] = {"path": str(journal_path()), "bytes": _size(journal_path())}
    from interviewer.tokens import status

    report["tokens"] = status(ep.model if ep and not ep.offline else None)
    if report["tokens"]["method"] == "estimate":
        report["warnings"].append(report["tokens"]["detail"])
    try:
        from interviewer.rounds.sandbox import isolation_status

        report["sandbox"] = isolation_status()
    except Exception as exc:  # noqa: BLE001
        report["sandbox"] = {"isolation": "unavailable", "error": str(exc)}
    report["env"] = {k: ("set" if os.environ.get(k) else "unset") for k in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "INTERVIEWER_MODEL", "INTERVIEWER_HOME")}
    return report


def render_doctor(report: dict, console) -> None:
    from rich.markup import escape  # errors and paths may hold [brackets] rich would eat as tags

    ok, bad = "[green]ok[/]", "[red]problem[/]"
    console.print(f"[bold]mode[/]: {report['mode']}" + (f" ({escape(str(report['endpoint'].get('reason')))})" if report["mode"] == "offline" else ""))
    if report["mode"] == "llm":
        e = report["endpoint"]
        console.print(f"endpoint: {e['base_url']}  model: {e['model']}  key: {e.get('api_key') or 'none'} ({e.get('api_key_source') or '-'})")
        if e.get("reachable"):
            console.print(f"  /v1/models answered in {e['models_seconds'] * 1000:.0f} ms; model available: {ok if e['model_available'] else bad}")
        else:
            console.print(f"  {bad}: {escape(str(e.get('error')))}")
    em = report.get("embedding", {})
    console.print(f"embedding model: {ok if em.get('ok') else bad} " + (f"({em.get('backend')}, {em.get('seconds')} s)" if em.get("ok") else escape(em.get("error", ""))))
    console.print(f"home: {escape(report['home'])}")
    console.print(f"store: {escape(report['store']['path'])} ({report['store']['bytes'] or 0:,} bytes)" + (f" server {report['store']['server']}" if report["store"].get("server") else ""))
    console.print(f"journal: {escape(report['journal']['path'])} ({report['journal']['bytes'] or 0:,} bytes)")
    t = report["tokens"]
    console.print(f"token counting: {t['method']}" + (f" ({t.get('encoding')})" if t.get("encoding") else f": {t.get('detail')}"))
    sb = report.get("sandbox", {})
    console.print(f"coding sandbox: {sb.get('isolation')}" + (f", network {sb.get('network')}" if sb.get("network") else ""))
    for w in report["warnings"]:
        console.print(f"[yellow]warning[/]: {escape(w)}")
    for p in report["problems"]:
        console.print(f"[red]{escape(p)}[/]")
