"""The Streamlit operator console (and its launcher) on top of `core`.

Pages are thin: every database call is a `core` call made through `console.runtime`, the one
background event loop that owns the engine.
"""
