"""The package's shape, as a new maintainer needs it to stay: no import cycle between its modules and no import
hidden inside a function (outside the AppConfig, where Django's app loading needs one), an adapter base of at most
150 lines, no module over 400 lines and no function over 40; every broker follows ``locate -> query -> parse``
with ``fetch`` left to the chain."""
import ast
import inspect
from pathlib import Path

import pytest
from django.utils.module_loading import import_string

import tom_bhtom_brokers
from tom_bhtom_brokers.brokers import BROKER_CLASSES
from tom_bhtom_brokers.brokers.base import BHTOMBroker
from tom_bhtom_brokers.sources import SURVEY, SURVEYS, TARGET_NAME_KEYS, DataSource
from tom_bhtom_brokers.survey_names import RULES
from tom_bhtom_brokers.transports.jobqueue import JobQueue

PACKAGE = Path(tom_bhtom_brokers.__file__).parent


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_imports():
    """module -> the package's modules it imports (anywhere in its source)."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}
    graph = {}
    for name, path in modules.items():
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                candidates = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            imported |= {c for c in candidates if c in modules and c != name}
        graph[name] = imported - {"tom_bhtom_brokers"}
    return graph


def cycles(graph):
    found, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_no_import_cycle_inside_the_package():
    graph = package_imports()
    assert "tom_bhtom_brokers.recording" in graph["tom_bhtom_brokers.data_service"]  # the graph sees the imports
    assert cycles(graph) == []


def test_no_adapter_imports_another():
    """Shared clients (VizieR, ANTARES' API, IRSA's TAP base) are modules both users import, never another archive's
    adapter."""
    graph = package_imports()
    adapters = {path.rsplit(".", 1)[0] for path in BROKER_CLASSES.values()}
    assert {name: graph[name] & adapters for name in adapters if graph[name] & adapters} == {}


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def package_sources():
    return {path: path.read_text() for path in sorted(PACKAGE.rglob("*.py")) if "migrations" not in path.parts}


def functions(tree):
    return [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def test_no_import_inside_a_function_outside_the_app_config():
    """An import inside a function hides a cycle or a slow start; only AppConfig's hooks may import late (the
    models and TOM's registries are not ready when ``apps.py`` is imported)."""
    hidden = [f"{path.relative_to(PACKAGE)}:{node.lineno} in {function.name}"
              for path, text in package_sources().items() if path.name != "apps.py"
              for function in functions(ast.parse(text))
              for node in ast.walk(function) if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert hidden == []


def test_the_adapter_base_is_small_and_no_module_or_function_is_long():
    lines = {path: text.count("\n") for path, text in package_sources().items()}
    assert lines[PACKAGE / "brokers" / "base.py"] <= 150
    assert {str(path.relative_to(PACKAGE)): n for path, n in lines.items() if n > 400} == {}
    long = {f"{path.relative_to(PACKAGE)}:{function.name}": function.end_lineno - function.lineno + 1
            for path, text in package_sources().items() for function in functions(ast.parse(text))
            if function.end_lineno - function.lineno + 1 > 40}
    assert long == {}


def test_the_size_checks_measure_what_they_say():
    tree = ast.parse("def f():\n    import os\n" + "    x = 1\n" * 45)
    (function,) = functions(tree)
    assert function.end_lineno - function.lineno + 1 == 47
    assert any(isinstance(node, ast.Import) for node in ast.walk(function))


def load(source):
    return import_string(BROKER_CLASSES[source])


@pytest.mark.parametrize("source", list(BROKER_CLASSES), ids=lambda s: s.value)
def test_every_broker_follows_locate_query_parse(source):
    broker_class = load(source)
    assert broker_class.fetch is BHTOMBroker.fetch and broker_class.collect is BHTOMBroker.collect
    assert broker_class.query is not BHTOMBroker.query and broker_class.parse is not BHTOMBroker.parse
    assert list(inspect.signature(broker_class.query).parameters) == ["self", "located"]
    assert list(inspect.signature(broker_class.parse).parameters) == ["self", "payload", "target"]


def test_only_a_protocol_or_a_local_copy_replaces_the_transport():
    """The job queue (ATLAS's and ZTF's forced photometry, one transport), LINEAR's cached tarball and the archives'
    own clients (ASAS-SN Sky Patrol v2's, Swift-XRT's swifttools) answer requests their own way; everything else is
    HTTP."""
    own_transport = {source for source in BROKER_CLASSES if load(source).send is not BHTOMBroker.send}
    assert own_transport == {DataSource.ATLAS, DataSource.ZTF_FPS, DataSource.LINEAR, DataSource.ASASSN,
                             DataSource.SWIFT_XRT}
    assert load(DataSource.ATLAS).send is load(DataSource.ZTF_FPS).send is JobQueue.send


def test_each_archive_record_is_complete_and_its_broker_agrees():
    """One record per archive (sources.SURVEYS): its broker exists under that name and source, its name field has a
    rule, its filters and marker are its own."""
    assert set(RULES) == set(TARGET_NAME_KEYS.values())
    assert len({survey.marker for survey in SURVEYS}) == len(SURVEYS)
    for source, survey in SURVEY.items():
        broker_class = load(source)
        assert (broker_class.source, broker_class.name, broker_class.name_key()) == \
            (source, survey.name, survey.name_field)
        assert survey.filters and (not survey.name_is_url or survey.name_field)
