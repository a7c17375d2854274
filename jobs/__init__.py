"""Background work: the worker threads (sheet sync and close-off; mail), and /healthz that says
whether they keep up."""
