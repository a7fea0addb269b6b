"""Read a systemd unit as systemd does for what the tests run: its ``[Service]``
environment (``Environment=``, ``EnvironmentFile=``) and its ``ExecStart=`` expanded."""

from __future__ import annotations

from pathlib import Path
import re
import shlex

VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


Unit = dict[str, dict[str, str]]


def read_unit(path: Path) -> Unit:
    """Return the unit file's sections: each key's values, repeated keys joined with a
    space (as systemd adds up ``After=``, ``Wants=``...)."""
    sections: Unit = {}
    section: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        key, value = key.strip(), value.strip()
        section[key] = f"{section[key]} {value}" if key in section else value
    return sections


def read_environment_file(path: Path) -> dict[str, str]:
    """Return ``KEY=value`` lines of an environment file (comments and blanks skipped)."""
    values: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"')
    return values


def environment_lines(unit: Path) -> tuple[list[str], list[str]]:
    """Return the unit's ``Environment=`` and ``EnvironmentFile=`` values, in order."""
    environment, files = [], []
    for line in unit.read_text().splitlines():
        key, _, value = line.partition("=")
        if key == "Environment":
            environment.append(value)
        elif key == "EnvironmentFile":
            files.append(value)
    return environment, files


def service_command(unit: Path, rebase: dict[str, Path]) -> tuple[list[str], dict[str, str]]:
    """Return the unit's ``ExecStart`` as arguments, and the environment it adds, with the
    absolute paths under each ``rebase`` prefix moved to where the test installed them.

    Expansion as systemd does it: ``${VAR}`` is one argument, ``$VAR`` alone is split at
    white space (``systemd.service(5)``, *Command lines*)."""

    def moved(text: str) -> str:
        for prefix, target in rebase.items():
            text = text.replace(prefix, f"{target}/")
        return text

    environment: dict[str, str] = {}
    assignments, files = environment_lines(unit)
    for assignment in assignments:
        key, _, value = assignment.partition("=")
        environment[key] = moved(value)
    for file in files:
        optional = file.startswith("-")
        path = Path(moved(file.removeprefix("-")))
        if optional and not path.exists():
            continue
        environment.update(read_environment_file(path))
    exec_start = read_unit(unit)["Service"]["ExecStart"]
    arguments: list[str] = []
    for word in shlex.split(exec_start):
        whole = re.fullmatch(r"\$(\w+)", word)
        if whole:
            arguments += environment.get(whole.group(1), "").split()
            continue
        arguments.append(
            VARIABLE.sub(lambda m: environment.get(m.group(1) or m.group(2), ""), word)
        )
    return [moved(argument) for argument in arguments], environment
