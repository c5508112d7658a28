"""Generations of a table's files: how `--force` replaces a table without readers seeing half.

A table's first upload writes under its folder, `{database}/{table}/`. A replacement (`--force`)
writes a new generation beside it, `{database}/{table}/_v{batch}/`, with a manifest of its own,
while readers still see the old files through the catalog. Only when every slice is written does
one catalog write point the table at the new generation (`Catalog.replace`); then the files and
manifests of every other generation are deleted. A crash before the swap leaves the old table
whole (the next `--force` clears the unfinished generation). Once the catalog's location names
the new generation the swap counts as done: a crash after it (on Glue, also one while the
partitions move, are created or the gone ones deleted) is finished by the next upload of the
table, plain or `--force` (`reconcile`): partitions no finished slice of the generation holds are
unregistered, then the other generations' files and manifests deleted.

The folder starts with `_`, which Hive, Athena and Trino treat as hidden, so a reader listing the
table's folder recursively never sees a generation that is still being written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow.fs as pafs
from loguru import logger

from lakeshift.lake.catalog import Catalog, CatalogTable
from lakeshift.lake.manifest import Manifest
from lakeshift.lake.storage import BOOKKEEPING, LakeStorage
from lakeshift.logs import first_few

PREFIX = "_v"


@dataclass
class Generation:
    """Where one generation of a table's files lives, and the manifest of its slices."""

    storage: LakeStorage
    table: str
    name: str | None  # None: the first upload's files, directly under the table's folder
    manifest: Manifest = field(init=False)

    def __post_init__(self) -> None:
        self.manifest = Manifest(self.storage, self.table, self.name)

    @property
    def location(self) -> str:
        base = self.storage.table_location(self.table)
        return base if self.name is None else f"{base}/{self.name}"

    def folder(self, partition: str) -> str:
        return f"{self.location}/{partition}" if partition else self.location


def current_generation(storage: LakeStorage, table: str, location: str) -> Generation:
    """The generation the catalog's `location` for `table` names."""
    base = storage.table_location(table)
    name = location.removeprefix(base + "/") if location != base else None
    if name is not None and (not name.startswith(PREFIX) or "/" in name):
        name = None  # a location lakeshift did not choose: treat it as the table's own folder
    return Generation(storage, table, name)


def holds_nothing(storage: LakeStorage, entry: CatalogTable) -> bool:
    """Whether a registered table holds nothing a reader or a rerun could use: no partition
    registered, no finished slice in its generation's manifest, no data file in its folder (a
    first upload that failed before it finished a slice). Its definition may then be replaced
    without `--force`: nothing written under the old one is kept."""
    if entry.partitions:
        return False
    generation = current_generation(storage, entry.name, entry.location)
    if generation.location != entry.location or generation.manifest.slices:
        return False  # a folder lakeshift did not choose, or finished slices
    unfinished = f"{generation.location}/{PREFIX}"  # a --force that never swapped in
    return all(path.startswith(unfinished) for path in storage.list_tree(generation.location))


def begin_replacement(storage: LakeStorage, table: str, batch_id: str) -> Generation:
    """A new, empty generation for a `--force` upload of `table`."""
    generation = Generation(storage, table, f"{PREFIX}{batch_id}")
    storage.delete_files(storage.list_tree(generation.location))  # none, unless a batch repeats
    generation.manifest.clear()
    return generation


def finish_replacement(
    storage: LakeStorage, catalog: Catalog, entry: CatalogTable, generation: Generation
) -> int:
    """Swap the catalog to `generation` (complete), then delete every other generation's files
    and manifests. Returns the number of files deleted."""
    catalog.replace(entry)
    deleted = delete_other_generations(storage, generation)
    logger.info(
        "{}: replaced by generation {}; {} files of earlier generations deleted",
        generation.table,
        generation.name,
        deleted,
    )
    return deleted


def reconcile(
    storage: LakeStorage, catalog: Catalog, registered: CatalogTable, generation: Generation
) -> None:
    """Make what readers see of the table what `generation`'s manifest holds, finishing whatever
    a run cut short; each write can be interrupted and done again.

    Every partition of a finished slice is registered at its folder in the generation (a crash
    between manifest and catalog, or a Glue replacement cut short before it moved or created
    them); then partitions no finished slice holds are unregistered (a Glue replacement cut
    short before it deleted the gone ones, still pointing at the old generation's files); then,
    if the generation is a replacement and other generations' manifests remain (a replacement
    cut short after its swap), their files and manifests are deleted as `finish_replacement`
    would have. Files are deleted only once no partition points at them."""
    table = generation.table
    wanted = {
        record.partition: generation.folder(record.partition)
        for record in generation.manifest.slices.values()
        if record.files
    }
    missing = {
        spec: folder for spec, folder in wanted.items() if registered.partitions.get(spec) != folder
    }
    if missing:
        catalog.register_partitions(table, missing)
    gone = sorted(set(registered.partitions) - set(wanted))
    if gone:
        logger.warning(
            "{}: {} partition(s) registered that no finished slice of the current generation "
            "holds are unregistered: {}",
            table,
            len(gone),
            first_few(gone),
        )
        catalog.unregister_partitions(table, gone)
    if generation.name is not None and other_manifests(storage, generation):
        deleted = delete_other_generations(storage, generation)
        logger.info(
            "{}: the replacement by generation {} is finished; {} files of earlier generations "
            "deleted",
            table,
            generation.name,
            deleted,
        )


def other_manifests(storage: LakeStorage, generation: Generation) -> list[str]:
    """The manifests of the table's generations other than `generation`."""
    manifests = storage.list_tree(
        storage.path(BOOKKEEPING, "manifest", storage.database, generation.table), ".json"
    )
    first = storage.bookkeeping_path("manifest", generation.table)
    if storage.fs.get_file_info(first).type == pafs.FileType.File:
        manifests.append(first)
    return [path for path in manifests if path != generation.manifest.path]


def delete_other_generations(storage: LakeStorage, generation: Generation) -> int:
    """Delete the files of every generation of the table but `generation`, then their
    manifests (last: while one remains, `reconcile` knows the deletion is unfinished). Returns
    the number of files deleted."""
    keep = generation.location + "/"
    stale = [
        path
        for path in storage.list_tree(storage.table_location(generation.table))
        if not path.startswith(keep)
    ]
    storage.delete_files(stale)
    storage.delete_files(other_manifests(storage, generation))
    return len(stale)
