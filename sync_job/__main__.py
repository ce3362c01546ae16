"""Allow `python -m sync_job`."""

from sync_job.cli import main

if __name__ == "__main__":
    main()
