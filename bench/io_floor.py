"""The I/O floor of inference: pandas alone reads a wine CSV and writes it back with one
more column (a stand-in prediction), as `wineq infer --output` writes it.

    python bench/io_floor.py INPUT.csv OUTPUT.csv

The baseline of infer_scale, run by its path in a scratch project.
"""

import sys


def main(source: str, target: str) -> None:
    import pandas as pd

    frame = pd.read_csv(source)
    frame["predicted_quality"] = (frame["alcohol"] * 0.5).round(4)
    frame.to_csv(target, index=False)


if __name__ == "__main__":
    main(*sys.argv[1:3])
