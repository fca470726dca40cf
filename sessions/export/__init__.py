"""Exports of a recorded session: BIDS, the GazeVaLM CSVs, REFLACX, pseudonymised copies."""
