"""The words of the 全生命周期 page: key → (中文, English), merged into ``ui.i18n``."""

TABLE: dict[str, tuple[str, str]] = {
}
