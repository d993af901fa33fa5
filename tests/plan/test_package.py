"""``anemoic.plan`` stays torch-free and quick to import; its lazy exports resolve."""

from __future__ import annotations

import subprocess
import sys

import anemoic.plan as plan_pkg


def test_import_does_not_load_torch_or_jsonschema() -> None:
    code = ("import sys, anemoic.plan; "
            "print(sorted(m for m in ('torch','jsonschema','cattrs','numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_io_path_does_not_load_torch() -> None:
    code = ("import sys; from anemoic.plan import read_plan, diff_plans; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_lazy_exports() -> None:
    from anemoic.plan.io import read_plan

    assert plan_pkg.read_plan is read_plan
    assert callable(plan_pkg.write_plan) and callable(plan_pkg.diff_plans)
