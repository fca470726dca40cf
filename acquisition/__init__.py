"""gazeread: acquisition."""
