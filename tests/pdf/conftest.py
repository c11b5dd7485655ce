"""The PDF tests use the session fixture ``pdf_built`` of tests/conftest.py (helpers in
tests/build/pdf_build_support.py)."""
