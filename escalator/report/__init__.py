"""What a run reports: the Port entity shaped by its blueprint, the step outputs and the job
summary."""
