"""`make dashboard`: every page over the published database, in Japanese with English subtitles."""

from pathlib import Path

import streamlit as st

# not "pages": Streamlit would list that folder itself, and a bookmarked page would open without
# this navigation and its wide layout
PAGES = Path(__file__).parent / "views"

st.set_page_config(page_title="年金業務 KPI", page_icon=":material/monitoring:", layout="wide")
st.navigation(
    [
        st.Page(PAGES / "overview.py", title="概要 Overview", default=True),
        st.Page(PAGES / "call_center.py", title="コールセンター Call center"),
        st.Page(PAGES / "national_pension.py", title="国民年金 National Pension"),
        st.Page(PAGES / "employer.py", title="厚生年金保険等 Employer"),
        st.Page(PAGES / "reconciliation.py", title="公表値との照合 Reconciliation"),
    ]
).run()
