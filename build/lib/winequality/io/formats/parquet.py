"""Parquet wine files, what data teams and Spark write: read one record batch at a time
(never more than a row group in memory), written with the input's own schema plus the
prediction columns, one row group per chunk."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Optional

from winequality.errors import DataError, first_line
from winequality.io.formats.base import OpenFile
from winequality.schema import FEATURES, TARGET, UNUSUAL, column_mapping, positions

BATCH_ROWS = 65_536


def _damaged(name: str, exc: BaseException) -> DataError:
    reason = first_line(exc)
    return DataError(f"{name} is not a readable Parquet file ({reason}); fetch an intact copy")


class ParquetReader(OpenFile):
    """A Parquet file of wines whose schema has been checked."""

    format = "parquet"

    def __init__(self, source, parquet, color: Optional[str]):
        self.source, self.parquet = source, parquet
        self.closing = (parquet, source)
        self.name = source.name
        self.schema = parquet.schema_arrow
        self.columns = list(self.schema.names)
        self.mapping = column_mapping(self.name, self.columns, color)

    @classmethod
    def open(cls, source, color: Optional[str]) -> ParquetReader:
        import pyarrow as pa
        import pyarrow.parquet as pq

        # read where it lies when it is a plain local file; else from a copy on disk
        where = source.local_file()
        try:
            parquet = pq.ParquetFile(where)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise _damaged(source.name, exc) from None
        try:
            return cls(source, parquet, color)
        except BaseException:
            parquet.close()
            raise

    def chunks(self, color: Optional[str], batch_rows: int = BATCH_ROWS) -> Iterator:
        import pyarrow as pa

        from winequality.io.validation import check_values
        from winequality.io.wines import WineChunk

        inputs, canonical, _ = positions(self.columns, self.mapping)
        total = max(self.parquet.metadata.num_rows, 1)
        size = self.source.size or total
        first_row = 1
        batches = self.parquet.iter_batches(batch_size=batch_rows, use_threads=False)
        while True:
            try:
                batch = next(batches, None)
            except (pa.ArrowException, OSError) as exc:
                raise _damaged(self.name, exc) from None
            if batch is None:
                break
            if not batch.num_rows:
                continue
            wanted = batch.select(inputs).to_pandas(ignore_metadata=True)
            wanted = wanted.set_axis(canonical, axis=1)
            for column in [c for c in wanted.columns if c in FEATURES or c == TARGET]:
                if wanted[column].dtype == "float32":
                    # 7.4 stored as float32 is 7.400000095 as a double: read it as the
                    # number it was written for, so it predicts as the CSV's 7.4 does
                    wanted[column] = wanted[column].astype(str).astype("float64")
            checked = check_values(
                self.name, wanted, first_row, color, where=lambda position, column: ""
            )
            done = first_row - 1 + batch.num_rows
            yield WineChunk(checked, offset=int(size * done / total), rows=batch)
            first_row = done + 1
        self.source.ensure_unchanged()
        if first_row == 1:
            raise DataError(f"{self.name} has a schema but no wines; give at least one row")


class ParquetWriter:
    """The input's rows plus the prediction columns as Parquet. A Parquet input keeps its
    schema; another format's model inputs become float64 and its other columns text, as
    they came."""

    def __init__(self, sink, reader, columns: tuple[str, ...]):
        self.sink, self.reader, self.columns = sink, reader, columns
        self.writer: Any = None  # made with the first chunk's schema

    def _table(self, chunk, found):
        import pyarrow as pa

        from winequality.io.formats.rounding import prediction_numbers

        numbers = prediction_numbers(found, self.columns)
        if isinstance(self.reader, ParquetReader):
            arrays, names = list(chunk.rows.columns), list(chunk.rows.schema.names)
        else:
            arrays, names = [], []
            mapping = self.reader.mapping
            for position, column in enumerate(self.reader.columns):
                canonical = mapping.get(column)
                if canonical in FEATURES or canonical == TARGET:
                    arrays.append(pa.array(chunk.frame[canonical].to_numpy(dtype="float64")))
                else:
                    values = chunk.as_input().iloc[:, position]
                    missing = values.isna().tolist()
                    text = [
                        None if m else _text(v)
                        for v, m in zip(values.tolist(), missing, strict=True)
                    ]
                    arrays.append(pa.array(text, type=pa.string()))
                names.append(str(column))
        for column in self.columns:
            kind = pa.bool_() if column == UNUSUAL else pa.float64()
            arrays.append(pa.array(numbers[column], type=kind))
            names.append(column)
        table = pa.Table.from_arrays(arrays, names=names)
        if isinstance(self.reader, ParquetReader):
            metadata = self.reader.schema.metadata
            table = table.replace_schema_metadata(metadata)
        return table

    def write(self, chunk, found) -> None:
        import pyarrow.parquet as pq

        table = self._table(chunk, found)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.sink, table.schema, compression="snappy")
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    def abort(self) -> None:
        """Let go of a half-written file without pyarrow finishing it later."""
        if self.writer is not None:
            try:
                self.writer.close()
            except Exception:  # the sink is being discarded; nothing of it is kept
                pass


def _text(value) -> str:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    return str(value)
