from pathlib import Path

import pytest

import {{ cookiecutter.package_name }}
from {{ cookiecutter.package_name }}.config import load_settings


def test_package_has_a_version() -> None:
    assert {{ cookiecutter.package_name }}.__version__


def test_settings_come_from_the_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("DATA_DIR", "LOG_LEVEL", "API_TOKEN"):
        monkeypatch.setenv(key, "")  # so that monkeypatch restores what load_dotenv sets
        monkeypatch.delenv(key)
    env_file = tmp_path / ".env"
    env_file.write_text(f"DATA_DIR={tmp_path}\nLOG_LEVEL=DEBUG\nAPI_TOKEN=abc\n")

    settings = load_settings(env_file)

    assert settings.data_dir == tmp_path
    assert settings.log_level == "DEBUG"
    assert settings.api_token == "abc"


def test_the_environment_wins_over_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    env_file = tmp_path / ".env"
    env_file.write_text("LOG_LEVEL=DEBUG\n")

    assert load_settings(env_file).log_level == "WARNING"
