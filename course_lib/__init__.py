"""Helper library for the genai-course notebooks."""
__version__ = "0.1.0"
