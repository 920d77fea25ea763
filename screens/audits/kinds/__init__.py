"""The kinds of audit on the other-audits screen: one pane per kind, each owning its columns, its
loader and its actions; `registry.PANES` lists them in the order of their tabs."""
