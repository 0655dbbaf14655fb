"""One module per sink: each defines a fixture ``backend_<name>`` yielding a :class:`Target`.

A new sink joins the contract suite with one file here (see ``files.py`` for the shape).
"""
