"""A Hugging Face dataset, streamed with the real ``datasets.load_dataset`` (so a corpus larger than the disk works).

Offline machines use builders on local files (``dataset: json`` with ``data_files``); a name the hub does not know
is an error that says so rather than a traceback from deep inside ``datasets``.
"""

from collections.abc import Iterator

from ..config import SourceConfig
from ..documents import CorpusError, Document


def iter_hf(src: SourceConfig) -> Iterator[Document]:
    try:
        import datasets
    except ImportError:
        raise CorpusError("the hf source needs the datasets package: pip install -e .[train]") from None
    kwargs = {"split": src.split, "streaming": True}
    if src.data_files:
        kwargs["data_files"] = list(src.data_files)
    if src.revision:
        kwargs["revision"] = src.revision
    try:
        stream = datasets.load_dataset(src.dataset, src.dataset_config or None, **kwargs)
        rows = iter(stream)
        first = next(rows, None)
    except Exception as exc:  # datasets raises many types (DatasetNotFoundError, FileNotFoundError, ConnectionError)
        raise CorpusError(
            f"Hugging Face dataset {src.dataset!r} could not be loaded ({type(exc).__name__}: {exc}); check the name, "
            "config and split, the network, or use a files source"
        ) from None
    if first is None:
        return
    if src.text_field not in first:
        raise CorpusError(
            f"dataset {src.dataset!r} has no field {src.text_field!r}; its fields are {sorted(first)}; set text_field"
        )

    def all_rows():
        yield first
        yield from rows

    for position, row in enumerate(all_rows()):
        text = row.get(src.text_field)
        if not isinstance(text, str):
            continue
        local = row.get(src.id_field) if src.id_field else None
        yield Document(f"{src.label}:{src.split}/{local if local is not None else position}", text, src.label)
