"""gazeread: commands."""
