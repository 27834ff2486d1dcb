"""SQLite for the embedded default: Django's backend with the settings a web server and a worker sharing one file need (see ``base``)."""
