"""Where things live and which endpoint to talk to.

Precedence, lowest first: config.toml < environment < command-line flags. Nothing here creates
folders or files at import time; `ensure_home()` does that when a command needs state.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from interviewer.errors import UserError

PACKAGE_DIR = Path(__file__).resolve().parent
# An installed wheel carries the data under interviewer/_data; a source checkout has it at the top.
_DATA_CANDIDATES = (PACKAGE_DIR / "_data", PACKAGE_DIR.parent)


def _data_root() -> Path:
    for root in _DATA_CANDIDATES:
        if (root / "corpus" / "topics.yaml").exists():
            return root
    return PACKAGE_DIR.parent


def corpus_dir() -> Path:
    return _data_root() / "corpus"


def prompts_dir() -> Path:
    return _data_root() / "prompts"


def evals_dir() -> Path:
    return _data_root() / "evals"


def home_dir() -> Path:
    env = os.environ.get("INTERVIEWER_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("mock-interviewer", appauthor=False))


def ensure_home() -> Path:
    home = home_dir()
    home.mkdir(parents=True, exist_ok=True)
    return home


def config_path() -> Path:
    return home_dir() / "config.toml"


def store_dir() -> Path:
    return home_dir() / "store"


def journal_path() -> Path:
    return home_dir() / "journal.sqlite"


def cache_dir() -> Path:
    return home_dir() / "cache"


class Profile(BaseModel):
    """A named endpoint in config.toml: `[profiles.NAME]`."""

    model_config = ConfigDict(extra="forbid")

    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = Field(
        default=None, description="Name of the environment variable that holds this endpoint's key."
    )
    timeout: float = 60.0
    connect_timeout: float = 5.0
    max_retries: int = 3
    temperature: float = 0.0


class StoreConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str | None = Field(default=None, description="A Chroma server to share one index; empty = on disk.")
    port: int = 8000
    collection: str = "interviewer"


class UIConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    theme: str = "textual-dark"
    keymap: dict[str, str] = Field(default_factory=dict, description="Binding id -> keys, e.g. submit = 'ctrl+enter'.")


class PracticeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question_minutes: float = 3.0
    round_minutes: float = 20.0
    questions: int = 5
    hint_penalty: float = 1.0


class ConfigFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_profile: str | None = None
    profiles: dict[str, Profile] = Field(default_factory=dict)
    store: StoreConfig = Field(default_factory=StoreConfig)
    ui: UIConfig = Field(default_factory=UIConfig)
    practice: PracticeConfig = Field(default_factory=PracticeConfig)


def load_config(path: Path | None = None) -> ConfigFile:
    path = path or config_path()
    if not path.exists():
        return ConfigFile()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise UserError(f"{path} is not UTF-8 text", "re-save it as UTF-8 or delete it to use defaults")
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path} is not valid TOML ({exc})", "fix that line or delete the file to use defaults")
    try:
        return ConfigFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise UserError(f"{path}: {loc}: {first['msg']}", "fix that setting (see README: Configuration)")


@dataclass
class Endpoint:
    """The resolved LLM endpoint, or offline mode when `offline` is true."""

    offline: bool
    base_url: str | None = None
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    api_key_source: str | None = None
    profile: str | None = None
    timeout: float = 60.0
    connect_timeout: float = 5.0
    max_retries: int = 3
    temperature: float = 0.0
    reason: str = ""

    @property
    def masked_key(self) -> str | None:
        return mask_key(self.api_key)

    def describe(self) -> str:
        if self.offline:
            return f"offline ({self.reason})" if self.reason else "offline"
        return f"{self.model} at {self.base_url or 'https://api.openai.com/v1'}"


def mask_key(key: str | None) -> str | None:
    if not key:
        return None
    if len(key) <= 8:
        return "*" * len(key)
    return f"{key[:3]}...{key[-4:]}"


DEFAULT_OPENAI_MODEL = "gpt-4o-mini"


@dataclass
class Overrides:
    """Global command-line flags."""

    base_url: str | None = None
    model: str | None = None
    profile: str | None = None
    offline: bool = False


def resolve_endpoint(
    overrides: Overrides | None = None,
    config: ConfigFile | None = None,
    environ: dict[str, str] | None = None,
) -> Endpoint:
    """Decide offline vs which endpoint, from config.toml < env < flags.

    A profile with its own base_url only ever gets the key named by its `api_key_env`: sending
    OPENAI_API_KEY to some other host would leak it.
    """
    o = overrides or Overrides()
    env = os.environ if environ is None else environ
    cfg = config if config is not None else load_config()
    if o.offline:
        return Endpoint(offline=True, reason="--offline")

    # A profile named on the command line acts at flag level; a default one (config.toml or
    # INTERVIEWER_PROFILE) is only a starting point that the environment can override.
    profile_name = o.profile or env.get("INTERVIEWER_PROFILE") or cfg.default_profile
    prof: Profile | None = None
    if profile_name:
        prof = cfg.profiles.get(profile_name)
        if prof is None:
            known = ", ".join(sorted(cfg.profiles)) or "none defined"
            raise UserError(
                f"unknown profile {profile_name!r} (profiles in {config_path()}: {known})",
                "add [profiles.NAME] to config.toml or pick another --profile",
            )
    explicit = bool(o.profile)

    base_url: str | None = None
    model: str | None = None
    key: str | None = None
    key_source: str | None = None

    def apply_profile() -> None:
        nonlocal base_url, model, key, key_source
        if prof.base_url:
            base_url = prof.base_url
            # never OPENAI_API_KEY for a profile's own host: only the key it names
            key, key_source = (env.get(prof.api_key_env), prof.api_key_env) if prof.api_key_env else (None, None)
        elif prof.api_key_env:
            key, key_source = env.get(prof.api_key_env), prof.api_key_env
        if prof.model:
            model = prof.model

    if prof and not explicit:
        apply_profile()
    # env layer (the openai SDK's convention: OPENAI_BASE_URL goes with OPENAI_API_KEY)
    if env.get("OPENAI_BASE_URL"):
        if base_url != env["OPENAI_BASE_URL"]:
            key, key_source = None, None
        base_url = env["OPENAI_BASE_URL"]
    if env.get("INTERVIEWER_MODEL"):
        model = env["INTERVIEWER_MODEL"]
    default_profile_owns_host = bool(prof and not explicit and prof.base_url and not env.get("OPENAI_BASE_URL"))
    if key is None and env.get("OPENAI_API_KEY") and not default_profile_owns_host:
        key, key_source = env["OPENAI_API_KEY"], "OPENAI_API_KEY"
    # flag layer
    if prof and explicit:
        key, key_source = None, None
        apply_profile()
        if not prof.base_url and not prof.api_key_env and env.get("OPENAI_API_KEY"):
            key, key_source = env["OPENAI_API_KEY"], "OPENAI_API_KEY"
            if env.get("OPENAI_BASE_URL"):
                base_url = env["OPENAI_BASE_URL"]
    if o.base_url:
        if o.base_url != base_url and key_source == "OPENAI_API_KEY" and not _is_openai(o.base_url):
            # A flag pointing somewhere new keeps the env key only for OpenAI's own host or when
            # OPENAI_BASE_URL already names that host.
            if env.get("OPENAI_BASE_URL") != o.base_url:
                key, key_source = None, None
        base_url = o.base_url
    if o.model:
        model = o.model

    if not (base_url or key or prof):
        return Endpoint(offline=True, reason="no endpoint configured")
    if not base_url and not key:
        return Endpoint(offline=True, reason="no API key for OpenAI and no base URL")
    if not model:
        model = DEFAULT_OPENAI_MODEL if (not base_url or _is_openai(base_url)) else None
    if not model:
        raise UserError(
            f"no model named for {base_url}",
            "set INTERVIEWER_MODEL, pass --model, or add model = ... to the profile",
        )
    p = prof or Profile()
    return Endpoint(
        offline=False,
        base_url=base_url,
        model=model,
        api_key=key,
        api_key_source=key_source,
        profile=profile_name,
        timeout=p.timeout,
        connect_timeout=p.connect_timeout,
        max_retries=p.max_retries,
        temperature=p.temperature,
    )


def _is_openai(url: str) -> bool:
    return "api.openai.com" in url


def save_ui_setting(key: str, value: Any) -> None:
    """Remember one [ui] setting (the theme) without disturbing the rest of config.toml."""
    import tomli_w

    path = config_path()
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            return  # never overwrite a file the user has to fix by hand
    data.setdefault("ui", {})[key] = value
    ensure_home()
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(tomli_w.dumps(data), encoding="utf-8")
    tmp.replace(path)
