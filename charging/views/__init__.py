"""The Charging section's pages: the analyses (tabs, session list, exports) and the data sources
with their imports."""
