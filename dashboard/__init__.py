"""The analysts' and managers' dashboard over the published database (Streamlit): `make dashboard`."""
