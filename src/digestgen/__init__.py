"""digestgen: a static site generator for a weekly bilingual AI/ML paper digest."""

__version__ = "0.1.0"
