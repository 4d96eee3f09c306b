"""What wineq knows about wines and models, free of MLflow and DVC: the network and its file
format, calibration, hyper-parameters, splits, and a run's report."""
