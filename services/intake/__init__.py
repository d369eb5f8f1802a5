"""intake: receives orders from every channel and orchestrates the order saga (R1-R7)."""
