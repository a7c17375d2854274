"""gunicorn settings of the comparison points (bench/compare.py): the project's gunicorn.conf.py
without the service's hooks (they build the service's app); workers and threads are given on
the command line, the same for every system."""

timeout = 60
