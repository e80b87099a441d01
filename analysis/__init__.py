"""Analysis of incidents: rates, hotspots and their evaluation.

Pure functions on GeoDataFrames in British National Grid. Nothing here imports
streamlit or folium, reads widgets or caches results.
"""
