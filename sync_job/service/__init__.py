"""The program around the engine: command line, wiring, config, daemon, logs, metrics."""
