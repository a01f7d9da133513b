"""The words that replace Streamlit's own English in its widgets: key → (中文, English), merged into ``ui.i18n``.

Streamlit has no language setting for its widgets. Multiselects and selectboxes take a ``placeholder``; the
file uploader's button and its size line take none, so ``ui.widget_text`` replaces them with a stylesheet.
"""

TABLE: dict[str, tuple[str, str]] = {
    "widget.choose": ("请选择", "Choose"),
    "widget.upload": ("选择文件", "Browse files"),
    "widget.drop": ("将文件拖放到此处", "Drag and drop a file here"),
    "widget.limit": ("单个文件不超过 {mb} MB", "Up to {mb} MB per file"),
}
