"""wineq: wine quality prediction with exact model lineage (Git + DVC + MLflow)."""

__version__ = "0.2.0"
