"""The Textual screens of qa-tui, one module (and one .tcss) per screen."""
