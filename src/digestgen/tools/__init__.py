"""Editor tools: add papers from arXiv, list feed candidates, start an issue, preview, export."""
