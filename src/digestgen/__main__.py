from digestgen.cli import main

if __name__ == "__main__":  # not when a spawned worker process imports it (see pipeline/pfindex.py)
    raise SystemExit(main())
