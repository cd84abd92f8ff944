"""MLflow plumbing shared by the pipelines: the store, the experiment, logged models. (The trainer's logger
is pipelines/training/logger.py: it imports Lightning, which prediction and serving do not need.)"""
import atexit
import contextlib
import errno
import fcntl
import hashlib
import os
import shutil
import socket
import tempfile
import urllib.parse
import warnings
from pathlib import Path

import mlflow

from forecast.pipelines.errors import ForecastError

KIND_TAG = "mlflow.experimentKind"   # "custom_model_development": the UI's "Machine learning" kind, opening on runs


def use_store(tracking_uri: str | None, experiment: str | None = None, reads: str | None = None) -> str:
    """Point MLflow at `tracking_uri` (else its own default: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db).

    A command that reads from the store (`reads`: the model URI or run it needs) refuses one that does not exist,
    naming where it looked: MLflow would create an empty sqlite store there (a stray mlflow.db in whatever folder
    the command ran from) and then say that the model does not exist. A model given by path needs no store."""
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    uri = mlflow.get_tracking_uri()
    if reads is not None and needs_store(reads) and _missing_sqlite(uri):
        raise ForecastError(f"no tracking store at {uri} (--tracking-uri, else $MLFLOW_TRACKING_URI, else "
                            f"sqlite:///mlflow.db in this folder), so {reads!r} cannot be found there; run from "
                            "the folder where you trained, or pass --tracking-uri")
    _reachable(uri)
    _create_sqlite_once(uri)
    if experiment:
        _writable(uri)
        try:
            found = mlflow.set_experiment(experiment)
        except mlflow.exceptions.MlflowException as err:
            raise ForecastError(f"tracking store {mlflow.get_tracking_uri()}: {err.message}") from None
        if KIND_TAG not in found.tags:   # MLflow 3's UI opens an experiment without it on its GenAI overview
            mlflow.MlflowClient().set_experiment_tag(found.experiment_id, KIND_TAG, "custom_model_development")
    return mlflow.get_tracking_uri()


_DOWNLOADED: dict[tuple[str, str], Path] = {}   # (store, versioned URI) -> local folder, for this process


def model_version(model_uri: str):
    """The registry version a `models:/` URI names (`@alias`, `/N`, `/latest`), or None for any other URI."""
    if not model_uri.startswith("models:/"):
        return None
    name, _, alias = model_uri[len("models:/"):].partition("@")
    client = mlflow.MlflowClient()
    try:
        if alias:
            return client.get_model_version_by_alias(name, alias)
        name, _, number = name.partition("/")
        return (client.get_model_version(name, number) if number.isdigit()
                else max(client.search_model_versions(f"name='{name}'"), key=lambda v: int(v.version)))
    except (mlflow.exceptions.MlflowException, ValueError) as err:
        raise cannot_load(model_uri, err) from None


def log_dataset(path: str, context: str, digest: str | None = None) -> None:
    """A data file as the active run's dataset (MLflow datasets: its path, and a digest of its bytes, the SHA-256
    unless given), under `context` (training, backtest)."""
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.meta_dataset import MetaDataset

    if digest is None:
        with open(path, "rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
    with warnings.catch_warnings():   # "can be interpreted in multiple ways": a local file, either way
        warnings.simplefilter("ignore", UserWarning)
        source = resolve_dataset_source(str(Path(path).resolve()))
    mlflow.log_input(MetaDataset(source, name=Path(path).name, digest=digest[:16]), context=context)


def resolved(model_uri: str) -> str:
    """The URI, and for a registry URI the version and run it names now (a warm start's lineage tag, what a
    server says it serves)."""
    try:
        version = model_version(model_uri)
    except ForecastError:
        return model_uri
    if version is None:
        return model_uri
    return f"{model_uri} (version {version.version} of {version.name}, run {version.run_id})"


def download_model(model_uri: str) -> Path:
    """A logged model's local directory (any MLflow URI), or one ForecastError line saying why not. A registry
    version or a run's model is downloaded once per process and store (a version's files never change; an alias
    is resolved to its version first, at every call): a warm start reads the source's settings, then its weights,
    and promote its two models' training ends, then their forecasts."""
    version = model_version(model_uri)
    pinned = f"models:/{version.name}/{version.version}" if version is not None else model_uri
    key = (mlflow.get_tracking_uri(), pinned)
    if pinned.startswith(("models:/", "runs:/")) and key in _DOWNLOADED and _DOWNLOADED[key].exists():
        return _DOWNLOADED[key]
    try:
        local = Path(_read_only_safe(lambda **dst: mlflow.artifacts.download_artifacts(pinned, **dst)))
    except (mlflow.exceptions.MlflowException, OSError, ImportError) as err:   # ImportError: s3:// without boto3
        raise cannot_load(model_uri, err) from None
    _DOWNLOADED[key] = local
    return local


def model_columns(model) -> dict[str, tuple[str, ...]]:
    """A loaded pyfunc's `text_columns` (read as text: its series ids) and `id_columns`, from the logged model's
    metadata; for a model logged before that metadata, from its predictor; none for a model that is not ours."""
    saved = (model.metadata.metadata or {}).get("forecast")
    if saved:
        return {k: tuple(saved.get(k, ())) for k in ("text_columns", "id_columns")}
    try:
        spec = getattr(getattr(model.unwrap_python_model(), "predictor", None), "spec", None)
    except mlflow.exceptions.MlflowException:   # a model of another flavour
        spec = None
    if spec is None:
        return {"text_columns": (), "id_columns": ()}
    return {"text_columns": tuple(spec.text_columns), "id_columns": tuple(spec.schema.id_columns)}


def _read_only_safe(load):
    """`load()` (an MLflow download or load of a registry version), else, where it failed writing into the model's
    folder (MLflow writes `registered_model_meta` there; a store on a read-only disk refuses it), `load` into a copy
    in a temporary folder."""
    try:
        return load()
    except OSError as err:
        if err.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise
        copy = tempfile.mkdtemp(prefix="forecast-model-")
        atexit.register(shutil.rmtree, copy, ignore_errors=True)   # (a server exec'd after keeps it: no exit)
        return load(dst_path=copy)


def load_pyfunc(model_uri: str):
    """A logged model as MLflow's pyfunc (the code MLflow serves), or one ForecastError line saying why not; from a
    read-only store too (`_read_only_safe`)."""
    try:
        return _read_only_safe(lambda **dst: mlflow.pyfunc.load_model(model_uri, **dst))
    except (mlflow.exceptions.MlflowException, OSError) as err:
        raise cannot_load(model_uri, err) from None


def cannot_load(model_uri: str, err: Exception) -> ForecastError:
    message = getattr(err, "message", str(err)).splitlines()[0]
    hint = _missing_alias(model_uri)
    return ForecastError(f"cannot load model {model_uri!r} from {mlflow.get_tracking_uri()}: "
                         f"{message.rstrip('.') if hint else message}{hint}")


def _missing_alias(model_uri: str) -> str:
    """Where a `models:/name@alias` names an alias the model does not have, which versions and aliases it has
    (a training killed between registering its version and labelling it left a version without one)."""
    name, _, alias = model_uri[len("models:/"):].partition("@") if model_uri.startswith("models:/") else ("", "", "")
    if not alias:
        return ""
    client = mlflow.MlflowClient()
    try:
        model = client.get_registered_model(name)
        versions = sorted(int(v.version) for v in client.search_model_versions(f"name='{name}'"))
    except mlflow.exceptions.MlflowException:
        return ""
    if alias in model.aliases or not versions:
        return ""
    aliases = ", ".join(f"{a} -> {v}" for a, v in sorted(model.aliases.items())) or "none"
    return (f"; {name!r} has versions {', '.join(map(str, versions))} and aliases: {aliases}; give "
            f"models:/{name}/<version>")


def needs_store(reference: str) -> bool:
    """Whether a model URI or run id is looked up in the tracking store (models:/, runs:/, a run id), not a path."""
    return reference.startswith(("models:/", "runs:/")) or ("/" not in reference and ":" not in reference
                                                             and not Path(reference).exists())


def _writable(uri: str) -> None:
    """A command that records a run (train, backtest, promote, ...) refuses a sqlite store it cannot write, in
    one line, before any work (sqlite's OperationalError 'attempt to write a readonly database' came as a
    traceback when the run started). sqlite writes a journal beside the file: its folder must be writable too."""
    if not uri.startswith("sqlite:///"):
        return
    path = Path(uri[len("sqlite:///"):])
    blocked = next((p for p in (path, path.parent) if p.exists() and not os.access(p, os.W_OK)), None)
    if blocked is not None:
        raise ForecastError(f"tracking store {uri} is read-only ({blocked} cannot be written): this command records "
                            "a run in it; give a writable store with --tracking-uri (predict and serve read from a "
                            "read-only one)")


def _reachable(uri: str, timeout: float = 5.0) -> None:
    """A tracking server that does not answer is said in one line within seconds: MLflow retried for about
    250 s in silence (its retries are for a server that answers with errors, not for one that is not there)."""
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as err:
        reason = getattr(err, "strerror", None) or type(err).__name__
        raise ForecastError(f"tracking server {uri} cannot be reached ({reason}); start it (mlflow server "
                            "--port ...), or pass another --tracking-uri") from None


def _missing_sqlite(uri: str) -> bool:
    return uri.startswith("sqlite:///") and not Path(uri[len("sqlite:///"):]).exists()


@contextlib.contextmanager
def _folder_lock(path: Path):
    """An exclusive flock on a folder (no lock file left behind), released when the block ends or the process
    dies."""
    folder = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        yield
    finally:
        os.close(folder)   # releases the lock


def _create_sqlite_once(uri: str) -> None:
    """A new sqlite store is created (tables and migrations) by one process at a time: two `forecast train`
    started together on a new store both ran MLflow's migrations, and one died in alembic ("duplicate column
    name", "Online migration expected to match one row") with its run lost. The lock is the store folder's,
    held only while the file does not exist yet."""
    if not uri.startswith("sqlite:///"):
        return
    path = Path(uri[len("sqlite:///"):])
    if path.exists() or not path.parent.is_dir():
        return
    with _folder_lock(path.parent):
        if not path.exists() or path.stat().st_size == 0:
            mlflow.tracking.MlflowClient(uri).search_experiments(max_results=1)   # creates and migrates it


@contextlib.contextmanager
def registry_lock():
    """This tool's alias updates (a new version's, a promotion's) one at a time on a sqlite store: the store
    folder's lock, held for the few calls of an update. A tracking server is left to its own ordering; the rules
    below keep the outcome right in most interleavings there too."""
    uri = mlflow.get_tracking_uri()
    folder = Path(uri[len("sqlite:///"):]).parent if uri.startswith("sqlite:///") else None
    if folder is None or not folder.is_dir():
        yield
        return
    with _folder_lock(folder):
        yield


def label_version(name: str, version: str, description: str, tags: dict[str, str],
                  version_tags: dict[str, str] | None = None) -> None:
    """A new version of a registered model: `challenger` on the name's newest version (a candidate until a
    comparison promotes it), and `champion` on its first where it has none; a description and `tags` on the
    version and the registered model (its description where it has none yet), `version_tags` on the version.

    Read under `registry_lock` from the registry, not from this call's version: two trainings registering one name
    at once left champion on 2 and challenger on 1 (each set its own), and a training killed between creating its
    version and setting aliases left a name without a champion (the next version's labelling sets it)."""
    client = mlflow.MlflowClient()
    with registry_lock():
        numbers = sorted(int(v.version) for v in client.search_model_versions(f"name='{name}'"))
        client.set_registered_model_alias(name, "challenger", str(numbers[-1]))
        model = client.get_registered_model(name)
        if "champion" not in model.aliases:
            client.set_registered_model_alias(name, "champion", str(numbers[0]))
    client.update_model_version(name, version, description=description)
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
        client.set_registered_model_tag(name, key, value)
    for key, value in (version_tags or {}).items():   # about this version only (a caution)
        client.set_model_version_tag(name, version, key, value)
    if not model.description:
        client.update_registered_model(name, description=f"Forecaster trained with `forecast train`: {description}")
