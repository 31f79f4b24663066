"""dbt, tied to the process that starts it: the kernel ends it when that process dies, kill -9 included.

dagster-dbt runs dbt as a subprocess of the step. Without this, a killed run's ``dbt build``
keeps writing the working database unsupervised (80-120 s at national scale), and the next
run finds the file locked or half-written. ``warehouse-dbt`` (installed by pyproject.toml)
asks Linux for ``PR_SET_PDEATHSIG`` and then runs dbt's own entry point in the same process.

It also fills in the settings the environment leaves unset with their ``defaults.env`` value
(``config.settings.environment``): the profile reads them through ``env_var`` with no default
of its own, so dbt started by Dagster outside ``make`` (``dagster dev``, ``pytest``) still finds them.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
SCRIPT = "warehouse-dbt"  # pyproject.toml's [project.scripts] entry for main()


def executable() -> Path:
    """``warehouse-dbt`` of this interpreter's environment: the dbt that the pipeline's steps, its docs
    sites and ``make dbt`` run (``make setup``'s parse and the bench use plain dbt)."""
    return Path(sys.executable).with_name(SCRIPT)


def _die_with_parent() -> None:
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: dbt runs as plain dbt would
        return
    if os.getppid() != parent:  # the parent died before the request took hold
        sys.exit("warehouse-dbt: the process that started dbt is gone; not starting")


def _skip_unused_iri_grammar() -> None:
    """dbt imports jsonschema, which imports ``rfc3987_syntax`` when it is installed (Jupyter's
    jsonschema extra brings it) and compiles 38 lark grammars for its IRI format check: about 1 s
    of every dbt process's start (importing dbt: 2.7 s → 1.7 s). dbt validates with no format
    checker, so the check is never used; marking the module absent makes jsonschema skip it, as it
    does on any machine without the package. In this process only: dbt's own.
    """
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]  # None marks a module absent


def main() -> int:
    _die_with_parent()
    _skip_unused_iri_grammar()
    from config.settings import environment

    os.environ.update(environment())  # the environment wins over a default; nothing set is changed
    from dbt.cli.main import cli

    sys.argv[0] = "dbt"
    return cli()


if __name__ == "__main__":
    sys.exit(main())
