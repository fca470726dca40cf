"""gazeread: sessions."""
