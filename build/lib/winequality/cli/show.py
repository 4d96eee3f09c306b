"""`wineq show`: one run or registered version whole."""

from __future__ import annotations

from typing import Optional

import typer

from winequality.cli import context, render


def show(
    target: Optional[str] = typer.Argument(
        None,
        help="A run id (or its first 4+ characters), a run name (a DVC experiment's), "
        "NAME@ALIAS, NAME/VERSION, a version number, or the model's name for its versions and "
        "champion history [default: <model name>@champion].",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Show one run or registered version whole: lineage, params, metrics, plots; given the
    model's name, its versions and the history of @champion.

    Example: wineq show wine-quality@champion
    """
    service = context.service()
    if target is not None and target.strip() == service.settings.model_name:
        model = service.model_detail()
        if as_json:
            context.print_json(model.as_dict())
        else:
            render.print_model_detail(model)
        return
    detail = service.show(target)
    if as_json:
        context.print_json(detail.as_dict())
        return
    render.print_detail(detail)
