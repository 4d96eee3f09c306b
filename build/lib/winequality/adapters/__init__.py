"""The outside systems wineq stores its work in: MLflow (runs, the registry) and DVC (data
and model bytes), and the model resolution that joins the two."""
