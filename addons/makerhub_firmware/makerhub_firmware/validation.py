"""Validating a repository at a commit: its schema files and its tree.

The schema is parsed by the integration's own code (the vendored ``core/schema.py``):
``makerhub.json``, or Pepeunit's ``schema_example.json`` with ``env_example.json``. Every
problem is reported as ``{"file", "path", "reason"}``; the tree checks of :mod:`.tree`
(symlinks leaving the tree, submodules, oversized files) are reported the same way, with
the file's path in the repository as ``file`` and an empty ``path``. Validation goes on
after a problem, so one answer lists all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import json
from typing import Any, Final

from .errors import FirmwareError
from .repository import GitRepository, RepoFile
from .tree import tree_issues
from .vendor.errors import SchemaError
from .vendor.schema import UnitSchema, parse_makerhub_json, parse_pepeunit

MAKERHUB_JSON: Final = "makerhub.json"
PEPEUNIT_SCHEMA: Final = "schema_example.json"
PEPEUNIT_ENV: Final = "env_example.json"
GITMODULES: Final = ".gitmodules"
IGNORE_FILE: Final = ".makerhubignore"
MAX_SCHEMA_FILE: Final = 256 * 1024
ROOT_FILES: Final = [MAKERHUB_JSON, PEPEUNIT_SCHEMA, PEPEUNIT_ENV, GITMODULES, IGNORE_FILE]


@dataclass(slots=True)
class Validation:
    """The outcome of validating one commit."""

    commit: str
    source: str | None = None
    schema: UnitSchema | None = None
    issues: list[dict[str, str]] = field(default_factory=list)
    ignore_file: RepoFile | None = None

    @property
    def valid(self) -> bool:
        """Return whether the commit can be packaged."""
        return self.schema is not None and not self.issues

    def issue(self, file: str, path: str, reason: str) -> None:
        """Record one problem."""
        self.issues.append({"file": file, "path": path, "reason": reason})

    def to_json(self) -> dict[str, Any]:
        """Return the API form."""
        return {
            "commit": self.commit,
            "valid": self.valid,
            "source": self.source,
            "schema": self.schema.to_json() if self.schema is not None else None,
            "issues": self.issues,
        }


def _load_json(file: RepoFile, result: Validation) -> Any:
    try:
        return json.loads(file.content.decode("utf-8"))
    except UnicodeDecodeError as err:
        result.issue(file.path, "", f"not UTF-8 (byte {err.start})")
    except json.JSONDecodeError as err:
        result.issue(
            file.path, "", f"invalid JSON at line {err.lineno} column {err.colno}: {err.msg}"
        )
    return None


def _schema_issues(error: SchemaError, file: str, result: Validation) -> None:
    for item in error.issues:
        result.issue(file, item.path, item.reason)


def parse_submodules(content: bytes) -> dict[str, str]:
    """Return submodule path → url from a ``.gitmodules`` file (best effort)."""
    paths: dict[str, str] = {}
    current: dict[str, str] = {}
    for raw in [*content.decode("utf-8", "replace").splitlines(), "[end]"]:
        line = raw.strip()
        if line.startswith("["):
            if "path" in current:
                paths[current["path"]] = current.get("url", "")
            current = {}
        elif "=" in line:
            key, _, value = line.partition("=")
            current[key.strip().lower()] = value.strip()
    return paths


async def validate_commit(
    repository: GitRepository, commit: str, repo_name: str, max_file_size: int
) -> Validation:
    """Validate ``commit``: schema files, then the tree."""
    result = Validation(commit)
    files: dict[str, RepoFile] = {}
    try:
        files = await repository.read_files(commit, ROOT_FILES, MAX_SCHEMA_FILE)
    except FirmwareError as err:
        result.issues.extend(err.details or [{"file": "", "path": "", "reason": err.message}])
    else:
        _check_schema(files, result, repo_name)
        result.ignore_file = files.get(IGNORE_FILE)
    submodules = parse_submodules(files[GITMODULES].content) if GITMODULES in files else {}
    try:
        tree = await repository.list_tree(commit)
        links = await repository.link_targets(tree)
    except FirmwareError as err:
        result.issue("", "", err.message)
        return result
    for issue in tree_issues(tree, links, max_file_size, submodules):
        result.issue(issue.path, "", issue.reason)
    return result


def _check_schema(files: dict[str, RepoFile], result: Validation, repo_name: str) -> None:
    """Parse the schema files among ``files`` into ``result``."""
    if (native := files.get(MAKERHUB_JSON)) is not None:
        result.source = MAKERHUB_JSON
        data = _load_json(native, result)
        if data is not None:
            try:
                result.schema = parse_makerhub_json(data, MAKERHUB_JSON)
            except SchemaError as err:
                _schema_issues(err, MAKERHUB_JSON, result)
    elif (pepeunit := files.get(PEPEUNIT_SCHEMA)) is not None:
        result.source = "pepeunit"
        schema_data = _load_json(pepeunit, result)
        env_file = files.get(PEPEUNIT_ENV)
        env_data: Any = None
        if env_file is None:
            result.issue(
                PEPEUNIT_ENV,
                "",
                f"missing: a Pepeunit repository needs it next to {PEPEUNIT_SCHEMA}",
            )
        else:
            env_data = _load_json(env_file, result)
        if schema_data is not None and env_data is not None:
            try:
                result.schema = parse_pepeunit(schema_data, env_data, repo_name)
            except SchemaError as err:
                _schema_issues(err, err.source or PEPEUNIT_SCHEMA, result)
    else:
        result.issue(
            MAKERHUB_JSON,
            "",
            f"missing: the repository root needs {MAKERHUB_JSON} "
            f"(or Pepeunit's {PEPEUNIT_SCHEMA} and {PEPEUNIT_ENV})",
        )
