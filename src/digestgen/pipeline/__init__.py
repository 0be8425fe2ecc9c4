"""The build, stage by stage: read -> validate -> assemble -> render -> check links -> index -> write (see build.py and docs/ARCHITECTURE.md)."""
