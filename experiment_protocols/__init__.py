"""gazeread: experiment_protocols."""
