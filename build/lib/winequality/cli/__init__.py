"""The `wineq` command: parse options, call the service once, render the result.

One module per command; `app.py` holds the Typer app and its error handling, `render.py`
draws (the only module importing rich), `prompts.py` asks. Only typer, the standard library,
`errors` and plain records load at import; settings (pydantic), torch, mlflow, dvc and
pandas load inside the commands that need them, so `--help` stays fast.
"""

from winequality.cli import (
    compare,
    data,
    housekeeping,
    infer,
    promote,
    register,
    runs,
    show,
    train,
)
from winequality.cli.app import app

# in the order `wineq --help` lists them
app.add_typer(data.data_app, name="data")
app.command()(train.train)
app.command()(register.register)
app.command()(promote.promote)
app.command()(compare.compare)
app.command()(infer.infer)
app.command()(runs.runs)
app.command()(show.show)
app.command()(housekeeping.check)
app.command()(housekeeping.gc)
# the listing's other name (as `mlflow runs list`); `wineq --help` lists it beside `runs`
app.command("list-runs", hidden=True)(runs.runs)

__all__ = ["app"]
