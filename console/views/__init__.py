"""Page scripts run by st.navigation (console/app.py); not imported as modules."""
