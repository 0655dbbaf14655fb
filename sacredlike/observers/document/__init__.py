"""The document family: a run as a document over a :class:`DocumentStore` (MongoDB, TinyDB).

:mod:`.store` is the interface a sink implements, :mod:`.writer` the observer (layout
described there); the MongoDB adapter and reader are :mod:`.mongo_store` and
:mod:`.mongo_reader`.
"""
