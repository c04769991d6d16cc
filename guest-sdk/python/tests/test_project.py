"""Reading a task project, and the build command's refusals (building is in test_components.py)."""

from pathlib import Path

import pytest

from wasmtasks_guest.build import main
from wasmtasks_guest.project import Project, ProjectError

PYPROJECT = """\
[project]
name = "demo"
dependencies = ["wasmtasks-guest>=0.2", "Wasmtasks_Guest", "tinydep==1.0", "other[extra]; python_version>='3'"]

[tool.wasmtasks]
module = "demo"
"""


def project(
    tmp_path: Path, pyproject: str = PYPROJECT, files: tuple[str, ...] = ("demo.py",)
) -> Path:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    return tmp_path


def refusal(root: Path) -> str:
    with pytest.raises(ProjectError) as refused:
        Project.read(root)
    return str(refused.value)


def test_a_project_names_its_module_and_dependencies(tmp_path: Path) -> None:
    read = Project.read(project(tmp_path))
    assert (read.module, read.source) == ("demo", tmp_path / "demo.py")
    assert read.dependencies == ("tinydep==1.0", "other[extra]; python_version>='3'")


@pytest.mark.parametrize("layout", ["demo/__init__.py", "src/demo.py", "src/demo/__init__.py"])
def test_the_module_may_be_a_package_or_under_src(tmp_path: Path, layout: str) -> None:
    read = Project.read(project(tmp_path, files=(layout,)))
    assert read.source == tmp_path / layout.removesuffix("/__init__.py")


def test_what_is_missing_or_wrong_is_named(tmp_path: Path) -> None:
    assert refusal(tmp_path) == f"{tmp_path} is not a task project: it has no pyproject.toml"
    project(tmp_path, pyproject="[project]\nname = 'demo'\n")
    assert refusal(tmp_path) == (
        f'{tmp_path / "pyproject.toml"} has no [tool.wasmtasks] module = "NAME" naming the '
        "module that holds the tasks"
    )
    project(tmp_path, pyproject='[tool.wasmtasks]\nmodule = "my-tasks"\n')
    assert refusal(tmp_path).endswith(
        "is not a top-level module name (ASCII letters, digits and `_`)"
    )
    project(tmp_path, pyproject='[tool.wasmtasks]\nmodule = "json"\n')
    assert refusal(tmp_path).endswith(
        "module = 'json' is a module of the standard library; rename the project's module"
    )
    project(tmp_path, pyproject='[tool.wasmtasks]\nmodule = "wit_world"\n')
    assert refusal(tmp_path).endswith(
        "module = 'wit_world' is a module of the build; rename the project's module"
    )
    project(tmp_path, pyproject='[tool.wasmtasks]\nmodule = "absent"\n')
    assert refusal(tmp_path) == (
        f"{tmp_path}: module absent not found: expected absent.py or absent/__init__.py, "
        "at the project's root or under src/"
    )
    project(tmp_path, files=("demo.py", "src/demo.py"))
    assert (
        refusal(tmp_path)
        == f"{tmp_path}: module demo is found more than once: demo.py, src/demo.py"
    )
    project(tmp_path, pyproject="[tool.wasmtasks\n")
    assert refusal(tmp_path).startswith(f"{tmp_path / 'pyproject.toml'} is not valid TOML: ")


def test_the_build_command_exits_2_on_a_directory_that_is_no_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"error: {tmp_path} is not a task project: it has no pyproject.toml\n"
