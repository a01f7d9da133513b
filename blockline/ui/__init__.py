"""Streamlit-side helpers of the app: cached loaders, maps, views of each page, words in two languages."""
