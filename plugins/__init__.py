"""ganzoo's built-in plugins, written only against ganzoo's public API and registered through the
same entry-point groups (``ganzoo.variants``, ``ganzoo.divergences``, ``ganzoo.datasets``) a
third-party package uses."""
