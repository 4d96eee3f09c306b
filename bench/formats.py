"""Every file format of `wineq infer`, read and written, on 1,000,000 wines: rows/s and
peak memory, against plain CSV in the same run.

    python -m bench formats PATH/TO/uci-wine-quality [--rows 1000000] [--small 250000]

"read X" is `wineq infer wines.X --output out.csv`; "write X" is `wineq infer wines.csv
--output out.X`; plain CSV both ways is the baseline. Each format is also run on `small`
rows: memory is flat when the peak on `rows` is within 10% of the peak on `small`.
Every output's predictions must equal the plain CSV's to the bit, or the bench fails.
The wines are those of the harness's write_wines (as infer_scale's) plus a sample_id column, passed through.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .harness import (
    WINEQ,
    peak_of,
    remove_project,
    run,
    scratch_project,
    table_main,
    write_wines,
)

PREDICTED = ["predicted_quality", "quality_low", "quality_high", "p_premium"]
GROWTH = 1.10


def _zstd(source: Path, target: Path) -> None:
    import zstandard

    with open(source, "rb") as src, open(target, "wb") as out:
        zstandard.ZstdCompressor(level=3).copy_stream(src, out)


def _compressed(opener, level_option: dict):
    def make(source: Path, target: Path) -> None:
        with open(source, "rb") as src, opener(target, "wb", **level_option) as out:
            shutil.copyfileobj(src, out, 1 << 20)

    return make


def _parquet(source: Path, target: Path) -> None:
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    pq.write_table(pcsv.read_csv(source), target)


def _xlsx(source: Path, target: Path) -> None:
    import openpyxl
    import pandas as pd

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("wines")
    for number, chunk in enumerate(pd.read_csv(source, chunksize=100_000)):
        if number == 0:
            sheet.append(list(chunk.columns))
        for row in chunk.itertuples(index=False):
            sheet.append(list(row))
    book.save(target)


MAKERS = {
    "csv.gz": _compressed(gzip.open, {"compresslevel": 6}),
    "csv.bz2": _compressed(bz2.open, {}),
    "csv.xz": _compressed(lzma.open, {"preset": 1}),
    "csv.zst": _zstd,
    "parquet": _parquet,
    "xlsx": _xlsx,
}


def with_ids(plain: Path, target: Path) -> None:
    """The wines with a sample_id column in front."""
    with open(plain) as src, open(target, "w") as out:
        out.write("sample_id," + src.readline())
        for number, line in enumerate(src):
            out.write(f"W{number:07d},{line}")


def predictions(path: Path) -> np.ndarray:
    """The four prediction columns of an output, as float64."""
    import pandas as pd

    name = path.name
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        return pq.read_table(path, columns=PREDICTED).to_pandas().to_numpy(dtype=np.float64)
    if name.endswith(".xlsx"):
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True)
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = list(next(rows))
        at = [header.index(c) for c in PREDICTED]
        values = np.array([[r[i] for i in at] for r in rows], dtype=np.float64)
        book.close()
        return values
    return pd.read_csv(path, usecols=PREDICTED)[PREDICTED].to_numpy(dtype=np.float64)


def bench(uci: Path, rows: int = 1_000_000, small: int = 250_000) -> tuple[list, dict]:
    root = scratch_project(uci)
    work = Path(tempfile.mkdtemp(prefix="wineq-formats-", dir=root.parent))
    detail: dict = {"rows": rows, "small": small, "runs": {}}
    try:
        run([WINEQ, "train", "--epochs", "3"], root)
        run([WINEQ, "register", "--min-rmse", "10"], root)
        table = []
        for n in (rows, small):
            plain = work / f"plain-{n}.csv"
            write_wines(root / "data" / "wine-quality.csv", plain, n)
            inputs = {"csv": work / f"wines-{n}.csv"}
            with_ids(plain, inputs["csv"])
            plain.unlink()
            for fmt, make in MAKERS.items():
                inputs[fmt] = work / f"wines-{n}.{fmt}"
                make(inputs["csv"], inputs[fmt])
            jobs = [
                ("read", fmt, inputs[fmt], work / f"out-{n}-read-{fmt.replace('.', '-')}.csv")
                for fmt in inputs
            ]
            jobs += [("write", fmt, inputs["csv"], work / f"out-{n}-write.{fmt}") for fmt in MAKERS]
            baseline = None
            for way, fmt, source, out in jobs:
                sample = peak_of([WINEQ, "infer", str(source), "--output", str(out)], root)
                found = predictions(_plain_view(out, work))
                if baseline is None:
                    baseline = found
                elif not np.array_equal(found, baseline, equal_nan=True):
                    raise SystemExit(f"{way} {fmt}: predictions differ from plain CSV's")
                detail["runs"][f"{n} {way} {fmt}"] = {
                    "seconds": round(sample.seconds, 2),
                    "rows_per_s": round(n / sample.seconds),
                    "peak_mb": round(sample.peak_mb),
                    "input_mb": round(source.stat().st_size / 1e6, 1),
                    "output_mb": round(out.stat().st_size / 1e6, 1),
                }
                print(f"{n:,} {way} {fmt}: {detail['runs'][f'{n} {way} {fmt}']}", flush=True)
                out.unlink()
            for path in inputs.values():
                path.unlink()
        for key, big in detail["runs"].items():
            count, way, fmt = key.split()
            if int(count) != rows:
                continue
            little = detail["runs"][f"{small} {way} {fmt}"]
            growth = big["peak_mb"] / little["peak_mb"]
            table.append(
                {
                    "target": f"{way} {fmt}: {rows:,} wines",
                    "wineq": f"{big['rows_per_s']:,} rows/s, {big['peak_mb']} MB",
                    "baseline": f"{small:,} wines: {little['peak_mb']} MB",
                    "ratio": growth,
                    "limit": GROWTH,
                    "met": growth <= GROWTH,
                }
            )
        return table, detail
    finally:
        remove_project(root)


def _plain_view(out: Path, work: Path) -> Path:
    """A compressed CSV output, decompressed for reading back; any other output as it is."""
    openers = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
    if out.suffix in openers:
        view = work / "view.csv"
        with openers[out.suffix](out, "rb") as src, open(view, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        return view
    if out.suffix == ".zst":
        import zstandard

        view = work / "view.csv"
        with open(out, "rb") as src, open(view, "wb") as dst:
            zstandard.ZstdDecompressor().copy_stream(src, dst)
        return view
    return out


def main(argv: list[str] | None = None) -> int:
    return table_main(__doc__, bench, argv, rows=1_000_000, small=250_000)
