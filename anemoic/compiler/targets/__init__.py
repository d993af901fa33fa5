"""Build targets: where and how a compiled plan runs (``local``: a shell script; ``slurm``: a job script)."""

TARGETS = ("local", "slurm")
