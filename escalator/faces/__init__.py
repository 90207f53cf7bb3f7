"""The faces: what reads the environment (the GitHub runner's, a terminal's), builds the clients
and hands them to the use case. Only the faces know where a run comes from."""
