"""gazeread: stimuli."""
