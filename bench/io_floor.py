"""The I/O floor of inference: pandas alone reads a wine CSV and writes it back with one
more column (a stand-in prediction), as `wineq infer --output` writes it.

    python bench/io_floor.py INPUT.csv OUTPUT.csv
"""

import sys

import pandas as pd

frame = pd.read_csv(sys.argv[1])
frame["predicted_quality"] = (frame["alcohol"] * 0.5).round(4)
frame.to_csv(sys.argv[2], index=False)
