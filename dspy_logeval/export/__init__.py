"""Export: a DSPy program becomes a prompt artifact, and parity proves the artifact answers as the program does."""
