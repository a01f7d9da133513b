"""The words of the 占补平衡 page: key → (中文, English), merged into ``ui.i18n``."""

TABLE: dict[str, tuple[str, str]] = {
}
