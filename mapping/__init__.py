"""Map composition (folium/Leaflet), styling and legends, analysis and exports.

Plain Python: no Qt here.
"""
