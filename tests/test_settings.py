"""Settings: which endpoint a command talks to, with which key, and where state lives.

Precedence, lowest first: config.toml < environment < command-line flags. The tests write a real
config.toml into the per-test INTERVIEWER_HOME (conftest) and pass an explicit environment, so
nothing on this machine leaks in.
"""

from __future__ import annotations

import tomllib

import pytest

from interviewer.errors import UserError
from interviewer.settings import (
    DEFAULT_OPENAI_MODEL,
    Overrides,
    config_path,
    load_config,
    mask_key,
    resolve_endpoint,
    save_ui_setting,
)

OPENAI_KEY = "sk-openai-SECRET-0123456789abcdef"
LOCAL_KEY = "local-SECRET-key-9876543210"


def write_config(text: str):
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def resolve(overrides: Overrides | None = None, env: dict | None = None):
    """Resolve against the config.toml on disk and an explicit environment."""
    return resolve_endpoint(overrides or Overrides(), load_config(), env or {})


PROFILES = """
default_profile = "cfg"

[profiles.cfg]
base_url = "http://cfg.local:1/v1"
model = "cfg-model"

[profiles.env]
base_url = "http://env.local:2/v1"
model = "env-profile-model"

[profiles.flag]
base_url = "http://flag.local:3/v1"
model = "flag-profile-model"
"""


# -- precedence ------------------------------------------------------------------------------


def test_profile_precedence_config_default_then_env_then_flag():
    write_config(PROFILES)
    assert resolve().profile == "cfg"
    assert resolve().base_url == "http://cfg.local:1/v1"
    env = {"INTERVIEWER_PROFILE": "env"}
    assert resolve(env=env).profile == "env"
    assert resolve(env=env).base_url == "http://env.local:2/v1"
    ep = resolve(Overrides(profile="flag"), env=env)
    assert (ep.profile, ep.base_url, ep.model) == ("flag", "http://flag.local:3/v1", "flag-profile-model")


def test_model_precedence_profile_then_env_then_flag():
    write_config(PROFILES)
    assert resolve().model == "cfg-model"
    env = {"INTERVIEWER_MODEL": "env-model"}
    assert resolve(env=env).model == "env-model"
    assert resolve(Overrides(model="flag-model"), env=env).model == "flag-model"


def test_base_url_flag_beats_profile_and_env():
    write_config(PROFILES)
    env = {"OPENAI_BASE_URL": "http://env-url.local:9/v1", "INTERVIEWER_MODEL": "m"}
    ep = resolve(Overrides(base_url="http://flag-url.local:8/v1"), env=env)
    assert ep.base_url == "http://flag-url.local:8/v1"
    # and without any config, the flag beats the environment too
    config_path().unlink()
    assert resolve(Overrides(base_url="http://flag-url.local:8/v1"), env=env).base_url == "http://flag-url.local:8/v1"


def test_openai_base_url_env_is_used_without_a_profile():
    ep = resolve(env={"OPENAI_BASE_URL": "http://env-url.local:9/v1", "INTERVIEWER_MODEL": "m"})
    assert not ep.offline
    assert ep.base_url == "http://env-url.local:9/v1"
    assert ep.model == "m"


def test_openai_base_url_env_overrides_the_config_default_profile_base_url():
    write_config(PROFILES)
    ep = resolve(env={"OPENAI_BASE_URL": "http://env-url.local:9/v1"})
    assert ep.base_url == "http://env-url.local:9/v1"


def test_profile_chosen_by_flag_keeps_its_base_url_over_openai_base_url():
    write_config(PROFILES)
    ep = resolve(Overrides(profile="flag"), env={"OPENAI_BASE_URL": "http://env-url.local:9/v1"})
    assert ep.base_url == "http://flag.local:3/v1"


def test_profile_timeouts_and_temperature_reach_the_endpoint():
    write_config(
        """
[profiles.slow]
base_url = "http://slow.local:1/v1"
model = "m"
timeout = 7.5
connect_timeout = 1.5
max_retries = 0
temperature = 0.3
"""
    )
    ep = resolve(Overrides(profile="slow"))
    assert (ep.timeout, ep.connect_timeout, ep.max_retries, ep.temperature) == (7.5, 1.5, 0, 0.3)


# -- offline ---------------------------------------------------------------------------------


def test_offline_flag_forces_offline_even_with_a_full_endpoint():
    write_config(PROFILES)
    env = {"OPENAI_API_KEY": OPENAI_KEY, "OPENAI_BASE_URL": "http://x.local/v1", "INTERVIEWER_MODEL": "m"}
    ep = resolve(Overrides(offline=True, base_url="http://y.local/v1", model="m"), env=env)
    assert ep.offline
    assert ep.reason == "--offline"
    assert ep.api_key is None and ep.base_url is None


def test_offline_flag_wins_even_over_an_unknown_profile():
    ep = resolve(Overrides(offline=True, profile="nope"))
    assert ep.offline


def test_no_endpoint_configured_means_offline_with_a_reason():
    ep = resolve(env={})
    assert ep.offline
    assert ep.reason == "no endpoint configured"
    assert "no endpoint configured" in ep.describe()


def test_a_model_alone_is_not_an_endpoint():
    ep = resolve(env={"INTERVIEWER_MODEL": "gpt-4o"})
    assert ep.offline
    assert ep.reason


def test_openai_key_alone_targets_openai_with_the_default_model():
    ep = resolve(env={"OPENAI_API_KEY": OPENAI_KEY})
    assert not ep.offline
    assert ep.base_url is None
    assert ep.model == DEFAULT_OPENAI_MODEL
    assert ep.api_key == OPENAI_KEY
    assert ep.api_key_source == "OPENAI_API_KEY"
    assert "api.openai.com" in ep.describe()


def test_local_base_url_without_a_model_is_a_user_error():
    with pytest.raises(UserError) as exc:
        resolve(Overrides(base_url="http://localhost:11434/v1"))
    assert "model" in exc.value.message
    assert "--model" in exc.value.hint


# -- keys never travel to the wrong host ------------------------------------------------------


def test_profile_with_own_base_url_never_gets_openai_api_key():
    write_config('[profiles.local]\nbase_url = "http://127.0.0.1:11434/v1"\nmodel = "llama3"\n')
    ep = resolve(Overrides(profile="local"), env={"OPENAI_API_KEY": OPENAI_KEY})
    assert not ep.offline
    assert ep.base_url == "http://127.0.0.1:11434/v1"
    assert ep.api_key is None
    assert ep.api_key_source is None


def test_default_profile_with_own_base_url_never_gets_openai_api_key():
    write_config('default_profile = "local"\n[profiles.local]\nbase_url = "http://127.0.0.1:11434/v1"\nmodel = "llama3"\n')
    ep = resolve(env={"OPENAI_API_KEY": OPENAI_KEY})
    assert ep.profile == "local"
    assert ep.api_key is None


def test_profile_api_key_env_naming_openai_api_key_uses_it():
    write_config('[profiles.proxy]\nbase_url = "http://proxy.local/v1"\nmodel = "m"\napi_key_env = "OPENAI_API_KEY"\n')
    ep = resolve(Overrides(profile="proxy"), env={"OPENAI_API_KEY": OPENAI_KEY})
    assert ep.api_key == OPENAI_KEY
    assert ep.api_key_source == "OPENAI_API_KEY"


def test_profile_api_key_env_naming_another_var_uses_that_key_not_openai_api_key():
    write_config('[profiles.local]\nbase_url = "http://local.local/v1"\nmodel = "m"\napi_key_env = "LOCAL_LLM_KEY"\n')
    ep = resolve(Overrides(profile="local"), env={"OPENAI_API_KEY": OPENAI_KEY, "LOCAL_LLM_KEY": LOCAL_KEY})
    assert ep.api_key == LOCAL_KEY
    assert ep.api_key_source == "LOCAL_LLM_KEY"


def test_profile_api_key_env_unset_sends_no_key_rather_than_openai_api_key():
    write_config('[profiles.local]\nbase_url = "http://local.local/v1"\nmodel = "m"\napi_key_env = "LOCAL_LLM_KEY"\n')
    ep = resolve(Overrides(profile="local"), env={"OPENAI_API_KEY": OPENAI_KEY})
    assert ep.api_key is None


def test_openai_base_url_with_openai_api_key_follows_sdk_convention():
    env = {"OPENAI_BASE_URL": "http://gateway.local/v1", "OPENAI_API_KEY": OPENAI_KEY, "INTERVIEWER_MODEL": "m"}
    ep = resolve(env=env)
    assert ep.base_url == "http://gateway.local/v1"
    assert ep.api_key == OPENAI_KEY
    # the same URL repeated as a flag keeps that pairing
    ep2 = resolve(Overrides(base_url="http://gateway.local/v1"), env=env)
    assert ep2.api_key == OPENAI_KEY


def test_base_url_flag_to_a_new_host_drops_openai_api_key():
    ep = resolve(Overrides(base_url="http://127.0.0.1:8080/v1", model="m"), env={"OPENAI_API_KEY": OPENAI_KEY})
    assert ep.base_url == "http://127.0.0.1:8080/v1"
    assert ep.api_key is None


def test_base_url_flag_elsewhere_than_openai_base_url_drops_openai_api_key():
    env = {"OPENAI_BASE_URL": "http://gateway.local/v1", "OPENAI_API_KEY": OPENAI_KEY}
    ep = resolve(Overrides(base_url="http://127.0.0.1:8080/v1", model="m"), env=env)
    assert ep.api_key is None


def test_base_url_flag_to_openai_keeps_openai_api_key():
    ep = resolve(Overrides(base_url="https://api.openai.com/v1"), env={"OPENAI_API_KEY": OPENAI_KEY})
    assert ep.api_key == OPENAI_KEY
    assert ep.model == DEFAULT_OPENAI_MODEL


# -- configuration errors ---------------------------------------------------------------------


def test_unknown_profile_is_a_user_error_naming_the_profiles():
    write_config(PROFILES)
    with pytest.raises(UserError) as exc:
        resolve(Overrides(profile="nope"))
    msg = exc.value.line()
    assert "'nope'" in msg
    for name in ("cfg", "env", "flag"):
        assert name in msg
    assert "--profile" in exc.value.hint


def test_unknown_profile_without_any_profiles_says_none_are_defined():
    with pytest.raises(UserError) as exc:
        resolve(env={"INTERVIEWER_PROFILE": "work"})
    assert "none defined" in exc.value.message


def test_malformed_config_toml_is_a_user_error_mentioning_the_file():
    path = write_config('default_profile = "x"\n[profiles.x\nbase_url = 1\n')
    with pytest.raises(UserError) as exc:
        load_config()
    assert str(path) in exc.value.message
    assert "TOML" in exc.value.message
    assert exc.value.hint


def test_config_with_unknown_setting_is_a_user_error_naming_file_and_setting():
    path = write_config('[profiles.x]\nbase_url = "http://a/v1"\nmodle = "typo"\n')
    with pytest.raises(UserError) as exc:
        load_config()
    assert str(path) in exc.value.message
    assert "profiles.x.modle" in exc.value.message


def test_non_utf8_config_is_a_user_error_mentioning_the_file():
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b'default_profile = "caf\xe9"\n')
    with pytest.raises(UserError) as exc:
        load_config()
    assert str(path) in exc.value.message


def test_missing_config_gives_defaults_and_creates_nothing(interviewer_home):
    cfg = load_config()
    assert cfg.profiles == {}
    assert cfg.practice.questions == 5
    assert not interviewer_home.exists()


# -- keys are masked ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["k", "abcdefgh", "abcdefghi", "sk-proj-0123456789abcdefghijklmnop", OPENAI_KEY])
def test_masked_key_never_shows_the_whole_key(key):
    masked = mask_key(key)
    assert masked
    assert key not in masked
    revealed = len(masked.replace("*", "").replace("...", ""))
    assert revealed < len(key)
    assert revealed <= 7


def test_masked_key_keeps_a_recognisable_prefix_and_suffix():
    assert mask_key("sk-proj-0123456789abcdefghijklmnop") == "sk-...mnop"
    assert mask_key(None) is None
    assert mask_key("") is None


def test_endpoint_repr_and_masked_key_hide_the_secret():
    ep = resolve(env={"OPENAI_API_KEY": OPENAI_KEY})
    assert OPENAI_KEY not in repr(ep)
    assert OPENAI_KEY not in (ep.masked_key or "")
    assert ep.masked_key.endswith(OPENAI_KEY[-4:])


# -- save_ui_setting --------------------------------------------------------------------------


def test_save_ui_setting_keeps_every_other_setting():
    write_config(
        PROFILES
        + """
[ui]
theme = "textual-dark"
[ui.keymap]
submit = "ctrl+enter"

[practice]
questions = 7
"""
    )
    save_ui_setting("theme", "nord")
    data = tomllib.loads(config_path().read_text(encoding="utf-8"))
    assert data["ui"]["theme"] == "nord"
    assert data["ui"]["keymap"] == {"submit": "ctrl+enter"}
    assert data["practice"]["questions"] == 7
    assert data["default_profile"] == "cfg"
    assert set(data["profiles"]) == {"cfg", "env", "flag"}
    assert data["profiles"]["cfg"]["model"] == "cfg-model"
    cfg = load_config()  # still a valid config
    assert cfg.ui.theme == "nord"


def test_save_ui_setting_creates_the_config_when_there_is_none():
    save_ui_setting("theme", "gruvbox")
    assert load_config().ui.theme == "gruvbox"


def test_save_ui_setting_never_overwrites_a_broken_config():
    broken = "[profiles.x\nthis is not toml\n"
    write_config(broken)
    save_ui_setting("theme", "nord")
    assert config_path().read_text(encoding="utf-8") == broken
