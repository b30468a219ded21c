"""explainer: runnable demos for the DeepSeek efficiency explainer book."""

__version__ = "0.1.0"
