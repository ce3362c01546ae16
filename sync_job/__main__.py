"""Allow `python -m sync_job`."""

from sync_job.service.cli import main

if __name__ == "__main__":
    main()
