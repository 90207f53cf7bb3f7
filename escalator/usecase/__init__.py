"""The use case: run any incident operation (read, plan, apply, report) the same way."""
